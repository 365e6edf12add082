/* volumes.c — named and anonymous volumes: a directory under ROOT/volumes that a container's
 * process sees through a bind mount, and that outlives the container's writable layer.
 *
 * The concept: an image is read-only, a container's layer goes with the container; data that must
 * stay goes in a volume. A volume is nothing more than a directory plus a small meta.json, built in
 * a staging directory and renamed into place under the store lock.
 *
 * Sits on: image/store.h (root fd, lock), core/fs.h (atomic writes, rm -r), core/json.h,
 *          runtime/plan.h (the bind mount a -v becomes).
 * Interface: lb_volume_free, lb_volume_list_free, lb_volume_set_user_check,
 *            lb_volume_name_validate, lb_volume_create, lb_volume_load, lb_volume_list,
 *            lb_volume_remove, lb_volume_prune, lb_volume_inspect_json, lb_volume_spec_parse,
 *            lb_volume_spec_release, lb_volume_spec_mount, lb_volume_specs_check_unique,
 *            lb_volume_mounts_json
 */
#include "container/volumes.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VOLUMES_DIR "volumes"

static lb_volume_user_fn user_fn;
static void *user_data;

void lb_volume_set_user_check(lb_volume_user_fn fn, void *data)
{
    user_fn = fn;
    user_data = data;
}

void lb_volume_free(struct lb_volume *v)
{
    if (v == NULL)
        return;
    free(v->name);
    free(v->mountpoint);
    json_decref(v->labels);
    free(v);
}

void lb_volume_list_free(struct lb_volume **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        lb_volume_free(v[i]);
    free(v);
}

static bool name_char_ok(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return !first && (c == '_' || c == '.' || c == '-');
}

int lb_volume_name_validate(const char *name, struct lb_error **err)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "volume name cannot be empty");
    if (len == 1)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "volume name is too short, names should be at least two alphanumeric "
                             "characters");
    for (size_t i = 0; i < len; i++)
        if (!name_char_ok(name[i], i == 0))
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "'%s' includes invalid characters for a local volume name, only "
                                 "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to "
                                 "pass a host directory, use absolute path",
                                 name);
    if (len > LB_VOLUME_NAME_MAX)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "volume name '%.20s…' is longer than %d characters", name,
                             LB_VOLUME_NAME_MAX);
    return 0;
}

/* n random lowercase hex characters (n even, at most 64) into buf (n + 1 bytes). */
static int random_hex(char *buf, size_t n, struct lb_error **err)
{
    unsigned char bytes[32];
    size_t need = n / 2, got = 0;
    while (got < need) {
        ssize_t r = getrandom(bytes + got, need - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return lb_error_set(err, errno, "cannot get random bytes");
        got += (size_t)r;
    }
    for (size_t i = 0; i < need; i++)
        snprintf(buf + 2 * i, 3, "%02x", bytes[i]);
    buf[n] = '\0';
    return 0;
}

static int no_such_volume(struct lb_error **err, const char *name)
{
    return lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "no such volume: '%s'", name);
}

/* --- reading ---------------------------------------------------------------------------------- */

static struct lb_volume *volume_from_meta(struct lb_store *s, const char *name, const json_t *meta,
                                          struct lb_error **err)
{
    const char *mname = lb_json_str(meta, "name");
    const char *created = lb_json_str(meta, "created");
    json_t *labels = json_object_get(meta, "labels");
    json_t *anon = json_object_get(meta, "anonymous");
    if (!json_is_object(meta) || mname == NULL || strcmp(mname, name) != 0 || created == NULL ||
        (labels && !json_is_object(labels) && !json_is_null(labels)) ||
        (anon && !json_is_boolean(anon)))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "volume '%s' has an invalid meta.json",
                             name),
               NULL;
    struct lb_volume *v = lb_xmalloc(sizeof(*v));
    if (lb_time_parse(&v->created, created, err) < 0) {
        lb_volume_free(v);
        lb_error_wrap(err, "volume '%s' has an invalid meta.json", name);
        return NULL;
    }
    v->name = lb_xstrdup(name);
    v->mountpoint = lb_xasprintf("%s/" VOLUMES_DIR "/%s/_data", s->root, name);
    if (json_is_object(labels) && json_object_size(labels) > 0)
        v->labels = json_incref(labels);
    v->anonymous = anon && json_is_true(anon);
    return v;
}

struct lb_volume *lb_volume_load(struct lb_store *s, const char *name, struct lb_error **err)
{
    struct lb_error *e = NULL;
    if (lb_volume_name_validate(name, &e) < 0) {
        lb_error_free(e);
        no_such_volume(err, name);
        return NULL;
    }
    _cleanup_free_ char *rel = lb_xasprintf(VOLUMES_DIR "/%s/meta.json", name);
    _cleanup_json_ json_t *meta = lb_json_load_at(s->root_fd, rel, &e);
    if (meta == NULL) {
        if (e->code == ENOENT) {
            lb_error_free(e);
            no_such_volume(err, name);
        } else if (err && *err == NULL) {
            *err = e;
        } else {
            lb_error_free(e);
        }
        return NULL;
    }
    return volume_from_meta(s, name, meta, err);
}

static int cmp_volume(const void *a, const void *b)
{
    const struct lb_volume *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

int lb_volume_list(struct lb_store *s, struct lb_volume ***out, size_t *n, struct lb_error **err)
{
    *out = NULL;
    *n = 0;
    int fd = openat(s->root_fd, VOLUMES_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return lb_error_set(err, errno, "cannot open '%s/" VOLUMES_DIR "'", s->root);
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int saved = errno;
        close(fd);
        return lb_error_set(err, saved, "cannot open '%s/" VOLUMES_DIR "'", s->root);
    }
    struct lb_volume **vols = NULL;
    size_t count = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ., .., staging and removal leftovers */
        struct lb_volume *v = lb_volume_load(s, de->d_name, err);
        if (v == NULL) {
            rc = -1;
            break;
        }
        vols = lb_xrealloc(vols, (count + 1) * sizeof(*vols));
        vols[count++] = v;
    }
    closedir(d);
    if (rc < 0) {
        lb_volume_list_free(vols, count);
        return -1;
    }
    if (count > 1)
        qsort(vols, count, sizeof(*vols), cmp_volume);
    *out = vols;
    *n = count;
    return 0;
}

json_t *lb_volume_inspect_json(const struct lb_volume *v)
{
    char created[40];
    lb_time_format(created, sizeof(created), (struct lb_time){v->created.sec, 0});
    json_t *j = json_object();
    if (j == NULL)
        lb_oom();
    json_object_set_new(j, "CreatedAt", json_string(created));
    json_object_set_new(j, "Driver", json_string("local"));
    json_object_set_new(j, "Labels", v->labels ? json_deep_copy(v->labels) : json_null());
    json_object_set_new(j, "Mountpoint", json_string(v->mountpoint));
    json_object_set_new(j, "Name", json_string(v->name));
    json_object_set_new(j, "Options", json_null());
    json_object_set_new(j, "Scope", json_string("local"));
    return j;
}

/* --- creating --------------------------------------------------------------------------------- */

/* "k=v" / "k" strings into a new object, or NULL with an error. */
static json_t *parse_labels(char *const *labels, struct lb_error **err)
{
    _cleanup_json_ json_t *obj = json_object();
    if (obj == NULL)
        lb_oom();
    for (size_t i = 0; labels && labels[i]; i++) {
        const char *eq = strchr(labels[i], '=');
        _cleanup_free_ char *key =
            eq ? lb_xstrndup(labels[i], (size_t)(eq - labels[i])) : lb_xstrdup(labels[i]);
        if (*key == '\0')
            return lb_error_setk(err, LB_EKIND_USAGE, 0, "invalid label '%s': empty name",
                                 labels[i]),
                   NULL;
        json_object_set_new(obj, key, json_string(eq ? eq + 1 : ""));
    }
    return lb_steal_pointer(&obj);
}

/* Build volumes/.tmp-<random>/{_data,meta.json} and rename it to volumes/<name>. Store locked,
 * volumes/<name> known not to exist. */
static int volume_publish(struct lb_store *s, const char *name, json_t *labels, bool anonymous,
                          struct lb_error **err)
{
    char rnd[17];
    if (random_hex(rnd, 16, err) < 0)
        return -1;
    _cleanup_free_ char *stage = lb_xasprintf(VOLUMES_DIR "/.tmp-%s", rnd);
    _cleanup_free_ char *dest = lb_xasprintf(VOLUMES_DIR "/%s", name);
    _cleanup_free_ char *data = lb_xasprintf("%s/_data", stage);
    if (mkdirat(s->root_fd, stage, 0700) < 0)
        return lb_error_set(err, errno, "cannot create '%s/%s'", s->root, stage);
    int rc = -1;
    char created[40];
    lb_time_format(created, sizeof(created), lb_time_now());
    _cleanup_json_ json_t *meta =
        json_pack("{s:s, s:s, s:b}", "name", name, "created", created, "anonymous", anonymous);
    if (meta == NULL)
        lb_oom();
    if (labels && json_object_size(labels) > 0)
        json_object_set(meta, "labels", labels);
    _cleanup_free_ char *meta_rel = lb_xasprintf("%s/meta.json", stage);
    if (mkdirat(s->root_fd, data, 0755) < 0) {
        lb_error_set(err, errno, "cannot create '%s/%s'", s->root, data);
        goto out;
    }
    if (lb_json_write_at(s->root_fd, meta_rel, meta, err) < 0 ||
        lb_fsync_dir_at(s->root_fd, stage, err) < 0)
        goto out;
    /* The volume directory is readable by everyone, as docker's: containers' users need _data. */
    if (fchmodat(s->root_fd, stage, 0755, 0) < 0) {
        lb_error_set(err, errno, "cannot chmod '%s/%s'", s->root, stage);
        goto out;
    }
    if (renameat(s->root_fd, stage, s->root_fd, dest) < 0) {
        lb_error_set(err, errno, "cannot rename '%s' to '%s' in '%s'", stage, dest, s->root);
        goto out;
    }
    if (lb_fsync_dir_at(s->root_fd, VOLUMES_DIR, err) < 0)
        return -1; /* published; only durability is in doubt */
    rc = 0;
out:
    if (rc < 0) {
        struct lb_error *e = NULL;
        lb_rm_tree_at(s->root_fd, stage, &e);
        lb_error_free(e);
    }
    return rc;
}

/* name and labels checked; lab gets the anonymous label here. */
static struct lb_volume *create_locked(struct lb_store *s, const char *name, json_t *lab,
                                       bool *created, struct lb_error **err)
{
    char anon_name[65];
    bool anonymous = name == NULL;
    if (anonymous) {
        if (random_hex(anon_name, 64, err) < 0)
            return NULL;
        name = anon_name;
        json_object_set_new(lab, LB_VOLUME_ANON_LABEL, json_string(""));
    }
    if (mkdirat(s->root_fd, VOLUMES_DIR, 0755) < 0 && errno != EEXIST)
        return lb_error_set(err, errno, "cannot create '%s/" VOLUMES_DIR "'", s->root), NULL;
    _cleanup_free_ char *dir = lb_xasprintf(VOLUMES_DIR "/%s", name);
    if (lb_path_exists_at(s->root_fd, dir)) {
        /* docker's create is idempotent: the existing volume, unchanged */
        if (created)
            *created = false;
        return lb_volume_load(s, name, err);
    }
    if (volume_publish(s, name, lab, anonymous, err) < 0)
        return NULL;
    lb_explain("volume", "created %s volume %s at %s/" VOLUMES_DIR "/%s/_data",
               anonymous ? "anonymous" : "named", name, s->root, name);
    if (created)
        *created = true;
    return lb_volume_load(s, name, err);
}

struct lb_volume *lb_volume_create(struct lb_store *s, const char *name, char *const *labels,
                                   bool *created, struct lb_error **err)
{
    if (created)
        *created = false;
    /* Bad input fails before the lock: it changes nothing, not even ROOT/lock. */
    if (name != NULL && lb_volume_name_validate(name, err) < 0)
        return NULL;
    _cleanup_json_ json_t *lab = parse_labels(labels, err);
    if (lab == NULL)
        return NULL;
    if (lb_store_lock(s, err) < 0)
        return NULL;
    struct lb_volume *v = create_locked(s, name, lab, created, err);
    lb_store_unlock(s);
    return v;
}

/* --- removing --------------------------------------------------------------------------------- */

/* Bytes of the regular files under parent/path (not following symlinks, not crossing into
 * anything unreadable: those count as 0). */
static int64_t tree_size_at(int parent, const char *path, int depth)
{
    if (depth > 256)
        return 0;
    int fd = openat(parent, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return 0;
    }
    int64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode))
            total += st.st_size;
        else if (S_ISDIR(st.st_mode))
            total += tree_size_at(dirfd(d), de->d_name, depth + 1);
    }
    closedir(d);
    return total;
}

static char *volume_user(const char *name)
{
    return user_fn ? user_fn(user_data, name) : NULL;
}

/* Rename volumes/<name> out of sight, then remove it. Store locked. */
static int remove_locked(struct lb_store *s, const char *name, struct lb_error **err)
{
    char rnd[17];
    if (random_hex(rnd, 16, err) < 0)
        return -1;
    _cleanup_free_ char *dir = lb_xasprintf(VOLUMES_DIR "/%s", name);
    _cleanup_free_ char *gone = lb_xasprintf(VOLUMES_DIR "/.rm-%s", rnd);
    if (renameat(s->root_fd, dir, s->root_fd, gone) < 0)
        return lb_error_set(err, errno, "cannot remove volume '%s'", name);
    lb_fsync_dir_at(s->root_fd, VOLUMES_DIR, NULL);
    if (lb_rm_tree_at(s->root_fd, gone, err) < 0)
        return lb_error_wrap(err, "removing volume '%s'", name);
    lb_explain("volume", "removed volume %s and its files", name);
    return 0;
}

int lb_volume_remove(struct lb_store *s, const char *name, bool force, struct lb_error **err)
{
    if (lb_store_lock(s, err) < 0)
        return -1;
    int rc = -1;
    struct lb_error *e = NULL;
    _cleanup_free_ char *user = NULL;
    struct lb_volume *v = lb_volume_load(s, name, &e);
    if (v == NULL) {
        if (force && e->kind == LB_EKIND_NOT_FOUND) {
            lb_error_free(e);
            rc = 0;
        } else if (err && *err == NULL) {
            *err = e;
        } else {
            lb_error_free(e);
        }
        goto out;
    }
    user = volume_user(name);
    if (user != NULL) {
        lb_error_setk(err, LB_EKIND_CONFLICT, 0, "remove %s: volume is in use - [%s]", name, user);
        goto out;
    }
    rc = remove_locked(s, name, err);
out:
    lb_volume_free(v);
    lb_store_unlock(s);
    return rc;
}

/* Remove what crashes left: volumes/.tmp-* and volumes/.rm-*. Store locked. */
static void remove_leftovers(struct lb_store *s)
{
    int fd = openat(s->root_fd, VOLUMES_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    struct dirent *de;
    char **names = NULL;
    while ((de = readdir(d)) != NULL)
        if (lb_str_has_prefix(de->d_name, ".tmp-") || lb_str_has_prefix(de->d_name, ".rm-"))
            lb_strv_push(&names, de->d_name);
    closedir(d);
    for (size_t i = 0; names && names[i]; i++) {
        _cleanup_free_ char *rel = lb_xasprintf(VOLUMES_DIR "/%s", names[i]);
        struct lb_error *e = NULL;
        lb_rm_tree_at(s->root_fd, rel, &e);
        lb_error_free(e);
    }
    lb_strv_free(names);
}

static int prune_locked(struct lb_store *s, bool all, char ***removed, int64_t *reclaimed,
                        struct lb_error **err)
{
    struct lb_volume **vols = NULL;
    size_t n = 0;
    if (lb_volume_list(s, &vols, &n, err) < 0)
        return -1;
    remove_leftovers(s);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!all && !vols[i]->anonymous)
            continue;
        _cleanup_free_ char *user = volume_user(vols[i]->name);
        if (user != NULL)
            continue;
        _cleanup_free_ char *data = lb_xasprintf(VOLUMES_DIR "/%s/_data", vols[i]->name);
        int64_t size = tree_size_at(s->root_fd, data, 0);
        if (remove_locked(s, vols[i]->name, err) < 0) {
            rc = -1;
            break;
        }
        lb_strv_push(removed, vols[i]->name);
        *reclaimed += size;
    }
    lb_volume_list_free(vols, n);
    return rc;
}

int lb_volume_prune(struct lb_store *s, bool all, char ***removed, int64_t *reclaimed,
                    struct lb_error **err)
{
    char **names = lb_xmalloc(sizeof(*names)); /* empty vector */
    int64_t bytes = 0;
    if (lb_store_lock(s, err) < 0) {
        free(names);
        return -1;
    }
    int rc = prune_locked(s, all, &names, &bytes, err);
    lb_store_unlock(s);
    /* What went is gone even when a later one failed: the caller still learns it. */
    if (removed)
        *removed = names;
    else
        lb_strv_free(names);
    if (reclaimed)
        *reclaimed = bytes;
    return rc;
}

/* --- -v specifications ------------------------------------------------------------------------ */

void lb_volume_spec_release(struct lb_volume_spec *spec)
{
    free(spec->source);
    free(spec->target);
    free(spec->mode);
    *spec = (struct lb_volume_spec){0};
}

static int invalid_spec(struct lb_error **err, const char *spec)
{
    return lb_error_setk(err, LB_EKIND_USAGE, 0, "invalid volume specification: '%s'", spec);
}

/* MODE: a comma list with at most one of ro/rw. */
static int parse_mode(const char *mode, bool *readonly)
{
    int seen = 0;
    const char *c = mode;
    if (*c == '\0')
        return -1;
    while (true) {
        const char *end = strchrnul(c, ',');
        size_t len = (size_t)(end - c);
        if (len == 2 && strncmp(c, "ro", 2) == 0)
            *readonly = true;
        else if (len == 2 && strncmp(c, "rw", 2) == 0)
            *readonly = false;
        else
            return -1;
        if (++seen > 1)
            return -1;
        if (*end == '\0')
            return 0;
        c = end + 1;
    }
}

int lb_volume_spec_parse(struct lb_volume_spec *out, const char *spec, struct lb_error **err)
{
    *out = (struct lb_volume_spec){0};
    _cleanup_strv_ char **parts = NULL;
    const char *c = spec;
    while (true) {
        const char *end = strchrnul(c, ':');
        _cleanup_free_ char *part = lb_xstrndup(c, (size_t)(end - c));
        lb_strv_push(&parts, part);
        if (*end == '\0')
            break;
        c = end + 1;
    }
    size_t n = lb_strv_len(parts);
    for (size_t i = 0; i < n; i++)
        if (parts[i][0] == '\0')
            return invalid_spec(err, spec);
    if (n > 3)
        return invalid_spec(err, spec);
    const char *target = n == 1 ? parts[0] : parts[1];
    if (n == 3 && parse_mode(parts[2], &out->readonly) < 0)
        return invalid_spec(err, spec);
    if (n == 3)
        out->mode = lb_xstrdup(parts[2]);
    if (target[0] != '/')
        return lb_error_setk(err, LB_EKIND_USAGE, 0,
                             "invalid mount path: '%s' mount path must be absolute", target);
    out->target = lb_path_clean_abs(target);
    if (strcmp(out->target, "/") == 0) {
        lb_volume_spec_release(out);
        return lb_error_setk(err, LB_EKIND_USAGE, 0,
                             "invalid specification: destination can't be '/'");
    }
    if (n == 1) {
        out->kind = LB_VOLUME_ANONYMOUS;
        return 0;
    }
    if (parts[0][0] == '/') {
        out->kind = LB_VOLUME_BIND;
        out->source = lb_path_clean_abs(parts[0]);
        return 0;
    }
    if (lb_volume_name_validate(parts[0], err) < 0) {
        lb_volume_spec_release(out);
        if (err && *err)
            (*err)->kind = LB_EKIND_USAGE;
        return -1;
    }
    out->kind = LB_VOLUME_NAMED;
    out->source = lb_xstrdup(parts[0]);
    return 0;
}

int lb_volume_spec_mount(struct lb_store *s, const struct lb_volume_spec *spec,
                         struct lb_mount_spec *out, char **volume_name, struct lb_error **err)
{
    *out = (struct lb_mount_spec){0};
    if (volume_name)
        *volume_name = NULL;
    _cleanup_free_ char *source = NULL;
    _cleanup_free_ char *vname = NULL;
    if (spec->kind == LB_VOLUME_BIND) {
        struct stat st;
        if (stat(spec->source, &st) < 0) {
            if (errno == ENOENT)
                return lb_error_setk(err, LB_EKIND_USAGE, 0, "bind source path does not exist: %s",
                                     spec->source);
            return lb_error_set(err, errno, "cannot use bind source path '%s'", spec->source);
        }
        source = lb_xstrdup(spec->source);
    } else {
        struct lb_volume *v = lb_volume_create(
            s, spec->kind == LB_VOLUME_NAMED ? spec->source : NULL, NULL, NULL, err);
        if (v == NULL)
            return -1;
        source = lb_xstrdup(v->mountpoint);
        vname = lb_xstrdup(v->name);
        lb_volume_free(v);
    }
    out->kind = LB_MOUNT_BIND;
    out->source = lb_steal_pointer(&source);
    out->target = lb_xstrdup(spec->target);
    out->flags = MS_REC | (spec->readonly ? MS_RDONLY : 0);
    out->mode = S_IFDIR | 0755;
    if (volume_name)
        *volume_name = lb_steal_pointer(&vname);
    return 0;
}

int lb_volume_specs_check_unique(const struct lb_volume_spec *specs, size_t n,
                                 struct lb_error **err)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(specs[i].target, specs[j].target) == 0)
                return lb_error_setk(err, LB_EKIND_USAGE, 0, "duplicate mount point: %s",
                                     specs[i].target);
    return 0;
}

/* --- inspect's Mounts ------------------------------------------------------------------------ */

/* One MountPoint. The field order and the omitted keys are docker's (Name and Driver are
 * omitempty: absent for a bind). */
static json_t *mount_point_json(struct lb_store *s, const struct lb_volume_spec *sp)
{
    bool rw = !sp->readonly;
    const char *mode = sp->mode ? sp->mode : "";
    if (sp->kind == LB_VOLUME_BIND)
        return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source", sp->source,
                         "Destination", sp->target, "Mode", mode, "RW", rw, "Propagation",
                         "rprivate");
    /* A volume: the record names it (an anonymous one by its generated name); its meta.json
     * says whether it is anonymous. docker: a named volume given without a mode gets "z" (the
     * "local" driver's setBindModeIfNull), an anonymous one (config.Volumes) keeps "". */
    struct lb_volume *v = lb_volume_load(s, sp->source, NULL);
    bool anonymous = v ? v->anonymous : false;
    _cleanup_free_ char *source =
        v ? lb_xstrdup(v->mountpoint)
          : lb_xasprintf("%s/" VOLUMES_DIR "/%s/_data", s->root, sp->source);
    lb_volume_free(v);
    if (!anonymous && mode[0] == '\0')
        mode = "z";
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume", "Name",
                     sp->source, "Source", source, "Destination", sp->target, "Driver", "local",
                     "Mode", mode, "RW", rw, "Propagation", "");
}

static int cmp_destination(const void *a, const void *b)
{
    const json_t *const *x = a;
    const json_t *const *y = b;
    return strcmp(json_string_value(json_object_get(*x, "Destination")),
                  json_string_value(json_object_get(*y, "Destination")));
}

json_t *lb_volume_mounts_json(struct lb_store *s, char *const *specs)
{
    size_t n = 0;
    json_t **items = NULL;
    for (size_t i = 0; specs && specs[i]; i++) {
        struct lb_volume_spec sp = {0};
        struct lb_error *e = NULL;
        if (lb_volume_spec_parse(&sp, specs[i], &e) == 0) {
            json_t *m = mount_point_json(s, &sp);
            if (m == NULL)
                lb_oom();
            items = lb_xrealloc(items, (n + 1) * sizeof(*items));
            items[n++] = m;
        }
        lb_error_free(e);
        lb_volume_spec_release(&sp);
    }
    if (n > 1)
        qsort(items, n, sizeof(*items), cmp_destination);
    json_t *arr = json_array();
    if (arr == NULL)
        lb_oom();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
    return arr;
}
