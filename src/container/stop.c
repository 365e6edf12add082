/* stop.c — ending a running container from outside, and waiting for its end: stop (its stop
 * signal, then SIGKILL after a timeout), kill (any signal), wait (until it is not running).
 *
 * The process is not our child (its monitor, or a foreground layerbox, waits for it): these poll
 * its liveness (pid + start time, so a reused pid is not mistaken for it) and then wait for its
 * monitor to record the exit, so that a `stop` that returns leaves an exited record behind.
 * Signals are sent under the store lock, after the state machine said yes.
 *
 * Sits on: container/container.h (records, liveness), container/state.h, container/monitor.h
 *          (lb_signal_parse), runtime/process.h (lb_process_is_running).
 * Interface: lb_lifecycle_stop, lb_lifecycle_kill, lb_lifecycle_wait
 */
#include "container/lifecycle.h"
#include "container/monitor.h"

#include "core/explain.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Poll for pid (started at start) to be gone, up to ms milliseconds. True when gone. */
static bool wait_gone(pid_t pid, uint64_t start, long ms)
{
    for (long t = 0;; t += 10) {
        if (!lb_process_is_running(pid, start))
            return true;
        if (t >= ms)
            return false;
        sleep_ms(10);
    }
}

/* The process is gone: wait (up to 10 s) for its monitor to record the end; when the monitor is
 * gone too, the liveness check records it. c is refreshed. */
/* After a failed load or check: a --rm container removed meanwhile left its exit code behind
 * (lb_container_tombstone_write); take it as the exit and clear *err. Else -1, *err as it was. */
static int removed_with_code(struct lb_store *s, struct lb_container *c, struct lb_error **err)
{
    int code = 0;
    if (*err == NULL || (*err)->kind != LB_EKIND_NOT_FOUND ||
        lb_container_tombstone_read(s, c->id, &code, NULL) < 0)
        return -1;
    lb_error_clear(err);
    c->state.status = LB_STATE_EXITED;
    c->state.exit_code = code;
    return 0;
}

static int wait_recorded(struct lb_store *s, struct lb_container *c, struct lb_error **err)
{
    for (int i = 0; i < 1000; i++) {
        struct lb_container *now = lb_container_load(s, c->id, err);
        if (now == NULL)
            return removed_with_code(s, c, err);
        c->state = now->state;
        lb_container_free(now);
        if (c->state.status != LB_STATE_RUNNING && c->state.status != LB_STATE_PAUSED)
            return 0;
        pid_t m = c->state.monitor_pid;
        if (m <= 0 || m == getpid() || kill(m, 0) < 0)
            break;
        sleep_ms(10);
    }
    return lb_container_check(s, c, err) < 0 ? removed_with_code(s, c, err) : 0;
}

static int stop_signal_of(const struct lb_container *c, int *sig, struct lb_error **err)
{
    if (c->stop_signal == NULL || c->stop_signal[0] == '\0') {
        *sig = SIGTERM;
        return 0;
    }
    return lb_signal_parse(c->stop_signal, sig, err);
}

/* Resolve, load, check and ask the state machine, under the lock (held on success). */
static struct lb_container *load_for(struct lb_store *s, const char *arg, enum lb_event ev,
                                     struct lb_transition *t, struct lb_error **err)
{
    if (lb_store_lock(s, err) < 0)
        return NULL;
    struct lb_container *c = lb_container_resolve(s, arg, err);
    if (c == NULL || lb_container_check(s, c, err) < 0 ||
        lb_state_transition(t, c->state.status, ev, c->name, err) < 0) {
        lb_container_free(c);
        lb_store_unlock(s);
        return NULL;
    }
    return c;
}

int lb_lifecycle_stop(struct lb_store *s, const char *arg, int timeout, struct lb_error **err)
{
    struct lb_transition t;
    struct lb_container *c = load_for(s, arg, LB_EVENT_STOP, &t, err);
    if (c == NULL)
        return -1;
    int sig = SIGTERM;
    if (t.step == LB_STEP_NONE || stop_signal_of(c, &sig, err) < 0) {
        lb_store_unlock(s);
        int rc = t.step == LB_STEP_NONE ? 0 : -1;
        lb_container_free(c);
        return rc;
    }
    pid_t pid = c->state.pid;
    uint64_t start = c->state.pid_start;
    lb_explain("container", "stopping %.12s: signal %d to pid %d", c->id, sig, (int)pid);
    if (kill(pid, sig) < 0 && errno != ESRCH) {
        lb_error_set(err, errno, "cannot stop container '%s'", c->name);
        lb_store_unlock(s);
        lb_container_free(c);
        return -1;
    }
    lb_store_unlock(s);
    if (timeout < 0)
        timeout = c->stop_timeout >= 0 ? c->stop_timeout : 10;
    int rc = 0;
    if (!wait_gone(pid, start, (long)timeout * 1000)) {
        lb_explain("container", "%.12s still running after %d s: SIGKILL", c->id, timeout);
        if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
            rc = lb_error_set(err, errno, "cannot kill container '%s'", c->name);
        else if (!wait_gone(pid, start, 10000))
            rc = lb_error_set(err, ETIMEDOUT, "container '%s' did not die after SIGKILL", c->name);
    }
    if (rc == 0)
        rc = wait_recorded(s, c, err);
    lb_container_free(c);
    return rc;
}

int lb_lifecycle_kill(struct lb_store *s, const char *arg, int sig, struct lb_error **err)
{
    struct lb_transition t;
    struct lb_container *c = load_for(s, arg, LB_EVENT_KILL, &t, err);
    if (c == NULL)
        return -1;
    int rc = 0;
    if (t.step != LB_STEP_NONE) {
        lb_explain("container", "signal %d to %.12s (pid %d)", sig, c->id, (int)c->state.pid);
        if (kill(c->state.pid, sig) < 0 && errno != ESRCH)
            rc = lb_error_set(err, errno, "cannot kill container '%s'", c->name);
    }
    lb_store_unlock(s);
    lb_container_free(c);
    return rc;
}

int lb_lifecycle_wait(struct lb_store *s, const char *arg, int *exit_code, struct lb_error **err)
{
    struct lb_container *c = lb_container_resolve(s, arg, err);
    if (c == NULL)
        return -1;
    int rc = 0;
    for (;;) {
        if (lb_container_check(s, c, err) < 0) {
            rc = removed_with_code(s, c, err);
            break;
        }
        if (c->state.status != LB_STATE_RUNNING && c->state.status != LB_STATE_PAUSED)
            break;
        if (!lb_process_is_running(c->state.pid, c->state.pid_start)) {
            rc = wait_recorded(s, c, err);
            break;
        }
        sleep_ms(50);
        struct lb_container *now = lb_container_load(s, c->id, err);
        if (now == NULL) {
            rc = removed_with_code(s, c, err); /* a --rm container's code outlives it */
            break;
        }
        c->state = now->state;
        lb_container_free(now);
    }
    if (rc == 0)
        *exit_code = c->state.exit_code;
    lb_container_free(c);
    return rc;
}
