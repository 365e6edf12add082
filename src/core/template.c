/* template.c — docker's --format: a small Go text/template evaluated over JSON values.
 *
 * The concept: a format is compiled once into a tree (text, actions, if/with/range) and executed
 * once per object, like Go's lexer -> parser -> exec pipeline, whose error messages it keeps so
 * docker users recognise them. Values are jansson references; NULL stands for Go's "invalid
 * value" (a missing map key), which prints "<no value>". Printing follows Go's fmt %v and
 * docker's json function follows encoding/json, because those are what the output must match.
 * This file is the public API and execution; the stages it runs are template_lex.c (text to
 * tokens), template_parse.c (tokens to the tree), template_value.c (Go's view and printing of
 * values) and template_funcs.c (the callable functions), sharing template_internal.h.
 * Sits on: jansson, struct lb_strbuf, struct lb_error.
 *
 * Interface: lb_template_parse, lb_template_execute, lb_template_execute_header,
 *            lb_template_free, lb_template_is_table, lb_template_unescape, lb_template_preformat
 *            (lb_template_json is in template_value.c); for the other stages: lb_tpl_one_line,
 *            lb_tpl_line_of, lb_tpl_utf8_next
 */
#include "core/template.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template_internal.h"

#define MAX_ARGS 32

/* ---- source positions and runes, shared by every stage ---- */

/* Errors are one line: a newline (inside an action, a raw string or a printed value) becomes a
 * space, as Go's re-rendered node text has none. Returns s. */
char *lb_tpl_one_line(char *s)
{
    for (char *c = s; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return s;
}

int lb_tpl_line_of(const char *s, size_t pos, size_t *col)
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
size_t lb_tpl_utf8_next(const char *str, size_t n, uint32_t *r)
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

/* ---- compiling: the lexer's tokens, then the parser's tree, owned by the template ---- */

struct lb_template *lb_template_parse(const char *text, struct lb_error **err)
{
    struct lb_template *t = lb_xmalloc(sizeof(*t));
    t->src = lb_xstrdup(text);
    struct lexer l = {.s = t->src, .n = strlen(t->src)};
    lb_tpl_lex(&l);
    int r = lb_tpl_parse(t, &l, err);
    free(l.toks);
    free(l.err);
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
    int line = lb_tpl_line_of(s->t->src, pos, &col);
    char *context = lb_tpl_one_line(lb_xstrndup(s->t->src + pos, len));
    lb_error_setk(s->err, LB_EKIND_INVALID, 0, "template: :%d:%zu: executing \"\" at <%s>: %s",
                  line, col, context, lb_tpl_one_line(msg));
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
    const char *type = lb_tpl_go_type(r);
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
        if (lb_tpl_is_true(v) == is_or) {
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
    if (r == 0 && lb_tpl_is_true(v))
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
        const char **keys = lb_tpl_sorted_keys(v, &count);
        for (i = 0; i < count; i++) {
            json_t *k = json_stringn_nocheck(keys[i], strlen(keys[i]));
            r = range_iter(s, n, k, json_object_get(v, keys[i]));
            if (r < 0 || s->loop == LOOP_BREAK)
                break;
        }
        free(keys);
    } else if (r == 0 && !lb_tpl_is_nil(v)) { /* null is taken as an empty (Go nil) slice or map */
        struct lb_strbuf sb = LB_STRBUF_INIT;
        lb_tpl_fmt_value(&sb, v, &lb_tpl_spec_v);
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
                lb_tpl_fmt_value(s->out, v, &lb_tpl_spec_v);
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
