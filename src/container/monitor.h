/* monitor.h — the pieces of the container monitor that are plain data: container.log in docker's
 * json-file format, the pump that copies a container's stdout and stderr into it (and, for a
 * foreground container, to the caller's own stdout and stderr too), and signal names. The monitor
 * process itself (double fork, setsid, subreaper) is detached.c's lb_lifecycle_start_detached;
 * these are what it and `logs`/`kill`/`stop` share.
 *
 * container.log: one JSON object per line, as docker's json-file log driver writes them:
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-22T10:38:47.123456789Z"}
 * A line of output is one entry ("log" keeps its "\n"); a last line without a newline, or a
 * piece longer than LB_LOG_MAX_LINE, is an entry without one. Bytes that are not UTF-8 become
 * U+FFFD, as docker does. Library code: nothing here prints or exits. */
#ifndef LB_CONTAINER_MONITOR_H
#define LB_CONTAINER_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/human.h"
#include "core/util.h"

#define LB_LOG_FILE     "container.log"
#define LB_LOG_MAX_LINE 16384 /* docker's split size */

enum lb_log_stream {
    LB_LOG_STDOUT,
    LB_LOG_STDERR,
};

/* Append one entry (with its final '\n') for data[0..len) to out. */
void lb_log_format_entry(struct lb_strbuf *out, enum lb_log_stream stream, const char *data,
                         size_t len, struct lb_time t);

/* One parsed entry: log points into the entry (owned by it, not NUL-safe: use log_len). */
struct lb_log_entry {
    enum lb_log_stream stream;
    char *log;
    size_t log_len;
    char *time; /* as written */
};

/* Parse one line of container.log (without or with its '\n'). A line that is not such an
 * object is LB_EKIND_INVALID "malformed log entry". Release with lb_log_entry_release. */
int lb_log_parse_entry(struct lb_log_entry *out, const char *line, size_t len,
                       struct lb_error **err);
void lb_log_entry_release(struct lb_log_entry *e);

/* The one writer of container.log, used by the detached monitor and by a foreground `run` /
 * `start -a`: read what the container writes on out_fd (its stdout) and err_fd (its stderr) until
 * both reach end of file; append it to log_fd (opened O_APPEND) as entries, line by line; and
 * when copy_out_fd / copy_err_fd are >= 0, copy each read to them at once, unchanged (the
 * foreground's own stdout and stderr). A copy target that fails (a reader gone: EPIPE, so the
 * caller should ignore SIGPIPE) is dropped; a log that cannot be written is given up too; either
 * way the pipes are still drained to the end, so the container never blocks on them. Returns 0,
 * or -1 on a poll/read error or when the log could not be written ("cannot write the container
 * log"). The fds are not closed. */
int lb_log_tee(int out_fd, int err_fd, int log_fd, int copy_out_fd, int copy_err_fd,
               struct lb_error **err);

/* lb_log_tee without copies (the detached monitor). */
int lb_log_pump(int out_fd, int err_fd, int log_fd, struct lb_error **err);

/* A signal as docker's --signal/--stop-signal take it: "TERM", "SIGTERM", "sigterm" or a number
 * (1..64). Anything else is LB_EKIND_USAGE "invalid signal: 'x'". */
int lb_signal_parse(const char *s, int *out, struct lb_error **err);

#endif
