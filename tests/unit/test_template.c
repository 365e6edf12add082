/* test_template.c — docker's --format language (src/core/template*.c).
 *
 * Every expected string is what Go's text/template, fmt and encoding/json produce for the same
 * template over the same data decoded into interface{} (objects are map[string]interface{}),
 * worked out from Go's documented rules, not taken from this module's output; the comment next
 * to a non-obvious case gives the rule. docker's functions are the ones in docker/cli
 * templates/templates.go (json with SetEscapeHTML(false), pad, truncate, ...). */
#include "unit.h"

#include <jansson.h>

#include "core/template.h"

static json_t *load(const char *json)
{
    if (json == NULL)
        return NULL;
    json_error_t e;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &e);
    if (v == NULL)
        fail_msg("bad test JSON '%s': %s", json, e.text);
    return v;
}

/* Parse and execute; returns the output or NULL with *err. */
static char *render(const char *tmpl, const char *json, struct lb_error **err)
{
    struct lb_template *t = lb_template_parse(tmpl, err);
    if (t == NULL)
        return NULL;
    json_t *dot = load(json);
    struct lb_strbuf out = LB_STRBUF_INIT;
    int r = lb_template_execute(t, dot, &out, err);
    json_decref(dot);
    lb_template_free(t);
    if (r < 0) {
        lb_strbuf_release(&out);
        return NULL;
    }
    return lb_strbuf_detach(&out);
}

#define assert_render(tmpl, json, expected)                                                        \
    do {                                                                                           \
        struct lb_error *e_ = NULL;                                                                \
        char *got_ = render((tmpl), (json), &e_);                                                  \
        if (got_ == NULL)                                                                          \
            fail_msg("'%s' failed: %s", (tmpl), e_->msg);                                          \
        assert_string_equal(got_, (expected));                                                     \
        free(got_);                                                                                \
    } while (0)

#define assert_fails(tmpl, json, needle)                                                           \
    do {                                                                                           \
        struct lb_error *e_ = NULL;                                                                \
        char *got_ = render((tmpl), (json), &e_);                                                  \
        if (got_ != NULL)                                                                          \
            fail_msg("'%s' should fail, gave '%s'", (tmpl), got_);                                 \
        assert_int_equal(e_->kind, LB_EKIND_INVALID);                                              \
        assert_null(strchr(e_->msg, '\n')); /* one line */                                         \
        assert_error_contains(e_, (needle));                                                       \
    } while (0)

static void test_template__copies_literal_text(void **state)
{
    (void)state;
    assert_render("hello, world\n", NULL, "hello, world\n");
    assert_render("", NULL, "");
    assert_render("{ } }} {", NULL, "{ } }} {");
}

/* fmt's %v: ints as is, slices [a b], maps map[k:v] with sorted keys, nil interface <nil>. */
static void test_template__prints_dot_like_go_fmt_v(void **state)
{
    (void)state;
    assert_render("{{.}}", "\"x\"", "x");
    assert_render("{{.}}", "42", "42");
    assert_render("{{.}}", "-7", "-7");
    assert_render("{{.}}", "true", "true");
    assert_render("{{.}}", "null", "<nil>");
    assert_render("{{.}}", "[1, \"a b\", true, null, [2, 3], []]", "[1 a b true <nil> [2 3] []]");
    assert_render("{{.}}", "{\"b\": 1, \"a\": \"x\", \"c\": {\"z\": null}, \"d\": {}}",
                  "map[a:x b:1 c:map[z:<nil>] d:map[]]");
    assert_render("{{.}}", NULL, "<no value>"); /* no data at all */
}

/* %v of a float64 is strconv's 'g' with the shortest digits, exponent form when the exponent is
 * < -4 or >= 6 (precision 6 is used for that decision in shortest mode), at least two exponent
 * digits. */
static void test_template__prints_floats_in_go_shortest_form(void **state)
{
    (void)state;
    assert_render("{{.}}", "[1.5, 3.0, -2.5, 0.1, 123456.0, 1000000.0, 1234567.0]",
                  "[1.5 3 -2.5 0.1 123456 1e+06 1.234567e+06]");
    assert_render("{{.}}", "[0.0001, 0.00001, 1e21, 2.5e-10, 1.7976931348623157e308]",
                  "[0.0001 1e-05 1e+21 2.5e-10 1.7976931348623157e+308]");
    assert_render("{{.}}", "[0.30000000000000004, 100.25]", "[0.30000000000000004 100.25]");
}

static void test_template__follows_field_chains(void **state)
{
    (void)state;
    const char *data = "{\"A\": {\"B\": {\"C\": \"deep\"}}, \"N\": 3}";
    assert_render("{{.A.B.C}} {{.N}}", data, "deep 3");
    assert_render("{{.A.B}}", data, "map[C:deep]");
    assert_render("{{$.A.B.C}}{{with .A}}{{.B.C}}{{end}}", data, "deepdeep");
    assert_render("{{(.A).B.C}}", data, "deep");
}

/* A map without the key gives Go's invalid value: "<no value>", and so does any field of it. */
static void test_template__prints_no_value_for_a_missing_field(void **state)
{
    (void)state;
    const char *data = "{\"A\": {\"B\": 1}}";
    assert_render("{{.Nope}}", data, "<no value>");
    assert_render("{{.A.Nope}}|{{.Nope.C.D}}", data, "<no value>|<no value>");
    assert_render("{{if .Nope}}yes{{else}}no{{end}}", data, "no");
}

static void test_template__fails_on_a_field_of_a_non_object(void **state)
{
    (void)state;
    assert_fails("{{.A.B}}", "{\"A\": \"str\"}",
                 "template: :1:2: executing \"\" at <.A.B>: can't evaluate field B in type string");
    assert_fails("{{.A.B}}", "{\"A\": [1]}", "can't evaluate field B in type []interface {}");
    assert_fails("{{.A.B}}", "{\"A\": null}", "nil pointer evaluating interface {}.B");
    assert_fails("{{.X}}", "3", "can't evaluate field X in type int");
}

/* docker's json: encoding/json, compact, HTML escaping off, U+2028/9 always escaped, invalid
 * UTF-8 as \ufffd, floats as 'f' between 1e-6 and 1e21 else 'e' with "e-7" not "e-07". */
static void test_template__json_encodes_like_docker(void **state)
{
    (void)state;
    assert_render("{{json .}}", "{\"b\": [1, 2.5, \"x\"], \"a\": null, \"t\": true, \"e\": {}}",
                  "{\"b\":[1,2.5,\"x\"],\"a\":null,\"t\":true,\"e\":{}}");
    assert_render("{{json .S}}", "{\"S\": \"<a&b>\"}", "\"<a&b>\"");
    assert_render("{{json .S}}", "{\"S\": \"\\u0001\\b\\f\\n\\r\\t\\\"\\\\/\\u007f\"}",
                  "\"\\u0001\\b\\f\\n\\r\\t\\\"\\\\/\x7f\"");
    assert_render("{{json .S}}", "{\"S\": \"\\u2028\\u2029 é 😀\"}", "\"\\u2028\\u2029 é 😀\"");
    assert_render("{{json \"a\\xffb\"}}", NULL, "\"a\\ufffdb\"");
    assert_render("{{json .}}", "[1e21, 1e-7, 100.0, 0.000001, 1e20, -0.5]",
                  "[1e+21,1e-7,100,0.000001,100000000000000000000,-0.5]");
    assert_render("{{json .Missing}} {{.S | json}}", "{\"S\": \"x\"}", "null \"x\"");
}

/* json.Marshal's default, kept available: <, >, & as \u003c, \u003e, \u0026. */
static void test_template__json_can_escape_html_like_json_marshal(void **state)
{
    (void)state;
    json_t *v = load("{\"k\": \"<a&b>\", \"n\": [1]}");
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_template_json(v, true, &sb);
    assert_string_equal(sb.buf, "{\"k\":\"\\u003ca\\u0026b\\u003e\",\"n\":[1]}");
    lb_strbuf_reset(&sb);
    lb_template_json(v, false, &sb);
    assert_string_equal(sb.buf, "{\"k\":\"<a&b>\",\"n\":[1]}");
    lb_strbuf_reset(&sb);
    lb_template_json(NULL, false, &sb);
    assert_string_equal(sb.buf, "null");
    lb_strbuf_release(&sb);
    json_decref(v);
}

static void test_template__ranges_over_arrays_and_sorted_objects(void **state)
{
    (void)state;
    const char *data = "{\"L\": [\"a\", \"b\"], \"M\": {\"b\": 2, \"a\": 1}, \"Name\": \"n\"}";
    assert_render("{{range .L}}[{{.}}]{{end}}", data, "[a][b]");
    assert_render("{{range .M}}{{.}},{{end}}", data, "1,2,");
    assert_render("{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}", data, "a=1;b=2;");
    assert_render("{{range $i, $v := .L}}{{$i}}:{{$v}} {{end}}", data, "0:a 1:b ");
    assert_render("{{range $v := .L}}{{$v}}{{end}}{{range .L}}{{$.Name}}{{end}}", data, "abnn");
    /* break and continue (Go 1.18): skip 1, stop at 3. */
    assert_render("{{range .}}{{if eq . 3}}{{break}}{{end}}{{if eq . 1}}{{continue}}{{end}}"
                  "{{.}}{{end}}",
                  "[0, 1, 2, 3, 4]", "02");
}

/* The else branch runs for an empty array or object, a missing value, and (as for a nil slice or
 * map in Go) null. */
static void test_template__ranges_over_empty_values_run_else(void **state)
{
    (void)state;
    const char *tmpl = "{{range .E}}x{{else}}empty{{end}}";
    assert_render(tmpl, "{\"E\": []}", "empty");
    assert_render(tmpl, "{\"E\": {}}", "empty");
    assert_render(tmpl, "{\"E\": null}", "empty");
    assert_render(tmpl, "{}", "empty");
    assert_render("{{range .E}}x{{end}}", "{}", "");
    assert_fails("{{range .E}}x{{end}}", "{\"E\": \"abc\"}", "range can't iterate over abc");
    assert_fails("{{range .E}}x{{end}}", "{\"E\": 5}", "at <.E>: range can't iterate over 5");
}

/* Go's truth: false, 0, nil, empty string/array/object (and a missing value) are false. */
static void test_template__if_uses_go_truthiness(void **state)
{
    (void)state;
    static const struct {
        const char *value, *expected;
    } cases[] = {
        {"\"\"", "F"},       {"\"x\"", "T"}, {"0", "F"},     {"1", "T"},    {"-1", "T"},
        {"0.0", "F"},        {"0.5", "T"},   {"[]", "F"},    {"[0]", "T"},  {"{}", "F"},
        {"{\"a\": 0}", "T"}, {"null", "F"},  {"false", "F"}, {"true", "T"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char data[64];
        snprintf(data, sizeof(data), "{\"V\": %s}", cases[i].value);
        assert_render("{{if .V}}T{{else}}F{{end}}", data, cases[i].expected);
    }
    assert_render("{{if .V}}T{{else}}F{{end}}", "{}", "F");
    const char *chain = "{{if .A}}a{{else if .B}}b{{else}}c{{end}}";
    assert_render(chain, "{\"A\": 1}", "a");
    assert_render(chain, "{\"B\": 1}", "b");
    assert_render(chain, "{}", "c");
    assert_render("{{with .A}}{{.B}}{{else}}none{{end}}", "{\"A\": {\"B\": \"b\"}}", "b");
    assert_render("{{with .A}}{{.B}}{{else}}none{{end}}", "{}", "none");
    assert_render("{{with $x := .A}}{{$x}}{{end}}", "{\"A\": 7}", "7");
}

/* index: a missing map key gives the element's zero value (nil), a string index a byte. */
static void test_template__index_reads_objects_arrays_and_strings(void **state)
{
    (void)state;
    const char *data = "{\"M\": {\"k\": \"v\", \"l\": [\"x\", \"y\"]}, \"L\": [\"a\", \"b\"]}";
    assert_render("{{index .M \"k\"}} {{index .L 1}} {{index .M \"l\" 1}}", data, "v b y");
    assert_render("{{index .M \"nope\"}}|{{index .L}}", data, "<nil>|[a b]");
    assert_render("{{index \"abc\" 1}}", NULL, "98");
}

static void test_template__index_fails_on_a_non_container_or_bad_index(void **state)
{
    (void)state;
    const char *data = "{\"N\": 5, \"L\": [\"a\"], \"M\": {}}";
    assert_fails("ab{{index .N 0}}", data,
                 "template: :1:4: executing \"\" at <index .N 0>: error calling index: "
                 "can't index item of type int");
    assert_fails("{{index .L 5}}", data, "error calling index: index out of range: 5");
    assert_fails("{{index .L -1}}", data, "index out of range: -1");
    assert_fails("{{index .L \"k\"}}", data, "cannot index slice/array with type string");
    assert_fails("{{index .M 1}}", data,
                 "error calling index: value has type int; should be string");
    assert_fails("{{index .Nope 0}}", data, "error calling index: index of untyped nil");
    assert_fails("{{index .M \"a\" \"b\"}}", data, "index of nil pointer");
}

static void test_template__provides_docker_string_functions(void **state)
{
    (void)state;
    const char *data = "{\"L\": [\"a\", \"b\"], \"S\": \"MiXeD case\"}";
    assert_render("{{join .L \", \"}}|{{join .Nope \",\"}}", data, "a, b|");
    assert_render("{{lower .S}}|{{upper .S}}", data, "mixed case|MIXED CASE");
    /* strings.Title: upper-case a letter after anything not a letter, digit or '_'. */
    assert_render("{{title \"hello world-foo_bar 9lives\"}}", NULL, "Hello World-Foo_bar 9lives");
    assert_render("{{upper \"abc-é\"}}", NULL, "ABC-é"); /* ASCII-only mapping */
    assert_render("{{split \"a,b,,c\" \",\"}}|{{split \"\" \",\"}}|{{split \"héy\" \"\"}}", NULL,
                  "[a b  c]|[]|[h é y]");
    assert_render("{{len (split \"a,b\" \",\")}}", NULL, "2");
    assert_render("{{truncate \"abcdef\" 3}}|{{truncate \"ab\" 5}}|{{truncate \"ab\" 2}}", NULL,
                  "abc|ab|ab");
    assert_render("[{{pad \"ab\" 2 1}}][{{pad \"\" 2 1}}]", NULL, "[  ab ][]");
}

static void test_template__string_functions_check_their_arguments(void **state)
{
    (void)state;
    assert_fails("{{join .L \",\"}}", "{\"L\": [1]}",
                 "wrong type for value; expected []string; got []interface {}");
    assert_fails("{{join .L \",\"}}", "{\"L\": \"s\"}", "expected []string; got string");
    assert_fails("{{lower 1}}", NULL, "wrong type for value; expected string; got int");
    assert_fails("{{upper .Nope}}", "{}", "invalid value; expected string");
    assert_fails("{{truncate \"ab\" \"x\"}}", NULL, "expected int; got string");
    assert_fails("{{truncate \"ab\" -1}}", NULL, "error calling truncate: runtime error");
    assert_fails("{{pad \"ab\" -1 0}}", NULL, "error calling pad: strings: negative Repeat count");
    assert_fails("{{split \"a\"}}", NULL,
                 "at <split \"a\">: wrong number of args for split: want 2 got 1");
    assert_fails("{{index}}", NULL, "wrong number of args for index: want at least 1 got 0");
}

/* len counts bytes of a string (Go's len), elements, keys. */
static void test_template__len_counts_bytes_elements_and_keys(void **state)
{
    (void)state;
    assert_render("{{len .S}} {{len .L}} {{len .M}} {{.L | len}}",
                  "{\"S\": \"héllo\", \"L\": [1, 2, 3], \"M\": {\"a\": 1}}", "6 3 1 3");
    assert_fails("{{len .N}}", "{\"N\": 3}", "error calling len: len of type int");
    assert_fails("{{len .N}}", "{\"N\": null}", "error calling len: len of nil pointer");
}

/* print is Sprint (a space only between two non-strings), println is Sprintln. */
static void test_template__print_and_println_space_like_go(void **state)
{
    (void)state;
    assert_render("{{print \"a\" 1 2 \"b\" true}}", NULL, "a1 2btrue");
    assert_render("{{println \"a\" 1 2}}", NULL, "a 1 2\n");
    assert_render("{{print}}|{{println}}", NULL, "|\n");
}

static void test_template__printf_formats_like_go(void **state)
{
    (void)state;
    const char *data = "{\"L\": [\"a\", \"b\"], \"N\": [1, 2], \"F\": 2.5}";
    assert_render("{{printf \"%s-%d-%v-%q\" \"x\" 42 .L \"q\\\"t\"}}", data,
                  "x-42-[a b]-\"q\\\"t\"");
    assert_render("{{printf \"[%5s|%-5s|%05d|%x|%X|%.2f|%%|%+d|%v]\" \"ab\" \"cd\" -42 255 "
                  "\"hi\" 3.14159 5 .F}}",
                  data, "[   ab|cd   |-0042|ff|6869|3.14|%|+5|2.5]");
    assert_render("{{printf \"%3d|%.1s|%t|%e\" .N \"héllo\" true 1234.5}}", data,
                  "[  1   2]|h|true|1.234500e+03");
    assert_render("{{printf \"%q\" \"tab\\there é\\x01\"}}", NULL, "\"tab\\there é\\x01\"");
}

/* Go's fmt complaints: %!verb(type=value), %!verb(MISSING), %!(EXTRA type=value). */
static void test_template__printf_reports_bad_verbs_inline(void **state)
{
    (void)state;
    assert_render("{{printf \"%d %s\" \"x\"}}", NULL, "%!d(string=x) %!s(MISSING)");
    assert_render("{{printf \"%s\" \"a\" \"b\" 3}}", NULL, "a%!(EXTRA string=b, int=3)");
    assert_render("{{printf \"%d|%s|%t\" 1.5 .Nope 1}}", "{}",
                  "%!d(float64=1.5)|%!s(<nil>)|%!t(int=1)");
    assert_render("{{printf \"100%\"}}", NULL, "100%!(NOVERB)");
    assert_fails("{{printf 3}}", NULL, "wrong type for value; expected string; got int");
}

/* In a pipeline the previous value becomes the last argument. */
static void test_template__pipelines_pass_the_value_as_last_argument(void **state)
{
    (void)state;
    const char *data = "{\"X\": \"X\", \"S\": \"abc\"}";
    assert_render("{{.X | printf \"%s-%s\" \"a\"}}", data, "a-X");
    assert_render("{{.S | upper | printf \"<%s>\"}}", data, "<ABC>");
    assert_render("{{\"a,b\" | split \",\" | len}}", data, "1"); /* split(",", "a,b") */
    assert_render("{{(printf \"%s%s\" .S .X) | lower}}", data, "abcx");
}

/* {{- trims all whitespace before, -}} all whitespace after; "{{-3}}" is the number -3. */
static void test_template__trims_whitespace_around_actions(void **state)
{
    (void)state;
    const char *data = "{\"X\": \"X\"}";
    assert_render("a  \n {{- .X -}} \n\t b", data, "aXb");
    assert_render("a {{- .X}} b", data, "aX b");
    assert_render("a {{.X -}} b", data, "a Xb");
    assert_render("{{-3}} {{- 3 -}} !", NULL, "-33!");
    assert_render("x\n  {{- /* comment */ -}}\n  y", NULL, "xy");
    assert_render("a{{/* a comment */}}b", NULL, "ab");
    assert_render("{{.X\n}}", data, "X"); /* newlines inside an action are spaces */
}

static void test_template__declares_and_assigns_variables(void **state)
{
    (void)state;
    const char *data = "{\"A\": \"a\", \"L\": [1, 2]}";
    assert_render("{{$x := .A}}{{$x}}{{$x = \"z\"}}{{$x}}", data, "az");
    assert_render("{{$n := 0}}{{range .L}}{{$n = .}}{{end}}{{$n}}", data, "2");
    assert_render("{{$}}", "7", "7");
}

static void test_template__parses_literals_like_go(void **state)
{
    (void)state;
    assert_render("{{\"a\\tb\\u00e9\\x41\\101\\\\\"}}", NULL, "a\tbéAA\\");
    assert_render("{{`raw\\n`}}", NULL, "raw\\n");
    assert_render("{{0x1F}} {{1e3}} {{-7}} {{1.50}} {{true}} {{false}}", NULL,
                  "31 1000 -7 1.5 true false");
}

static void test_template__logic_and_comparison_functions(void **state)
{
    (void)state;
    const char *data = "{\"E\": [], \"S\": \"abc\"}";
    assert_render("{{and 1 0 2}}|{{and 1 2}}|{{or 0 \"\" \"x\"}}|{{or 0 \"\"}}", data, "0|2|x|");
    assert_render("{{not .E}} {{not .S}}", data, "true false");
    /* and stops at the first false argument: the index is never evaluated. */
    assert_render("{{and .E (index .E 5)}}", data, "[]");
    assert_render("{{eq .S \"abc\"}} {{eq 1 2 1}} {{ne 1 2}} {{eq true true}}", data,
                  "true true true true");
    assert_render("{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}} {{lt \"ab\" \"abc\"}}",
                  data, "true true true false true");
    /* Go's eq treats two nils as equal and nil against a value as different, without error. */
    assert_render("{{eq .A .B}} {{eq .A .S}} {{ne .S .A}}",
                  "{\"A\": null, \"B\": null, \"S\": \"x\"}", "true false true");
    /* Documented leniency (typed Go refuses int vs float64): numbers compare by value. */
    assert_render("{{eq 2 2.0}} {{lt 1 1.5}}", data, "true true");
    assert_fails("{{eq \"a\" 1}}", NULL, "error calling eq: incompatible types for comparison");
    assert_fails("{{lt true false}}", NULL, "error calling lt: invalid type for comparison");
    assert_fails("{{eq .E .E}}", data, "error calling eq: non-comparable type");
    assert_fails("{{eq 1}}", NULL, "error calling eq: missing argument for comparison");
}

/* docker's header functions leave the column name alone; pad is not among them. */
static void test_template__header_mode_returns_arguments_unchanged(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    struct lb_template *t = lb_template_parse(
        "{{upper .Name}}\t{{json .Size}}\t{{truncate .ID 3}}\t{{pad .X 1 1}}", &err);
    assert_non_null(t);
    json_t *head =
        load("{\"Name\": \"NAME\", \"Size\": \"SIZE\", \"ID\": \"IMAGE ID\", \"X\": \"X\"}");
    json_t *row = load("{\"Name\": \"web\", \"Size\": \"1MB\", \"ID\": \"abcdef\", \"X\": \"x\"}");
    struct lb_strbuf out = LB_STRBUF_INIT;
    assert_int_equal(lb_template_execute_header(t, head, &out, &err), 0);
    assert_string_equal(out.buf, "NAME\tSIZE\tIMAGE ID\t X ");
    lb_strbuf_reset(&out);
    assert_int_equal(lb_template_execute(t, row, &out, &err), 0); /* compiled once, run again */
    assert_int_equal(lb_template_execute(t, row, &out, &err), 0);
    assert_string_equal(out.buf, "WEB\t\"1MB\"\tabc\t x WEB\t\"1MB\"\tabc\t x ");
    lb_strbuf_release(&out);
    json_decref(head);
    json_decref(row);
    lb_template_free(t);
    lb_template_free(NULL);
}

static void test_template__reports_parse_errors_like_docker(void **state)
{
    (void)state;
    assert_fails("{{.X", NULL, "template parsing error: template: :1: unclosed action");
    assert_fails("{{.X}", NULL,
                 "template parsing error: template: :1: unexpected \"}\" in operand");
    assert_fails("{{foo .X}}", NULL, "template: :1: function \"foo\" not defined");
    assert_fails("{{.A..B}}", NULL, "unexpected \".\" in operand");
    assert_fails("{{.A-B}}", NULL, "bad character U+002D '-'");
    assert_fails("x{{end}}", NULL, "template: :1: unexpected {{end}}");
    assert_fails("{{else}}", NULL, "unexpected {{else}}");
    assert_fails("{{range .X}}x", NULL, "unexpected EOF");
    assert_fails("{{if .X}}a{{else}}b{{else}}c{{end}}", NULL, "expected end; found {{else}}");
    assert_fails("{{range .X}}a{{else if .Y}}b{{end}}", NULL, "unexpected <if> in input");
    assert_fails("{{}}", NULL, "missing value for command");
    assert_fails("{{if}}{{end}}", NULL, "missing value for if");
    assert_fails("{{$x}}", NULL, "undefined variable \"$x\"");
    assert_fails("{{\"abc}}", NULL, "unterminated quoted string");
    assert_fails("{{\"a\\qb\"}}", NULL, "invalid syntax");
    assert_fails("line one\nline two {{.X}", NULL, "template: :2: unexpected \"}\" in operand");
    assert_fails("{{break}}", NULL, "{{break}} outside {{range}}");
    assert_fails("{{define \"x\"}}{{end}}", NULL, "{{define}} is not supported");
    assert_fails("{{.X | 3}}", NULL, "non executable command in pipeline stage 2");
    assert_fails("{{1x}}", NULL, "illegal number syntax: \"1x\"");
    assert_fails("{{(.X}}", NULL, "unclosed left paren");
    assert_fails("{{.X)}}", NULL, "unexpected right paren");
    assert_fails("{{/* x }}", NULL, "unclosed comment");
    assert_fails("{{/* x */ .X}}", NULL, "comment ends before closing delimiter");
    assert_fails("{{\"a\".X}}", NULL, "unexpected . after term");
    assert_fails("{{.X \x01}}", NULL, "unrecognized character in action: U+0001");
    assert_fails("{{range $i, $j, $k := .X}}{{end}}", NULL, "too many declarations in range");
    assert_fails("{{if $a, $b := .X}}{{end}}", NULL, "too many declarations in if");
}

static void test_template__reports_execution_errors_with_position(void **state)
{
    (void)state;
    assert_fails("a\nbc {{.X 1}}", "{\"X\": 1}",
                 "template: :2:5: executing \"\" at <.X>: X is not a method but has arguments");
    assert_fails("{{.X | .Y}}", "{}", "Y is not a method but has arguments");
    assert_fails("{{nil}}", NULL, "nil is not a command");
    /* An action may span lines; the error still is one line (assert_fails checks). */
    assert_fails("{{index\n 1 0}}", NULL, "at <index  1 0>: error calling index");
    assert_fails("{{`a\nb`.X}}", NULL, "unexpected . after term \"`a b`\"");
    assert_fails("{{range .}}{{end}}", "\"x\\ny\"", "range can't iterate over x y");
    assert_fails("{{\"a\" 1}}", NULL, "can't give argument to non-function \"a\"");
    /* On error the output buffer is left as it was. */
    struct lb_error *err = NULL;
    struct lb_template *t = lb_template_parse("more {{index 1 1}}", &err);
    struct lb_strbuf out = LB_STRBUF_INIT;
    lb_strbuf_adds(&out, "keep");
    assert_int_equal(lb_template_execute(t, NULL, &out, &err), -1);
    assert_string_equal(out.buf, "keep");
    assert_int_equal(out.len, 4);
    assert_error_contains(err, "can't index item of type int");
    lb_strbuf_release(&out);
    lb_template_free(t);
}

static void test_template__detects_table_formats(void **state)
{
    (void)state;
    const char *rest = NULL;
    assert_true(lb_template_is_table("table {{.ID}}", &rest));
    assert_string_equal(rest, " {{.ID}}");
    assert_true(lb_template_is_table("tablefoo", NULL)); /* docker: strings.HasPrefix */
    assert_false(lb_template_is_table("{{.ID}} table", &rest));
    assert_false(lb_template_is_table("tabl", NULL));
}

/* docker replaces the two characters \t and \n (only those) before parsing. */
static void test_template__unescapes_and_preformats_like_docker(void **state)
{
    (void)state;
    char *s = lb_template_unescape("a\\tb\\nc\\\\t\\x\\");
    assert_string_equal(s, "a\tb\nc\\\t\\x\\");
    free(s);
    bool table = false;
    s = lb_template_preformat("table {{.ID}}\\t{{.Size}}  ", &table);
    assert_true(table);
    assert_string_equal(s, "{{.ID}}\t{{.Size}}");
    free(s);
    s = lb_template_preformat("json", &table);
    assert_false(table);
    assert_string_equal(s, "{{json .}}");
    free(s);
    s = lb_template_preformat("  {{.ID}}\t ", &table);
    assert_string_equal(s, "{{.ID}}\t"); /* only spaces are trimmed, as docker's Trim(" ") */
    free(s);
    s = lb_template_preformat("table", &table);
    assert_true(table);
    assert_string_equal(s, "");
    free(s);
}

LB_UNIT_MAIN(cmocka_unit_test(test_template__copies_literal_text),
             cmocka_unit_test(test_template__prints_dot_like_go_fmt_v),
             cmocka_unit_test(test_template__prints_floats_in_go_shortest_form),
             cmocka_unit_test(test_template__follows_field_chains),
             cmocka_unit_test(test_template__prints_no_value_for_a_missing_field),
             cmocka_unit_test(test_template__fails_on_a_field_of_a_non_object),
             cmocka_unit_test(test_template__json_encodes_like_docker),
             cmocka_unit_test(test_template__json_can_escape_html_like_json_marshal),
             cmocka_unit_test(test_template__ranges_over_arrays_and_sorted_objects),
             cmocka_unit_test(test_template__ranges_over_empty_values_run_else),
             cmocka_unit_test(test_template__if_uses_go_truthiness),
             cmocka_unit_test(test_template__index_reads_objects_arrays_and_strings),
             cmocka_unit_test(test_template__index_fails_on_a_non_container_or_bad_index),
             cmocka_unit_test(test_template__provides_docker_string_functions),
             cmocka_unit_test(test_template__string_functions_check_their_arguments),
             cmocka_unit_test(test_template__len_counts_bytes_elements_and_keys),
             cmocka_unit_test(test_template__print_and_println_space_like_go),
             cmocka_unit_test(test_template__printf_formats_like_go),
             cmocka_unit_test(test_template__printf_reports_bad_verbs_inline),
             cmocka_unit_test(test_template__pipelines_pass_the_value_as_last_argument),
             cmocka_unit_test(test_template__trims_whitespace_around_actions),
             cmocka_unit_test(test_template__declares_and_assigns_variables),
             cmocka_unit_test(test_template__parses_literals_like_go),
             cmocka_unit_test(test_template__logic_and_comparison_functions),
             cmocka_unit_test(test_template__header_mode_returns_arguments_unchanged),
             cmocka_unit_test(test_template__reports_parse_errors_like_docker),
             cmocka_unit_test(test_template__reports_execution_errors_with_position),
             cmocka_unit_test(test_template__detects_table_formats),
             cmocka_unit_test(test_template__unescapes_and_preformats_like_docker))
