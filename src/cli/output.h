/* output.h — how the listing commands print records: docker's --format, shared by images,
 * history, inspect, info and version.
 *
 * A record is a JSON object whose members are the template's fields ({"ID": "…", "Size": "…"}).
 * The format string chooses the shape, as docker's formatter.Context does:
 *   "table" (or empty)  the command's default table template
 *   "table TEMPLATE"    TEMPLATE per row, through a tab writer (minwidth 10, padding 3), with a
 *                       header row: the same template run on the header record
 *                       ({"ID": "IMAGE ID", …})
 *   "json"              each record as one line of compact JSON ({{json .}})
 *   "TEMPLATE"          TEMPLATE per record, each followed by a newline, no header
 * "\t" and "\n" written as two characters in the format become a tab and a newline.
 * Output is buffered and written by lb_out_flush, so a template error prints nothing. */
#ifndef LB_CLI_OUTPUT_H
#define LB_CLI_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/util.h"

struct lb_template;

enum {
    LB_OUT_NO_TABLE = 1 << 0, /* the format is a plain template even if it starts with "table"
                                 and "\t" stays as typed (docker's inspect) */
};

struct lb_out {
    bool table;
    struct lb_template *tmpl;
    struct lb_strbuf rows; /* rendered records, one per line */
};

/* The --format lines of a listing command's usage text, up to its list of fields. */
#define LB_OUT_FORMAT_USAGE                                                                        \
    "      --format string   Format output using a custom template:\n"                             \
    "                        'table': table with column headers (default)\n"                       \
    "                        'table TEMPLATE': table using the given Go template\n"                \
    "                        'json': one JSON object per line\n"                                   \
    "                        'TEMPLATE': the given Go template per row\n"

/* Parse format (NULL or "" means default_format; so does "table" when there is a
 * default_format: the command's default table). Errors: LB_EKIND_INVALID "template parsing
 * error: …" (exit 1, as docker). Release with lb_out_release (also after a failed init). */
int lb_out_init(struct lb_out *o, const char *format, const char *default_format, int flags,
                struct lb_error **err);

/* Render one record into the buffer. Errors: LB_EKIND_INVALID "template: …". */
int lb_out_row(struct lb_out *o, const json_t *record, struct lb_error **err);

/* Write everything to stdout; for a table the header record (may be NULL: no header) comes
 * first and the columns are aligned. */
int lb_out_flush(struct lb_out *o, const json_t *header, struct lb_error **err);

void lb_out_release(struct lb_out *o);

/* json_pack for a record or a header: the formats are literals and the values are never NULL,
 * so only a lack of memory can make it fail (lb_oom). */
json_t *lb_out_pack(const char *fmt, ...);

/* One record with a non-table format: init + row + flush + release. */
int lb_out_object(const char *format, const json_t *record, struct lb_error **err);

/* True when format (after "table") mentions field, e.g. lb_out_mentions(f, "Digest") for
 * "{{.Digest}}". */
bool lb_out_mentions(const char *format, const char *field);

/* docker's stringutils.Ellipsis: s cut to max runes (UTF-8), the last one replaced by "…".
 * Caller frees. */
char *lb_out_ellipsis(const char *s, size_t max);

/* Seconds since the epoch as docker's CreatedSince ("3 days ago"), into buf (48 bytes). */
char *lb_out_since(char *buf, size_t bufsz, int64_t t);

#endif
