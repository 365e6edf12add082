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

#endif
