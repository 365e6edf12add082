/* liveness.c — "running" is a fact checked, not a flag trusted.
 *
 * The concept: a recorded pid proves nothing by itself: the process may have died without anyone
 * recording it (a killed monitor, a reboot) and pids are reused. A record in state running or
 * paused is live only while its pid is alive and not a zombie AND its start time
 * (/proc/PID/stat field 22) is the recorded one; otherwise the record is corrected to exited with
 * an unknown exit code. The monitor's own report of the end (record_exit) wins over that guess.
 * Sits on container.c (state.json read and saved under the store lock: container_internal.h),
 * container/state (the transition) and /proc.
 *
 * Interface: lb_container_check, lb_container_record_exit, lb_container_proc_start,
 *            lb_container_parse_stat
 */
#include "container/container_internal.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int lb_container_parse_stat(const char *line, char *state_out, uint64_t *start_out,
                            struct lb_error **err)
{
    /* "PID (COMM) S PPID ...": COMM is free text up to 16 bytes and may hold ") (", so the
     * fields are the ones after the last ')'. The first is field 3 (state). */
    const char *p = line ? strrchr(line, ')') : NULL;
    if (p == NULL || strchr(line, '(') == NULL || strchr(line, '(') > p)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "malformed /proc stat line: no '(comm)'");
    p++;
    char state = 0;
    for (int field = 3; field <= 22; field++) {
        if (*p != ' ')
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "malformed /proc stat line: field %d is missing", field);
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p != ' ' && *p != '\0' && *p != '\n')
            p++;
        if (p == start)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "malformed /proc stat line: field %d is missing", field);
        if (field == 3) {
            if (p - start != 1)
                return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                     "malformed /proc stat line: bad state field");
            state = *start;
        } else if (field == 22) {
            uint64_t v = 0;
            for (const char *q = start; q < p; q++) {
                if (*q < '0' || *q > '9' || v > (UINT64_MAX - 9) / 10)
                    return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                         "malformed /proc stat line: bad start time");
                v = v * 10 + (uint64_t)(*q - '0');
            }
            *state_out = state;
            *start_out = v;
        }
    }
    return 0;
}

int lb_container_proc_start(pid_t pid, uint64_t *start_out, struct lb_error **err)
{
    if (pid <= 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ESRCH)
            return 0;
        return lb_error_set(err, errno, "cannot open '%s'", path);
    }
    char buf[4096];
    struct lb_error *e = NULL;
    ssize_t n = lb_read_full(fd, buf, sizeof(buf) - 1, &e);
    if (n < 0) {
        int code = e->code;
        lb_error_free(e);
        if (code == ESRCH) /* it died between open and read */
            return 0;
        return lb_error_set(err, code, "cannot read '%s'", path);
    }
    buf[n] = '\0';
    char state = 0;
    uint64_t start = 0;
    if (lb_container_parse_stat(buf, &state, &start, err) < 0)
        return lb_error_wrap(err, "%s", path);
    if (state == 'Z' || state == 'X' || state == 'x')
        return 0; /* ended; only its exit status is left for its parent to collect */
    *start_out = start;
    return 1;
}

static bool is_live(enum lb_state st)
{
    return st == LB_STATE_RUNNING || st == LB_STATE_PAUSED;
}

static int check_locked(struct lb_store *s, struct lb_container *c, struct lb_error **err)
{
    struct lb_container_state st;
    if (lb_container_read_state(s, c->id, &st, err) < 0)
        return -1;
    c->state = st; /* the monitor may have recorded the end meanwhile */
    if (!is_live(st.status))
        return 0;
    uint64_t start = 0;
    int alive = lb_container_proc_start(st.pid, &start, err);
    if (alive < 0)
        return -1;
    if (alive && start == st.pid_start)
        return 0;
    struct lb_transition t;
    if (lb_state_transition(&t, st.status, LB_EVENT_EXIT, c->name, err) < 0)
        return -1;
    lb_explain("container", "%s: pid %d is %s: the container has exited", c->name, (int)st.pid,
               alive ? "another process now (its start time differs)" : "gone");
    st.status = t.next;
    st.exit_code = -1;
    st.finished = lb_time_now();
    st.monitor_pid = 0;
    c->state = st;
    if (lb_container_save_state_locked(s, c, err) < 0)
        return -1;
    return 1;
}

int lb_container_check(struct lb_store *s, struct lb_container *c, struct lb_error **err)
{
    if (!is_live(c->state.status))
        return 0;
    if (lb_store_lock(s, err) < 0)
        return -1;
    int ret = check_locked(s, c, err);
    lb_store_unlock(s);
    return ret;
}

static int record_exit_locked(struct lb_store *s, struct lb_container *c, pid_t pid,
                              uint64_t pid_start, int exit_code, bool oom_killed,
                              struct lb_error **err)
{
    struct lb_container_state st;
    if (lb_container_read_state(s, c->id, &st, err) < 0)
        return -1;
    c->state = st;
    if (st.pid != pid || st.pid_start != pid_start)
        return 0; /* the record belongs to a newer run */
    bool unknown_end = st.status == LB_STATE_EXITED && st.exit_code == -1;
    if (!is_live(st.status) && !unknown_end)
        return 0;
    st.status = LB_STATE_EXITED;
    st.exit_code = exit_code;
    st.oom_killed = oom_killed;
    st.finished = lb_time_now();
    st.monitor_pid = 0;
    c->state = st;
    if (lb_container_save_state_locked(s, c, err) < 0)
        return -1;
    return 1;
}

int lb_container_record_exit(struct lb_store *s, struct lb_container *c, pid_t pid,
                             uint64_t pid_start, int exit_code, bool oom_killed,
                             struct lb_error **err)
{
    if (lb_store_lock(s, err) < 0)
        return -1;
    int ret = record_exit_locked(s, c, pid, pid_start, exit_code, oom_killed, err);
    lb_store_unlock(s);
    return ret;
}
