/* caps.c — the user and capability dance before exec.
 *
 * Why this order: dropping from the bounding set needs CAP_SETPCAP, which a non-root uid loses,
 * so the bounding set goes first. setresuid from 0 to non-zero clears the permitted set unless
 * PR_SET_KEEPCAPS is on, so that flag comes before it. Groups and gid change before the uid
 * (after setresuid we could no longer change them). Only then are permitted/effective cut to the
 * plan with capset, and the ambient set emptied so nothing leaks across exec. no_new_privs is
 * last: it only matters for the exec that follows.
 *
 * Sits on: sys.h (every call), plan.h.
 * Interface: lb_caps_last_cap, lb_caps_all, lb_caps_bounding, lb_caps_to_drop, lb_caps_apply,
 *            lb_caps_from_status
 */
#include "runtime/caps.h"
#include "core/cleanup.h"
#include "runtime/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

int lb_caps_last_cap(void)
{
    char buf[32];
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n > 0) {
            buf[n] = '\0';
            char *end = NULL;
            long v = strtol(buf, &end, 10);
            if (end != buf && v >= 0 && v < 64)
                return (int)v;
        }
    }
    return CAP_LAST_CAP;
}

uint64_t lb_caps_all(int last_cap)
{
    if (last_cap >= 63)
        return UINT64_MAX;
    if (last_cap < 0)
        return 0;
    return (UINT64_C(1) << (last_cap + 1)) - 1;
}

uint64_t lb_caps_bounding(int last_cap)
{
    uint64_t mask = 0;
    for (int n = 0; n <= last_cap && n < 64; n++)
        if (prctl(PR_CAPBSET_READ, (unsigned long)n, 0, 0, 0) == 1)
            mask |= UINT64_C(1) << n;
    return mask;
}

uint64_t lb_caps_to_drop(uint64_t keep, uint64_t current, int last_cap)
{
    return current & ~keep & lb_caps_all(last_cap);
}

/* "cap_sys_admin" for messages, or the number when libcap does not know it. */
static char *cap_label(int n)
{
    char *name = cap_to_name(n);
    char *out = name ? lb_xstrdup(name) : lb_xasprintf("capability %d", n);
    cap_free(name);
    return out;
}

int lb_caps_apply(const struct lb_run_plan *plan, struct lb_error **err)
{
    int last = lb_caps_last_cap();
    uint64_t keep = plan->caps & lb_caps_all(last);
    uint64_t drop = lb_caps_to_drop(keep, lb_caps_bounding(last), last);

    for (int n = 0; n <= last; n++) {
        if (!(drop & (UINT64_C(1) << n)))
            continue;
        if (lb_sys_capbset_drop(n) < 0) {
            int e = errno;
            _cleanup_free_ char *label = cap_label(n);
            return lb_error_set(err, e, "cannot drop %s from the bounding set", label);
        }
    }
    if (lb_sys_set_keepcaps(true) < 0)
        return lb_error_set(err, errno, "cannot set PR_SET_KEEPCAPS");
    if (lb_sys_setgroups(plan->n_groups, plan->groups) < 0)
        return lb_error_set(err, errno, "cannot set the supplementary groups");
    if (lb_sys_setresgid(plan->gid) < 0)
        return lb_error_set(err, errno, "cannot set gid %u", (unsigned)plan->gid);
    if (lb_sys_setresuid(plan->uid) < 0)
        return lb_error_set(err, errno, "cannot set uid %u", (unsigned)plan->uid);
    if (lb_sys_capset(keep, keep, 0) < 0)
        return lb_error_set(err, errno, "cannot set the capabilities to %016" PRIx64, keep);
    /* EINVAL: a kernel older than 4.3 has no ambient set, so it is empty already. */
    if (lb_sys_ambient_clear() < 0 && errno != EINVAL)
        return lb_error_set(err, errno, "cannot clear the ambient capabilities");
    if (lb_sys_set_keepcaps(false) < 0)
        return lb_error_set(err, errno, "cannot clear PR_SET_KEEPCAPS");
    if (plan->no_new_privs && lb_sys_no_new_privs() < 0)
        return lb_error_set(err, errno, "cannot set no_new_privs");
    return 0;
}

int lb_caps_from_status(const char *status, const char *field, uint64_t *out, struct lb_error **err)
{
    size_t flen = strlen(field);
    for (const char *line = status; line && *line;) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            const char *p = line + flen + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(p, &end, 16);
            if (errno != 0 || end == p || (*end != '\n' && *end != '\0'))
                return lb_error_setk(err, LB_EKIND_INVALID, 0, "bad '%s' line in status", field);
            *out = (uint64_t)v;
            return 0;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "no '%s' line in status", field);
}
