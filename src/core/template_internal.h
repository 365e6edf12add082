/* template_internal.h — what the stages of the template engine share (not a public contract).
 *
 *   - the tree the parser builds and execution walks (template_parse.c -> template.c);
 *   - the token stream the lexer hands the parser (template_lex.c -> template_parse.c);
 *   - the function table (template_funcs.c), looked up by the parser, called by execution;
 *   - Go's view of a JSON value: type name, truth, fmt printing (template_value.c);
 *   - source positions and runes, for error messages and string handling (template.c).
 * The public contract is core/template.h. */
#ifndef LB_CORE_TEMPLATE_INTERNAL_H
#define LB_CORE_TEMPLATE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/template.h"
#include "core/util.h"

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

/* ---- tokens: what the lexer (template_lex.c) hands the parser (template_parse.c) ---- */

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

/* ---- functions (template_funcs.c): each returns NULL, or the error message (caller frees) ---- */

typedef char *(*fn_t)(const struct func *f, json_t **argv, size_t n, json_t **out);

struct func {
    const char *name;
    fn_t fn;      /* NULL: and/or, which evaluate their arguments lazily */
    int min, max; /* number of arguments; max -1: no limit */
    bool header;  /* among docker's header functions, which return their first argument */
};

struct spec { /* one printf directive: %-+ 0<width>.<prec><verb> (values and printf) */
    char verb;
    bool minus, plus, zero, space;
    int width, prec;
};

/* %v with no flags: how {{.}} and print show a value. */
extern const struct spec lb_tpl_spec_v;

/* template.c: errors are one line (newlines become spaces); returns s. */
char *lb_tpl_one_line(char *s);
/* template.c: the line (from 1) of byte pos in s, and (if col) pos's byte offset in that line. */
int lb_tpl_line_of(const char *s, size_t pos, size_t *col);
/* template.c: decode one rune like Go's utf8.DecodeRune (an invalid byte is U+FFFD, length 1);
 * returns its length in bytes. n must be at least 1. */
size_t lb_tpl_utf8_next(const char *str, size_t n, uint32_t *r);

/* template_lex.c: split l->s (l->n bytes) into l->toks, ending with T_EOF or T_ERROR (then l->err
 * holds the message). The caller frees l->toks and l->err. */
void lb_tpl_lex(struct lexer *l);

/* template_parse.c: parse the tokens of l (lexed from t->src) into t->root, allocating every
 * node in t. Returns -1 and a parse error on bad syntax; t is then to be freed by the caller. */
int lb_tpl_parse(struct lb_template *t, const struct lexer *l, struct lb_error **err);

/* template_funcs.c: the function called name (len bytes), or NULL. */
const struct func *lb_tpl_find_func(const char *name, size_t len);

/* template_value.c: Go's view of a JSON value; NULL is a missing value (Go's invalid value). */
const char *lb_tpl_go_type(const json_t *v); /* "map[string]interface {}", "int", "<nil>" ... */
bool lb_tpl_is_nil(const json_t *v);         /* NULL or JSON null */
bool lb_tpl_is_true(const json_t *v);        /* Go's truth: false, 0, "", empty and nil are false */
/* The object's keys in Go's map order (sorted bytewise). Caller frees the array only. */
const char **lb_tpl_sorted_keys(const json_t *obj, size_t *n);
/* Append v as Go's fmt prints it with directive sp (containers apply it to each element). */
void lb_tpl_fmt_value(struct lb_strbuf *sb, const json_t *v, const struct spec *sp);

#endif
