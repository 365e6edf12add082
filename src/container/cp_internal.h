/* cp_internal.h — what cp.c and cp_tar.c share (not a public contract: that is cp.h).
 *
 *   - where a container path lands (struct cloc) and a resolved destination (struct dest);
 *   - a node to copy (struct node) and whose the copies are (struct ctx);
 *   - cp.c's node copier, directory walker and container path resolution, which the tar stream
 *     directions in cp_tar.c reuse.
 * Every function returning int returns 0 or -1 with *err set, unless it says otherwise. */
#ifndef LB_CONTAINER_CP_INTERNAL_H
#define LB_CONTAINER_CP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "container/cp.h"
#include "core/error.h"

struct archive;

/* Where a container path lands: the directory that holds it (open) and its last name
 * ("" when the path is the root itself: then dirfd IS the node). */
struct cloc {
    int dirfd;
    char *dir;  /* the directory's clean path */
    char *base; /* last component, or "" */
};

enum owner_mode {
    OWNER_CALLER, /* copying out: the copy is ours (docker's client untars with NoLchown) */
    OWNER_ROOT,   /* copying in: 0:0 */
    OWNER_KEEP,   /* copying in with -a: the source's */
};

struct ctx {
    enum owner_mode owner;
    bool to_host;          /* no device nodes, no setuid across owners */
    const char *container; /* for messages */
    uint64_t skipped;      /* device nodes and sockets not copied */
};

/* What to copy: a node described by st. fd is open for a directory or a regular file (else
 * -1), link is a symlink's target; ar is the tar stream a regular file's content comes from
 * when fd is -1. */
struct node {
    int fd;
    struct stat st;
    char *link;
    struct archive *ar;
};

typedef int (*child_fn)(void *data, const struct node *n, const char *name, const char *shown,
                        struct lb_error **err);

/* The destination, resolved: its directory (open), its last name ("" = dirfd is DEST itself),
 * and what is there now. */
struct dest {
    int dirfd;
    const char *name;
    bool exists, is_dir;
    bool asserts_dir; /* DEST ended in '/' */
    const char *shown;
};

/* Close l's directory and free its names; l is left with dirfd -1. */
void lb_cp_cloc_release(struct cloc *l);

/* Close n's fd and free its link target; n is left with fd -1. */
void lb_cp_node_release(struct node *n);

/* Make dirfd/name as src describes (replacing a non-directory there, never writing through it);
 * a directory is left open in *dir_out for the caller to fill and then set its times. Returns 1
 * when the node was skipped (sockets; device nodes when x->to_host), counted in x->skipped. */
int lb_cp_put_node(struct ctx *x, int dirfd, const char *name, const struct node *src, int *dir_out,
                   const char *shown, struct lb_error **err);

/* Call fn for each entry of the open directory sfd, opened without following it (a node that
 * changes type meanwhile is an error); shown is the directory as messages name it. */
int lb_cp_each_child(int sfd, const char *shown, child_fn fn, void *data, struct lb_error **err);

/* The container as messages name it: o->container, or "container". */
const char *lb_cp_ctr_name(const struct lb_cp_opts *o);

/* SRC inside the container rootfd: *n opened (release with lb_cp_node_release), *rebase the name
 * it is copied under ("." for a "/." SRC or the root; caller frees), *contents for "/.". */
int lb_cp_open_ctr_src(int rootfd, const char *src, const struct lb_cp_opts *o, struct node *n,
                       char **rebase, bool *contents, struct lb_error **err);

/* DEST inside the container rootfd, final symlinks followed in the root: *d borrows l's
 * directory fd and name (release l with lb_cp_cloc_release, also after a failure). */
int lb_cp_ctr_dest(int rootfd, const char *dest, const struct lb_cp_opts *o, struct cloc *l,
                   struct dest *d, struct lb_error **err);

#endif
