/* top.c — `layerbox top CONTAINER [ps OPTIONS]`: the host's ps, cut down to the container's
 * processes (docker's daemon/top_unix.go): run `ps` (default `-ef`), find the PID column in its
 * header, keep the rows whose pid belongs to the container (runtime/procs.h: its PID namespace
 * and the descendants of its first process), and print header and rows as docker's client does
 * (a tabwriter with minwidth 20, padding 3; the text after the last title's column — CMD, with
 * its spaces — is one cell). Rows whose PID is "-" (threads, with -m) follow the row above.
 *
 * Sits on: container/container.h (resolve, liveness), runtime/procs.h.
 * Interface: lb_cmd_top
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/table.h"
#include "core/util.h"
#include "runtime/procs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char top_usage[] =
    "Usage:  layerbox top CONTAINER [ps OPTIONS]\n"
    "\n"
    "Display the running processes of a container: the host's ps (default options -ef), keeping\n"
    "its header and the rows of the container's processes. The ps options must keep a PID\n"
    "column.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

static int read_all(int fd, struct lb_strbuf *sb)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        lb_strbuf_add(sb, chunk, (size_t)n);
    }
}

/* Run ps with args (NULL-terminated, may be empty: -ef) and take its stdout. */
static int run_ps(char **args, struct lb_strbuf *out, struct lb_error **err)
{
    char **argv = NULL;
    lb_strv_push(&argv, "ps");
    if (args[0] == NULL)
        lb_strv_push(&argv, "-ef");
    for (size_t i = 0; args[i]; i++)
        lb_strv_push(&argv, args[i]);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        lb_strv_free(argv);
        return lb_error_set(err, errno, "cannot make a pipe for ps");
    }
    _cleanup_close_ int errfd = memfd_create("ps-stderr", MFD_CLOEXEC);
    pid_t pid = errfd < 0 ? -1 : fork();
    if (pid == 0) {
        if (dup2(p[1], 1) < 0 || dup2(errfd, 2) < 0)
            _exit(127);
        execvp("ps", argv);
        _exit(127);
    }
    int saved = errno;
    close(p[1]);
    lb_strv_free(argv);
    if (pid < 0) {
        close(p[0]);
        return lb_error_set(err, saved, "cannot run ps");
    }
    int rr = read_all(p[0], out);
    saved = errno;
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rr < 0)
        return lb_error_set(err, saved, "cannot read the output of ps");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return lb_error_set(err, 0, "cannot run 'ps': is it installed (procps)?");
    _cleanup_strbuf_ struct lb_strbuf msg = LB_STRBUF_INIT;
    lseek(errfd, 0, SEEK_SET);
    read_all(errfd, &msg);
    size_t nl = 0;
    while (nl < msg.len && msg.buf[nl] != '\n')
        nl++;
    return lb_error_set(err, 0, "ps failed (exit status %d)%s%.*s",
                        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                        nl ? ": " : "", (int)nl, msg.buf ? msg.buf : "");
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Split a line on ASCII blanks (docker's fieldsASCII). NULL when there is none; caller frees
 * with lb_strv_free. */
static char **fields(const char *line, size_t len)
{
    char **v = NULL;
    size_t i = 0;
    while (i < len) {
        while (i < len && is_blank(line[i]))
            i++;
        size_t start = i;
        while (i < len && !is_blank(line[i]))
            i++;
        if (i > start) {
            _cleanup_free_ char *f = lb_xstrndup(line + start, i - start);
            lb_strv_push(&v, f);
        }
    }
    return v;
}

/* One table line: the first ntitles-1 fields, then the rest joined with spaces. */
static void add_row(struct lb_strbuf *t, char **f, size_t ntitles)
{
    size_t n = lb_strv_len(f);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            lb_strbuf_addc(t, i < ntitles ? '\t' : ' ');
        lb_strbuf_adds(t, f[i]);
    }
    lb_strbuf_addc(t, '\n');
}

static bool has_pid(const pid_t *pids, size_t n, long p)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == p)
            return true;
    return false;
}

/* docker's parsePSOutput, then its client's table. */
static int filter(const struct lb_strbuf *ps, const pid_t *pids, size_t npids,
                  struct lb_strbuf *table, struct lb_error **err)
{
    const char *s = ps->buf ? ps->buf : "";
    const char *eol = strchr(s, '\n');
    size_t hlen = eol ? (size_t)(eol - s) : strlen(s);
    _cleanup_strv_ char **titles = fields(s, hlen);
    size_t ntitles = lb_strv_len(titles);
    long pid_col = -1;
    for (size_t i = 0; i < ntitles; i++)
        if (strcmp(titles[i], "PID") == 0)
            pid_col = (long)i;
    if (pid_col < 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "ps output has no PID column: cannot tell which rows belong to the "
                             "container");
    add_row(table, titles, ntitles);
    bool prev_kept = false;
    for (const char *line = eol ? eol + 1 : s + hlen; *line;) {
        const char *e = strchr(line, '\n');
        size_t len = e ? (size_t)(e - line) : strlen(line);
        _cleanup_strv_ char **f = fields(line, len);
        line += len + (e ? 1 : 0);
        if (lb_strv_len(f) <= (size_t)pid_col)
            continue; /* an empty or short line */
        const char *p = f[pid_col];
        if (strcmp(p, "-") == 0) { /* a thread line (ps -m): goes with its process */
            if (prev_kept)
                add_row(table, f, ntitles);
            continue;
        }
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno != 0 || end == p || *end != '\0')
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "unexpected pid '%s' in ps output", p);
        prev_kept = has_pid(pids, npids, v);
        if (prev_kept)
            add_row(table, f, ntitles);
    }
    return 0;
}

/* docker's client: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0). */
static void print_table(const struct lb_strbuf *table)
{
    struct lb_table *t = lb_table_new_with(20, 1, 3, ' ', 0);
    lb_table_write(t, table->buf, table->len);
    _cleanup_free_ char *text = lb_table_render(t);
    lb_table_free(t);
    fputs(text, stdout);
}

int lb_cmd_top(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    /* Everything after CONTAINER is ps's, dashes included: no getopt here. */
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        lb_cli_usage(top_usage);
        return 0;
    }
    if (argc < 2)
        return lb_cli_usage_error(err, "top", "\"top\" requires at least 1 argument");
    if (argv[1][0] == '-' && argv[1][1] == '-')
        return lb_cli_usage_error(err, "top", "unknown flag: %s", argv[1]);
    if (argv[1][0] == '-' && argv[1][1] != '\0') /* the words lb_cli_getopt uses */
        return lb_cli_usage_error(err, "top", "unknown shorthand flag: '%c' in %s", argv[1][1],
                                  argv[1]);
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_container *c = lb_container_resolve(s, argv[1], err);
    if (c == NULL)
        return -1;
    int rc = -1;
    pid_t *pids = NULL;
    size_t npids = 0;
    _cleanup_strbuf_ struct lb_strbuf ps = LB_STRBUF_INIT;
    _cleanup_strbuf_ struct lb_strbuf table = LB_STRBUF_INIT;
    if (lb_container_check(s, c, err) < 0)
        goto out;
    if (c->state.status != LB_STATE_RUNNING && c->state.status != LB_STATE_PAUSED) {
        lb_error_setk(err, LB_EKIND_CONFLICT, 0, "container '%s' is not running", c->name);
        goto out;
    }
    if (lb_procs_in_pidns(c->state.pid, &pids, &npids, err) < 0) {
        lb_error_wrap(err, "the processes of container '%s'", c->name);
        goto out;
    }
    if (run_ps(argv + 2, &ps, err) < 0 || filter(&ps, pids, npids, &table, err) < 0)
        goto out;
    print_table(&table);
    rc = 0;
out:
    free(pids);
    lb_container_free(c);
    return rc;
}
