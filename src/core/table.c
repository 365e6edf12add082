/* table.c — Go's text/tabwriter: columns that line up, computed block by block.
 *
 * The concept: a table is only text with tabs in it. Layout needs every line of a column block
 * before the first can be printed, so text is buffered and laid out at render time with Go's
 * recursive algorithm: find the first block of column 0, fix its width, lay out the columns to
 * its right within that block the same way, print, go on with the next block. Reproducing the
 * algorithm (not an approximation of it) is what makes `layerbox images` line up exactly like
 * `docker images`, including its odd cases (a short line splits the table into two blocks).
 * Sits on: struct lb_strbuf.
 *
 * Interface: lb_table_new, lb_table_new_with, lb_table_write, lb_table_add_line, lb_table_render,
 *            lb_table_free, lb_table_text_width
 */
#include "core/table.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct lb_table {
    struct lb_strbuf text;
    size_t minwidth, tabwidth, padding;
    char padchar;
    unsigned flags;
};

/* One cell: its bytes in the cell buffer (text without tabs and newlines) and its width. */
struct cell {
    size_t size;
    size_t width;
};

struct line {
    struct cell *cells;
    size_t n, alloc;
};

/* The state of one layout pass (Go's Writer between two flushes). */
struct layout {
    const struct lb_table *t;
    struct lb_strbuf buf; /* cell text, in order */
    struct line *lines;
    size_t nlines, alloc;
    size_t *widths; /* widths of the columns to the left of the one being laid out */
    size_t nwidths, maxcells;
    struct lb_strbuf *out;
};

struct lb_table *lb_table_new(void)
{
    return lb_table_new_with(10, 1, 3, ' ', 0);
}

struct lb_table *lb_table_new_with(unsigned minwidth, unsigned tabwidth, unsigned padding,
                                   char padchar, unsigned flags)
{
    struct lb_table *t = lb_xmalloc(sizeof(*t));
    t->minwidth = minwidth;
    t->tabwidth = tabwidth;
    t->padding = padding;
    t->padchar = padchar;
    t->flags = padchar == '\t' ? flags & ~(unsigned)LB_TABLE_ALIGN_RIGHT : flags;
    return t;
}

void lb_table_write(struct lb_table *t, const char *text, size_t len)
{
    lb_strbuf_add(&t->text, text, len);
}

void lb_table_add_line(struct lb_table *t, const char *line)
{
    lb_strbuf_adds(&t->text, line);
    lb_strbuf_addc(&t->text, '\n');
}

void lb_table_free(struct lb_table *t)
{
    if (t == NULL)
        return;
    lb_strbuf_release(&t->text);
    free(t);
}

/* Length of the UTF-8 sequence at s, or 1 for a byte that does not start a valid one (the
 * accepted ranges are Go's: no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len = c < 0x80 ? 1 : c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (len <= 1)
        return 1;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (len > n || s[1] < lo || s[1] > hi)
        return 1;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    return len;
}

size_t lb_table_text_width(const char *s, size_t len)
{
    size_t runes = 0;
    for (size_t i = 0; i < len; runes++)
        i += utf8_len((const unsigned char *)s + i, len - i);
    return runes;
}

static void add_line(struct layout *l)
{
    if (l->nlines == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 16;
        l->lines = lb_xrealloc(l->lines, l->alloc * sizeof(*l->lines));
    }
    l->lines[l->nlines++] = (struct line){NULL, 0, 0};
}

static void add_cell(struct layout *l, const char *text, size_t size)
{
    struct line *ln = &l->lines[l->nlines - 1];
    if (ln->n == ln->alloc) {
        ln->alloc = ln->alloc ? 2 * ln->alloc : 8;
        ln->cells = lb_xrealloc(ln->cells, ln->alloc * sizeof(*ln->cells));
    }
    ln->cells[ln->n++] = (struct cell){size, lb_table_text_width(text, size)};
    lb_strbuf_add(&l->buf, text, size);
    if (ln->n > l->maxcells)
        l->maxcells = ln->n;
}

static void write_padding(struct layout *l, size_t textw, size_t cellw)
{
    const struct lb_table *t = l->t;
    if (t->padchar == '\t') {
        if (t->tabwidth == 0)
            return; /* tabs have no width: no padding is possible */
        cellw = (cellw + t->tabwidth - 1) / t->tabwidth * t->tabwidth;
        for (size_t n = (cellw - textw + t->tabwidth - 1) / t->tabwidth; n > 0; n--)
            lb_strbuf_addc(l->out, '\t');
        return;
    }
    for (size_t n = cellw - textw; n > 0; n--)
        lb_strbuf_addc(l->out, t->padchar);
}

/* Print lines [line0, line1) with the column widths known so far; pos is the offset in the cell
 * buffer where line0 begins. Cells beyond the known widths are printed without padding. */
static size_t write_lines(struct layout *l, size_t pos, size_t line0, size_t line1)
{
    for (size_t i = line0; i < line1; i++) {
        const struct line *ln = &l->lines[i];
        for (size_t j = 0; j < ln->n; j++) {
            const struct cell *c = &ln->cells[j];
            bool aligned = j < l->nwidths;
            if (j > 0 && (l->t->flags & LB_TABLE_DEBUG))
                lb_strbuf_addc(l->out, '|');
            if (aligned && (l->t->flags & LB_TABLE_ALIGN_RIGHT))
                write_padding(l, c->width, l->widths[j]);
            lb_strbuf_add(l->out, l->buf.buf + pos, c->size);
            pos += c->size;
            if (aligned && !(l->t->flags & LB_TABLE_ALIGN_RIGHT))
                write_padding(l, c->width, l->widths[j]);
        }
        if (i + 1 < l->nlines) /* the last line has no newline of its own */
            lb_strbuf_addc(l->out, '\n');
    }
    return pos;
}

/* Go's Writer.format: lay out the column to the right of the known widths within lines
 * [line0, line1). The last cell of a line is never in a column (cells are tab-terminated). */
static size_t format(struct layout *l, size_t pos, size_t line0, size_t line1)
{
    size_t column = l->nwidths;
    for (size_t this = line0; this < line1; this ++) {
        if (column + 1 >= l->lines[this].n)
            continue;
        /* A block of this column starts here: print what precedes it, then measure it. */
        pos = write_lines(l, pos, line0, this);
        line0 = this;
        size_t width = l->t->minwidth;
        for (; this < line1 && column + 1 < l->lines[this].n; this ++) {
            size_t w = l->lines[this].cells[column].width + l->t->padding;
            if (w > width)
                width = w;
        }
        l->widths[l->nwidths++] = width;
        pos = format(l, pos, line0, this);
        l->nwidths--;
        line0 = this; /* the line at `this` has no cell here: the loop's ++ skips it safely */
    }
    return write_lines(l, pos, line0, line1);
}

/* Lay out and print everything buffered, then start afresh (Go's Flush). */
static void flush(struct layout *l)
{
    l->widths = lb_xrealloc(l->widths, (l->maxcells + 1) * sizeof(*l->widths));
    l->nwidths = 0;
    format(l, 0, 0, l->nlines);
    for (size_t i = 0; i < l->nlines; i++)
        free(l->lines[i].cells);
    l->nlines = 0;
    l->maxcells = 0;
    lb_strbuf_reset(&l->buf);
    add_line(l);
}

char *lb_table_render(const struct lb_table *t)
{
    struct lb_strbuf out = LB_STRBUF_INIT;
    struct layout l = {.t = t, .buf = LB_STRBUF_INIT, .out = &out};
    const char *s = t->text.buf ? t->text.buf : "";
    size_t start = 0;
    add_line(&l);
    for (size_t i = 0; i < t->text.len; i++) {
        char ch = s[i];
        if (ch != '\t' && ch != '\v' && ch != '\n' && ch != '\f')
            continue;
        add_cell(&l, s + start, i - start);
        start = i + 1;
        if (ch == '\n' || ch == '\f')
            add_line(&l);
        if (ch == '\f') { /* a form feed ends every column block */
            flush(&l);
            if (t->flags & LB_TABLE_DEBUG)
                lb_strbuf_adds(&out, "---\n");
        }
    }
    if (start < t->text.len) /* trailing text without a newline: a last, unterminated cell */
        add_cell(&l, s + start, t->text.len - start);
    flush(&l);
    free(l.lines[0].cells);
    free(l.lines);
    free(l.widths);
    lb_strbuf_release(&l.buf);
    return lb_strbuf_detach(&out);
}
