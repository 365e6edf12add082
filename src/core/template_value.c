/* template_value.c — JSON values as Go sees them: type names, truth, and printing as Go's fmt
 * (%v and the printf verbs) and encoding/json print them.
 *
 * The concept: the dot is jansson JSON seen as Go's interface{}: map[string]interface {},
 * []interface {}, string, int, float64, bool, nil; NULL is Go's invalid value (a missing map
 * key). What a template prints must match docker byte for byte, so printing follows fmt
 * (shortest float form, maps in sorted key order, "%!d(string=x)" for a wrong verb) and the
 * json function follows encoding/json.
 * Sits on: jansson, struct lb_strbuf, lb_tpl_utf8_next.
 *
 * Interface: lb_template_json, lb_tpl_go_type, lb_tpl_is_nil, lb_tpl_is_true,
 *            lb_tpl_sorted_keys, lb_tpl_fmt_value, lb_tpl_spec_v
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template_internal.h"

/* ---- values, printed as Go's fmt (%v and printf verbs) and encoding/json print them ---- */

const char *lb_tpl_go_type(const json_t *v)
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

bool lb_tpl_is_nil(const json_t *v)
{
    return v == NULL || json_is_null(v);
}

/* Go's truth: false, 0, "", empty array or object, nil and a missing value are false. */
bool lb_tpl_is_true(const json_t *v)
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
        len = lb_tpl_utf8_next(s + i, n - i, &r);
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

const struct spec lb_tpl_spec_v = {.verb = 'v', .prec = -1};

/* Bytes in the first `max` runes of s (Go's precision for %s counts runes). */
static size_t rune_bytes(const char *s, size_t n, size_t max, size_t *runes)
{
    size_t i = 0, count = 0;
    uint32_t r;
    for (; i < n && count < max; count++)
        i += lb_tpl_utf8_next(s + i, n - i, &r);
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
const char **lb_tpl_sorted_keys(const json_t *obj, size_t *n)
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
void lb_tpl_fmt_value(struct lb_strbuf *sb, const json_t *v, const struct spec *sp)
{
    size_t i, n;
    json_t *e;
    if (json_is_array(v)) {
        lb_strbuf_addc(sb, '[');
        json_array_foreach(v, i, e)
        {
            if (i > 0)
                lb_strbuf_addc(sb, ' ');
            lb_tpl_fmt_value(sb, e, sp);
        }
        lb_strbuf_addc(sb, ']');
    } else if (json_is_object(v)) {
        const char **keys = lb_tpl_sorted_keys(v, &n);
        lb_strbuf_adds(sb, "map[");
        for (i = 0; i < n; i++) {
            json_t *k = json_stringn_nocheck(keys[i], strlen(keys[i]));
            lb_strbuf_adds(sb, i > 0 ? " " : "");
            lb_tpl_fmt_value(sb, k, sp);
            lb_strbuf_addc(sb, ':');
            lb_tpl_fmt_value(sb, json_object_get(v, keys[i]), sp);
            json_decref(k);
        }
        lb_strbuf_addc(sb, ']');
        free(keys);
    } else if (!fmt_scalar(sb, v, sp)) { /* Go's "%!d(string=abc)" */
        lb_strbuf_addf(sb, "%%!%c(%s", sp->verb, lb_tpl_go_type(v));
        if (!lb_tpl_is_nil(v)) {
            lb_strbuf_addc(sb, '=');
            fmt_scalar(sb, v, &lb_tpl_spec_v);
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
        len = lb_tpl_utf8_next(s + i, n - i, &r);
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
