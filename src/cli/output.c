/* output.c — docker's --format machinery for the listing commands: pick the template (the
 * command's default table, the user's table or plain template, or "json"), render each record
 * into a buffer, and print the lot at the end, through the tab writer for a table.
 *
 * Sits on: core/template.h (Go template subset over JSON), core/table.h (Go's tabwriter),
 * core/human.h.
 * Interface: lb_out_init, lb_out_row, lb_out_flush, lb_out_release, lb_out_pack, lb_out_object,
 *            lb_out_mentions, lb_out_ellipsis, lb_out_since
 */
#include "cli/output.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/table.h"
#include "core/template.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lb_out_init(struct lb_out *o, const char *format, const char *default_format, int flags,
                struct lb_error **err)
{
    memset(o, 0, sizeof(*o));
    if (format == NULL || *format == '\0' ||
        (default_format != NULL && strcmp(format, "table") == 0))
        format = default_format ? default_format : "";
    _cleanup_free_ char *text = NULL;
    if (flags & LB_OUT_NO_TABLE)
        text = lb_xstrdup(strcmp(format, "json") == 0 ? "{{json .}}" : format);
    else
        text = lb_template_preformat(format, &o->table);
    o->tmpl = lb_template_parse(text, err);
    return o->tmpl ? 0 : -1;
}

int lb_out_row(struct lb_out *o, const json_t *record, struct lb_error **err)
{
    if (lb_template_execute(o->tmpl, record, &o->rows, err) < 0)
        return -1;
    lb_strbuf_addc(&o->rows, '\n');
    return 0;
}

int lb_out_flush(struct lb_out *o, const json_t *header, struct lb_error **err)
{
    if (!o->table) {
        if (o->rows.len > 0)
            fwrite(o->rows.buf, 1, o->rows.len, stdout);
        return 0;
    }
    struct lb_table *t = lb_table_new();
    if (header != NULL) {
        _cleanup_strbuf_ struct lb_strbuf h = LB_STRBUF_INIT;
        if (lb_template_execute_header(o->tmpl, header, &h, err) < 0) {
            lb_table_free(t);
            return -1;
        }
        lb_strbuf_addc(&h, '\n');
        lb_table_write(t, h.buf, h.len);
    }
    if (o->rows.len > 0)
        lb_table_write(t, o->rows.buf, o->rows.len);
    _cleanup_free_ char *text = lb_table_render(t);
    lb_table_free(t);
    fputs(text, stdout);
    return 0;
}

void lb_out_release(struct lb_out *o)
{
    lb_template_free(o->tmpl);
    o->tmpl = NULL;
    lb_strbuf_release(&o->rows);
}

json_t *lb_out_pack(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *j = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    if (j == NULL)
        lb_oom();
    return j;
}

int lb_out_object(const char *format, const json_t *record, struct lb_error **err)
{
    struct lb_out o;
    int rc = -1;
    if (lb_out_init(&o, format, NULL, 0, err) == 0 && lb_out_row(&o, record, err) == 0)
        rc = lb_out_flush(&o, NULL, err);
    lb_out_release(&o);
    return rc;
}

bool lb_out_mentions(const char *format, const char *field)
{
    _cleanup_free_ char *needle = lb_xasprintf("{{.%s}}", field);
    return format != NULL && strstr(format, needle) != NULL;
}

/* Bytes of the rune starting at s[i]: a valid-looking UTF-8 sequence, else 1 (Go counts a
 * stray byte as one rune). */
static size_t rune_len(const char *s, size_t i, size_t len)
{
    unsigned char c = (unsigned char)s[i];
    size_t n = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc0 ? 2 : 1;
    for (size_t k = 1; k < n; k++)
        if (i + k >= len || ((unsigned char)s[i + k] & 0xc0) != 0x80)
            return 1;
    return n;
}

char *lb_out_ellipsis(const char *s, size_t max)
{
    size_t len = strlen(s), runes = 0, keep = 0;
    for (size_t i = 0; i < len; i += rune_len(s, i, len)) {
        if (max > 0 && runes == max - 1)
            keep = i; /* the end of the first max-1 runes */
        runes++;
    }
    if (runes <= max)
        return lb_xstrdup(s);
    if (max == 0)
        return lb_xstrdup("");
    if (max == 1)
        return lb_xstrndup(s, rune_len(s, 0, len));
    return lb_xasprintf("%.*s…", (int)keep, s);
}

char *lb_out_since(char *buf, size_t bufsz, int64_t t)
{
    if (t == 0) {
        snprintf(buf, bufsz, "N/A");
        return buf;
    }
    char d[40];
    lb_human_duration(d, sizeof(d), (double)(lb_time_now().sec - t));
    snprintf(buf, bufsz, "%s ago", d);
    return buf;
}
