/* template.h — docker's --format language: a subset of Go's text/template over JSON values.
 *
 *     struct lb_template *t = lb_template_parse("{{.Repository}}:{{.Tag}}", &err);
 *     for (each image)
 *         lb_template_execute(t, image_json, &out, &err);   // one row per object
 *     lb_template_free(t);
 *
 * Values: the "dot" is a jansson value seen as Go would see JSON decoded into interface{}: an
 * object is a map[string]interface{}, an array a []interface{}, a JSON integer an int, a real a
 * float64, null a nil interface. So {{.Missing}} prints "<no value>" (a map without the key),
 * {{.}} of an object prints "map[a:1 b:x]" (keys sorted), of an array "[a b c]", null "<nil>",
 * reals like Go's %v ("1.5", "1e+06"). A field of a missing value is again "<no value>"; a field
 * of null or of a non-object is an execution error, as in Go.
 *
 * Syntax: text; {{pipeline}}; {{/\* comment *\/}}; {{- and -}} trim the whitespace before/after;
 * {{if P}}…{{else if P}}…{{else}}…{{end}}; {{with P}}…{{else}}…{{end}} (dot becomes P);
 * {{range P}}…{{else}}…{{end}} over arrays and objects (objects in sorted key order; dot becomes
 * the element; a missing value or null runs the else branch; anything else is an error), with
 * {{range $v := P}} or {{range $i, $v := P}} (index or key, element), {{break}}, {{continue}};
 * variables {{$x := P}}, {{$x = P}}, $ (the top dot); pipelines {{.X | f a}} (= f a .X);
 * parentheses; operands .A.B, $x.A, (P).A, "strings" with Go escapes, `raw strings`, integers,
 * floats, true, false, nil. Not supported: char constants ('a'), define/template/block.
 *
 * Functions: docker's json, split, join, title, lower, upper, pad, truncate and Go's and, or,
 * not, len, index, print, printf, println, eq, ne, lt, le, gt, ge. printf knows the verbs
 * %v %s %d %q %x %X %t %e %f %g and %%, flags "-+ 0", width and precision; a wrong type prints
 * like Go ("%!d(string=x)"); %q quotes strings only. Case mapping (lower/upper/title) is
 * ASCII-only. Lenient where typed Go would refuse: eq/lt… compare an int with a float64
 * numerically, join takes an array of strings, range over null runs the else branch (JSON null
 * is how a Go nil slice or map is marshalled).
 *
 * Errors are LB_EKIND_INVALID with docker's wording, one line:
 *   parse:  "template parsing error: template: :1: unexpected \"}\" in operand"
 *   exec:   "template: :1:2: executing \"\" at <index .X 5>: error calling index: index out of
 *            range: 5"  (line, byte column of the failing command, the command's text). */
#ifndef LB_CORE_TEMPLATE_H
#define LB_CORE_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"
#include "core/util.h"

struct lb_template;

/* Compile text (taken literally: see lb_template_unescape for docker's "\t" handling). Returns
 * NULL and a parse error on bad syntax or an unknown function. Free with lb_template_free. */
struct lb_template *lb_template_parse(const char *text, struct lb_error **err);

/* Run t with dot (may be NULL: "<no value>") and append the result to out. On error out is left
 * as it was before the call. A template may be executed any number of times. */
int lb_template_execute(const struct lb_template *t, const json_t *dot, struct lb_strbuf *out,
                        struct lb_error **err);

/* The same with docker's header functions, for the header row of a "table" format: json,
 * split, join, title, lower, upper and truncate return their first argument unchanged, so
 * {{upper .Name}} run over {"Name": "NAME"} prints "NAME". */
int lb_template_execute_header(const struct lb_template *t, const json_t *dot,
                               struct lb_strbuf *out, struct lb_error **err);

void lb_template_free(struct lb_template *t);

/* docker's Format.IsTable: fmt starts with "table" (nothing else is required after it). When
 * true, *rest (if rest is not NULL) points just after "table". */
bool lb_template_is_table(const char *fmt, const char **rest);

/* docker's escapes for --format: the two-character sequences backslash-t and backslash-n become a
 * tab and a newline; nothing else changes. Applied by the caller before lb_template_parse (not
 * by parse itself, so a template read from elsewhere is taken literally). Caller frees. */
char *lb_template_unescape(const char *s);

/* docker's whole preparation of a --format value: strip a "table" prefix (*is_table says whether
 * there was one), turn exactly "json" into "{{json .}}", trim spaces at both ends, unescape.
 * The result is what to give lb_template_parse. Caller frees. */
char *lb_template_preformat(const char *format, bool *is_table);

/* Append v as docker's {{json}} prints it (Go's encoding/json): compact, integers as is, reals
 * in Go's shortest form, object keys in the object's (insertion) order like a Go struct, U+2028
 * and U+2029 escaped, invalid UTF-8 as \ufffd. docker turns off Go's HTML escaping; escape_html
 * turns it back on (<, >, & as \u003c, \u003e, \u0026, like json.Marshal). NULL prints null. */
void lb_template_json(const json_t *v, bool escape_html, struct lb_strbuf *out);

#endif
