/* table.h — aligned columns, exactly as Go's text/tabwriter lays them out.
 *
 * docker's CLI prints every table through tabwriter.NewWriter(out, 10, 1, 3, ' ', 0): minwidth 10,
 * tabwidth 1, padding 3, padded with spaces, no flags. lb_table_new() is that configuration.
 *
 * The rules (Go's "elastic tabstops"):
 *  - a cell is text terminated by a tab; the text after the last tab of a line is not in a column
 *    and is printed as is (so "a\tb\n" has one column, "a\tb\t\n" two);
 *  - a column block is a run of consecutive lines that all have a tab-terminated cell at that
 *    column; a line without it ends the block, so one short line splits a table in two;
 *  - a block's width is max(minwidth, widest cell text + padding), widths counted in UTF-8 runes;
 *  - every tab-terminated cell is padded to its block's width (even an empty one, and even the
 *    last tab-terminated cell of a line: "a\tb\t\n" ends in spaces).
 *
 *     struct lb_table *t = lb_table_new();
 *     lb_table_add_line(t, "REPOSITORY\tTAG\tSIZE");
 *     lb_table_add_line(t, "busybox\tlatest\t4.26MB");
 *     char *text = lb_table_render(t);      // "REPOSITORY   TAG       SIZE\nbusybox ..."
 *     lb_table_free(t);
 *
 * Not implemented (docker does not use them): tabwriter's FilterHTML, StripEscape, TabIndent and
 * DiscardEmptyColumns flags and its 0xff escape character (which is output as ordinary text).
 * '\v' terminates a cell like '\t'; '\f' ends a line and also every column block (Go flushes). */
#ifndef LB_CORE_TABLE_H
#define LB_CORE_TABLE_H

#include <stddef.h>

struct lb_table;

/* Flags for lb_table_new_with (tabwriter's AlignRight and Debug). */
enum lb_table_flag {
    LB_TABLE_ALIGN_RIGHT = 1u << 0, /* pad on the left of the cell text instead of the right */
    LB_TABLE_DEBUG = 1u << 1,       /* print '|' between columns */
};

/* A table configured as docker's CLI configures tabwriter. Free with lb_table_free. */
struct lb_table *lb_table_new(void);

/* A table with tabwriter's other parameters. padchar '\t' pads with tabs, assuming tabs are
 * tabwidth wide, and forces left alignment (as Go does). */
struct lb_table *lb_table_new_with(unsigned minwidth, unsigned tabwidth, unsigned padding,
                                   char padchar, unsigned flags);

/* Append len bytes of raw text, as one would write to the tabwriter: tabs end cells, '\n' ends
 * lines. Text may arrive in any pieces; nothing is laid out before lb_table_render. */
void lb_table_write(struct lb_table *t, const char *text, size_t len);

/* Append one line: the string and a '\n'. */
void lb_table_add_line(struct lb_table *t, const char *line);

/* Everything written so far, aligned: what Go's Flush would output. The table keeps its text, so
 * rendering twice gives the same result. Never NULL; caller frees. */
char *lb_table_render(const struct lb_table *t);

void lb_table_free(struct lb_table *t);

/* The width the table gives len bytes of text: the number of runes, an invalid UTF-8 byte
 * counting as one (Go's utf8.RuneCount). */
size_t lb_table_text_width(const char *s, size_t len);

#endif
