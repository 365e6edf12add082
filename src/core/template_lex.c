/* template_lex.c — the lexer of docker's --format templates: source text to Go's items.
 *
 * The concept: Go's text/template lexes a template into items (text, delimiters, fields,
 * variables, strings, numbers...) before parsing; this produces the same stream in one pass, as
 * an array of tokens pointing into the source. A lexical error does not stop the parse at once:
 * it ends the stream with a T_ERROR token, reported when the parser reaches it, so that the
 * message and its line are the ones Go gives.
 * Sits on: template_internal.h (struct lexer, struct token, lb_tpl_utf8_next).
 *
 * Interface: lb_tpl_lex
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template_internal.h"

/* ---- lexer: Go's item stream, produced in one pass; a lexical error is a T_ERROR token the
 * parser reports only when it gets there (so "{{.X}" says `unexpected "}"`, as Go does) ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum(char c)
{
    return c == '_' || isalnum((unsigned char)c) || (unsigned char)c >= 0x80;
}

static void emit(struct lexer *l, enum tok type, size_t start, size_t end)
{
    if (l->ntoks == l->alloc) {
        l->alloc = l->alloc ? 2 * l->alloc : 64;
        l->toks = lb_xrealloc(l->toks, l->alloc * sizeof(*l->toks));
    }
    l->toks[l->ntoks++] = (struct token){type, start, end - start};
    l->pos = end;
}

__attribute__((format(printf, 2, 3))) static bool lex_fail(struct lexer *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&l->err, fmt, ap) < 0)
        lb_oom();
    va_end(ap);
    emit(l, T_ERROR, l->pos, l->pos);
    return false;
}

static bool bad_char(struct lexer *l, size_t at, const char *what)
{
    uint32_t r;
    size_t len = lb_tpl_utf8_next(l->s + at, l->n - at, &r);
    l->pos = at;
    if (r >= 0x20 && r != 0x7F && r != 0xFFFD) /* Go's %#U */
        return lex_fail(l, "%s U+%04X '%.*s'", what, (unsigned)r, (int)len, l->s + at);
    return lex_fail(l, "%s U+%04X", what, (unsigned)r);
}

/* 0: not at the closing delimiter; 1: at "}}"; 2: at " -}}" (trim the text that follows). */
static int at_right(const struct lexer *l, size_t p)
{
    const char *s = l->s + p;
    if (p + 4 <= l->n && is_space(s[0]) && s[1] == '-' && s[2] == '}' && s[3] == '}')
        return 2;
    return p + 2 <= l->n && s[0] == '}' && s[1] == '}';
}

/* After a field, variable or identifier. '}' counts (Go: "does r start the delimiter?"), so
 * "{{.X}" lexes '}' as a character and the parser says `unexpected "}" in operand`. */
static bool at_terminator(const struct lexer *l, size_t p)
{
    return p >= l->n || is_space(l->s[p]) || strchr(".,|:()}", l->s[p]);
}

static bool lex_field(struct lexer *l, enum tok type)
{
    size_t p = l->pos, q = p + 1;
    if (at_terminator(l, q)) { /* a lone "." or "$" */
        emit(l, type == T_VAR ? T_VAR : T_DOT, p, q);
        return true;
    }
    while (q < l->n && is_alnum(l->s[q]))
        q++;
    if (!at_terminator(l, q))
        return bad_char(l, q, "bad character");
    emit(l, type, p, q);
    return true;
}

static bool lex_quote(struct lexer *l, char quote)
{
    size_t q = l->pos + 1;
    for (; q < l->n && l->s[q] != quote; q++) {
        if (quote == '`')
            continue;
        if (l->s[q] == '\\' && q + 1 < l->n && l->s[q + 1] != '\n')
            q++;
        else if (l->s[q] == '\\' || l->s[q] == '\n')
            break;
    }
    if (q >= l->n || l->s[q] != quote)
        return lex_fail(l, quote == '`' ? "unterminated raw quoted string"
                                        : "unterminated quoted string");
    emit(l, quote == '`' ? T_RAWSTRING : T_STRING, l->pos, q + 1);
    return true;
}

/* Lex the inside of one action, up to and including "}}". */
static bool lex_action(struct lexer *l, bool *trim)
{
    const char *s = l->s;
    for (;;) {
        size_t p = l->pos, q = p + 1;
        int rd = at_right(l, p);
        if (rd) {
            if (l->parens)
                return lex_fail(l, "unclosed left paren");
            emit(l, T_RIGHT, p, p + (rd == 2 ? 4 : 2));
            *trim = rd == 2;
            return true;
        }
        if (p >= l->n)
            return lex_fail(l, "unclosed action");
        unsigned char c = (unsigned char)s[p];
        if (is_space((char)c)) {
            while (q < l->n && is_space(s[q]))
                q++;
            if (at_right(l, q - 1) == 2)
                q--; /* the space belongs to " -}}" */
            if (q > p)
                emit(l, T_SPACE, p, q);
        } else if (c == '"' || c == '`') {
            if (!lex_quote(l, (char)c))
                return false;
        } else if (c == '$' || (c == '.' && !(q < l->n && isdigit((unsigned char)s[q])))) {
            if (!lex_field(l, c == '$' ? T_VAR : T_FIELD))
                return false;
        } else if (c == '+' || c == '-' || c == '.' || isdigit(c)) {
            while (q < l->n && (is_alnum(s[q]) || s[q] == '.' ||
                                ((s[q] == '+' || s[q] == '-') && strchr("eEpP", s[q - 1]))))
                q++;
            emit(l, T_NUMBER, p, q);
        } else if (isalpha(c) || c == '_' || c >= 0x80) {
            while (q < l->n && is_alnum(s[q]))
                q++;
            if (!at_terminator(l, q))
                return bad_char(l, q, "bad character");
            bool b = (q - p == 4 && !memcmp(s + p, "true", 4)) ||
                     (q - p == 5 && !memcmp(s + p, "false", 5));
            emit(l, b ? T_BOOL : T_IDENT, p, q);
        } else if (c == ':') {
            if (q >= l->n || s[q] != '=')
                return lex_fail(l, "expected :=");
            emit(l, T_DECLARE, p, q + 1);
        } else if (c == ')' && l->parens-- == 0) {
            return lex_fail(l, "unexpected right paren");
        } else if (c < 0x20 || c == 0x7F) {
            return bad_char(l, p, "unrecognized character in action:");
        } else {
            l->parens += c == '(';
            emit(l,
                 c == '('   ? T_LPAREN
                 : c == ')' ? T_RPAREN
                 : c == '|' ? T_PIPE
                 : c == '=' ? T_ASSIGN
                            : T_CHAR,
                 p, q);
        }
    }
}

static bool lex_comment(struct lexer *l, size_t at, size_t inside, bool *trim)
{
    const char *close = memmem(l->s + inside + 2, l->n - inside - 2, "*/", 2);
    l->pos = at;
    if (close == NULL)
        return lex_fail(l, "unclosed comment");
    l->pos = (size_t)(close - l->s) + 2;
    int rd = at_right(l, l->pos);
    if (!rd)
        return lex_fail(l, "comment ends before closing delimiter");
    l->pos += rd == 2 ? 4 : 2;
    *trim = rd == 2;
    return true;
}

void lb_tpl_lex(struct lexer *l)
{
    bool trim = false;
    for (;;) {
        while (trim && l->pos < l->n && is_space(l->s[l->pos]))
            l->pos++;
        const char *open = memmem(l->s + l->pos, l->n - l->pos, "{{", 2);
        size_t at = open ? (size_t)(open - l->s) : l->n, end = at;
        bool ltrim = open && at + 3 < l->n && l->s[at + 2] == '-' && is_space(l->s[at + 3]);
        while (ltrim && end > l->pos && is_space(l->s[end - 1]))
            end--;
        if (end > l->pos)
            emit(l, T_TEXT, l->pos, end);
        if (open == NULL) {
            emit(l, T_EOF, l->n, l->n);
            return;
        }
        size_t inside = at + (ltrim ? 4 : 2);
        trim = false;
        if (l->n - inside >= 2 && !memcmp(l->s + inside, "/*", 2)) {
            if (!lex_comment(l, at, inside, &trim))
                return;
            continue;
        }
        emit(l, T_LEFT, at, inside);
        if (!lex_action(l, &trim))
            return;
    }
}
