/* volumes.h — named and anonymous volumes: directories that live outside every container's
 * writable layer, so their files survive the container (docker's "local" driver).
 *
 *   ROOT/volumes/<name>/_data       the files, bind-mounted into containers
 *   ROOT/volumes/<name>/meta.json   {"name", "created" (RFC 3339), "labels"?, "anonymous"}
 *
 * Names follow docker: `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (two characters at least); an anonymous
 * volume (`-v /data`) gets 64 random lowercase hex characters and, as in docker ≥ 23, the label
 * "com.docker.volume.anonymous" = "" as well as "anonymous": true in its meta.json.
 *
 * Every change (create, remove, prune) is made under lb_store_lock (taken here; nesting is fine)
 * and is atomic: a volume is built in ROOT/volumes/.tmp-<random>/ and renamed to its name; a
 * removed one is renamed to ROOT/volumes/.rm-<random> before its files go. Entries starting with
 * '.' are never volumes (no valid name starts with '.').
 *
 * What docker does and layerbox does not (yet): a new volume is not pre-filled with the image's
 * files at its mount point ("copy-up"); there is only the "local" driver and no driver options. */
#ifndef LB_CONTAINER_VOLUMES_H
#define LB_CONTAINER_VOLUMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/human.h"
#include "image/store.h"
#include "runtime/plan.h"

#define LB_VOLUME_ANON_LABEL "com.docker.volume.anonymous"
#define LB_VOLUME_NAME_MAX   255 /* one directory name */

struct lb_volume {
    char *name;
    char *mountpoint; /* absolute: ROOT/volumes/<name>/_data */
    struct lb_time created;
    json_t *labels; /* object of strings (owned reference), or NULL when it has none */
    bool anonymous;
};

void lb_volume_free(struct lb_volume *v);
void lb_volume_list_free(struct lb_volume **v, size_t n);

/* The containers seam (like lb_store_set_image_user_check): the callback returns a newly
 * allocated name/ID of a container using volume `volume`, or NULL when none does. Process-wide:
 * the CLI registers it once; with nothing registered (fn NULL) no container uses any volume.
 * lb_volume_remove and lb_volume_prune ask it, under the store lock. */
typedef char *(*lb_volume_user_fn)(void *data, const char *volume);
void lb_volume_set_user_check(lb_volume_user_fn fn, void *data);

/* Check a volume name. LB_EKIND_INVALID errors, docker's texts:
 *   "volume name is too short, names should be at least two alphanumeric characters"
 *   "'x y' includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]"
 *    are allowed. If you intended to pass a host directory, use absolute path"
 *   "volume name 'aaa…' is longer than 255 characters" */
int lb_volume_name_validate(const char *name, struct lb_error **err);

/* Create a volume. name NULL: an anonymous volume (random 64-hex name). labels: "k=v" or "k"
 * (value "") strings, may be NULL; a label with an empty key is LB_EKIND_USAGE "invalid label
 * '=v': empty name". An existing name is success (docker's idempotent create): that volume is
 * returned unchanged and *created (may be NULL) is false. Returns the volume (caller frees). */
struct lb_volume *lb_volume_create(struct lb_store *s, const char *name, char *const *labels,
                                   bool *created, struct lb_error **err);

/* Load one volume. LB_EKIND_NOT_FOUND "no such volume: 'x'" (also for an invalid name). */
struct lb_volume *lb_volume_load(struct lb_store *s, const char *name, struct lb_error **err);

/* Every volume, sorted by name. A missing ROOT/volumes is an empty list. */
int lb_volume_list(struct lb_store *s, struct lb_volume ***out, size_t *n, struct lb_error **err);

/* Remove a volume and its files. In use (the seam): LB_EKIND_CONFLICT "remove x: volume is in use
 * - [container]". Missing: LB_EKIND_NOT_FOUND "no such volume: 'x'", unless force (then success,
 * as docker's `volume rm -f`; force does not remove a volume in use, as in docker). */
int lb_volume_remove(struct lb_store *s, const char *name, bool force, struct lb_error **err);

/* Remove every volume no container uses: only anonymous ones unless all (docker ≥ 23's
 * `volume prune` and `volume prune -a`). *removed (may be NULL) gets the removed names in name
 * order (NULL-terminated, caller frees with lb_strv_free; an empty vector when none), *reclaimed
 * (may be NULL) the bytes of their files. */
int lb_volume_prune(struct lb_store *s, bool all, char ***removed, int64_t *reclaimed,
                    struct lb_error **err);

/* docker's `volume inspect` object: CreatedAt, Driver "local", Labels (object or null),
 * Mountpoint, Name, Options (null), Scope "local". New reference. */
json_t *lb_volume_inspect_json(const struct lb_volume *v);

/* --- -v specifications ------------------------------------------------------------------- */

enum lb_volume_kind {
    LB_VOLUME_BIND,      /* -v /host:/ctr[:ro] */
    LB_VOLUME_NAMED,     /* -v name:/ctr[:ro] */
    LB_VOLUME_ANONYMOUS, /* -v /ctr */
};

struct lb_volume_spec {
    enum lb_volume_kind kind;
    char *source; /* host path (BIND, cleaned), volume name (NAMED), NULL (ANONYMOUS) */
    char *target; /* absolute path in the container, cleaned as Go's path.Clean
                     ("/a//b/" → "/a/b", "/a/../b" → "/b") */
    bool readonly;
    char *mode; /* MODE as given ("ro", "rw"), NULL when the spec has none */
};

/* Parse a -v value: "TARGET", "SOURCE:TARGET" or "SOURCE:TARGET:MODE", MODE a comma list of
 * "ro" / "rw" (one of them at most). A SOURCE starting with '/' is a bind, else a volume name.
 * Paths are cleaned lexically as docker's (Go's path.Clean) are: "/data/../x/" is "/x".
 * Errors (LB_EKIND_USAGE, docker's texts):
 *   "invalid volume specification: 'x'"        empty parts, too many ':', bad mode
 *   "invalid mount path: 'ctr' mount path must be absolute"
 *   "invalid specification: destination can't be '/'" (also "/x/..")
 *   a bad volume name: lb_volume_name_validate's message.
 * Does not look at the file system (see lb_volume_spec_mount). Release with
 * lb_volume_spec_release (also after a failure). */
int lb_volume_spec_parse(struct lb_volume_spec *out, const char *spec, struct lb_error **err);
void lb_volume_spec_release(struct lb_volume_spec *spec);

/* Two specs with the same (cleaned) target: LB_EKIND_USAGE "duplicate mount point: /data"
 * (docker's "Duplicate mount point: /data"), naming the later one's target. 0 when all differ. */
int lb_volume_specs_check_unique(const struct lb_volume_spec *specs, size_t n,
                                 struct lb_error **err);

/* docker's inspect "Mounts" for a container's recorded -v specs (anonymous ones recorded as
 * "<generated name>:/ctr"), sorted by Destination (docker lists them in map order; sorted is
 * stable for scripts and tests). Each is a MountPoint, with docker's keys and values:
 *   bind:   {Type "bind", Source, Destination, Mode (the MODE given, "" without), RW,
 *            Propagation "rprivate"}
 *   volume: {Type "volume", Name, Source ROOT/volumes/NAME/_data, Destination, Driver "local",
 *            Mode (the MODE given; without one "z" for a named volume, "" for an anonymous one),
 *            RW, Propagation ""}
 * A spec that does not parse is left out. New reference. */
json_t *lb_volume_mounts_json(struct lb_store *s, char *const *specs);

/* Turn a parsed spec into the plan's bind mount: kind LB_MOUNT_BIND, source the host path,
 * target, flags MS_REC (docker's rbind) | MS_RDONLY when read-only, mode S_IFDIR | 0755.
 * A bind source must exist: LB_EKIND_USAGE "bind source path does not exist: /x". A named
 * volume is created when missing, an anonymous one always (lb_volume_create). *volume_name (may
 * be NULL) gets the volume's name, NULL for a bind: the container records it, so that the seam can
 * answer and `rm -v` can remove its anonymous volumes. Release out with the plan's mounts
 * (free source, target, data). */
int lb_volume_spec_mount(struct lb_store *s, const struct lb_volume_spec *spec,
                         struct lb_mount_spec *out, char **volume_name, struct lb_error **err);

#endif
