/* diff_internal.h — what diff.c and diff_trees.c share (not a public contract: that is diff.h).
 *
 *   - a file's xattrs, sorted by name, minus those never written (overlay markers, the host's
 *     SELinux label), and the overlay markers seen among them;
 *   - a directory's names, sorted bytewise;
 *   - the tar writer (diff.c): the path being looked at, directory and whiteout headers, and
 *     writing one entry with everything below it, the same for both kinds of diff;
 *   - lb_diff_trees' stack of directories not written yet, which the writer carries and frees
 *     (struct lb_diff_level is defined in diff_trees.c).
 * Every function returning int returns 0 or -1 with *err set, unless it says otherwise. */
#ifndef LB_LAYER_DIFF_INTERNAL_H
#define LB_LAYER_DIFF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/error.h"
#include "core/util.h"
#include "layer/diff.h"
#include "layer/tar.h"

/* ---- extended attributes ---- */

struct lb_diff_xattr {
    char *name;
    char *value;
    size_t size;
};

struct lb_diff_xattrs {
    struct lb_diff_xattr *v;
    size_t n;
};

/* What the overlay markers among the xattrs said (they are never copied into the tar). */
struct lb_diff_ovl_marks {
    bool opaque;
    bool metacopy;
};

/* Fill *out with the xattrs of fd (fd >= 0) or else of dirfd/name, without following a symlink;
 * path names the file in messages; marks may be NULL. A file system without xattr support gives
 * none. Release *out with lb_diff_xattrs_release (nothing to release after an error). */
int lb_diff_xattrs_read(int fd, int dirfd, const char *name, const char *path,
                        struct lb_diff_xattrs *out, struct lb_diff_ovl_marks *marks,
                        struct lb_error **err);
void lb_diff_xattrs_release(struct lb_diff_xattrs *xa);

/* ---- directory listing ---- */

struct lb_diff_names {
    char **v;
    size_t n;
};

/* The names in the directory dirfd (not . and ..), sorted bytewise; dirfd's offset is not
 * moved. Release with lb_diff_names_release (nothing to release after an error). */
int lb_diff_names_read(int dirfd, const char *path, struct lb_diff_names *out,
                       struct lb_error **err);
void lb_diff_names_release(struct lb_diff_names *ns);

/* ---- the tar writer ---- */

struct lb_diff_link_slot;
struct lb_diff_level; /* lb_diff_trees' stack of directories not written yet */

struct lb_diff_writer {
    struct lb_tar_writer tar;
    struct lb_strbuf path; /* the entry being looked at, relative, no leading "./" */
    struct lb_diff_link_slot *links;
    size_t nlinks, link_cap; /* open addressing, link_cap a power of two */
    struct lb_diff_stats st;
    struct lb_diff_level *lv; /* lb_diff_trees only */
    size_t depth, lv_cap;
};

/* Start a tar on out_fd (see diff.h for its shape). lb_diff_writer_release must be called
 * whatever open returned. */
int lb_diff_writer_open(struct lb_diff_writer *w, int out_fd, struct lb_error **err);
/* Write the end of the archive. Without it, release leaves the tar unfinished. */
int lb_diff_writer_finish(struct lb_diff_writer *w, struct lb_error **err);
void lb_diff_writer_release(struct lb_diff_writer *w);

/* The entry being looked at, "." at the root. */
const char *lb_diff_path(const struct lb_diff_writer *w);
/* Append "/name" (or "name" at the root) to w->path; returns what lb_diff_path_pop restores. */
size_t lb_diff_path_push(struct lb_diff_writer *w, const char *name);
void lb_diff_path_pop(struct lb_diff_writer *w, size_t old);

/* Refuse (LB_EKIND_INVALID) a name that starts with ".wh." (w->path names it); 0 otherwise. */
int lb_diff_reserved_name(const struct lb_diff_writer *w, const char *name, struct lb_error **err);
/* The target of the symlink dirfd/name (st: its lstat, for the size), malloc'ed into *out. */
int lb_diff_read_symlink(int dirfd, const char *name, const char *path, const struct stat *st,
                         char **out, struct lb_error **err);
/* A new fd on the directory fd, *st filled; the caller closes it. what: "upper", "old"... for
 * messages. Returns the fd, or -1. */
int lb_diff_open_root(int fd, const char *what, struct stat *st, struct lb_error **err);

/* A `.wh.NAME` entry for name (the last component of w->path), owner and mtime from like. */
int lb_diff_put_whiteout(struct lb_diff_writer *w, const char *name, const struct stat *like,
                         struct lb_error **err);
/* A directory entry "path/" with st's metadata and the xattrs xa (may be NULL). */
int lb_diff_put_dir(struct lb_diff_writer *w, const char *path, const struct stat *st,
                    const struct lb_diff_xattrs *xa, struct lb_error **err);
/* Write dirfd/name (w->path already names it) and, for a directory, all below it. overlay:
 * interpret overlayfs' whiteout devices and opaque directories. */
int lb_diff_emit_entry(struct lb_diff_writer *w, int dirfd, const char *name, bool overlay,
                       struct lb_error **err);

#endif
