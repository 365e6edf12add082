/* template.c — docker's --format: a small Go text/template evaluated over JSON values.
 *
 * The concept: a format is compiled once into a tree (text, actions, if/with/range) and executed
 * once per object, like Go's lexer -> parser -> exec pipeline, whose error messages it keeps so
 * docker users recognise them. Values are jansson references; NULL stands for Go's "invalid
 * value" (a missing map key), which prints "<no value>". Printing follows Go's fmt %v and
 * docker's json function follows encoding/json, because those are what the output must match.
 * Sits on: jansson, struct lb_strbuf, struct lb_error.
 *
 * Interface: lb_template_parse, lb_template_execute, lb_template_execute_header,
 *            lb_template_free, lb_template_is_table, lb_template_unescape, lb_template_preformat,
 *            lb_template_json
 */
#include "core/template.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 100 /* nested control structures and parentheses */
#define MAX_ARGS  32

/* ---- the tree: every allocation is recorded in the template and freed together ---- */

enum ntype { N_TEXT, N_ACTION, N_IF, N_WITH, N_RANGE, N_BREAK, N_CONTINUE };
enum atype { A_DOT, A_FIELD, A_VAR, A_FUNC, A_PIPE, A_STRING, A_INT, A_FLOAT, A_BOOL, A_NIL };

struct func;

struct arg { /* an operand, optionally followed by .Field.Chain */
    enum atype type;
    struct arg *next;
    size_t pos, len; /* its source text, for errors */
    const char *str; /* A_STRING (slen bytes), A_VAR name */
    size_t slen;
    long long i; /* A_INT, A_BOOL */
    double f;
    const struct func *fn;
    struct pipe *pipe;
    char **fields;
    size_t nfields;
};

struct cmd {
    struct cmd *next;
    struct arg *args;
    size_t pos, len;
};

struct pipe {
    struct cmd *cmds;
    const char *decl[2];
    int ndecl;
    bool assign;
    size_t pos;
};

struct node {
    enum ntype type;
    struct node *next;
    size_t pos, len; /* N_TEXT: the text in src */
    struct pipe *pipe;
    struct node *list, *elselist;
};

struct lb_template {
    char *src;
    struct node *root;
    void **blocks;
    size_t nblocks, alloc;
};

static void *talloc(struct lb_template *t, size_t n)
{
    if (t->nblocks == t->alloc) {
        t->alloc = t->alloc ? 2 * t->alloc : 32;
        t->blocks = lb_xrealloc(t->blocks, t->alloc * sizeof(*t->blocks));
    }
    return t->blocks[t->nblocks++] = lb_xmalloc(n);
}

static char *tstrndup(struct lb_template *t, const char *s, size_t n)
{
    char *p = talloc(t, n + 1);
    memcpy(p, s, n);
    return p;
}

/* Errors are one line: a newline (inside an action, a raw string or a printed value) becomes a
 * space, as Go's re-rendered node text has none. Returns s. */
static char *one_line(char *s)
{
    for (char *c = s; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return s;
}

static int line_of(const char *s, size_t pos, size_t *col)
{
    int line = 1;
    size_t start = 0;
    for (size_t i = 0; i < pos; i++)
        if (s[i] == '\n') {
            line++;
            start = i + 1;
        }
    if (col)
        *col = pos - start;
    return line;
}

/* Decode one rune like Go's utf8.DecodeRune: an invalid byte is U+FFFD of length 1. */
static size_t utf8_next(const char *str, size_t n, uint32_t *r)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len = c < 0x80 ? 1 : c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    *r = len == 1 ? c : 0xFFFD;
    if (len <= 1)
        return 1;
    lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : lo;
    hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : hi;
    if (len > n || s[1] < lo || s[1] > hi)
        return 1;
    uint32_t v = c & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 1;
        v = v << 6 | (s[i] & 0x3F);
    }
    *r = v;
    return len;
}

static size_t utf8_put(char *o, uint32_t r)
{
    if (r < 0x80)
        return o[0] = (char)r, 1;
    if (r < 0x800)
        return o[0] = (char)(0xC0 | r >> 6), o[1] = (char)(0x80 | (r & 0x3F)), 2;
    if (r < 0x10000) {
        o[0] = (char)(0xE0 | r >> 12);
        o[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        o[2] = (char)(0x80 | (r & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | r >> 18);
    o[1] = (char)(0x80 | ((r >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((r >> 6) & 0x3F));
    o[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

/* ---- lexer: Go's item stream, produced in one pass; a lexical error is a T_ERROR token the
 * parser reports only when it gets there (so "{{.X}" says `unexpected "}"`, as Go does) ---- */

enum tok {
    T_EOF,
    T_ERROR,
    T_TEXT,
    T_LEFT,
    T_RIGHT,
    T_SPACE,
    T_FIELD,
    T_DOT,
    T_VAR,
    T_IDENT,
    T_BOOL,
    T_NUMBER,
    T_STRING,
    T_RAWSTRING,
    T_PIPE,
    T_LPAREN,
    T_RPAREN,
    T_DECLARE,
    T_ASSIGN,
    T_CHAR
};

struct token {
    enum tok type;
    size_t pos, len;
};

struct lexer {
    const char *s;
    size_t n, pos;
    int parens;
    struct token *toks;
    size_t ntoks, alloc;
    char *err;
};

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
    size_t len = utf8_next(l->s + at, l->n - at, &r);
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

static void lex(struct lexer *l)
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

/* ---- parser: recursive descent after Go's parse.go; errors unwind with longjmp, like Go's
 * panic/recover (everything allocated so far is owned by the template, which is then freed) ---- */

enum stop { S_EOF, S_END, S_ELSE, S_ELSE_CHAIN };

struct parser {
    struct lb_template *t;
    const char *s;
    const struct token *toks;
    size_t ntoks, i, stop_pos;
    const char *lexerr;
    const char **vars; /* variables in scope */
    size_t nvars, alloc;
    int depth, range_depth;
    struct lb_error **err;
    jmp_buf jb;
};

static const struct func *find_func(const char *name, size_t len);
static struct pipe *parse_pipeline(struct parser *p, const char *ctx, enum tok end);
static struct node *parse_list(struct parser *p, bool top, enum stop *stop);

__attribute__((format(printf, 3, 4))) static _Noreturn void fail(struct parser *p, size_t pos,
                                                                 const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        lb_oom();
    va_end(ap);
    lb_error_setk(p->err, LB_EKIND_INVALID, 0, "template parsing error: template: :%d: %s",
                  line_of(p->s, pos, NULL), one_line(msg));
    free(msg);
    longjmp(p->jb, 1);
}

static const struct token *peek(struct parser *p)
{
    return &p->toks[p->i < p->ntoks ? p->i : p->ntoks - 1];
}

static const struct token *next(struct parser *p)
{
    const struct token *tk = peek(p);
    if (tk->type == T_ERROR)
        fail(p, tk->pos, "%s", p->lexerr);
    p->i++;
    return tk;
}

static const struct token *next_nonspace(struct parser *p)
{
    const struct token *tk;
    do
        tk = next(p);
    while (tk->type == T_SPACE);
    return tk;
}

static const struct token *peek_nonspace(struct parser *p)
{
    const struct token *tk = next_nonspace(p);
    p->i--;
    return tk;
}

static bool is_word(const struct parser *p, const struct token *tk, const char *w)
{
    return tk->type == T_IDENT && tk->len == strlen(w) && !memcmp(p->s + tk->pos, w, tk->len);
}

static bool is_keyword(const struct parser *p, const struct token *tk)
{
    static const char *const kw[] = {"if",    "else",     "end",    "range",    "with",
                                     "break", "continue", "define", "template", "block"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(kw); i++)
        if (is_word(p, tk, kw[i]))
            return true;
    return false;
}

/* A token as Go's item.String() shows it in "unexpected X" messages. */
static const char *describe(const struct parser *p, const struct token *tk, char *buf, size_t sz)
{
    const char *s = p->s + tk->pos;
    if (tk->type == T_EOF)
        return "EOF";
    if (is_keyword(p, tk)) {
        snprintf(buf, sz, "<%.*s>", (int)tk->len, s);
        return buf;
    }
    size_t n = 0;
    buf[n++] = '"';
    for (size_t i = 0; i < tk->len && i < 10; i++) {
        char c = s[i] == '\n' ? 'n' : s[i] == '\t' ? 't' : s[i] == '\r' ? 'r' : s[i];
        if (c != s[i] || c == '"' || c == '\\')
            buf[n++] = '\\';
        buf[n++] = c;
    }
    snprintf(buf + n, sz - n, "\"%s", tk->len > 10 ? "..." : "");
    return buf;
}

static _Noreturn void unexpected(struct parser *p, const struct token *tk, const char *ctx)
{
    char buf[64];
    fail(p, tk->pos, "unexpected %s in %s", describe(p, tk, buf, sizeof(buf)), ctx);
}

static void expect_right(struct parser *p, const char *ctx)
{
    const struct token *tk = next_nonspace(p);
    if (tk->type != T_RIGHT)
        unexpected(p, tk, ctx);
}

static void declare(struct parser *p, struct pipe *pp, const struct token *v)
{
    const char *name = tstrndup(p->t, p->s + v->pos, v->len);
    pp->decl[pp->ndecl++] = name;
    if (p->nvars == p->alloc) {
        p->alloc = p->alloc ? 2 * p->alloc : 16;
        p->vars = lb_xrealloc(p->vars, p->alloc * sizeof(*p->vars));
    }
    p->vars[p->nvars++] = name;
}

/* "$x :=", "$x =", and in range "$i, $v :=". */
static void parse_decls(struct parser *p, struct pipe *pp, const char *ctx)
{
    for (;;) {
        size_t save = p->i;
        const struct token *v = next_nonspace(p);
        const struct token *nx = v->type == T_VAR ? next_nonspace(p) : v;
        if (v->type == T_VAR && (nx->type == T_ASSIGN || nx->type == T_DECLARE)) {
            pp->assign = nx->type == T_ASSIGN;
            declare(p, pp, v);
            return;
        }
        if (v->type != T_VAR || nx->type != T_CHAR || p->s[nx->pos] != ',') {
            p->i = save; /* an operand, not a declaration */
            return;
        }
        declare(p, pp, v);
        if (strcmp(ctx, "range") != 0 || pp->ndecl >= 2)
            fail(p, nx->pos, "too many declarations in %s", ctx);
        enum tok t = peek_nonspace(p)->type;
        if (t != T_VAR && t != T_RIGHT && t != T_RPAREN)
            fail(p, nx->pos, "range can only initialize variables");
    }
}

static void parse_number(struct parser *p, const struct token *tk, struct arg *a)
{
    char buf[64], *end = NULL;
    snprintf(buf, sizeof(buf), "%.*s", (int)tk->len, p->s + tk->pos);
    errno = 0;
    a->i = strtoll(buf, &end, 0);
    a->type = A_INT;
    if (tk->len < sizeof(buf) && end != buf && *end == '\0' && errno == 0)
        return;
    errno = 0;
    a->f = strtod(buf, &end);
    a->type = A_FLOAT;
    if (tk->len >= sizeof(buf) || end == buf || *end || errno || !strpbrk(buf, ".eEpP"))
        fail(p, tk->pos, "illegal number syntax: \"%s\"", buf);
}

static int hexval(char c)
{
    return isdigit((unsigned char)c)    ? c - '0'
           : isxdigit((unsigned char)c) ? (c | 0x20) - 'a' + 10
                                        : 99;
}

/* Go's strconv.Unquote, into the tree (escapes never make the text longer). */
static void unquote(struct parser *p, const struct token *tk, struct arg *a)
{
    static const char names[] = "abfnrtv\\\"", values[] = "\a\b\f\n\r\t\v\\\"";
    const char *s = p->s + tk->pos + 1, *esc;
    size_t n = tk->len - 2, o = 0;
    char *out = talloc(p->t, n + 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (tk->type == T_RAWSTRING || c != '\\') {
            if (tk->type != T_RAWSTRING || c != '\r')
                out[o++] = c;
            continue;
        }
        c = s[++i];
        if (c && (esc = strchr(names, c))) {
            out[o++] = values[esc - names];
            continue;
        }
        bool oct = c >= '0' && c <= '7';
        int digits = oct ? 3 : c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
        uint32_t v = 0;
        i += !oct;
        if (digits == 0 || i + digits > n)
            fail(p, tk->pos, "invalid syntax");
        for (int k = 0; k < digits; k++, i++) {
            if (hexval(s[i]) >= (oct ? 8 : 16))
                fail(p, tk->pos, "invalid syntax");
            v = v * (oct ? 8 : 16) + (uint32_t)hexval(s[i]);
        }
        i--;
        if ((c == 'u' || c == 'U') ? v > 0x10FFFF || (v >= 0xD800 && v < 0xE000) : v > 0xFF)
            fail(p, tk->pos, "invalid syntax");
        if (c == 'u' || c == 'U')
            o += utf8_put(out + o, v);
        else
            out[o++] = (char)v;
    }
    a->type = A_STRING;
    a->str = out;
    a->slen = o;
}

static struct arg *parse_term(struct parser *p)
{
    const struct token *tk = next_nonspace(p);
    struct arg *a = talloc(p->t, sizeof(*a));
    const char *text = p->s + tk->pos;
    a->pos = tk->pos;
    a->len = tk->len;
    switch (tk->type) {
    case T_IDENT:
        if (is_keyword(p, tk))
            break;
        a->type = tk->len == 3 && !memcmp(text, "nil", 3) ? A_NIL : A_FUNC;
        if (a->type == A_FUNC && (a->fn = find_func(text, tk->len)) == NULL)
            fail(p, tk->pos, "function \"%.*s\" not defined", (int)tk->len, text);
        return a;
    case T_DOT:
        a->type = A_DOT;
        return a;
    case T_FIELD: /* the field chain loop of parse_operand reads it */
        a->type = A_FIELD;
        a->len = 0;
        p->i--;
        return a;
    case T_VAR:
        a->type = A_VAR;
        a->str = tstrndup(p->t, text, tk->len);
        for (size_t i = p->nvars; i-- > 0;)
            if (!strcmp(p->vars[i], a->str))
                return a;
        if (strcmp(a->str, "$") != 0)
            fail(p, tk->pos, "undefined variable \"%s\"", a->str);
        return a;
    case T_BOOL:
        a->type = A_BOOL;
        a->i = text[0] == 't';
        return a;
    case T_NUMBER:
        parse_number(p, tk, a);
        return a;
    case T_STRING:
    case T_RAWSTRING:
        unquote(p, tk, a);
        return a;
    case T_LPAREN:
        if (++p->depth > MAX_DEPTH)
            fail(p, tk->pos, "nesting deeper than %d", MAX_DEPTH);
        a->type = A_PIPE;
        a->pipe = parse_pipeline(p, "parenthesized pipeline", T_RPAREN);
        a->len = p->toks[p->i - 1].pos + 1 - a->pos;
        p->depth--;
        return a;
    default:
        break;
    }
    p->i--;
    return NULL;
}

static struct arg *parse_operand(struct parser *p)
{
    struct arg *a = parse_term(p);
    if (a == NULL || peek(p)->type != T_FIELD)
        return a;
    if (a->type != A_FIELD && a->type != A_VAR && a->type != A_PIPE && a->type != A_FUNC)
        fail(p, peek(p)->pos, "unexpected . after term \"%.*s\"", (int)a->len, p->s + a->pos);
    size_t k = 0;
    while (p->toks[p->i + k].type == T_FIELD) /* the last token is never a field */
        k++;
    a->fields = talloc(p->t, k * sizeof(*a->fields));
    for (; a->nfields < k; a->nfields++) {
        const struct token *tk = next(p);
        a->fields[a->nfields] = tstrndup(p->t, p->s + tk->pos + 1, tk->len - 1);
        a->len = tk->pos + tk->len - a->pos;
    }
    return a;
}

static struct cmd *parse_command(struct parser *p)
{
    struct cmd *c = talloc(p->t, sizeof(*c));
    struct arg **tail = &c->args;
    c->pos = peek_nonspace(p)->pos;
    for (;;) {
        peek_nonspace(p);
        struct arg *a = parse_operand(p);
        if (a) {
            *tail = a;
            tail = &a->next;
            c->len = a->pos + a->len - c->pos;
        }
        const struct token *tk = next(p);
        if (tk->type == T_SPACE)
            continue;
        if (tk->type == T_RIGHT || tk->type == T_RPAREN)
            p->i--;
        else if (tk->type != T_PIPE)
            unexpected(p, tk, "operand");
        break;
    }
    if (c->args == NULL)
        fail(p, c->pos, "empty command");
    return c;
}

static bool starts_operand(const struct parser *p, const struct token *tk)
{
    switch (tk->type) {
    case T_BOOL:
    case T_DOT:
    case T_FIELD:
    case T_NUMBER:
    case T_STRING:
    case T_RAWSTRING:
    case T_VAR:
    case T_LPAREN:
        return true;
    case T_IDENT:
        return !is_keyword(p, tk);
    default:
        return false;
    }
}

static struct pipe *parse_pipeline(struct parser *p, const char *ctx, enum tok end)
{
    struct pipe *pp = talloc(p->t, sizeof(*pp));
    struct cmd **tail = &pp->cmds;
    int stage = 0;
    pp->pos = peek_nonspace(p)->pos;
    parse_decls(p, pp, ctx);
    for (;;) {
        const struct token *tk = next_nonspace(p);
        if (tk->type == end && pp->cmds == NULL)
            fail(p, tk->pos, "missing value for %s", ctx);
        if (tk->type == end)
            return pp;
        if (!starts_operand(p, tk))
            unexpected(p, tk, ctx);
        p->i--;
        struct cmd *c = parse_command(p);
        enum atype first = c->args->type;
        if (++stage > 1 && (first == A_BOOL || first == A_DOT || first == A_NIL || first == A_INT ||
                            first == A_FLOAT || first == A_STRING))
            fail(p, c->pos, "non executable command in pipeline stage %d", stage);
        *tail = c;
        tail = &c->next;
    }
}

static struct node *parse_control(struct parser *p, struct node *n, const struct token *kw)
{
    size_t mark = p->nvars;
    char k = p->s[kw->pos];
    const char *ctx = k == 'i' ? "if" : k == 'w' ? "with" : "range";
    enum stop stop;
    n->type = k == 'i' ? N_IF : k == 'w' ? N_WITH : N_RANGE;
    n->pos = kw->pos;
    if (++p->depth > MAX_DEPTH)
        fail(p, kw->pos, "nesting deeper than %d", MAX_DEPTH);
    n->pipe = parse_pipeline(p, ctx, T_RIGHT);
    p->range_depth += n->type == N_RANGE;
    n->list = parse_list(p, false, &stop);
    p->range_depth -= n->type == N_RANGE;
    if (stop == S_ELSE_CHAIN) { /* {{else if x}} is {{else}}{{if x}} sharing the final {{end}} */
        const struct token *kw2 = next_nonspace(p);
        if (n->type == N_RANGE || p->s[kw2->pos] != k)
            unexpected(p, kw2, "input");
        n->elselist = parse_control(p, talloc(p->t, sizeof(struct node)), kw2);
    } else if (stop == S_ELSE) {
        n->elselist = parse_list(p, false, &stop);
        if (stop != S_END)
            fail(p, p->stop_pos, "expected end; found {{else}}");
    }
    p->depth--;
    p->nvars = mark;
    return n;
}

/* After "{{": an action, a control structure, or NULL with *stop for {{end}} and {{else}}. */
static struct node *parse_action(struct parser *p, enum stop *stop)
{
    const struct token *tk = next_nonspace(p);
    struct node *n = talloc(p->t, sizeof(*n));
    if (is_word(p, tk, "end") || is_word(p, tk, "else")) {
        const struct token *after = peek_nonspace(p);
        bool chain = tk->len == 4 && (is_word(p, after, "if") || is_word(p, after, "with"));
        if (!chain)
            expect_right(p, tk->len == 4 ? "else" : "end");
        *stop = tk->len == 3 ? S_END : chain ? S_ELSE_CHAIN : S_ELSE;
        p->stop_pos = tk->pos;
        return NULL;
    }
    if (is_word(p, tk, "if") || is_word(p, tk, "with") || is_word(p, tk, "range"))
        return parse_control(p, n, tk);
    if (is_word(p, tk, "break") || is_word(p, tk, "continue")) {
        if (p->range_depth == 0)
            fail(p, tk->pos, "{{%.*s}} outside {{range}}", (int)tk->len, p->s + tk->pos);
        n->type = tk->len == 5 ? N_BREAK : N_CONTINUE;
        expect_right(p, tk->len == 5 ? "break" : "continue");
        return n;
    }
    if (is_keyword(p, tk))
        fail(p, tk->pos, "{{%.*s}} is not supported", (int)tk->len, p->s + tk->pos);
    p->i--;
    n->type = N_ACTION;
    n->pos = tk->pos;
    n->pipe = parse_pipeline(p, "command", T_RIGHT);
    return n;
}

static struct node *parse_list(struct parser *p, bool top, enum stop *stop)
{
    struct node *head = NULL, **tail = &head, *n;
    for (;;) {
        const struct token *tk = next(p);
        if (tk->type == T_EOF && !top)
            fail(p, tk->pos, "unexpected EOF");
        if (tk->type == T_EOF) {
            *stop = S_EOF;
            return head;
        }
        if (tk->type == T_TEXT) {
            n = talloc(p->t, sizeof(*n));
            n->type = N_TEXT;
            n->pos = tk->pos;
            n->len = tk->len;
        } else if (tk->type != T_LEFT) {
            unexpected(p, tk, "input");
        } else if ((n = parse_action(p, stop)) == NULL) {
            if (top)
                fail(p, p->stop_pos, "unexpected {{%s}}", *stop == S_END ? "end" : "else");
            return head;
        }
        *tail = n;
        tail = &n->next;
    }
}

static int parse_all(struct parser *p)
{
    enum stop stop;
    if (setjmp(p->jb) != 0)
        return -1;
    p->t->root = parse_list(p, true, &stop);
    return 0;
}

struct lb_template *lb_template_parse(const char *text, struct lb_error **err)
{
    struct lb_template *t = lb_xmalloc(sizeof(*t));
    t->src = lb_xstrdup(text);
    struct lexer l = {.s = t->src, .n = strlen(t->src)};
    lex(&l);
    struct parser p = {
        .t = t, .s = t->src, .toks = l.toks, .ntoks = l.ntoks, .lexerr = l.err, .err = err};
    int r = parse_all(&p);
    free(l.toks);
    free(l.err);
    free(p.vars);
    if (r < 0) {
        lb_template_free(t);
        return NULL;
    }
    return t;
}

void lb_template_free(struct lb_template *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nblocks; i++)
        free(t->blocks[i]);
    free(t->blocks);
    free(t->src);
    free(t);
}

/* ---- values, printed as Go's fmt (%v and printf verbs) and encoding/json print them ---- */

static const char *go_type(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT:
        return "map[string]interface {}";
    case JSON_ARRAY:
        return "[]interface {}";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "<nil>";
    }
}

static bool is_nil(const json_t *v)
{
    return v == NULL || json_is_null(v);
}

/* Go's truth: false, 0, "", empty array or object, nil and a missing value are false. */
static bool is_true(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    default:
        return false;
    }
}

/* The shortest digits that read back as d, laid out as Go does: for %v (strconv's 'g' with
 * precision -1) in exponent form when the exponent is < -4 or >= 6 ("1e+06"); for JSON when
 * |d| < 1e-6 or >= 1e21, with "e-7" rather than "e-07". */
static void go_float(struct lb_strbuf *sb, double d, bool json)
{
    char buf[40], digits[24];
    int nd = 0;
    if (isnan(d) || isinf(d)) {
        lb_strbuf_adds(sb, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (d == 0) {
        lb_strbuf_adds(sb, signbit(d) ? "-0" : "0");
        return;
    }
    for (int prec = 0; prec < 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    const char *c = buf + (buf[0] == '-');
    if (buf[0] == '-')
        lb_strbuf_addc(sb, '-');
    for (; *c != 'e'; c++)
        if (*c != '.')
            digits[nd++] = *c;
    int exp = atoi(c + 1), dp = exp + 1;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (json ? fabs(d) < 1e-6 || fabs(d) >= 1e21 : exp < -4 || exp >= 6) {
        lb_strbuf_add(sb, digits, 1);
        if (nd > 1)
            lb_strbuf_addc(sb, '.');
        lb_strbuf_add(sb, digits + 1, (size_t)nd - 1);
        lb_strbuf_addf(sb, json && exp < 0 ? "e%d" : "e%+03d", exp);
    } else if (dp <= 0) {
        lb_strbuf_adds(sb, "0.");
        for (int i = 0; i < -dp; i++)
            lb_strbuf_addc(sb, '0');
        lb_strbuf_add(sb, digits, (size_t)nd);
    } else {
        lb_strbuf_add(sb, digits, (size_t)(dp < nd ? dp : nd));
        for (int i = nd; i < dp; i++)
            lb_strbuf_addc(sb, '0');
        if (dp < nd)
            lb_strbuf_addc(sb, '.');
        if (dp < nd)
            lb_strbuf_add(sb, digits + dp, (size_t)(nd - dp));
    }
}

/* Go's strconv.Quote (printable is approximated: C0/C1 controls, U+00AD, U+2028/9 are not). */
static void go_quote(struct lb_strbuf *sb, const char *s, size_t n)
{
    static const char ctl[] = "\a\b\f\n\r\t\v", names[] = "abfnrtv";
    const char *esc;
    lb_strbuf_addc(sb, '"');
    for (size_t i = 0, len; i < n; i += len) {
        uint32_t r;
        len = utf8_next(s + i, n - i, &r);
        if (r == 0xFFFD && len == 1)
            lb_strbuf_addf(sb, "\\x%02x", (unsigned char)s[i]);
        else if (r == '"' || r == '\\')
            lb_strbuf_addf(sb, "\\%c", (char)r);
        else if (r >= 0x20 && r != 0x7F && !(r >= 0x80 && r <= 0xA0) && r != 0xAD && r != 0x2028 &&
                 r != 0x2029)
            lb_strbuf_add(sb, s + i, len);
        else if (r != 0 && (esc = strchr(ctl, (int)r)) != NULL)
            lb_strbuf_addf(sb, "\\%c", names[esc - ctl]);
        else
            lb_strbuf_addf(sb,
                           r < 0x80      ? "\\x%02x"
                           : r < 0x10000 ? "\\u%04x"
                                         : "\\U%08x",
                           (unsigned)r);
    }
    lb_strbuf_addc(sb, '"');
}

struct spec { /* one printf directive: %-+ 0<width>.<prec><verb> */
    char verb;
    bool minus, plus, zero, space;
    int width, prec;
};

static const struct spec spec_v = {.verb = 'v', .prec = -1};

/* Bytes in the first `max` runes of s (Go's precision for %s counts runes). */
static size_t rune_bytes(const char *s, size_t n, size_t max, size_t *runes)
{
    size_t i = 0, count = 0;
    uint32_t r;
    for (; i < n && count < max; count++)
        i += utf8_next(s + i, n - i, &r);
    if (runes)
        *runes = count;
    return i;
}

static void pad_to(struct lb_strbuf *sb, const struct lb_strbuf *text, const struct spec *sp,
                   bool num)
{
    const char *s = text->buf ? text->buf : "";
    size_t n = text->len, w, fill;
    rune_bytes(s, n, SIZE_MAX, &w);
    fill = sp->width > 0 && (size_t)sp->width > w ? (size_t)sp->width - w : 0;
    bool zeros = num && sp->zero && !sp->minus;
    size_t sign = zeros && n > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ');
    lb_strbuf_add(sb, s, sp->minus ? n : sign);
    for (; fill > 0; fill--)
        lb_strbuf_addc(sb, zeros ? '0' : ' ');
    if (!sp->minus)
        lb_strbuf_add(sb, s + sign, n - sign);
}

/* Format a non-container value; false when the verb does not apply to its type. */
static bool fmt_scalar(struct lb_strbuf *sb, const json_t *v, const struct spec *sp)
{
    struct lb_strbuf t = LB_STRBUF_INIT;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    long long i = json_integer_value(v);
    double d = json_real_value(v);
    char verb = sp->verb;
    bool ok = true;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        if (verb == 'v' || verb == 's')
            lb_strbuf_add(&t, s, sp->prec >= 0 ? rune_bytes(s, n, (size_t)sp->prec, NULL) : n);
        else if (verb == 'q')
            go_quote(&t, s, n);
        else if (verb == 'x' || verb == 'X')
            for (size_t k = 0; k < n; k++)
                lb_strbuf_addf(&t, verb == 'x' ? "%02x" : "%02X", (unsigned char)s[k]);
        else
            ok = false;
        break;
    case JSON_INTEGER:
        if (verb == 'v' || verb == 'd')
            lb_strbuf_addf(&t, sp->plus ? "%+lld" : sp->space ? "% lld" : "%lld", i);
        else if (verb == 'x' || verb == 'X')
            lb_strbuf_addf(&t, verb == 'x' ? "%s%llx" : "%s%llX", i < 0 ? "-" : "",
                           i < 0 ? 0ull - (unsigned long long)i : (unsigned long long)i);
        else
            ok = false;
        break;
    case JSON_REAL:
        if ((verb == 'v' || verb == 'g') && sp->prec < 0) {
            if (sp->plus && !signbit(d))
                lb_strbuf_addc(&t, '+');
            go_float(&t, d, false);
        } else if (verb == 'e' || verb == 'f' || verb == 'g' || verb == 'v') {
            lb_strbuf_addf(&t,
                           verb == 'e'   ? "%.*e"
                           : verb == 'f' ? "%.*f"
                                         : "%.*g",
                           sp->prec < 0 ? 6 : sp->prec, d);
        } else {
            ok = false;
        }
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        ok = verb == 'v' || verb == 't';
        lb_strbuf_adds(&t, json_is_true(v) ? "true" : "false");
        break;
    default:
        ok = verb == 'v';
        lb_strbuf_adds(&t, "<nil>");
    }
    if (ok)
        pad_to(sb, &t, sp, json_is_number(v));
    lb_strbuf_release(&t);
    return ok;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The object's keys in Go's map order (sorted bytewise). Caller frees the array only. */
static const char **sorted_keys(const json_t *obj, size_t *n)
{
    const char **keys = lb_xmalloc((json_object_size(obj) + 1) * sizeof(*keys));
    const char *k;
    json_t *val;
    *n = 0;
    json_object_foreach((json_t *)obj, k, val)
    {
        (void)val;
        keys[(*n)++] = k;
    }
    qsort(keys, *n, sizeof(*keys), cmp_keys);
    return keys;
}

/* Go's fmt: containers apply the verb to each element: [a b], map[k:v]. */
static void fmt_value(struct lb_strbuf *sb, const json_t *v, const struct spec *sp)
{
    size_t i, n;
    json_t *e;
    if (json_is_array(v)) {
        lb_strbuf_addc(sb, '[');
        json_array_foreach(v, i, e)
        {
            if (i > 0)
                lb_strbuf_addc(sb, ' ');
            fmt_value(sb, e, sp);
        }
        lb_strbuf_addc(sb, ']');
    } else if (json_is_object(v)) {
        const char **keys = sorted_keys(v, &n);
        lb_strbuf_adds(sb, "map[");
        for (i = 0; i < n; i++) {
            json_t *k = json_stringn_nocheck(keys[i], strlen(keys[i]));
            lb_strbuf_adds(sb, i > 0 ? " " : "");
            fmt_value(sb, k, sp);
            lb_strbuf_addc(sb, ':');
            fmt_value(sb, json_object_get(v, keys[i]), sp);
            json_decref(k);
        }
        lb_strbuf_addc(sb, ']');
        free(keys);
    } else if (!fmt_scalar(sb, v, sp)) { /* Go's "%!d(string=abc)" */
        lb_strbuf_addf(sb, "%%!%c(%s", sp->verb, go_type(v));
        if (!is_nil(v)) {
            lb_strbuf_addc(sb, '=');
            fmt_scalar(sb, v, &spec_v);
        }
        lb_strbuf_addc(sb, ')');
    }
}

static void json_str(struct lb_strbuf *sb, const char *s, size_t n, bool html)
{
    static const char hex[] = "0123456789abcdef";
    lb_strbuf_addc(sb, '"');
    for (size_t i = 0, len; i < n; i += len) {
        unsigned char c = (unsigned char)s[i];
        uint32_t r;
        len = utf8_next(s + i, n - i, &r);
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                                      : NULL;
        if (esc)
            lb_strbuf_adds(sb, esc);
        else if (c < 0x20 || (html && (c == '<' || c == '>' || c == '&')))
            lb_strbuf_addf(sb, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
        else if (r == 0xFFFD && len == 1)
            lb_strbuf_adds(sb, "\\ufffd");
        else if (r == 0x2028 || r == 0x2029)
            lb_strbuf_addf(sb, "\\u%04x", (unsigned)r);
        else
            lb_strbuf_add(sb, s + i, len);
    }
    lb_strbuf_addc(sb, '"');
}

void lb_template_json(const json_t *v, bool escape_html, struct lb_strbuf *out)
{
    size_t i = 0;
    const char *k;
    json_t *e;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT:
        lb_strbuf_addc(out, '{');
        json_object_foreach((json_t *)v, k, e)
        {
            lb_strbuf_adds(out, i++ ? "," : "");
            json_str(out, k, strlen(k), escape_html);
            lb_strbuf_addc(out, ':');
            lb_template_json(e, escape_html, out);
        }
        lb_strbuf_addc(out, '}');
        break;
    case JSON_ARRAY:
        lb_strbuf_addc(out, '[');
        json_array_foreach(v, i, e)
        {
            lb_strbuf_adds(out, i ? "," : "");
            lb_template_json(e, escape_html, out);
        }
        lb_strbuf_addc(out, ']');
        break;
    case JSON_STRING:
        json_str(out, json_string_value(v), json_string_length(v), escape_html);
        break;
    case JSON_INTEGER:
        lb_strbuf_addf(out, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        go_float(out, json_real_value(v), true);
        break;
    default:
        lb_strbuf_adds(out, json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
    }
}

/* ---- functions: each returns NULL, or the error message (caller frees) ---- */

typedef char *(*fn_t)(const struct func *f, json_t **argv, size_t n, json_t **out);

struct func {
    const char *name;
    fn_t fn;      /* NULL: and/or, which evaluate their arguments lazily */
    int min, max; /* number of arguments; max -1: no limit */
    bool header;  /* among docker's header functions, which return their first argument */
};

static char *type_err(const json_t *v, const char *want)
{
    if (v == NULL)
        return lb_xasprintf("invalid value; expected %s", want);
    return lb_xasprintf("wrong type for value; expected %s; got %s", want, go_type(v));
}

static char *get_str(const json_t *v, const char **s, size_t *n)
{
    if (!json_is_string(v))
        return type_err(v, "string");
    *s = json_string_value(v);
    *n = json_string_length(v);
    return NULL;
}

static char *get_int(const json_t *v, long long *i)
{
    double d = json_real_value(v);
    if (json_is_integer(v))
        *i = json_integer_value(v);
    else if (json_is_real(v) && fabs(d) < 9e18 && d == (double)(long long)d)
        *i = (long long)d;
    else
        return type_err(v, "int");
    return NULL;
}

static char *calling(const struct func *f, char *msg)
{
    char *m = lb_xasprintf("error calling %s: %s", f->name, msg);
    free(msg);
    return m;
}

static json_t *str_value(struct lb_strbuf *sb)
{
    json_t *v = json_stringn_nocheck(sb->buf ? sb->buf : "", sb->len);
    lb_strbuf_release(sb);
    return v;
}

static char *fn_json(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    (void)f, (void)n;
    lb_template_json(argv[0], false, &sb); /* docker: enc.SetEscapeHTML(false) */
    *out = str_value(&sb);
    return NULL;
}

/* lower, upper and title (strings.Title: a letter after a non-alphanumeric), ASCII only. */
static char *fn_case(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    const char *s;
    size_t len;
    char *e = get_str(argv[0], &s, &len);
    bool sep = true;
    (void)n;
    for (size_t i = 0; e == NULL && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool up = f->name[0] == 'u' || (f->name[0] == 't' && sep);
        if (c < 0x80)
            c = (unsigned char)(up ? toupper(c) : f->name[0] == 'l' ? tolower(c) : c);
        sep = c < 0x80 && !isalnum(c) && c != '_';
        lb_strbuf_addc(&sb, (char)c);
    }
    if (e == NULL)
        *out = str_value(&sb);
    return e;
}

static char *fn_split(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    const char *s, *sep, *hit;
    size_t len, seplen, k;
    uint32_t r;
    char *e = get_str(argv[0], &s, &len);
    (void)f, (void)n;
    if (e || (e = get_str(argv[1], &sep, &seplen)) != NULL)
        return e;
    json_t *arr = *out = json_array();
    for (; seplen == 0 && len > 0; s += k, len -= k) { /* empty separator: one string per rune */
        k = utf8_next(s, len, &r);
        json_array_append_new(arr, json_stringn_nocheck(s, k));
    }
    while (seplen > 0 && (hit = memmem(s, len, sep, seplen)) != NULL) {
        json_array_append_new(arr, json_stringn_nocheck(s, (size_t)(hit - s)));
        len -= (size_t)(hit - s) + seplen;
        s = hit + seplen;
    }
    if (seplen > 0)
        json_array_append_new(arr, json_stringn_nocheck(s, len));
    return NULL;
}

static char *fn_join(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    const char *sep;
    size_t seplen, i;
    json_t *e;
    char *err = get_str(argv[1], &sep, &seplen);
    (void)f, (void)n;
    if (err || (!is_nil(argv[0]) && !json_is_array(argv[0])))
        return err ? err : type_err(argv[0], "[]string");
    json_array_foreach(argv[0], i, e)
    {
        if (!json_is_string(e)) {
            lb_strbuf_release(&sb);
            return lb_xstrdup("wrong type for value; expected []string; got []interface {}");
        }
        lb_strbuf_add(&sb, sep, i > 0 ? seplen : 0);
        lb_strbuf_add(&sb, json_string_value(e), json_string_length(e));
    }
    *out = str_value(&sb);
    return NULL;
}

/* docker's pad: spaces before and after, unless the string is empty. */
static char *fn_pad(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    const char *s;
    size_t len;
    long long pre = 0, post = 0;
    char *e = get_str(argv[0], &s, &len);
    (void)n;
    if (e || (e = get_int(argv[1], &pre)) || (e = get_int(argv[2], &post)))
        return e;
    if (len > 0 && (pre < 0 || post < 0 || pre > 65536 || post > 65536))
        return calling(f, lb_xasprintf("strings: %s Repeat count",
                                       pre < 0 || post < 0 ? "negative" : "too large a"));
    for (long long k = 0; len > 0 && k < pre; k++)
        lb_strbuf_addc(&sb, ' ');
    lb_strbuf_add(&sb, s, len);
    for (long long k = 0; len > 0 && k < post; k++)
        lb_strbuf_addc(&sb, ' ');
    *out = str_value(&sb);
    return NULL;
}

/* docker's truncate: the first n bytes (bytes, as Go slices strings). */
static char *fn_truncate(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    const char *s;
    size_t len;
    long long max = 0;
    char *e = get_str(argv[0], &s, &len);
    (void)n;
    if (e || (e = get_int(argv[1], &max)))
        return e;
    if (max < 0)
        return calling(f, lb_xasprintf("runtime error: slice bounds out of range [:%lld]", max));
    *out = json_stringn_nocheck(s, (unsigned long long)max < len ? (size_t)max : len);
    return NULL;
}

static char *fn_len(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    json_t *v = argv[0];
    (void)n;
    if (json_is_string(v) || json_is_array(v) || json_is_object(v))
        *out = json_integer((json_int_t)(json_is_string(v)  ? json_string_length(v)
                                         : json_is_array(v) ? json_array_size(v)
                                                            : json_object_size(v)));
    else if (is_nil(v))
        return calling(f, lb_xstrdup("len of nil pointer"));
    else
        return calling(f, lb_xasprintf("len of type %s", go_type(v)));
    return NULL;
}

static char *index_step(const json_t *it, const json_t *x, json_t **sub)
{
    if (is_nil(it))
        return lb_xstrdup("index of nil pointer");
    if (json_is_object(it) && !json_is_string(x))
        return lb_xasprintf("value has type %s; should be string", go_type(x));
    if (json_is_object(it)) { /* a missing key gives the element type's zero value: nil */
        json_t *m = json_object_get(it, json_string_value(x));
        *sub = m ? json_incref(m) : json_null();
        return NULL;
    }
    if (!json_is_array(it) && !json_is_string(it))
        return lb_xasprintf("can't index item of type %s", go_type(it));
    if (!json_is_integer(x))
        return is_nil(x) ? lb_xstrdup("cannot index slice/array with nil")
                         : lb_xasprintf("cannot index slice/array with type %s", go_type(x));
    long long k = json_integer_value(x);
    size_t len = json_is_array(it) ? json_array_size(it) : json_string_length(it);
    if (k < 0 || (unsigned long long)k >= len)
        return lb_xasprintf("index out of range: %lld", k);
    *sub = json_is_array(it) ? json_incref(json_array_get(it, (size_t)k))
                             : json_integer((unsigned char)json_string_value(it)[k]);
    return NULL;
}

static char *fn_index(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    json_t *item = json_incref(argv[0]);
    char *e = is_nil(item) ? lb_xstrdup("index of untyped nil") : NULL;
    for (size_t i = 1; i < n && e == NULL; i++) {
        json_t *sub = NULL;
        e = index_step(item, argv[i], &sub);
        json_decref(item);
        item = sub;
    }
    if (e) {
        json_decref(item);
        return calling(f, e);
    }
    *out = item;
    return NULL;
}

/* print (Sprint: a space between operands when neither is a string) and println. */
static char *fn_print(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    bool ln = f->name[5] == 'l';
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (ln || (!json_is_string(argv[i]) && !json_is_string(argv[i - 1]))))
            lb_strbuf_addc(&sb, ' ');
        fmt_value(&sb, argv[i], &spec_v);
    }
    if (ln)
        lb_strbuf_addc(&sb, '\n');
    *out = str_value(&sb);
    return NULL;
}

/* Parse the flags, width and precision of a directive starting after '%'. */
static size_t parse_spec(const char *f, size_t i, size_t len, struct spec *sp)
{
    for (; i < len && f[i] && strchr("-+ 0#", f[i]); i++) {
        sp->minus |= f[i] == '-';
        sp->plus |= f[i] == '+';
        sp->space |= f[i] == ' ';
        sp->zero |= f[i] == '0';
    }
    for (; i < len && isdigit((unsigned char)f[i]); i++)
        sp->width = sp->width < 100000 ? sp->width * 10 + (f[i] - '0') : sp->width;
    if (i < len && f[i] == '.')
        for (sp->prec = 0, i++; i < len && isdigit((unsigned char)f[i]); i++)
            sp->prec = sp->prec < 100000 ? sp->prec * 10 + (f[i] - '0') : sp->prec;
    return i;
}

static char *fn_printf(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    const char *fmt;
    size_t len, argi = 1;
    char *e = get_str(argv[0], &fmt, &len);
    (void)f;
    if (e)
        return e;
    for (size_t i = 0; i < len; i++) {
        struct spec sp = {.prec = -1};
        if (fmt[i] != '%') {
            lb_strbuf_addc(&sb, fmt[i]);
            continue;
        }
        if ((i = parse_spec(fmt, i + 1, len, &sp)) >= len) {
            lb_strbuf_adds(&sb, "%!(NOVERB)");
            break;
        }
        sp.verb = fmt[i];
        if (sp.verb == '%')
            lb_strbuf_addc(&sb, '%');
        else if (argi >= n)
            lb_strbuf_addf(&sb, "%%!%c(MISSING)", sp.verb);
        else
            fmt_value(&sb, argv[argi++], &sp);
    }
    for (size_t k = argi; k < n; k++) {
        lb_strbuf_adds(&sb, k == argi ? "%!(EXTRA " : ", ");
        lb_strbuf_adds(&sb, go_type(argv[k]));
        lb_strbuf_adds(&sb, is_nil(argv[k]) ? "" : "=");
        if (!is_nil(argv[k]))
            fmt_value(&sb, argv[k], &spec_v);
        lb_strbuf_adds(&sb, k + 1 == n ? ")" : "");
    }
    *out = str_value(&sb);
    return NULL;
}

/* Go's eq/lt on basic values: <0, 0 or >0; *err when they cannot be compared. Unlike typed Go,
 * an int and a float64 compare numerically. */
static int compare(const json_t *a, const json_t *b, bool ordered, char **err)
{
    if (json_is_string(a) && json_is_string(b)) {
        size_t la = json_string_length(a), lb = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
        return c ? c : (la > lb) - (la < lb);
    }
    if (json_is_integer(a) && json_is_integer(b))
        return (json_integer_value(a) > json_integer_value(b)) -
               (json_integer_value(a) < json_integer_value(b));
    if (json_is_number(a) && json_is_number(b))
        return (json_number_value(a) > json_number_value(b)) -
               (json_number_value(a) < json_number_value(b));
    if (!ordered && json_is_boolean(a) && json_is_boolean(b))
        return json_is_true(a) != json_is_true(b);
    if (!ordered && (is_nil(a) || is_nil(b)))
        return !(is_nil(a) && is_nil(b));
    bool container = json_is_array(a) || json_is_object(a) || json_is_array(b) || json_is_object(b);
    bool basic =
        !container && !json_is_boolean(a) && !json_is_boolean(b) && !is_nil(a) && !is_nil(b);
    *err = lb_xstrdup(container && !ordered ? "non-comparable type"
                      : !basic              ? "invalid type for comparison"
                                            : "incompatible types for comparison");
    return 0;
}

/* eq (true when the first argument equals any other), ne, lt, le, gt, ge. */
static char *fn_cmp(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    const char *op = f->name;
    char *e = op[0] == 'e' && n < 2 ? lb_xstrdup("missing argument for comparison") : NULL;
    bool truth = false;
    int c = 0;
    for (size_t i = 1; i < n && e == NULL && !truth; i++) {
        c = compare(argv[0], argv[i], op[0] == 'l' || op[0] == 'g', &e);
        truth = op[0] == 'e' && c == 0;
    }
    if (e)
        return calling(f, e);
    if (op[0] != 'e')
        truth = op[0] == 'n'   ? c != 0
                : op[0] == 'l' ? (op[1] == 't' ? c < 0 : c <= 0)
                               : (op[1] == 't' ? c > 0 : c >= 0);
    *out = json_boolean(truth);
    return NULL;
}

static char *fn_not(const struct func *f, json_t **argv, size_t n, json_t **out)
{
    (void)f, (void)n;
    *out = json_boolean(!is_true(argv[0]));
    return NULL;
}

static const struct func funcs[] = {
    {"and", NULL, 1, -1, false},           {"eq", fn_cmp, 1, -1, false},
    {"ge", fn_cmp, 2, 2, false},           {"gt", fn_cmp, 2, 2, false},
    {"index", fn_index, 1, -1, false},     {"join", fn_join, 2, 2, true},
    {"json", fn_json, 1, 1, true},         {"le", fn_cmp, 2, 2, false},
    {"len", fn_len, 1, 1, false},          {"lower", fn_case, 1, 1, true},
    {"lt", fn_cmp, 2, 2, false},           {"ne", fn_cmp, 2, 2, false},
    {"not", fn_not, 1, 1, false},          {"or", NULL, 1, -1, false},
    {"pad", fn_pad, 3, 3, false},          {"print", fn_print, 0, -1, false},
    {"printf", fn_printf, 1, -1, false},   {"println", fn_print, 0, -1, false},
    {"split", fn_split, 2, 2, true},       {"title", fn_case, 1, 1, true},
    {"truncate", fn_truncate, 2, 2, true}, {"upper", fn_case, 1, 1, true},
};

static const struct func *find_func(const char *name, size_t len)
{
    for (size_t i = 0; i < LB_ARRAY_SIZE(funcs); i++)
        if (strlen(funcs[i].name) == len && !memcmp(funcs[i].name, name, len))
            return &funcs[i];
    return NULL;
}

/* ---- execution ---- */

struct var {
    const char *name;
    json_t *val;
};

enum loopctl { LOOP_NONE, LOOP_BREAK, LOOP_CONTINUE };

struct state {
    const struct lb_template *t;
    struct lb_strbuf *out;
    struct lb_error **err;
    struct var *vars; /* a stack: $ first, inner scopes on top */
    size_t nvars, alloc;
    bool header;
    enum loopctl loop; /* set by {{break}}/{{continue}} until the range sees it */
};

static int eval_pipe(struct state *s, json_t *dot, const struct pipe *pp, json_t **out);
static int walk(struct state *s, json_t *dot, const struct node *n);

__attribute__((format(printf, 4, 5))) static int exec_fail(struct state *s, size_t pos, size_t len,
                                                           const char *fmt, ...)
{
    char *msg = NULL;
    size_t col;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        lb_oom();
    va_end(ap);
    int line = line_of(s->t->src, pos, &col);
    char *context = one_line(lb_xstrndup(s->t->src + pos, len));
    lb_error_setk(s->err, LB_EKIND_INVALID, 0, "template: :%d:%zu: executing \"\" at <%s>: %s",
                  line, col, context, one_line(msg));
    free(context);
    free(msg);
    return -1;
}

static void push_var(struct state *s, const char *name, json_t *v)
{
    if (s->nvars == s->alloc) {
        s->alloc = s->alloc ? 2 * s->alloc : 16;
        s->vars = lb_xrealloc(s->vars, s->alloc * sizeof(*s->vars));
    }
    s->vars[s->nvars++] = (struct var){name, json_incref(v)};
}

static void pop_vars(struct state *s, size_t mark)
{
    while (s->nvars > mark)
        json_decref(s->vars[--s->nvars].val);
}

static struct var *find_var(struct state *s, const char *name)
{
    for (size_t i = s->nvars; i-- > 0;)
        if (!strcmp(s->vars[i].name, name))
            return &s->vars[i];
    return NULL;
}

static void set_var(struct var *x, json_t *v)
{
    json_decref(x->val);
    x->val = json_incref(v);
}

/* One step of a field chain. A missing value stays missing, as in Go. */
static int field(struct state *s, const struct arg *a, json_t **v, const char *name)
{
    json_t *r = *v;
    *v = NULL;
    if (r == NULL || json_is_object(r)) {
        *v = r ? json_incref(json_object_get(r, name)) : NULL;
        json_decref(r);
        return 0;
    }
    const char *type = go_type(r);
    bool nil = json_is_null(r);
    json_decref(r);
    if (nil)
        return exec_fail(s, a->pos, a->len, "nil pointer evaluating interface {}.%s", name);
    return exec_fail(s, a->pos, a->len, "can't evaluate field %s in type %s", name, type);
}

static int apply(struct state *s, size_t pos, size_t len, const struct func *fn, json_t **argv,
                 size_t n, json_t **out)
{
    if (n < (size_t)fn->min || (fn->max >= 0 && n > (size_t)fn->max))
        return exec_fail(s, pos, len,
                         fn->min == fn->max
                             ? "wrong number of args for %s: want %d got %zu"
                             : "wrong number of args for %s: want at least %d got %zu",
                         fn->name, fn->min, n);
    if (s->header && fn->header) {
        *out = json_incref(argv[0]);
        return 0;
    }
    char *msg = fn->fn(fn, argv, n, out);
    if (msg == NULL)
        return 0;
    exec_fail(s, pos, len, "%s", msg);
    free(msg);
    return -1;
}

/* The value of an operand: a constant, dot, a variable, a function called without arguments
 * or a parenthesized pipeline, then its field chain. */
static int eval_arg(struct state *s, json_t *dot, const struct arg *a, json_t **out)
{
    json_t *v = NULL;
    struct var *x;
    int r = 0;
    switch (a->type) {
    case A_DOT:
    case A_FIELD:
        v = json_incref(dot);
        break;
    case A_VAR:
        v = (x = find_var(s, a->str)) ? json_incref(x->val) : NULL;
        break;
    case A_PIPE:
        r = eval_pipe(s, dot, a->pipe, &v);
        break;
    case A_FUNC:
        r = a->fn->fn ? apply(s, a->pos, a->len, a->fn, NULL, 0, &v)
                      : exec_fail(s, a->pos, a->len,
                                  "wrong number of args for %s: want at "
                                  "least 1 got 0",
                                  a->fn->name);
        break;
    case A_STRING:
        v = json_stringn_nocheck(a->str, a->slen);
        break;
    case A_INT:
        v = json_integer(a->i);
        break;
    case A_FLOAT:
        v = json_real(a->f);
        break;
    case A_BOOL:
        v = json_boolean(a->i);
        break;
    case A_NIL:
        v = json_null();
        break;
    }
    for (size_t i = 0; r == 0 && i < a->nfields; i++)
        r = field(s, a, &v, a->fields[i]);
    *out = v;
    return r;
}

/* and/or: evaluate arguments in order, stop at the first false (and) or true (or) one. */
static int call_lazy(struct state *s, json_t *dot, const struct cmd *c, json_t **final,
                     json_t **out)
{
    bool is_or = c->args->fn->name[0] == 'o';
    json_t *v = NULL;
    if (c->args->next == NULL && final == NULL)
        return apply(s, c->pos, c->len, c->args->fn, NULL, 0, out);
    for (const struct arg *a = c->args->next; a; a = a->next) {
        json_decref(v);
        v = NULL;
        if (eval_arg(s, dot, a, &v) < 0)
            return -1;
        if (is_true(v) == is_or) {
            *out = v;
            return 0;
        }
    }
    if (final) {
        json_decref(v);
        v = json_incref(*final);
    }
    *out = v;
    return 0;
}

static int call(struct state *s, json_t *dot, const struct cmd *c, json_t **final, json_t **out)
{
    json_t *argv[MAX_ARGS] = {NULL};
    size_t n = 0;
    int r = 0;
    if (c->args->fn->fn == NULL)
        return call_lazy(s, dot, c, final, out);
    for (const struct arg *a = c->args->next; a && r == 0; a = a->next)
        r = n + 1 >= MAX_ARGS ? exec_fail(s, c->pos, c->len, "too many arguments")
                              : eval_arg(s, dot, a, &argv[n++]);
    if (r == 0 && final)
        argv[n++] = json_incref(*final);
    if (r == 0)
        r = apply(s, c->pos, c->len, c->args->fn, argv, n, out);
    while (n > 0)
        json_decref(argv[--n]);
    return r;
}

/* One command of a pipeline; final is the previous command's result (NULL for the first). */
static int eval_cmd(struct state *s, json_t *dot, const struct cmd *c, json_t **final, json_t **out)
{
    const struct arg *a = c->args;
    if (a->type == A_FUNC && a->nfields == 0)
        return call(s, dot, c, final, out);
    if (a->type == A_NIL)
        return exec_fail(s, a->pos, a->len, "nil is not a command");
    if ((a->next || final) && a->nfields > 0)
        return exec_fail(s, a->pos, a->len, "%s is not a method but has arguments",
                         a->fields[a->nfields - 1]);
    if (a->next || final)
        return exec_fail(s, a->pos, a->len, "can't give argument to non-function %.*s", (int)a->len,
                         s->t->src + a->pos);
    return eval_arg(s, dot, a, out);
}

static int eval_pipe(struct state *s, json_t *dot, const struct pipe *pp, json_t **out)
{
    json_t *v = NULL;
    struct var *x;
    for (const struct cmd *c = pp->cmds; c; c = c->next) {
        json_t *nv = NULL;
        int r = eval_cmd(s, dot, c, c == pp->cmds ? NULL : &v, &nv);
        json_decref(v);
        if (r < 0)
            return -1;
        v = nv;
    }
    for (int i = 0; i < pp->ndecl; i++) {
        if (!pp->assign)
            push_var(s, pp->decl[i], v);
        else if ((x = find_var(s, pp->decl[i])) != NULL)
            set_var(x, v);
    }
    *out = v;
    return 0;
}

static int walk_if(struct state *s, json_t *dot, const struct node *n)
{
    size_t mark = s->nvars;
    json_t *v = NULL;
    int r = eval_pipe(s, dot, n->pipe, &v);
    if (r == 0 && is_true(v))
        r = walk(s, n->type == N_WITH ? v : dot, n->list);
    else if (r == 0)
        r = walk(s, dot, n->elselist);
    pop_vars(s, mark);
    json_decref(v);
    return r;
}

/* One iteration: {{range $i, $v := ...}} variables get the index or key and the element. */
static int range_iter(struct state *s, const struct node *n, json_t *key, json_t *elem)
{
    size_t mark = s->nvars;
    const struct pipe *pp = n->pipe;
    struct var *x;
    if (pp->ndecl > 0 && (x = find_var(s, pp->decl[pp->ndecl - 1])) != NULL)
        set_var(x, elem);
    if (pp->ndecl > 1 && (x = find_var(s, pp->decl[0])) != NULL)
        set_var(x, key);
    int r = walk(s, elem, n->list);
    pop_vars(s, mark);
    json_decref(key);
    if (s->loop == LOOP_CONTINUE)
        s->loop = LOOP_NONE;
    return r;
}

static int walk_range(struct state *s, json_t *dot, const struct node *n)
{
    size_t mark = s->nvars, i, count = 0;
    json_t *v = NULL, *e;
    int r = eval_pipe(s, dot, n->pipe, &v);
    if (r == 0 && json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            count++;
            r = range_iter(s, n, json_integer((json_int_t)i), e);
            if (r < 0 || s->loop == LOOP_BREAK)
                break;
        }
    } else if (r == 0 && json_is_object(v)) {
        const char **keys = sorted_keys(v, &count);
        for (i = 0; i < count; i++) {
            json_t *k = json_stringn_nocheck(keys[i], strlen(keys[i]));
            r = range_iter(s, n, k, json_object_get(v, keys[i]));
            if (r < 0 || s->loop == LOOP_BREAK)
                break;
        }
        free(keys);
    } else if (r == 0 && !is_nil(v)) { /* null is taken as an empty (Go nil) slice or map */
        struct lb_strbuf sb = LB_STRBUF_INIT;
        fmt_value(&sb, v, &spec_v);
        r = exec_fail(s, n->pipe->cmds->pos, n->pipe->cmds->len, "range can't iterate over %s",
                      sb.buf);
        lb_strbuf_release(&sb);
    }
    s->loop = LOOP_NONE;
    if (r == 0 && count == 0)
        r = walk(s, dot, n->elselist);
    pop_vars(s, mark);
    json_decref(v);
    return r;
}

static int walk(struct state *s, json_t *dot, const struct node *n)
{
    int r = 0;
    json_t *v = NULL;
    for (; n && r == 0 && s->loop == LOOP_NONE; n = n->next) {
        switch (n->type) {
        case N_TEXT:
            lb_strbuf_add(s->out, s->t->src + n->pos, n->len);
            break;
        case N_ACTION: /* declarations print nothing and stay in scope until {{end}} */
            r = eval_pipe(s, dot, n->pipe, &v);
            if (r == 0 && n->pipe->ndecl == 0 && v == NULL)
                lb_strbuf_adds(s->out, "<no value>");
            else if (r == 0 && n->pipe->ndecl == 0)
                fmt_value(s->out, v, &spec_v);
            json_decref(v);
            v = NULL;
            break;
        case N_IF:
        case N_WITH:
            r = walk_if(s, dot, n);
            break;
        case N_RANGE:
            r = walk_range(s, dot, n);
            break;
        case N_BREAK:
        case N_CONTINUE:
            s->loop = n->type == N_BREAK ? LOOP_BREAK : LOOP_CONTINUE;
            break;
        }
    }
    return r;
}

static int execute(const struct lb_template *t, const json_t *dot, bool header,
                   struct lb_strbuf *out, struct lb_error **err)
{
    struct state s = {.t = t, .out = out, .err = err, .header = header};
    json_t *d = (json_t *)dot; /* only read: jansson's reference counts are not const */
    size_t len = out->len;
    push_var(&s, "$", d);
    int r = walk(&s, d, t->root);
    pop_vars(&s, 0);
    free(s.vars);
    if (r < 0 && out->buf) {
        out->len = len;
        out->buf[len] = '\0';
    }
    return r;
}

int lb_template_execute(const struct lb_template *t, const json_t *dot, struct lb_strbuf *out,
                        struct lb_error **err)
{
    return execute(t, dot, false, out, err);
}

int lb_template_execute_header(const struct lb_template *t, const json_t *dot,
                               struct lb_strbuf *out, struct lb_error **err)
{
    return execute(t, dot, true, out, err);
}

/* ---- docker's handling of the --format string around the template ---- */

bool lb_template_is_table(const char *fmt, const char **rest)
{
    if (fmt == NULL || strncmp(fmt, "table", 5) != 0)
        return false;
    if (rest)
        *rest = fmt + 5;
    return true;
}

char *lb_template_unescape(const char *s)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    for (; *s; s++) {
        bool esc = s[0] == '\\' && (s[1] == 't' || s[1] == 'n');
        lb_strbuf_addc(&sb, !esc ? s[0] : s[1] == 't' ? '\t' : '\n');
        s += esc;
    }
    return lb_strbuf_detach(&sb);
}

char *lb_template_preformat(const char *format, bool *is_table)
{
    const char *s = format;
    bool table = lb_template_is_table(format, &s);
    if (!table && strcmp(format, "json") == 0)
        s = "{{json .}}";
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    char *trimmed = lb_xstrndup(s, n);
    char *r = lb_template_unescape(trimmed);
    free(trimmed);
    if (is_table)
        *is_table = table;
    return r;
}
