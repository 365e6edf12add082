/* container.c — container records: a directory per container with what to run (config.json) and
 * what is happening (state.json).
 *
 * The concept: a container is a record before it is a process. create only writes files; the
 * runtime later gives the record a process. Names are reserved under the store lock, so two
 * creates racing for one name cannot both win; a record appears whole, by one rename. The rest of
 * container.h lives beside this file: record_json.c (the two files as JSON), resolve.c (an
 * argument to an ID), liveness.c ("running" checked against /proc); container_internal.h is what
 * they share.
 * Sits on core (fs, json, lock via image/store, human times), image/store (the lock, the root),
 * container/names and container/state.
 *
 * Interface: lb_container_create, lb_container_load, lb_container_list, lb_container_list_free,
 *            lb_container_save_state, lb_container_rename, lb_container_remove,
 *            lb_container_tombstone_write, lb_container_tombstone_read, lb_container_image_user,
 *            lb_container_free
 *            (container_internal.h: lb_container_valid_id, lb_container_list_ids,
 *            lb_container_read_names, lb_container_name_owner, lb_container_not_found,
 *            lb_container_read_state, lb_container_save_state_locked)
 */
#include "container/container_internal.h"
#include "container/names.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define CONTAINERS_DIR "containers"
#define TMP_PREFIX     ".tmp-"
#define NAME_ATTEMPTS  64

/* --- paths and IDs ----------------------------------------------------------------------- */

bool lb_container_valid_id(const char *id)
{
    return id != NULL && strlen(id) == LB_CONTAINER_ID_LEN &&
           lb_is_lower_hex(id, LB_CONTAINER_ID_LEN);
}

static char *record_dir(const char *id)
{
    return lb_xasprintf(CONTAINERS_DIR "/%s", id);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The IDs of every record directory, sorted; a missing containers/ is an empty store. */
int lb_container_list_ids(struct lb_store *s, char ***out, struct lb_error **err)
{
    *out = lb_xmalloc(sizeof(char *));
    int fd = openat(s->root_fd, CONTAINERS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return lb_error_set(err, errno, "cannot open '%s/" CONTAINERS_DIR "'", s->root);
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int saved = errno;
        close(fd);
        return lb_error_set(err, saved, "cannot read '%s/" CONTAINERS_DIR "'", s->root);
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (lb_container_valid_id(de->d_name))
            lb_strv_push(out, de->d_name);
    closedir(d);
    size_t n = lb_strv_len(*out);
    qsort(*out, n, sizeof(char *), cmp_str);
    return 0;
}

/* A fresh 64-hex ID. Like docker, one whose 12-character short form is all digits is drawn
 * again: tools that read the short ID as a number (or in scientific notation) would mangle it. */
static int random_id(char out[LB_CONTAINER_ID_LEN + 1], struct lb_error **err)
{
    static const char hex[] = "0123456789abcdef";
    for (;;) {
        unsigned char raw[LB_CONTAINER_ID_LEN / 2];
        ssize_t got;
        do
            got = getrandom(raw, sizeof(raw), 0);
        while (got < 0 && errno == EINTR);
        if (got != (ssize_t)sizeof(raw))
            return lb_error_set(err, got < 0 ? errno : EIO, "cannot get random bytes for an ID");
        for (size_t i = 0; i < sizeof(raw); i++) {
            out[2 * i] = hex[raw[i] >> 4];
            out[2 * i + 1] = hex[raw[i] & 15];
        }
        out[LB_CONTAINER_ID_LEN] = '\0';
        if (strspn(out, "0123456789") < LB_CONTAINER_SHORT_ID_LEN)
            return 0;
    }
}

static json_t *read_config_json(struct lb_store *s, const char *id, struct lb_error **err)
{
    _cleanup_free_ char *rel = lb_xasprintf(CONTAINERS_DIR "/%s/config.json", id);
    return lb_json_load_at(s->root_fd, rel, err);
}

/* The names of the records in ids (parallel; "" where config.json cannot be read). */
char **lb_container_read_names(struct lb_store *s, char *const *ids)
{
    char **names = lb_xmalloc((lb_strv_len(ids) + 1) * sizeof(char *));
    for (size_t i = 0; ids[i]; i++) {
        struct lb_error *e = NULL;
        _cleanup_json_ json_t *j = read_config_json(s, ids[i], &e);
        lb_error_free(e);
        const char *name = lb_json_str(j, "Name");
        names[i] = lb_xstrdup(name ? name : "");
    }
    return names;
}

/* The ID of the record called name among (ids, names), skipping `self`; NULL when free. */
const char *lb_container_name_owner(char *const *ids, char *const *names, const char *name,
                                    const char *self)
{
    for (size_t i = 0; ids[i]; i++)
        if (strcmp(names[i], name) == 0 && (self == NULL || strcmp(ids[i], self) != 0))
            return ids[i];
    return NULL;
}

static int name_conflict(struct lb_error **err, const char *name, const char *owner)
{
    return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                         "the container name '%s' is already in use by container '%.12s': "
                         "remove or rename that container to reuse the name",
                         name, owner);
}

#define TOMBSTONE_PREFIX ".exit-"

int lb_container_tombstone_write(struct lb_store *s, const char *id, int exit_code,
                                 struct lb_error **err)
{
    _cleanup_free_ char *rel = lb_xasprintf(CONTAINERS_DIR "/" TOMBSTONE_PREFIX "%s", id);
    _cleanup_free_ char *text = lb_xasprintf("%d\n", exit_code);
    return lb_replace_file_at(s->root_fd, rel, text, strlen(text), 0644, LB_VOLATILE, err);
}

int lb_container_tombstone_read(struct lb_store *s, const char *id, int *exit_code,
                                struct lb_error **err)
{
    _cleanup_free_ char *rel = lb_xasprintf(CONTAINERS_DIR "/" TOMBSTONE_PREFIX "%s", id);
    _cleanup_free_ char *text = NULL;
    struct lb_error *e = NULL;
    if (lb_read_file_at(s->root_fd, rel, 32, &text, NULL, &e) < 0) {
        bool missing = e->code == ENOENT;
        lb_error_free(e);
        return missing ? lb_container_not_found(err, id)
                       : lb_error_set(err, EIO, "cannot read '%s'", rel);
    }
    char *end = NULL;
    long code = strtol(text, &end, 10);
    if (end == text || code < -1 || code > 255)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' holds no exit code", rel);
    *exit_code = (int)code;
    return 0;
}

/* A tombstone older than LB_EXIT_TOMBSTONE_SECONDS: no wait is still after it. */
static bool is_old_tombstone(int containers_fd, const char *name)
{
    struct stat st;
    return lb_str_has_prefix(name, TOMBSTONE_PREFIX) &&
           fstatat(containers_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           st.st_mtime + LB_EXIT_TOMBSTONE_SECONDS < time(NULL);
}

/* A record whose config.json is empty: what a crash leaves of a --rm container's record, which
 * is written without fsync (create_locked). */
static bool is_crashed_volatile_record(int containers_fd, const char *name)
{
    if (strlen(name) != LB_CONTAINER_ID_LEN || !lb_is_lower_hex(name, LB_CONTAINER_ID_LEN))
        return false;
    _cleanup_free_ char *rel = lb_path_join(name, "config.json");
    struct stat st;
    return fstatat(containers_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
           st.st_size == 0;
}

/* Remove staging directories a crashed create left behind, the records of --rm containers a
 * crash emptied, and exit-code tombstones no wait needs any more. Caller holds the store lock, so
 * no create is in progress: every .tmp- entry is a leftover. */
static void clean_staging(struct lb_store *s)
{
    int fd = openat(s->root_fd, CONTAINERS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!lb_str_has_prefix(de->d_name, TMP_PREFIX) &&
            !is_crashed_volatile_record(dirfd(d), de->d_name) &&
            !is_old_tombstone(dirfd(d), de->d_name))
            continue;
        struct lb_error *e = NULL;
        lb_rm_tree_at(dirfd(d), de->d_name, &e);
        lb_error_free(e);
        lb_explain("container", "removed leftover %s " CONTAINERS_DIR "/%s",
                   lb_str_has_prefix(de->d_name, TMP_PREFIX)         ? "staging entry"
                   : lb_str_has_prefix(de->d_name, TOMBSTONE_PREFIX) ? "exit code"
                                                                     : "record emptied by a crash",
                   de->d_name);
    }
    closedir(d);
}

static struct lb_container *create_locked(struct lb_store *s, const struct lb_container_spec *spec,
                                          const char *given, struct lb_error **err)
{
    if (mkdirat(s->root_fd, CONTAINERS_DIR, 0755) < 0 && errno != EEXIST) {
        lb_error_set(err, errno, "cannot create '%s/" CONTAINERS_DIR "'", s->root);
        return NULL;
    }
    clean_staging(s);
    _cleanup_strv_ char **ids = NULL;
    if (lb_container_list_ids(s, &ids, err) < 0)
        return NULL;
    _cleanup_strv_ char **names = lb_container_read_names(s, ids);

    _cleanup_free_ char *name = NULL;
    if (given != NULL) {
        const char *owner = lb_container_name_owner(ids, names, given, NULL);
        if (owner != NULL) {
            name_conflict(err, given, owner);
            return NULL;
        }
        name = lb_xstrdup(given);
    } else {
        for (unsigned retry = 0; name == NULL && retry < NAME_ATTEMPTS; retry++) {
            char *cand = lb_names_generate(retry);
            if (lb_container_name_owner(ids, names, cand, NULL) == NULL)
                name = cand;
            else
                free(cand);
        }
        if (name == NULL) {
            lb_error_setk(err, LB_EKIND_CONFLICT, 0, "cannot generate a free container name");
            return NULL;
        }
    }

    char id[LB_CONTAINER_ID_LEN + 1];
    do {
        if (random_id(id, err) < 0)
            return NULL;
    } while (lb_strv_contains(ids, id));

    _cleanup_free_ char *stage = lb_xasprintf(CONTAINERS_DIR "/" TMP_PREFIX "%s", id);
    _cleanup_free_ char *final = record_dir(id);
    if (mkdirat(s->root_fd, stage, 0700) < 0) {
        lb_error_set(err, errno, "cannot create '%s/%s'", s->root, stage);
        return NULL;
    }
    struct lb_time now = lb_time_now();
    struct lb_container_state st = {.status = LB_STATE_CREATED};
    _cleanup_json_ json_t *config = lb_container_config_to_json(id, name, &now, spec);
    _cleanup_json_ json_t *state = lb_container_state_to_json(&st);
    _cleanup_free_ char *config_rel = lb_path_join(stage, "config.json");
    _cleanup_free_ char *state_rel = lb_path_join(stage, "state.json");
    struct lb_container *c = NULL;
    /* Three fsyncs make the record durable: config.json, the staging directory (after both
     * entries exist) and containers/ (the rename). state.json is volatile, as every later state
     * (see lb_container_save_state_locked): a crash may leave it empty, which reads as Created. A
     * --rm container is disposable, removed when it exits: its record need not survive a crash, so
     * none of the three (what a crash can leave, an empty config.json, is no container:
     * lb_container_load, clean_staging). */
    enum lb_durability durability = spec->auto_remove ? LB_VOLATILE : LB_DURABLE;
    if (lb_json_replace_at(s->root_fd, state_rel, state, LB_VOLATILE, err) < 0 ||
        lb_json_replace_at(s->root_fd, config_rel, config, durability, err) < 0)
        goto fail;
    /* Parse back what was written: create returns exactly what load will see. */
    c = lb_container_record_from_json(id, config, state, err);
    if (c == NULL)
        goto fail;
    if (renameat(s->root_fd, stage, s->root_fd, final) < 0) {
        lb_error_set(err, errno, "cannot rename '%s' to '%s'", stage, final);
        goto fail;
    }
    if (durability == LB_DURABLE && lb_fsync_dir_at(s->root_fd, CONTAINERS_DIR, err) < 0)
        goto fail_published;
    lb_explain("container", "created record " CONTAINERS_DIR "/%.12s… (name %s, image %.19s)", id,
               name, spec->image_id->str);
    return c;
fail_published:
    free(stage);
    stage = lb_steal_pointer(&final); /* remove the published record instead */
fail : {
    struct lb_error *e = NULL;
    lb_rm_tree_at(s->root_fd, stage, &e);
    lb_error_free(e);
}
    lb_container_free(c);
    return NULL;
}

struct lb_container *lb_container_create(struct lb_store *s, const struct lb_container_spec *spec,
                                         struct lb_error **err)
{
    if (spec == NULL || spec->image_id == NULL) {
        lb_error_setk(err, LB_EKIND_USAGE, 0, "a container needs an image");
        return NULL;
    }
    const char *given = NULL;
    if (spec->name != NULL && *spec->name != '\0') {
        given = lb_names_strip_slash(spec->name);
        if (lb_names_validate(given, err) < 0)
            return NULL;
    }
    if (lb_store_lock(s, err) < 0)
        return NULL;
    struct lb_container *c = create_locked(s, spec, given, err);
    lb_store_unlock(s);
    return c;
}

int lb_container_not_found(struct lb_error **err, const char *what)
{
    return lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "no such container: '%s'", what);
}

/* Open containers/<id> as a directory fd; a missing one is LB_EKIND_NOT_FOUND. */
static int open_record(struct lb_store *s, const char *id, struct lb_error **err)
{
    if (!lb_container_valid_id(id))
        return lb_container_not_found(err, id ? id : "");
    _cleanup_free_ char *rel = record_dir(id);
    int fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return lb_container_not_found(err, id);
        return lb_error_set(err, errno, "cannot open '%s/%s'", s->root, rel);
    }
    return fd;
}

/* state.json as JSON. An empty one is Created: state.json is written without fsync
 * (LB_VOLATILE), so a crash may leave it empty on a file system that does not order data before
 * a rename; the process it named did not survive the crash either. A missing one is an error: it
 * is what a removal interrupted half-way leaves (rm -f finishes it). */
static json_t *load_state_json(int record_fd, const char *id, bool *gone, struct lb_error **err)
{
    struct stat st;
    if (fstatat(record_fd, "state.json", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
        /* config.json without state.json is only ever a removal under way (create writes
         * state.json first, in a staging directory; rm takes config.json last): read without
         * the store lock (ps, inspect, logs), it is a container that is going, not a corrupt one.
         */
        *gone = true;
        lb_container_not_found(err, id);
        return NULL;
    }
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        lb_explain("container", "empty state.json (lost in a crash?): the container is Created");
        return lb_container_state_to_json(&(struct lb_container_state){.status = LB_STATE_CREATED});
    }
    return lb_json_load_at(record_fd, "state.json", err);
}

int lb_container_read_state(struct lb_store *s, const char *id, struct lb_container_state *st,
                            struct lb_error **err)
{
    _cleanup_close_ int fd = open_record(s, id, err);
    if (fd < 0)
        return -1;
    bool gone = false;
    _cleanup_json_ json_t *j = load_state_json(fd, id, &gone, err);
    if (j == NULL && gone)
        return -1;
    if (j == NULL || lb_container_state_from_json(st, j, err) < 0)
        return lb_error_wrap(err, "corrupt state.json of container '%.12s'", id);
    return 0;
}

struct lb_container *lb_container_load(struct lb_store *s, const char *id, struct lb_error **err)
{
    _cleanup_close_ int fd = open_record(s, id, err);
    if (fd < 0)
        return NULL;
    /* No config.json: a removal that got to its very end (config.json goes last), or never
     * finished; either way there is no container here any more. An empty one: a --rm
     * container's record emptied by a crash (create_locked), no container either. */
    struct stat cst;
    if (fstatat(fd, "config.json", &cst, AT_SYMLINK_NOFOLLOW) < 0 ||
        (S_ISREG(cst.st_mode) && cst.st_size == 0)) {
        lb_container_not_found(err, id);
        return NULL;
    }
    _cleanup_json_ json_t *config = lb_json_load_at(fd, "config.json", err);
    if (config == NULL) {
        lb_error_wrap(err, "corrupt config.json of container '%.12s'", id);
        return NULL;
    }
    bool gone = false;
    _cleanup_json_ json_t *state = load_state_json(fd, id, &gone, err);
    if (state == NULL && gone)
        return NULL;
    if (state == NULL) {
        lb_error_wrap(err, "corrupt state.json of container '%.12s'", id);
        return NULL;
    }
    return lb_container_record_from_json(id, config, state, err);
}

static int cmp_newest_first(const void *a, const void *b)
{
    const struct lb_container *x = *(struct lb_container *const *)a;
    const struct lb_container *y = *(struct lb_container *const *)b;
    if (x->created.sec != y->created.sec)
        return x->created.sec > y->created.sec ? -1 : 1;
    if (x->created.nsec != y->created.nsec)
        return x->created.nsec > y->created.nsec ? -1 : 1;
    return strcmp(x->id, y->id);
}

int lb_container_list(struct lb_store *s, struct lb_container ***out, size_t *n,
                      struct lb_error **err)
{
    *out = NULL;
    *n = 0;
    _cleanup_strv_ char **ids = NULL;
    if (lb_container_list_ids(s, &ids, err) < 0)
        return -1;
    size_t cap = lb_strv_len(ids);
    struct lb_container **v = lb_xmalloc((cap + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; ids[i]; i++) {
        struct lb_error *e = NULL;
        struct lb_container *c = lb_container_load(s, ids[i], &e);
        if (c == NULL) {
            /* removed meanwhile, or broken: still reachable by ID for `rm -f` */
            lb_explain("container", "skipped record %.12s: %s", ids[i], e ? e->msg : "?");
            lb_error_free(e);
            continue;
        }
        v[k++] = c;
    }
    qsort(v, k, sizeof(*v), cmp_newest_first);
    *out = v;
    *n = k;
    return 0;
}

void lb_container_list_free(struct lb_container **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        lb_container_free(v[i]);
    free(v);
}

int lb_container_save_state_locked(struct lb_store *s, const struct lb_container *c,
                                   struct lb_error **err)
{
    _cleanup_close_ int fd = open_record(s, c->id, err);
    if (fd < 0)
        return -1;
    _cleanup_json_ json_t *j = lb_container_state_to_json(&c->state);
    /* Volatile: the state is checked, not trusted (a pid is alive only with its recorded start
     * time), so a transition a crash loses is corrected when the record is next read. */
    if (lb_json_replace_at(fd, "state.json", j, LB_VOLATILE, err) < 0)
        return lb_error_wrap(err, "saving the state of container '%s'", c->name);
    return 0;
}

int lb_container_save_state(struct lb_store *s, const struct lb_container *c, struct lb_error **err)
{
    if (lb_store_lock(s, err) < 0)
        return -1;
    int ret = lb_container_save_state_locked(s, c, err);
    lb_store_unlock(s);
    return ret;
}

static int rename_locked(struct lb_store *s, struct lb_container *c, const char *name,
                         struct lb_error **err)
{
    _cleanup_strv_ char **ids = NULL;
    if (lb_container_list_ids(s, &ids, err) < 0)
        return -1;
    _cleanup_strv_ char **names = lb_container_read_names(s, ids);
    const char *owner = lb_container_name_owner(ids, names, name, c->id);
    if (owner != NULL)
        return name_conflict(err, name, owner);
    _cleanup_close_ int fd = open_record(s, c->id, err);
    if (fd < 0)
        return -1;
    /* Rewrite the file on disk (not c): keys this version does not know survive. */
    _cleanup_json_ json_t *config = lb_json_load_at(fd, "config.json", err);
    if (config == NULL || !json_is_object(config))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "corrupt config.json of container '%.12s'",
                             c->id);
    json_object_set_new(config, "Name", json_string(name));
    if (lb_json_write_at(fd, "config.json", config, err) < 0)
        return -1;
    lb_explain("container", "renamed %.12s from %s to %s", c->id, c->name, name);
    free(c->name);
    c->name = lb_xstrdup(name);
    return 0;
}

int lb_container_rename(struct lb_store *s, struct lb_container *c, const char *new_name,
                        struct lb_error **err)
{
    const char *name = lb_names_strip_slash(new_name);
    if (lb_names_validate(name, err) < 0)
        return -1;
    if (c->name != NULL && strcmp(c->name, name) == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "renaming a container with the same name as its current name");
    if (lb_store_lock(s, err) < 0)
        return -1;
    int ret = rename_locked(s, c, name, err);
    lb_store_unlock(s);
    return ret;
}

/* True when dirfd/name is the root of a mount (another device, or the kernel says so). */
static bool is_mount_point(int dirfd, const char *name, dev_t parent_dev)
{
    struct statx stx;
    if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &stx) < 0)
        return false;
    if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != parent_dev)
        return true;
#ifdef STATX_ATTR_MOUNT_ROOT
    if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
        (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
        return true;
#endif
    return false;
}

static int remove_locked(struct lb_store *s, const char *id, struct lb_error **err)
{
    _cleanup_close_ int fd = open_record(s, id, err);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return lb_error_set(err, errno, "cannot stat the record of container '%.12s'", id);
    _cleanup_strv_ char **entries = NULL;
    {
        int dfd = dup(fd);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (d == NULL) {
            int saved = errno;
            if (dfd >= 0)
                close(dfd);
            return lb_error_set(err, saved, "cannot read the record of container '%.12s'", id);
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                lb_strv_push(&entries, de->d_name);
        closedir(d);
    }
    /* Refuse before touching anything: deleting diff/ under a mounted rootfs/ would pull the
     * writable layer from under a live overlay. */
    for (size_t i = 0; entries && entries[i]; i++)
        if (is_mount_point(fd, entries[i], st.st_dev))
            return lb_error_set(err, EBUSY,
                                "cannot remove container '%.12s': '%s' is still mounted", id,
                                entries[i]);
    for (size_t i = 0; entries && entries[i]; i++)
        if (strcmp(entries[i], "config.json") != 0 && lb_rm_tree_at(fd, entries[i], err) < 0)
            return lb_error_wrap(err, "removing container '%.12s'", id);
    if (unlinkat(fd, "config.json", 0) < 0 && errno != ENOENT)
        return lb_error_set(err, errno, "cannot remove config.json of container '%.12s'", id);
    _cleanup_free_ char *rel = record_dir(id);
    if (unlinkat(s->root_fd, rel, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return lb_error_set(err, errno, "cannot remove '%s/%s'", s->root, rel);
    /* No fsync of containers/: a removal a crash undoes brings back an exited container, or a
     * directory without config.json, which is no container (lb_container_load). */
    lb_explain("container", "removed record " CONTAINERS_DIR "/%.12s…", id);
    return 0;
}

int lb_container_remove(struct lb_store *s, const char *id, struct lb_error **err)
{
    if (lb_store_lock(s, err) < 0)
        return -1;
    int ret = remove_locked(s, id, err);
    lb_store_unlock(s);
    return ret;
}

/* --- the image-user seam ------------------------------------------------------------------ */

char *lb_container_image_user(void *store, const struct lb_digest *image_id)
{
    struct lb_store *s = store;
    _cleanup_strv_ char **ids = NULL;
    struct lb_error *e = NULL;
    if (lb_container_list_ids(s, &ids, &e) < 0) {
        lb_error_free(e);
        return NULL;
    }
    for (size_t i = 0; ids[i]; i++) {
        _cleanup_json_ json_t *j = read_config_json(s, ids[i], &e);
        lb_error_clear(&e);
        const char *image = lb_json_str(j, "Image");
        if (image != NULL && strcmp(image, image_id->str) == 0) {
            const char *name = lb_json_str(j, "Name");
            return name ? lb_xstrdup(name) : lb_xasprintf("%.12s", ids[i]);
        }
    }
    return NULL;
}

void lb_container_free(struct lb_container *c)
{
    if (c == NULL)
        return;
    free(c->name);
    free(c->image);
    free(c->path);
    lb_strv_free(c->args);
    lb_container_opts_release(&c->opts);
    free(c->stop_signal);
    lb_strv_free(c->volumes);
    free(c);
}
