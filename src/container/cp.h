/* cp.h — `cp`: copying files between a container's file system and the host, as docker does.
 *
 * docker's rules (SRC, DEST as given; "/." at the end of a directory SRC means "its contents"):
 *   SRC is a file:       DEST missing → a file named DEST; DEST missing and ending in '/' → error
 *                        "no such directory"; DEST a file → overwritten; DEST a directory → the
 *                        file goes into it under SRC's name.
 *   SRC is a directory:  DEST missing → made, with SRC's contents; DEST a file → error; DEST a
 *                        directory → SRC goes into it under its name, or (SRC ends in "/.") its
 *                        contents do.
 *   DEST's parent directory must exist (nothing is created above DEST). A directory is never
 *   replaced by a non-directory nor the other way round (docker's NoOverwriteDirNonDir).
 * Container paths are relative to the container's "/" (a leading '/' is optional). Symlinks in
 * a container path are followed INSIDE the container's root (a link to "/" means the
 * container's "/"), a final symlink of SRC only with follow_link (-L), of DEST always.
 * Ownership: files copied in are owned by root (0:0), or keep the source's uid/gid with archive
 * (-a); files copied out belong to the caller (setuid/setgid bits are dropped when the owner
 * changes, as cp(1) does); device nodes are never created on the host.
 *
 * Safety (the CVE-2018-15664 class): a container path is resolved with openat2 RESOLVE_IN_ROOT
 * (or an equivalent walk that keeps every directory as an fd), and from then on every read,
 * create and walk is relative to a directory fd with O_NOFOLLOW, so no symlink the container
 * plants, even one swapped in while the copy runs, can reach a host path. Nothing here loads a
 * library or looks up a name in the container's files. LB_SAFEPATH_NO_OPENAT2=1 forces the walk.
 * Library code: nothing here prints or exits.
 * Implemented by cp.c (paths, host <-> container, lb_cp) and cp_tar.c (tar stream directions). */
#ifndef LB_CONTAINER_CP_H
#define LB_CONTAINER_CP_H

#include <stdbool.h>

#include "core/error.h"
#include "image/store.h"

struct lb_cp_opts {
    bool archive;          /* -a: files copied in keep the source's uid/gid (else 0:0) */
    bool follow_link;      /* -L: a symlink at SRC is followed (in the root, for a container) */
    const char *container; /* names the container in messages; NULL = "container" */
};

/* Container → host: copy SRC (a path inside the root rootfd) to the host path DEST. */
int lb_cp_out(int rootfd, const char *src, const char *dest, const struct lb_cp_opts *o,
              struct lb_error **err);

/* Container → tar: write SRC as a tar stream on out_fd (entries named after SRC's last
 * component, or "." for a "/." SRC or the root; owners and modes as they are). */
int lb_cp_out_tar(int rootfd, const char *src, int out_fd, const struct lb_cp_opts *o,
                  struct lb_error **err);

/* Host → container: copy the host path SRC to DEST inside the root rootfd. */
int lb_cp_in(int rootfd, const char *src, const char *dest, const struct lb_cp_opts *o,
             struct lb_error **err);

/* Tar → container: extract the tar stream read from in_fd (plain or compressed) into DEST, which
 * must be an existing directory ("destination '...' must be a directory"). Entries are resolved
 * under DEST as layer entries are (safepath.h: no '..', no absolute path, no symlink parent). */
int lb_cp_in_tar(int rootfd, int in_fd, const char *dest, const struct lb_cp_opts *o,
                 struct lb_error **err);

/* docker's split of a cp argument: "CONTAINER:PATH" gives *container (caller frees) and *path
 * (points into arg); an absolute path, a path without ':' and one starting with '.' are local
 * (*container = NULL, *path = arg). */
void lb_cp_split_arg(const char *arg, char **container, const char **path);

/* The command: exactly one of src and dest is "CONTAINER:PATH" (else LB_EKIND_USAGE); the other
 * is a host path, or "-" for a tar stream on in_fd (src) / out_fd (dest). The container (running
 * or stopped) is resolved and its root opened with lb_lifecycle_root_open for the copy. */
int lb_cp(struct lb_store *s, const char *src, const char *dest, const struct lb_cp_opts *o,
          int in_fd, int out_fd, struct lb_error **err);

#endif
