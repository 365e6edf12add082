/* test_monitor.c — container.log in docker's json-file format (entries written by hand here from
 * docker's jsonfilelog: {"log":..., "stream":..., "time":...}), the pump that splits a container's
 * output into entries (and, for a foreground container, copies it to the caller's fds: the tee),
 * and signal names. */
#include "unit.h"

#include "container/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const struct lb_time T = {1700000000, 123456789}; /* 2023-11-14T22:13:20.123456789Z */

static void assert_entry(const char *data, size_t len, enum lb_log_stream st, const char *want)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_log_format_entry(&sb, st, data, len, T);
    assert_string_equal(sb.buf, want);
    lb_strbuf_release(&sb);
}

static void test_monitor__formats_dockers_json_file_entries(void **state)
{
    (void)state;
    assert_entry("hello\n", 6, LB_LOG_STDOUT,
                 "{\"log\":\"hello\\n\",\"stream\":\"stdout\","
                 "\"time\":\"2023-11-14T22:13:20.123456789Z\"}\n");
    assert_entry("oops", 4, LB_LOG_STDERR,
                 "{\"log\":\"oops\",\"stream\":\"stderr\","
                 "\"time\":\"2023-11-14T22:13:20.123456789Z\"}\n");
}

static void test_monitor__escapes_quotes_controls_and_bad_utf8(void **state)
{
    (void)state;
    /* quote, backslash, tab, CR, ESC, NUL, valid UTF-8 (é, €), an invalid byte, a truncated
     * sequence and an overlong encoding of '/' */
    static const char in[] = "\"\\\t\r\x1b"
                             "\0"
                             "\xc3\xa9\xe2\x82\xac\xff\xe2\x82\xc0\xaf";
    assert_entry(in, sizeof(in) - 1, LB_LOG_STDOUT,
                 "{\"log\":\"\\\"\\\\\\t\\r\\u001b\\u0000\xc3\xa9\xe2\x82\xac\\ufffd\\ufffd\\ufffd"
                 "\\ufffd\\ufffd\",\"stream\":\"stdout\","
                 "\"time\":\"2023-11-14T22:13:20.123456789Z\"}\n");
}

static void test_monitor__parses_what_it_writes_and_dockers_lines(void **state)
{
    (void)state;
    struct lb_log_entry e;
    struct lb_error *err = NULL;
    /* a line as docker writes it */
    const char *docker = "{\"log\":\"hi \\u00e9\\n\",\"stream\":\"stderr\","
                         "\"time\":\"2024-01-02T03:04:05.5Z\"}\n";
    assert_int_equal(lb_log_parse_entry(&e, docker, strlen(docker), &err), 0);
    assert_int_equal(e.stream, LB_LOG_STDERR);
    assert_int_equal(e.log_len, 6);
    assert_memory_equal(e.log, "hi \xc3\xa9\n", 6);
    assert_string_equal(e.time, "2024-01-02T03:04:05.5Z");
    lb_log_entry_release(&e);

    /* round trip, NUL included */
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_log_format_entry(&sb, LB_LOG_STDOUT, "a\0b\n", 4, T);
    assert_int_equal(lb_log_parse_entry(&e, sb.buf, sb.len, &err), 0);
    assert_int_equal(e.stream, LB_LOG_STDOUT);
    assert_int_equal(e.log_len, 4);
    assert_memory_equal(e.log, "a\0b\n", 4);
    lb_log_entry_release(&e);
    lb_strbuf_release(&sb);
}

static void test_monitor__refuses_malformed_entries(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "not json",
        "[1,2]",
        "{\"stream\":\"stdout\",\"time\":\"x\"}",
        "{\"log\":1,\"stream\":\"stdout\",\"time\":\"x\"}",
        "{\"log\":\"a\",\"stream\":\"stdin\",\"time\":\"x\"}",
        "{\"log\":\"a\",\"stream\":\"stdout\"}",
        "{\"log\":\"a\",\"stream\":\"stdout\",\"time\":\"x\"", /* torn */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct lb_log_entry e;
        struct lb_error *err = NULL;
        assert_int_equal(lb_log_parse_entry(&e, bad[i], strlen(bad[i]), &err), -1);
        assert_error_contains(err, "malformed log entry");
    }
}

/* Parse every line of the file at path into "stream:log" pieces joined by '|'. */
static char *read_entries(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, &err), 0);
    struct lb_strbuf out = LB_STRBUF_INIT;
    lb_strbuf_adds(&out, "");
    char *line = text;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        assert_non_null(nl);
        struct lb_log_entry e;
        assert_int_equal(lb_log_parse_entry(&e, line, (size_t)(nl - line), &err), 0);
        lb_strbuf_addf(&out, "%s%s:", out.len ? "|" : "",
                       e.stream == LB_LOG_STDERR ? "err" : "out");
        lb_strbuf_add(&out, e.log, e.log_len);
        lb_log_entry_release(&e);
        line = nl + 1;
    }
    free(text);
    return lb_strbuf_detach(&out);
}

static void test_monitor__pump_writes_one_entry_per_line_per_stream(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *path = lb_xasprintf("%s/container.log", dir);
    int out[2], errp[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(errp), 0);
    int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    assert_true(log >= 0);
    /* all written before the pump starts (the pipes hold it): a line split over two writes, two
     * lines in one write, stderr between, a last line without a newline */
    assert_int_equal(write(out[1], "hel", 3), 3);
    assert_int_equal(write(out[1], "lo\nsecond\nthird\nlast", 21), 21);
    assert_int_equal(write(errp[1], "warn\n", 5), 5);
    close(out[1]);
    close(errp[1]);
    struct lb_error *err = NULL;
    assert_int_equal(lb_log_pump(out[0], errp[0], log, &err), 0);
    close(out[0]);
    close(errp[0]);
    close(log);
    char *got = read_entries(path);
    /* the streams are independent: stderr's entry somewhere, stdout's in their order */
    assert_non_null(strstr(got, "err:warn\n"));
    /* exactly 5 entries */
    int n = 1;
    for (char *p = got; *p; p++)
        n += *p == '|';
    assert_int_equal(n, 5);
    const char *order[] = {"out:hello\n", "out:second\n", "out:third\n", "out:last"};
    const char *at = got;
    for (size_t i = 0; i < 4; i++) {
        const char *f = strstr(at, order[i]);
        assert_non_null(f);
        at = f + strlen(order[i]);
    }
    free(got);
    free(path);
    lb_unit_rmdir(dir);
}

static void test_monitor__pump_splits_lines_longer_than_the_limit(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *path = lb_xasprintf("%s/container.log", dir);
    int out[2], errp[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(errp), 0);
    int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    assert_true(log >= 0);
    close(errp[1]);
    /* 40000 'x' and a newline, written before the pump starts (a pipe holds 64 KiB) */
    assert_true(fcntl(out[1], F_SETPIPE_SZ, 65536) >= 65536);
    char *big = malloc(40001);
    memset(big, 'x', 40000);
    big[40000] = '\n';
    assert_int_equal(write(out[1], big, 40001), 40001);
    free(big);
    close(out[1]);
    struct lb_error *err = NULL;
    assert_int_equal(lb_log_pump(out[0], errp[0], log, &err), 0);
    close(out[0]);
    close(errp[0]);
    close(log);
    char *got = read_entries(path);
    /* 16384 + 16384 + 7232 'x' then "\n": three entries, the last one with the newline */
    size_t len = strlen(got);
    assert_int_equal(len, 3 * 4 + 40001 + 2);
    assert_memory_equal(got + 4 + 16384, "|out:", 5);
    assert_memory_equal(got + 2 * (4 + 16384) + 1, "|out:", 5);
    assert_int_equal(got[len - 1], '\n');
    free(got);
    free(path);
    lb_unit_rmdir(dir);
}

static void test_monitor__pump_fails_on_an_unwritable_log(void **state)
{
    (void)state;
    int out[2], errp[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(errp), 0);
    int ro = open("/dev/null", O_RDONLY);
    assert_int_equal(write(out[1], "x\n", 2), 2);
    close(out[1]);
    close(errp[1]);
    struct lb_error *err = NULL;
    assert_int_equal(lb_log_pump(out[0], errp[0], ro, &err), -1);
    assert_error_contains(err, "cannot write the container log");
    close(ro);
    close(out[0]);
    close(errp[0]);
}

static void test_monitor__parses_signals_by_name_and_number(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int sig;
    } ok[] = {{"TERM", SIGTERM}, {"SIGTERM", SIGTERM}, {"sigterm", SIGTERM}, {"kill", SIGKILL},
              {"9", 9},          {"15", 15},           {"HUP", SIGHUP},      {"SIGUSR1", SIGUSR1},
              {"64", 64},        {"WINCH", SIGWINCH}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int sig = -1;
        struct lb_error *err = NULL;
        assert_int_equal(lb_signal_parse(ok[i].s, &sig, &err), 0);
        assert_int_equal(sig, ok[i].sig);
    }
    static const char *const bad[] = {"", "0", "65", "-1", "SIG", "TERMX", "9x", "SIGSIGTERM"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int sig = -1;
        struct lb_error *err = NULL;
        assert_int_equal(lb_signal_parse(bad[i], &sig, &err), -1);
        assert_int_equal(err->kind, LB_EKIND_USAGE);
        assert_error_contains(err, "invalid signal");
        assert_int_equal(sig, -1);
    }
}

/* The whole content of fd (a pipe whose write end is closed). */
static char *drain(int fd)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        lb_strbuf_add(&sb, buf, (size_t)n);
    return lb_strbuf_detach(&sb);
}

static void test_monitor__tee_copies_each_stream_unchanged_and_logs_it(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *path = lb_xasprintf("%s/container.log", dir);
    int out[2], errp[2], cout[2], cerr[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(errp), 0);
    assert_int_equal(pipe(cout), 0);
    assert_int_equal(pipe(cerr), 0);
    int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    assert_true(log >= 0);
    assert_int_equal(write(out[1], "one\ntw", 6), 6);
    assert_int_equal(write(out[1], "o\nno newline", 12), 12);
    assert_int_equal(write(errp[1], "e1\n", 3), 3);
    close(out[1]);
    close(errp[1]);
    struct lb_error *err = NULL;
    assert_int_equal(lb_log_tee(out[0], errp[0], log, cout[1], cerr[1], &err), 0);
    close(cout[1]);
    close(cerr[1]);
    /* the copies: byte for byte, each on its own fd */
    char *got_out = drain(cout[0]);
    char *got_err = drain(cerr[0]);
    assert_string_equal(got_out, "one\ntwo\nno newline");
    assert_string_equal(got_err, "e1\n");
    /* the log: the same entries as the pump writes */
    char *got = read_entries(path);
    assert_non_null(strstr(got, "err:e1\n"));
    assert_non_null(strstr(got, "out:one\n|out:two\n"));
    assert_non_null(strstr(got, "out:no newline"));
    int n = 1;
    for (char *p = got; *p; p++)
        n += *p == '|';
    assert_int_equal(n, 4);
    free(got);
    free(got_out);
    free(got_err);
    int fds[] = {out[0], errp[0], cout[0], cerr[0], log};
    for (size_t i = 0; i < LB_ARRAY_SIZE(fds); i++)
        close(fds[i]);
    free(path);
    lb_unit_rmdir(dir);
}

static void test_monitor__tee_keeps_logging_when_a_copy_target_is_gone(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *path = lb_xasprintf("%s/container.log", dir);
    int out[2], errp[2], cout[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(errp), 0);
    assert_int_equal(pipe(cout), 0);
    close(cout[0]); /* the reader of our stdout went away: writes fail with EPIPE */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    assert_int_equal(write(out[1], "a\nb\n", 4), 4);
    assert_int_equal(write(errp[1], "c\n", 2), 2);
    close(out[1]);
    close(errp[1]);
    struct lb_error *err = NULL;
    assert_int_equal(lb_log_tee(out[0], errp[0], log, cout[1], -1, &err), 0);
    assert_null(err);
    signal(SIGPIPE, old);
    char *got = read_entries(path);
    assert_non_null(strstr(got, "out:a\n|out:b\n"));
    assert_non_null(strstr(got, "err:c\n"));
    free(got);
    int fds[] = {out[0], errp[0], cout[1], log};
    for (size_t i = 0; i < LB_ARRAY_SIZE(fds); i++)
        close(fds[i]);
    free(path);
    lb_unit_rmdir(dir);
}

static void test_monitor__tee_still_copies_when_the_log_cannot_be_written(void **state)
{
    (void)state;
    int out[2], errp[2], cout[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(errp), 0);
    assert_int_equal(pipe(cout), 0);
    int ro = open("/dev/null", O_RDONLY);
    assert_int_equal(write(out[1], "x\n", 2), 2);
    assert_int_equal(write(out[1], "y\n", 2), 2);
    close(out[1]);
    close(errp[1]);
    struct lb_error *err = NULL;
    assert_int_equal(lb_log_tee(out[0], errp[0], ro, cout[1], -1, &err), -1);
    assert_error_contains(err, "cannot write the container log");
    lb_error_free(err);
    close(cout[1]);
    char *got = drain(cout[0]);
    assert_string_equal(got, "x\ny\n"); /* everything reached the terminal all the same */
    free(got);
    int fds[] = {out[0], errp[0], cout[0], ro};
    for (size_t i = 0; i < LB_ARRAY_SIZE(fds); i++)
        close(fds[i]);
}

LB_UNIT_MAIN(cmocka_unit_test(test_monitor__formats_dockers_json_file_entries),
             cmocka_unit_test(test_monitor__escapes_quotes_controls_and_bad_utf8),
             cmocka_unit_test(test_monitor__parses_what_it_writes_and_dockers_lines),
             cmocka_unit_test(test_monitor__refuses_malformed_entries),
             cmocka_unit_test(test_monitor__pump_writes_one_entry_per_line_per_stream),
             cmocka_unit_test(test_monitor__pump_splits_lines_longer_than_the_limit),
             cmocka_unit_test(test_monitor__pump_fails_on_an_unwritable_log),
             cmocka_unit_test(test_monitor__tee_copies_each_stream_unchanged_and_logs_it),
             cmocka_unit_test(test_monitor__tee_keeps_logging_when_a_copy_target_is_gone),
             cmocka_unit_test(test_monitor__tee_still_copies_when_the_log_cannot_be_written),
             cmocka_unit_test(test_monitor__parses_signals_by_name_and_number))
