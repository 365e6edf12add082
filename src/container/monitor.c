/* monitor.c — container.log in docker's json-file format, the pump that fills it, signal names.
 *
 * Sits on: core/util.h (strbuf), core/human.h (times), jansson (parsing entries).
 * Interface: lb_log_format_entry, lb_log_parse_entry, lb_log_entry_release, lb_log_tee,
 *            lb_log_pump, lb_signal_parse
 */
#include "container/monitor.h"

#include "core/cleanup.h"
#include "core/json.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0) {
        len = 2, cp = p[0] & 0x1f, min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3, cp = p[0] & 0x0f, min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        len = 4, cp = p[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void json_escape(struct lb_strbuf *out, const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t i = 0;
    while (i < len) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\') {
            lb_strbuf_addc(out, '\\');
            lb_strbuf_addc(out, (char)ch);
        } else if (ch == '\n') {
            lb_strbuf_adds(out, "\\n");
        } else if (ch == '\r') {
            lb_strbuf_adds(out, "\\r");
        } else if (ch == '\t') {
            lb_strbuf_adds(out, "\\t");
        } else if (ch < 0x20 || ch == 0x7f) {
            lb_strbuf_addf(out, "\\u%04x", ch);
        } else if (ch >= 0x80) {
            size_t n = utf8_len(p + i, len - i);
            if (n == 0) {
                lb_strbuf_adds(out, "\\ufffd");
                i++;
            } else {
                lb_strbuf_add(out, p + i, n);
                i += n;
            }
            continue;
        } else {
            lb_strbuf_addc(out, (char)ch);
        }
        i++;
    }
}

void lb_log_format_entry(struct lb_strbuf *out, enum lb_log_stream stream, const char *data,
                         size_t len, struct lb_time t)
{
    char ts[48];
    lb_strbuf_adds(out, "{\"log\":\"");
    json_escape(out, data, len);
    lb_strbuf_addf(out, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                   stream == LB_LOG_STDERR ? "stderr" : "stdout",
                   lb_time_format(ts, sizeof(ts), t));
}

int lb_log_parse_entry(struct lb_log_entry *out, const char *line, size_t len,
                       struct lb_error **err)
{
    *out = (struct lb_log_entry){0};
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    _cleanup_json_ json_t *j = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
    json_t *log = json_object_get(j, "log");
    const char *stream = json_string_value(json_object_get(j, "stream"));
    const char *time = json_string_value(json_object_get(j, "time"));
    if (!json_is_object(j) || !json_is_string(log) || stream == NULL || time == NULL ||
        (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "malformed log entry");
    out->stream = strcmp(stream, "stderr") == 0 ? LB_LOG_STDERR : LB_LOG_STDOUT;
    out->log_len = json_string_length(log);
    out->log = lb_xmalloc(out->log_len + 1);
    memcpy(out->log, json_string_value(log), out->log_len);
    out->log[out->log_len] = '\0';
    out->time = lb_xstrdup(time);
    return 0;
}

void lb_log_entry_release(struct lb_log_entry *e)
{
    free(e->log);
    free(e->time);
    *e = (struct lb_log_entry){0};
}

/* --- the pump ---------------------------------------------------------------------------- */

struct stream {
    enum lb_log_stream kind;
    int fd;
    struct lb_strbuf partial;
};

static int write_all(int fd, const char *buf, size_t len, struct lb_error **err)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return lb_error_set(err, errno, "cannot write the container log");
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write every complete line of st->partial (all of it when eof, or pieces of LB_LOG_MAX_LINE). */
static int flush_lines(struct stream *st, int log_fd, bool eof, struct lb_error **err)
{
    _cleanup_strbuf_ struct lb_strbuf out = LB_STRBUF_INIT;
    size_t start = 0;
    struct lb_time now = lb_time_now();
    const char *b = st->partial.buf;
    for (size_t i = 0; i < st->partial.len; i++) {
        if (b[i] == '\n' || i + 1 - start >= LB_LOG_MAX_LINE) {
            lb_log_format_entry(&out, st->kind, b + start, i + 1 - start, now);
            start = i + 1;
        }
    }
    if (eof && start < st->partial.len) {
        lb_log_format_entry(&out, st->kind, b + start, st->partial.len - start, now);
        start = st->partial.len;
    }
    if (start > 0) {
        memmove(st->partial.buf, st->partial.buf + start, st->partial.len - start);
        st->partial.len -= start;
        st->partial.buf[st->partial.len] = '\0';
    }
    return out.len ? write_all(log_fd, out.buf, out.len, err) : 0;
}

/* Copy buf to *fd; on failure (a closed pipe, a full disk) stop copying to it: the log and the
 * other stream go on, and the container never blocks on a reader that is gone. */
static void copy_out(int *fd, const char *buf, size_t len)
{
    if (*fd < 0)
        return;
    struct lb_error *e = NULL;
    if (write_all(*fd, buf, len, &e) < 0) {
        lb_error_free(e);
        *fd = -1;
    }
}

int lb_log_tee(int out_fd, int err_fd, int log_fd, int copy_out_fd, int copy_err_fd,
               struct lb_error **err)
{
    struct stream st[2] = {{LB_LOG_STDOUT, out_fd, LB_STRBUF_INIT},
                           {LB_LOG_STDERR, err_fd, LB_STRBUF_INIT}};
    int copy[2] = {copy_out_fd, copy_err_fd};
    int rc = 0;
    struct lb_error *log_err = NULL; /* the first log write error: reported at the end */
    char buf[8192];
    while (rc == 0 && (st[0].fd >= 0 || st[1].fd >= 0)) {
        struct pollfd pfd[2] = {{st[0].fd, POLLIN, 0}, {st[1].fd, POLLIN, 0}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = lb_error_set(err, errno, "cannot poll the container's output");
            break;
        }
        for (int i = 0; i < 2 && rc == 0; i++) {
            if (st[i].fd < 0 || pfd[i].revents == 0)
                continue;
            ssize_t n = read(st[i].fd, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n < 0) {
                rc = lb_error_set(err, errno, "cannot read the container's output");
                break;
            }
            if (n > 0) {
                copy_out(&copy[i], buf, (size_t)n); /* at once, not line by line: prompts */
                lb_strbuf_add(&st[i].partial, buf, (size_t)n);
            }
            /* A log that cannot be written is given up, but the pipes are still drained (and
             * copied): the container must not block on a full pipe. */
            if (log_fd >= 0 && flush_lines(&st[i], log_fd, n == 0, &log_err) < 0)
                log_fd = -1;
            if (log_fd < 0)
                lb_strbuf_reset(&st[i].partial);
            if (n == 0)
                st[i].fd = -1;
        }
    }
    lb_strbuf_release(&st[0].partial);
    lb_strbuf_release(&st[1].partial);
    if (log_err != NULL) {
        if (rc == 0 && err)
            *err = log_err;
        else
            lb_error_free(log_err);
        rc = -1;
    }
    return rc;
}

int lb_log_pump(int out_fd, int err_fd, int log_fd, struct lb_error **err)
{
    return lb_log_tee(out_fd, err_fd, log_fd, -1, -1, err);
}

/* --- signals ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"ABRT", SIGABRT},     {"ALRM", SIGALRM},     {"BUS", SIGBUS},   {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},     {"FPE", SIGFPE},       {"HUP", SIGHUP},   {"ILL", SIGILL},
    {"INT", SIGINT},       {"IO", SIGIO},         {"IOT", SIGIOT},   {"KILL", SIGKILL},
    {"PIPE", SIGPIPE},     {"PROF", SIGPROF},     {"PWR", SIGPWR},   {"QUIT", SIGQUIT},
    {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP}, {"SYS", SIGSYS},
    {"TERM", SIGTERM},     {"TRAP", SIGTRAP},     {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},     {"URG", SIGURG},       {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
    {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

int lb_signal_parse(const char *s, int *out, struct lb_error **err)
{
    if (s != NULL && isdigit((unsigned char)s[0])) {
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno == 0 && *end == '\0' && v >= 1 && v <= 64) {
            *out = (int)v;
            return 0;
        }
    } else if (s != NULL) {
        const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
            if (strcasecmp(n, signals[i].name) == 0) {
                *out = signals[i].sig;
                return 0;
            }
        }
    }
    return lb_error_setk(err, LB_EKIND_USAGE, 0, "invalid signal: '%s'", s ? s : "");
}
