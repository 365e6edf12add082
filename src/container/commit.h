/* commit.h — `commit`: a container's writable layer becomes a new read-only layer on top of its
 * image, and so a new image.
 *
 *   new image = the parent image's layers (the very same blobs: its manifest's layer descriptors
 *               are copied byte for byte) + one layer = the changeset tar of the writable layer
 *               (stored uncompressed: its digest is its DiffID), unpacked into layers/<ChainID>
 *               so that the new image runs at once;
 *   config    = the parent's config + the -c changes, rootfs.diff_ids + the new DiffID, one more
 *               history entry, "author", "created", "container";
 *   index.json: the manifest, annotated io.layerbox.image.parent = the parent's image ID (what
 *               `inspect` shows as Parent), tagged REPO[:TAG] when given. */
#ifndef LB_CONTAINER_COMMIT_H
#define LB_CONTAINER_COMMIT_H

#include <jansson.h>
#include <stdbool.h>

#include "container/container.h"
#include "core/error.h"
#include "image/digest.h"
#include "image/store.h"

/* What commit was asked for. Every pointer is borrowed; any may be NULL. */
struct lb_commit_opts {
    const char *ref;      /* REPO[:TAG] (default tag latest); NULL = untagged (<none>) */
    const char *message;  /* -m: the history entry's and the config's "comment" */
    const char *author;   /* -a: "author" of the config and of the history entry */
    char *const *changes; /* -c: NULL-terminated Dockerfile instructions (config.h) */
    bool no_pause;        /* --pause=false: a running container is not frozen during the diff */
};

/* The facts of one commit that the config records, apart from the options. */
struct lb_commit_facts {
    const char *container_id; /* "container" */
    const char *created_by;   /* the history entry's created_by: the container's command */
    const char *created;      /* RFC 3339 time for "created" and the history entry */
};

/* The pure part of commit: the new image's config from the parent's (not changed), o, facts and
 * the new layer's DiffID (NULL: rootfs.diff_ids is left as the parent's). Keys: everything of the
 * parent's, then "config" with the changes applied (lb_config_apply_changes), "author" (-a;
 * removed when not given), "comment" (-m; removed when not given: the parent's described the
 * parent), "created", "container", rootfs {type "layers", diff_ids + diff_id}, history + {created,
 * created_by, author?, comment?} (absent fields left out, as docker's omitempty).
 * Errors: a bad -c instruction (LB_EKIND_INVALID, naming it), a parent config whose rootfs or
 * history has the wrong type (LB_EKIND_INVALID). New reference. */
json_t *lb_commit_config(const json_t *parent, const struct lb_commit_opts *o,
                         const struct lb_commit_facts *facts, const struct lb_digest *diff_id,
                         struct lb_error **err);

/* docker's created_by for a commit: Path and Args joined by spaces ("sh -c echo hi > /f").
 * Caller frees. */
char *lb_commit_created_by(const struct lb_container *c);

/* Commit c (running, stopped or created) as a new image; *image_id_out gets its ID (the config's
 * digest). A running container's processes are frozen with the cgroup freezer during the diff
 * (unless o->no_pause) and always thawed. Everything that can be refused (the reference, the -c
 * changes, the image is gone) is refused before anything is written; a later failure removes
 * what was published. Sits on lb_lifecycle_root_open for the container's files. */
int lb_container_commit(struct lb_store *s, struct lb_container *c, const struct lb_commit_opts *o,
                        struct lb_digest *image_id_out, struct lb_error **err);

#endif
