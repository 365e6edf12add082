/* procs.h — the processes of a container, seen from the host: what `top` lists.
 *
 * A container's processes are those in its PID namespace (the one its first process made), plus
 * any descendant of that first process (one in a nested PID namespace still belongs to it).
 * Read-only: walks /proc, changes nothing. */
#ifndef LB_RUNTIME_PROCS_H
#define LB_RUNTIME_PROCS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"

/* The host pids of the processes of the container whose first process is init_pid: every /proc
 * entry whose /proc/PID/ns/pid is init_pid's (when init_pid is in a PID namespace other than
 * ours; in ours — a process that is no container — only the next rule applies), and init_pid
 * and its descendants (by the PPid of /proc/PID/stat). Sorted ascending; init_pid is always
 * there. Processes that vanish or cannot be looked at during the walk are left out.
 * Errors: init_pid <= 0 (LB_EKIND_INVALID), init_pid gone ("no process N": ESRCH), /proc
 * unreadable. *pids: caller frees. */
int lb_procs_in_pidns(pid_t init_pid, pid_t **pids, size_t *n, struct lb_error **err);

#endif
