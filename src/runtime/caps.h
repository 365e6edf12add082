/* caps.h — who the container's process is: user, groups, capabilities, no_new_privs.
 *
 * The concept: root in a container is root with most of its powers cut off. Linux splits root's
 * power into capabilities (bit n = capability n; docker keeps 14 of them: 0x00000000a80425fb).
 * Five sets matter: bounding (the ceiling for every later exec), permitted, effective,
 * inheritable and ambient. layerbox sets bounding = permitted = effective = plan->caps and
 * empties inheritable and ambient, so `grep Cap /proc/self/status` in the container shows what
 * docker shows. Every call goes through sys.h. */
#ifndef LB_RUNTIME_CAPS_H
#define LB_RUNTIME_CAPS_H

#include <stdint.h>

#include "core/error.h"
#include "runtime/plan.h"

/* The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap; libcap's
 * compiled-in CAP_LAST_CAP when that cannot be read). */
int lb_caps_last_cap(void);

/* Every capability 0..last_cap as a mask (last_cap 40 → 0x000001ffffffffff). */
uint64_t lb_caps_all(int last_cap);

/* The calling process's bounding set (PR_CAPBSET_READ for 0..last_cap). */
uint64_t lb_caps_bounding(int last_cap);

/* The capabilities to remove from a bounding set `current` so that only `keep` (limited to
 * 0..last_cap) stays: current & ~keep, within 0..last_cap. */
uint64_t lb_caps_to_drop(uint64_t keep, uint64_t current, int last_cap);

/* Become the plan's user with the plan's capabilities, in the order that works (the "keep-caps
 * dance"): drop from the bounding set every capability not in plan->caps (while we still hold
 * CAP_SETPCAP); PR_SET_KEEPCAPS so that setresuid to a non-root uid keeps the permitted set;
 * setgroups(plan->groups), setresgid(plan->gid), setresuid(plan->uid); capset permitted =
 * effective = plan->caps, inheritable = 0; clear the ambient set; PR_SET_KEEPCAPS off; and
 * PR_SET_NO_NEW_PRIVS when plan->no_new_privs. After execve a non-root uid keeps no effective
 * capability (docker's behaviour: `docker run -u 1000` shows CapEff 0), root keeps plan->caps.
 * Runs in the container's process just before exec; needs CAP_SETPCAP, CAP_SETUID, CAP_SETGID. */
int lb_caps_apply(const struct lb_run_plan *plan, struct lb_error **err);

/* Read a capability line ("CapEff", "CapBnd", ...) from the text of a /proc/PID/status file. */
int lb_caps_from_status(const char *status, const char *field, uint64_t *out,
                        struct lb_error **err);

#endif
