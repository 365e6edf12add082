/* logs.c — `layerbox logs [-f] [--tail N] [-t] CONTAINER`: what a container wrote (detached, or in
 * the foreground without --rm or -t), from its container.log (docker's json-file format,
 * container/monitor.h): its stdout lines on our stdout and its stderr lines on our stderr, as
 * docker separates them. --tail N shows the last N entries, -t prefixes each with its time (RFC
 * 3339 with nanoseconds), -f keeps following the log until the container is no longer running.
 *
 * Sits on: container/monitor.h (lb_log_parse_entry), container/container.h.
 * Interface: lb_cmd_logs
 */
#include "cli/cli.h"
#include "container/monitor.h"
#include "core/cleanup.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char logs_usage[] =
    "Usage:  layerbox logs [OPTIONS] CONTAINER\n"
    "\n"
    "Fetch the logs of a container (its stdout on stdout, its stderr on stderr).\n"
    "\n"
    "Options:\n"
    "  -f, --follow         Follow log output\n"
    "  -n, --tail string    Number of lines to show from the end of the logs (default \"all\")\n"
    "  -t, --timestamps     Show timestamps\n"
    "  -h, --help           Print this help\n";

static void show(const char *line, size_t len, bool timestamps)
{
    struct lb_log_entry e;
    struct lb_error *err = NULL;
    if (lb_log_parse_entry(&e, line, len, &err) < 0) {
        lb_error_free(err);
        return; /* a torn or foreign line: skipped, as docker skips what it cannot decode */
    }
    FILE *f = e.stream == LB_LOG_STDERR ? stderr : stdout;
    if (timestamps)
        fprintf(f, "%s ", e.time);
    fwrite(e.log, 1, e.log_len, f);
    fflush(f);
    lb_log_entry_release(&e);
}

/* Show the complete lines of buf (from *start), keeping a last partial one for later. */
static void show_lines(struct lb_strbuf *buf, bool timestamps)
{
    size_t start = 0;
    for (size_t i = 0; i < buf->len; i++) {
        if (buf->buf[i] == '\n') {
            show(buf->buf + start, i + 1 - start, timestamps);
            start = i + 1;
        }
    }
    memmove(buf->buf, buf->buf + start, buf->len - start);
    buf->len -= start;
    if (buf->buf)
        buf->buf[buf->len] = '\0';
}

static int read_more(int fd, struct lb_strbuf *buf, struct lb_error **err)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lb_error_set(err, errno, "cannot read the container log");
        if (n == 0)
            return 0;
        lb_strbuf_add(buf, chunk, (size_t)n);
    }
}

static bool is_running(struct lb_store *s, const char *id)
{
    struct lb_error *e = NULL;
    struct lb_container *c = lb_container_load(s, id, &e);
    bool live = false;
    if (c != NULL && lb_container_check(s, c, &e) >= 0)
        live = c->state.status == LB_STATE_RUNNING || c->state.status == LB_STATE_PAUSED;
    lb_error_free(e);
    lb_container_free(c);
    return live;
}

int lb_cmd_logs(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool follow = false, timestamps = false;
    const char *tail = NULL;
    const struct lb_cli_opt opts[] = {{"follow", 'f', .flag = &follow},
                                      {"tail", 'n', .value = &tail},
                                      {"timestamps", 't', .flag = &timestamps},
                                      {0}};
    int r = lb_cli_options(argc, argv, logs_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, 1, err) < 0)
        return -1;
    long ntail = -1;
    if (tail != NULL && strcmp(tail, "all") != 0) {
        unsigned long v = 0;
        if (lb_cli_parse_uint(argv[0], "--tail", tail, &v, err) < 0)
            return -1;
        ntail = (long)v;
    }
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    char id[LB_CONTAINER_ID_LEN + 1];
    if (lb_container_resolve_id(s, argv[optind], id, err) < 0)
        return -1;
    _cleanup_free_ char *rel = lb_xasprintf("containers/%s/%s", id, LB_LOG_FILE);
    _cleanup_close_ int fd = openat(s->root_fd, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        return lb_error_set(err, errno, "cannot open '%s/%s'", s->root, rel);

    _cleanup_strbuf_ struct lb_strbuf buf = LB_STRBUF_INIT;
    if (fd >= 0 && read_more(fd, &buf, err) < 0)
        return -1;
    if (ntail >= 0) { /* keep the last ntail complete lines (a partial one waits for -f) */
        long lines = 0;
        for (size_t i = 0; i < buf.len; i++)
            lines += buf.buf[i] == '\n';
        size_t start = 0;
        for (long skip = lines - ntail; skip > 0 && start < buf.len; start++)
            skip -= buf.buf[start] == '\n';
        memmove(buf.buf, buf.buf + start, buf.len - start);
        buf.len -= start;
        if (buf.buf)
            buf.buf[buf.len] = '\0';
    }
    show_lines(&buf, timestamps);
    while (follow) {
        bool live = is_running(s, id);
        if (fd < 0)
            fd = openat(s->root_fd, rel, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && read_more(fd, &buf, err) < 0)
            return -1;
        show_lines(&buf, timestamps);
        if (!live)
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}
