/* cgroup.h — resource limits: a directory per container in the cgroup file system.
 *
 * The concept: a cgroup is a directory; its files are the limits ("memory.max" holds bytes);
 * writing a pid into its "cgroup.procs" puts that process (and its future children) under them.
 *
 * Two layouts exist. cgroup v2 is one tree (ROOT/cgroup.controllers lists what it can limit).
 * cgroup v1 is one tree per controller (ROOT/memory, ROOT/pids, ROOT/cpu). A machine can be
 * "hybrid": v1 controllers with a v2 tree that has none of them. layerbox uses v2 when
 * ROOT/cgroup.controllers exists and lists every controller the limits need, else v1:
 *
 *   v2: ROOT/layerbox-<id>/            memory.max, pids.max, cpu.max ("QUOTA PERIOD"); the
 *                                      controllers are enabled in ROOT/cgroup.subtree_control
 *                                      (v2 forbids processes in inner groups, so the group
 *                                      hangs off the root, as docker's cgroupfs driver does)
 *   v1: ROOT/<ctrl>/<ours>/layerbox-<id>/   memory.limit_in_bytes, pids.max,
 *                                      cpu.cfs_period_us + cpu.cfs_quota_us; <ours> is the
 *                                      calling process's group in that hierarchy (from
 *                                      /proc/self/cgroup), so the container stays inside the
 *                                      limits layerbox itself runs under
 *
 * Only the controllers a limit needs get a group: a container without --memory, --pids-limit
 * or --cpus gets none (its PID namespace is enough to find and kill all its processes).
 * Every mkdir, rmdir and write goes through sys.h. */
#ifndef LB_RUNTIME_CGROUP_H
#define LB_RUNTIME_CGROUP_H

#include <sys/types.h>

#include "core/error.h"
#include "runtime/plan.h"

#define LB_CGROUP_ROOT "/sys/fs/cgroup"

enum lb_cgroup_version {
    LB_CGROUP_NONE = 0, /* no limit asked: no group made */
    LB_CGROUP_V1 = 1,
    LB_CGROUP_V2 = 2,
};

struct lb_cgroup {
    enum lb_cgroup_version version;
    /* NULL-terminated absolute paths of the group directories made (owned; NULL when none).
     * Record them (state.json) so that whoever removes the container later can remove them,
     * whatever its own cgroup is. */
    char **dirs;
};

/* Make the container's groups for plan->cgroup_name and write plan's limits (memory_bytes,
 * pids_limit, cpu_quota_us/cpu_period_us; 0 = unlimited) into them. root: where the cgroup file
 * systems are mounted (NULL = LB_CGROUP_ROOT); self_cgroup: the text of /proc/self/cgroup (NULL =
 * read it). Tests pass a fake root directory and text. A group that exists already is reused.
 * On failure nothing is left behind and *cg is empty. Errors name the controller: "the memory
 * cgroup controller is not available (needed by the memory limit)". */
int lb_cgroup_create(struct lb_cgroup *cg, const char *root, const char *self_cgroup,
                     const struct lb_run_plan *plan, struct lb_error **err);

/* Move pid into every group of cg (write it to each cgroup.procs). No-op for LB_CGROUP_NONE. */
int lb_cgroup_add_pid(const struct lb_cgroup *cg, pid_t pid, struct lb_error **err);

/* Remove the groups (processes still in them are sent SIGKILL first, and the removal retried
 * for up to a second). Groups already gone are fine. On success *cg is released and empty; on
 * failure it keeps the directories still present, so the caller can retry. */
int lb_cgroup_destroy(struct lb_cgroup *cg, struct lb_error **err);

/* Free the memory of cg (the directories stay). */
void lb_cgroup_release(struct lb_cgroup *cg);

/* --- the freezer: pausing a container's processes (commit) --------------------------------- *
 *
 * A container gets no freezer group of its own when it starts, so commit makes one for the
 * duration of its diff, moves the container's processes into it, freezes them, and afterwards
 * thaws them, moves each back where it came from and removes the group: nothing is left to
 * clean up when the container is removed.
 *
 *   v1: ROOT/freezer/layerbox/<name>   freezer.state: write FROZEN, wait until it reads FROZEN
 *                                      (not FREEZING); THAWED to thaw
 *   v2: ROOT/layerbox-<name>           cgroup.freeze: 1, wait for "frozen 1" in cgroup.events;
 *                                      0 to thaw. When it exists already (the container's own
 *                                      limit group) it is frozen in place and kept
 *
 * v2 is used when ROOT/cgroup.controllers exists (as lb_cgroup_create), v1 when ROOT/freezer is a
 * directory. Every mkdir, rmdir and write goes through sys.h. */
struct lb_freezer {
    enum lb_cgroup_version version; /* LB_CGROUP_NONE: nothing made (zeroed struct) */
    char *dir;                      /* the group, absolute */
    char *mount;                    /* the hierarchy's mount point (ROOT/freezer or ROOT) */
    char *proc;                     /* where /proc is ("/proc", or a test's fake) */
    bool made;                      /* dir was made by lb_cgroup_freezer_create: removed later */
    bool frozen;                    /* a freeze was asked (thaw always writes when true) */
    pid_t *pids;                    /* processes moved in ... */
    char **from;                    /* ... and the group each came from (absolute, NULL-ended) */
    size_t n;
};

/* Make (or reuse) the freezer group for the container `name` (its ID). root NULL =
 * LB_CGROUP_ROOT, proc NULL = "/proc" (tests pass fakes). Errors: no freezer in this machine's
 * cgroups (LB_EKIND_GENERIC: "the cgroup freezer is not available"), a bad name, mkdir. */
int lb_cgroup_freezer_create(struct lb_freezer *f, const char *root, const char *proc,
                             const char *name, struct lb_error **err);

/* Move the processes pids[0..n-1] into f's group (their current group, read from
 * PROC/<pid>/cgroup, is remembered). A process already in it is skipped; one that vanished is
 * skipped. *added (may be NULL) gets how many were moved: call again with a fresh list until it
 * is 0, because a process may fork while the others are moved. A process that joins an already
 * frozen group is frozen by the kernel. */
int lb_cgroup_freezer_add(struct lb_freezer *f, const pid_t *pids, size_t n, size_t *added,
                          struct lb_error **err);

/* Freeze the group and wait (up to timeout_ms, < 0: 10 s) until the kernel reports it frozen.
 * On failure f->frozen stays true so that lb_cgroup_freezer_destroy thaws. */
int lb_cgroup_freeze(struct lb_freezer *f, int timeout_ms, struct lb_error **err);

/* Thaw the group (THAWED / cgroup.freeze 0). No-op when nothing was frozen. */
int lb_cgroup_thaw(struct lb_freezer *f, struct lb_error **err);

/* Thaw (always, if frozen), move every process back to the group it came from (a process that
 * was not moved in — forked inside — goes to the first one's), remove the group when it was
 * made (retrying while processes are still leaving it), and release f. Safe on a zeroed struct.
 * Returns -1 with the first error, but always does every step and releases f. */
int lb_cgroup_freezer_destroy(struct lb_freezer *f, struct lb_error **err);

#endif
