/* user.h — who the container's process runs as: a `-u` / image `User` spec resolved against the
 * image's own /etc/passwd and /etc/group (never the host's), as docker does with runc's rules.
 *
 * The spec is "user[:group]", each part a name or a number:
 *   - a number is always a uid/gid (never a name), and need not exist in the files (then the
 *     primary gid is 0 unless given, HOME is "/", no supplementary groups);
 *   - a name must exist: "unable to find user bob: no matching entries in passwd file",
 *     "unable to find group staff: no matching entries in group file" (runc's text);
 *   - "" (no user) means uid 0, looked up like any uid;
 *   - with no explicit group, the supplementary groups are every /etc/group entry that lists the
 *     user's name; with an explicit group there are none beyond it.
 * Like docker, the resulting group list starts with the primary gid (`id` in a docker container
 * shows groups=0(root),10(wheel)), without duplicates.
 * Both files are read through the rootfs fd with lb_safepath_open: a symlinked /etc, /etc/passwd
 * or /etc/group is an error, never followed; a missing file is the same as an empty one. */
#ifndef LB_RUNTIME_USER_H
#define LB_RUNTIME_USER_H

#include <stddef.h>
#include <sys/types.h>

#include "core/error.h"

struct lb_user {
    uid_t uid;
    gid_t gid;
    char *name;    /* the passwd entry's name, or NULL (numeric uid without an entry) */
    char *home;    /* the passwd entry's home directory, "/" without one (never NULL) */
    gid_t *groups; /* the process's group list: gid first, then supplementary ones (owned) */
    size_t n_groups;
};

/* Resolve spec (may be NULL = "") inside the root whose O_DIRECTORY fd is rootfd. On success
 * *user is filled (release it with lb_user_release); on failure it is left empty.
 * Errors: LB_EKIND_INVALID for unknown names, ids out of 0..2147483647, unreadable or symlinked
 * files (the message names '/etc/passwd' or '/etc/group'). */
int lb_user_resolve(struct lb_user *user, int rootfd, const char *spec, struct lb_error **err);

void lb_user_release(struct lb_user *user);

#endif
