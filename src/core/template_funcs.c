/* template_funcs.c — the functions a --format template can call: docker's json, split, join,
 * title, lower, upper, pad, truncate and Go's and, or, not, len, index, print, printf, println,
 * eq, ne, lt, le, gt, ge.
 *
 * The concept: one table, searched by name when a template is parsed. A function takes its
 * evaluated arguments and returns NULL, or Go's error message, which execution wraps in its
 * "executing ... at <...>" line. and/or have no function pointer: they evaluate their arguments
 * lazily, so execution runs them itself. The table also marks docker's header functions.
 * Sits on: jansson, template_value.c (Go's types, truth and printing), struct lb_strbuf.
 *
 * Interface: lb_tpl_find_func
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template_internal.h"

/* ---- functions: each returns NULL, or the error message (caller frees) ---- */

static char *type_err(const json_t *v, const char *want)
{
    if (v == NULL)
        return lb_xasprintf("invalid value; expected %s", want);
    return lb_xasprintf("wrong type for value; expected %s; got %s", want, lb_tpl_go_type(v));
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
        k = lb_tpl_utf8_next(s, len, &r);
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
    if (err || (!lb_tpl_is_nil(argv[0]) && !json_is_array(argv[0])))
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
    else if (lb_tpl_is_nil(v))
        return calling(f, lb_xstrdup("len of nil pointer"));
    else
        return calling(f, lb_xasprintf("len of type %s", lb_tpl_go_type(v)));
    return NULL;
}

static char *index_step(const json_t *it, const json_t *x, json_t **sub)
{
    if (lb_tpl_is_nil(it))
        return lb_xstrdup("index of nil pointer");
    if (json_is_object(it) && !json_is_string(x))
        return lb_xasprintf("value has type %s; should be string", lb_tpl_go_type(x));
    if (json_is_object(it)) { /* a missing key gives the element type's zero value: nil */
        json_t *m = json_object_get(it, json_string_value(x));
        *sub = m ? json_incref(m) : json_null();
        return NULL;
    }
    if (!json_is_array(it) && !json_is_string(it))
        return lb_xasprintf("can't index item of type %s", lb_tpl_go_type(it));
    if (!json_is_integer(x))
        return lb_tpl_is_nil(x)
                   ? lb_xstrdup("cannot index slice/array with nil")
                   : lb_xasprintf("cannot index slice/array with type %s", lb_tpl_go_type(x));
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
    char *e = lb_tpl_is_nil(item) ? lb_xstrdup("index of untyped nil") : NULL;
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
        lb_tpl_fmt_value(&sb, argv[i], &lb_tpl_spec_v);
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
            lb_tpl_fmt_value(&sb, argv[argi++], &sp);
    }
    for (size_t k = argi; k < n; k++) {
        lb_strbuf_adds(&sb, k == argi ? "%!(EXTRA " : ", ");
        lb_strbuf_adds(&sb, lb_tpl_go_type(argv[k]));
        lb_strbuf_adds(&sb, lb_tpl_is_nil(argv[k]) ? "" : "=");
        if (!lb_tpl_is_nil(argv[k]))
            lb_tpl_fmt_value(&sb, argv[k], &lb_tpl_spec_v);
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
    if (!ordered && (lb_tpl_is_nil(a) || lb_tpl_is_nil(b)))
        return !(lb_tpl_is_nil(a) && lb_tpl_is_nil(b));
    bool container = json_is_array(a) || json_is_object(a) || json_is_array(b) || json_is_object(b);
    bool basic = !container && !json_is_boolean(a) && !json_is_boolean(b) && !lb_tpl_is_nil(a) &&
                 !lb_tpl_is_nil(b);
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
    *out = json_boolean(!lb_tpl_is_true(argv[0]));
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

const struct func *lb_tpl_find_func(const char *name, size_t len)
{
    for (size_t i = 0; i < LB_ARRAY_SIZE(funcs); i++)
        if (strlen(funcs[i].name) == len && !memcmp(funcs[i].name, name, len))
            return &funcs[i];
    return NULL;
}
