/* template_parse.c — the parser of docker's --format templates: tokens to the tree.
 *
 * The concept: recursive descent after Go's text/template/parse, building the tree template.c
 * executes: text, actions, if/with/range with their else branches, pipelines of commands of
 * operands. Variables are resolved and functions looked up here, so an undefined one is a parse
 * error, as in Go, and the messages are Go's. Every node is allocated in the template and freed
 * with it (lb_template_free), which is what lets a syntax error unwind with longjmp.
 * Sits on: template_internal.h (tokens of template_lex.c, the function table of
 * template_funcs.c, lb_tpl_line_of), struct lb_error.
 *
 * Interface: lb_tpl_parse
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template_internal.h"

#define MAX_DEPTH 100 /* nested control structures and parentheses */

/* The tree: every allocation is recorded in the template, for lb_template_free. */

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
                  lb_tpl_line_of(p->s, pos, NULL), lb_tpl_one_line(msg));
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
        if (a->type == A_FUNC && (a->fn = lb_tpl_find_func(text, tk->len)) == NULL)
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

int lb_tpl_parse(struct lb_template *t, const struct lexer *l, struct lb_error **err)
{
    struct parser p = {
        .t = t, .s = t->src, .toks = l->toks, .ntoks = l->ntoks, .lexerr = l->err, .err = err};
    int r = parse_all(&p);
    free(p.vars);
    return r;
}
