/* test_config.c — Dockerfile-style changes applied to an image config (import -c, commit -c):
 * exec vs shell form, ENV/LABEL word splitting, quoting and expansion, EXPOSE defaults, WORKDIR
 * joining, and docker's error messages. Expected values are written by hand from docker's
 * documented behaviour (Dockerfile reference), not copied from layerbox's output. */
#include "unit.h"

#include "core/json.h"
#include "image/config.h"

#include <jansson.h>

/* A config with some state to change: Env and WorkingDir. */
static json_t *base_config(void)
{
    json_error_t je;
    json_t *j =
        json_loads("{\"architecture\":\"amd64\",\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\","
                   "\"HOME=/root\",\"EMPTY=\"],\"WorkingDir\":\"/srv\",\"Cmd\":[\"sh\"]}}",
                   0, &je);
    assert_non_null(j);
    return j;
}

/* Apply a change that must succeed; returns the "config" object (borrowed). */
static json_t *apply_ok(json_t *img, const char *change)
{
    struct lb_error *err = NULL;
    if (lb_config_apply_change(img, change, &err) < 0)
        fail_msg("change '%s' failed: %s", change, err->msg);
    json_t *cfg = json_object_get(img, "config");
    assert_true(json_is_object(cfg));
    return cfg;
}

/* Apply a change that must fail with `needle` in the message and leave img unchanged. */
static void apply_fails(const char *change, const char *needle)
{
    json_t *img = base_config();
    json_t *before = json_deep_copy(img);
    struct lb_error *err = NULL;
    assert_int_equal(lb_config_apply_change(img, change, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    if (strstr(err->msg, change) == NULL)
        fail_msg("error '%s' does not name the change '%s'", err->msg, change);
    assert_error_contains(err, needle);
    assert_true(json_equal(img, before));
    json_decref(before);
    json_decref(img);
}

/* The JSON text of a member of the config object, e.g. "[\"a\",\"b\"]". */
static void assert_member(json_t *cfg, const char *key, const char *want_json)
{
    json_error_t je;
    json_t *want = json_loads(want_json, JSON_DECODE_ANY, &je);
    if (want == NULL)
        fail_msg("bad expected JSON %s", want_json);
    json_t *got = json_object_get(cfg, key);
    if (!json_equal(got, want)) {
        char *g = got ? lb_json_dump(got) : lb_xstrdup("(absent)");
        fail_msg("%s is %s, expected %s", key, g, want_json);
    }
    json_decref(want);
}

static void test_config__cmd_json_array_is_the_exec_form(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "CMD [\"/bin/echo\", \"hi there\"]"), "Cmd",
                  "[\"/bin/echo\",\"hi there\"]");
    json_decref(img);
}

static void test_config__cmd_text_is_the_shell_form_kept_as_written(void **state)
{
    (void)state;
    json_t *img = base_config();
    /* no quote removal and no expansion in the shell form: the shell does that at run time */
    assert_member(apply_ok(img, "CMD echo \"$HOME\" 'x'  y"), "Cmd",
                  "[\"/bin/sh\",\"-c\",\"echo \\\"$HOME\\\" 'x'  y\"]");
    json_decref(img);
}

static void test_config__cmd_malformed_json_falls_back_to_the_shell_form(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "CMD [sh]"), "Cmd", "[\"/bin/sh\",\"-c\",\"[sh]\"]");
    assert_member(apply_ok(img, "CMD [\"a\", 1]"), "Cmd",
                  "[\"/bin/sh\",\"-c\",\"[\\\"a\\\", 1]\"]");
    json_decref(img);
}

static void test_config__cmd_empty_json_array_clears_the_command(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "CMD []"), "Cmd", "[]");
    json_decref(img);
}

static void test_config__instruction_names_are_case_insensitive(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "  cmd [\"x\"]  "), "Cmd", "[\"x\"]");
    assert_member(apply_ok(img, "Env Q=1"), "Env",
                  "[\"PATH=/usr/bin:/bin\",\"HOME=/root\",\"EMPTY=\",\"Q=1\"]");
    json_decref(img);
}

static void test_config__entrypoint_sets_it_and_clears_the_inherited_cmd(void **state)
{
    (void)state;
    json_t *img = base_config();
    json_t *cfg = apply_ok(img, "ENTRYPOINT [\"/init\"]");
    assert_member(cfg, "Entrypoint", "[\"/init\"]");
    assert_null(json_object_get(cfg, "Cmd"));
    cfg = apply_ok(img, "ENTRYPOINT top -b");
    assert_member(cfg, "Entrypoint", "[\"/bin/sh\",\"-c\",\"top -b\"]");
    cfg = apply_ok(img, "CMD [\"-x\"]"); /* a CMD after it sets the command again */
    assert_member(cfg, "Cmd", "[\"-x\"]");
    json_decref(img);
}

static void test_config__env_name_value_pairs_with_quotes(void **state)
{
    (void)state;
    json_t *img = base_config();
    json_t *cfg = apply_ok(img, "ENV A=1 B=\"x y\" C='$HOME' D=a\\ b E=");
    assert_member(cfg, "Env",
                  "[\"PATH=/usr/bin:/bin\",\"HOME=/root\",\"EMPTY=\",\"A=1\",\"B=x y\","
                  "\"C=$HOME\",\"D=a b\",\"E=\"]");
    json_decref(img);
}

static void test_config__env_old_form_takes_the_rest_of_the_line(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "ENV GREETING hello   big world"), "Env",
                  "[\"PATH=/usr/bin:/bin\",\"HOME=/root\",\"EMPTY=\","
                  "\"GREETING=hello   big world\"]");
    json_decref(img);
}

static void test_config__env_replaces_an_existing_variable_in_place(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "ENV HOME=/home/u"), "Env",
                  "[\"PATH=/usr/bin:/bin\",\"HOME=/home/u\",\"EMPTY=\"]");
    json_decref(img);
}

static void test_config__env_expands_variables_from_the_config_before_the_change(void **state)
{
    (void)state;
    json_t *img = base_config();
    /* B sees the old HOME (docker expands with the environment before the instruction) */
    json_t *cfg = apply_ok(img, "ENV PATH=$PATH:/opt/bin HOME=/x B=${HOME}/y C=\"$HOME\"z "
                                "D=${NOPE:-dflt} E=${HOME:+set} F=${NOPE:+set} G=${EMPTY:-e} "
                                "H=${EMPTY-e} I=\\$HOME J=$ K=${NOPE}");
    assert_member(cfg, "Env",
                  "[\"PATH=/usr/bin:/bin:/opt/bin\",\"HOME=/x\",\"EMPTY=\",\"B=/root/y\","
                  "\"C=/rootz\",\"D=dflt\",\"E=set\",\"F=\",\"G=e\",\"H=\",\"I=$HOME\","
                  "\"J=$\",\"K=\"]");
    json_decref(img);
}

static void test_config__env_errors_are_docker_s(void **state)
{
    (void)state;
    apply_fails("ENV", "ENV requires at least one argument");
    apply_fails("ENV   ", "ENV requires at least one argument");
    apply_fails("ENV ONLYNAME", "ENV must have two arguments");
    apply_fails("ENV =x", "ENV names can not be blank");
    apply_fails("ENV A=1 B", "can't find = in \"B\"");
    apply_fails("ENV A=\"open", "matching double-quote");
    apply_fails("ENV A='open", "matching single-quote");
    apply_fails("ENV A=${}", "bad substitution");
    apply_fails("ENV A=${B?x}", "unsupported modifier");
    apply_fails("ENV A=${B:-x", "missing '}'");
}

static void test_config__label_keys_and_values_may_be_quoted(void **state)
{
    (void)state;
    json_t *img = base_config();
    json_t *cfg = apply_ok(img, "LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0 "
                                "multi.word=\"a \\\"quoted\\\" b\"");
    assert_member(cfg, "Labels",
                  "{\"com.example.vendor\":\"ACME Inc\",\"version\":\"1.0\","
                  "\"multi.word\":\"a \\\"quoted\\\" b\"}");
    cfg = apply_ok(img, "LABEL version=2.0");
    assert_member(cfg, "Labels",
                  "{\"com.example.vendor\":\"ACME Inc\",\"version\":\"2.0\","
                  "\"multi.word\":\"a \\\"quoted\\\" b\"}");
    json_decref(img);
}

static void test_config__label_errors(void **state)
{
    (void)state;
    apply_fails("LABEL", "LABEL requires at least one argument");
    apply_fails("LABEL =v", "LABEL names can not be blank");
    apply_fails("LABEL k", "LABEL must have two arguments");
}

static void test_config__expose_defaults_to_tcp_and_expands_ranges(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "EXPOSE 80 53/UDP 8000-8002/tcp 9/sctp"), "ExposedPorts",
                  "{\"80/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},\"8001/tcp\":{},"
                  "\"8002/tcp\":{},\"9/sctp\":{}}");
    json_decref(img);
}

static void test_config__expose_errors(void **state)
{
    (void)state;
    apply_fails("EXPOSE", "EXPOSE requires at least one argument");
    apply_fails("EXPOSE 80/foo", "invalid proto: foo");
    apply_fails("EXPOSE http", "invalid containerPort: http");
    apply_fails("EXPOSE 70000", "invalid containerPort: 70000");
    apply_fails("EXPOSE 127.0.0.1:80:80", "invalid containerPort");
    apply_fails("EXPOSE 90-80", "invalid range specified for container port: 90-80");
    apply_fails("EXPOSE 1-65535", "too large");
}

static void test_config__volume_json_and_plain_forms(void **state)
{
    (void)state;
    json_t *img = base_config();
    apply_ok(img, "VOLUME [\"/data\", \"/with space\"]");
    assert_member(apply_ok(img, "VOLUME /a /b"), "Volumes",
                  "{\"/data\":{},\"/with space\":{},\"/a\":{},\"/b\":{}}");
    json_decref(img);
}

static void test_config__volume_errors(void **state)
{
    (void)state;
    apply_fails("VOLUME", "VOLUME requires at least one argument");
    apply_fails("VOLUME [\"\"]", "VOLUME specified can not be an empty string");
    apply_fails("VOLUME []", "VOLUME requires at least one argument");
}

static void test_config__workdir_absolute_or_joined_with_the_current_one(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "WORKDIR app/../web/./x"), "WorkingDir", "\"/srv/web/x\"");
    assert_member(apply_ok(img, "WORKDIR /abs//dir"), "WorkingDir", "\"/abs//dir\"");
    assert_member(apply_ok(img, "WORKDIR $HOME/w"), "WorkingDir", "\"/root/w\"");
    json_decref(img);

    json_error_t je;
    img = json_loads("{}", 0, &je);
    assert_member(apply_ok(img, "WORKDIR ../../rel"), "WorkingDir", "\"/rel\"");
    json_decref(img);
}

static void test_config__user_and_stopsignal(void **state)
{
    (void)state;
    json_t *img = base_config();
    assert_member(apply_ok(img, "USER lbuser:2000"), "User", "\"lbuser:2000\"");
    assert_member(apply_ok(img, "STOPSIGNAL SIGKILL"), "StopSignal", "\"SIGKILL\"");
    assert_member(apply_ok(img, "STOPSIGNAL term"), "StopSignal", "\"term\"");
    assert_member(apply_ok(img, "STOPSIGNAL 15"), "StopSignal", "\"15\"");
    assert_member(apply_ok(img, "STOPSIGNAL SIGRTMIN+3"), "StopSignal", "\"SIGRTMIN+3\"");
    json_decref(img);
    apply_fails("USER", "USER requires exactly one argument");
    apply_fails("USER \"\"", "USER requires exactly one argument");
    apply_fails("WORKDIR", "WORKDIR requires exactly one argument");
    apply_fails("STOPSIGNAL", "STOPSIGNAL requires exactly one argument");
    apply_fails("STOPSIGNAL SIGNOPE", "Invalid signal: SIGNOPE");
    apply_fails("STOPSIGNAL 99", "Invalid signal: 99");
}

static void test_config__onbuild_records_the_trigger_upper_cased(void **state)
{
    (void)state;
    json_t *img = base_config();
    apply_ok(img, "ONBUILD run echo hi");
    assert_member(apply_ok(img, "ONBUILD ADD . /app"), "OnBuild",
                  "[\"RUN echo hi\",\"ADD . /app\"]");
    json_decref(img);
    apply_fails("ONBUILD", "ONBUILD requires at least one argument");
    apply_fails("ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    apply_fails("ONBUILD from x", "FROM isn't allowed as an ONBUILD trigger");
}

static void test_config__unknown_and_build_only_instructions_are_refused(void **state)
{
    (void)state;
    apply_fails("FOO bar", "unknown instruction: FOO");
    apply_fails("foo", "unknown instruction: FOO");
    apply_fails("RUN echo", "RUN is not a valid change command");
    apply_fails("copy a b", "COPY is not a valid change command");
    apply_fails("   ", "empty change");
    apply_fails("CMD", "CMD requires at least one argument");
    apply_fails("ENTRYPOINT", "ENTRYPOINT requires at least one argument");
}

static void test_config__creates_the_config_object_when_missing(void **state)
{
    (void)state;
    json_error_t je;
    json_t *img = json_loads("{\"os\":\"linux\",\"config\":null}", 0, &je);
    assert_member(apply_ok(img, "EXPOSE 8080"), "ExposedPorts", "{\"8080/tcp\":{}}");
    assert_string_equal(lb_json_str(img, "os"), "linux");
    json_decref(img);
}

static void test_config__rejects_an_image_config_that_is_not_an_object(void **state)
{
    (void)state;
    json_t *arr = json_array();
    struct lb_error *err = NULL;
    assert_int_equal(lb_config_apply_change(arr, "CMD x", &err), -1);
    assert_error_contains(err, "not a JSON object");
    json_decref(arr);
}

LB_UNIT_MAIN(cmocka_unit_test(test_config__cmd_json_array_is_the_exec_form),
             cmocka_unit_test(test_config__cmd_text_is_the_shell_form_kept_as_written),
             cmocka_unit_test(test_config__cmd_malformed_json_falls_back_to_the_shell_form),
             cmocka_unit_test(test_config__cmd_empty_json_array_clears_the_command),
             cmocka_unit_test(test_config__instruction_names_are_case_insensitive),
             cmocka_unit_test(test_config__entrypoint_sets_it_and_clears_the_inherited_cmd),
             cmocka_unit_test(test_config__env_name_value_pairs_with_quotes),
             cmocka_unit_test(test_config__env_old_form_takes_the_rest_of_the_line),
             cmocka_unit_test(test_config__env_replaces_an_existing_variable_in_place),
             cmocka_unit_test(test_config__env_expands_variables_from_the_config_before_the_change),
             cmocka_unit_test(test_config__env_errors_are_docker_s),
             cmocka_unit_test(test_config__label_keys_and_values_may_be_quoted),
             cmocka_unit_test(test_config__label_errors),
             cmocka_unit_test(test_config__expose_defaults_to_tcp_and_expands_ranges),
             cmocka_unit_test(test_config__expose_errors),
             cmocka_unit_test(test_config__volume_json_and_plain_forms),
             cmocka_unit_test(test_config__volume_errors),
             cmocka_unit_test(test_config__workdir_absolute_or_joined_with_the_current_one),
             cmocka_unit_test(test_config__user_and_stopsignal),
             cmocka_unit_test(test_config__onbuild_records_the_trigger_upper_cased),
             cmocka_unit_test(test_config__unknown_and_build_only_instructions_are_refused),
             cmocka_unit_test(test_config__creates_the_config_object_when_missing),
             cmocka_unit_test(test_config__rejects_an_image_config_that_is_not_an_object))
