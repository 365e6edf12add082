/* layers.c — unpacked layers in the store: staged in tmp/, checked against the layers below,
 * published under their ChainID, shared by every image that has them, removed when none does.
 *
 * The concept: a layer is unpacked once, in its own directory named by its ChainID (the layer
 * together with everything below it), and an image's root file system is the union of its
 * layers' diff/ directories. Publishing is: unpack into tmp/layer-XXXX/diff, compare with the
 * union of the parent chain (union.c: counts what the layer adds, changes and deletes, and
 * refuses a directory that would shadow a lower symlink), write meta.json and the short link,
 * then one rename makes the layer appear whole. A crash leaves the old state or the new one.
 *
 * Short links: overlayfs takes every lower directory in one mount option string of one page
 * (4096 bytes). "layers/<64 hex>/diff" for 120 layers would not fit; "l/<26 chars>" does, which
 * is what docker's overlay2 does with the same names.
 *
 * Sits on: core/fs (atomic writes, rm -r, mkdtemp), core/json, layer/union, layer/chainid.
 * Interface: lb_layer_meta_release, lb_layers_stage, lb_layers_publish, lb_layers_exists,
 *            lb_layers_read_meta, lb_layers_record, lb_layers_count, lb_layers_remove,
 *            lb_layers_diff_relpath, lb_layers_open_chain
 */
#include "layer/layers.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"
#include "layer/chainid.h"
#include "layer/union.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char link_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

#define LINK_ATTEMPTS 32

void lb_layer_meta_release(struct lb_layer_meta *m)
{
    if (m == NULL)
        return;
    lb_strv_free(m->whiteouts);
    m->whiteouts = NULL;
}

static const char *format_name(enum lb_whiteout_format f)
{
    return f == LB_WHITEOUT_FILES ? "files" : "overlay";
}

static bool valid_link(const char *s)
{
    if (strlen(s) != LB_LAYER_LINK_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (strchr(link_alphabet, *p) == NULL)
            return false;
    return true;
}

/* "0123456789ab", the short form used in messages. */
static const char *short12(char buf[13], const struct lb_digest *d)
{
    snprintf(buf, 13, "%.12s", lb_digest_hex(d));
    return buf;
}

static char *layer_dir(const struct lb_digest *chain_id)
{
    return lb_xasprintf("layers/%s", lb_digest_hex(chain_id));
}

char *lb_layers_diff_relpath(const struct lb_digest *chain_id)
{
    return lb_xasprintf("layers/%s/diff", lb_digest_hex(chain_id));
}

/* --- meta.json ----------------------------------------------------------------------------- */

static json_t *meta_to_json(const struct lb_layer_meta *m, bool full)
{
    json_t *j = json_object();
    if (j == NULL)
        lb_oom();
    json_object_set_new(j, "chain_id", json_string(m->chain_id.str));
    json_object_set_new(j, "diff_id", json_string(m->diff_id.str));
    if (m->has_parent)
        json_object_set_new(j, "parent", json_string(m->parent.str));
    json_object_set_new(j, "size", json_integer((json_int_t)m->size));
    if (full) {
        json_object_set_new(j, "format", json_string(format_name(m->format)));
        json_object_set_new(j, "link", json_string(m->link));
        json_object_set_new(j, "added", json_integer((json_int_t)m->added));
        json_object_set_new(j, "changed", json_integer((json_int_t)m->changed));
        json_object_set_new(j, "deleted", json_integer((json_int_t)m->deleted));
        json_object_set_new(j, "opaques", json_integer((json_int_t)m->opaques));
        json_object_set_new(j, "whiteouts", lb_json_from_strv(m->whiteouts));
    }
    return j;
}

static int get_count(const json_t *j, const char *key, uint64_t *out, const char *what,
                     struct lb_error **err)
{
    json_t *v = json_object_get(j, key);
    if (v == NULL) {
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: \"%s\" is not a count", what, key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int meta_from_json(const json_t *j, const struct lb_digest *chain_id, const char *what,
                          struct lb_layer_meta *out, struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    out->chain_id = *chain_id;
    out->size = -1;
    if (!json_is_object(j))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: not a JSON object", what);
    const char *s = lb_json_str(j, "chain_id");
    if (s != NULL) {
        struct lb_digest d;
        if (lb_digest_parse(&d, s, err) < 0)
            return lb_error_wrap(err, "%s: chain_id", what);
        if (!lb_digest_equal(&d, chain_id))
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: names chain ID %s", what, d.str);
    }
    s = lb_json_str(j, "diff_id");
    if (s == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: no diff_id", what);
    if (lb_digest_parse(&out->diff_id, s, err) < 0)
        return lb_error_wrap(err, "%s: diff_id", what);
    s = lb_json_str(j, "parent");
    if (s != NULL) {
        if (lb_digest_parse(&out->parent, s, err) < 0)
            return lb_error_wrap(err, "%s: parent", what);
        out->has_parent = true;
    }
    out->size = (int64_t)lb_json_int(j, "size", -1);
    s = lb_json_str(j, "format");
    if (s == NULL || strcmp(s, "overlay") == 0)
        out->format = LB_WHITEOUT_OVERLAY;
    else if (strcmp(s, "files") == 0)
        out->format = LB_WHITEOUT_FILES;
    else
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: unknown format '%s'", what, s);
    s = lb_json_str(j, "link");
    if (s != NULL && *s != '\0') {
        if (!valid_link(s))
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: invalid link name '%s'", what, s);
        snprintf(out->link, sizeof(out->link), "%s", s);
    }
    if (get_count(j, "added", &out->added, what, err) < 0 ||
        get_count(j, "changed", &out->changed, what, err) < 0 ||
        get_count(j, "deleted", &out->deleted, what, err) < 0 ||
        get_count(j, "opaques", &out->opaques, what, err) < 0)
        return -1;
    json_t *wh = json_object_get(j, "whiteouts");
    if (wh != NULL && json_array_size(wh) > 0) {
        char **v = lb_json_to_strv(wh);
        if (v == NULL)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "%s: \"whiteouts\" is not a list of "
                                 "paths",
                                 what);
        size_t len = lb_strv_len(v);
        for (size_t i = LB_LAYER_MAX_WHITEOUT_NAMES; i < len; i++) {
            free(v[i]); /* at most the documented number; the rest is dropped */
            v[i] = NULL;
        }
        out->whiteouts = v;
    }
    return 0;
}

int lb_layers_read_meta(int root_fd, const struct lb_digest *chain_id, struct lb_layer_meta *out,
                        struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_free_ char *rel = lb_xasprintf("layers/%s/meta.json", lb_digest_hex(chain_id));
    struct stat st;
    if (fstatat(root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
        return lb_error_setk(err, LB_EKIND_NOT_FOUND, ENOENT, "layer %s is not in the store",
                             chain_id->str);
    _cleanup_json_ json_t *j = lb_json_load_at(root_fd, rel, err);
    if (j == NULL)
        return lb_error_wrap(err, "reading layer %s", chain_id->str);
    if (meta_from_json(j, chain_id, rel, out, err) < 0) {
        lb_layer_meta_release(out);
        return -1;
    }
    return 0;
}

bool lb_layers_exists(int root_fd, const struct lb_digest *chain_id)
{
    _cleanup_free_ char *dir = layer_dir(chain_id);
    _cleanup_free_ char *diff = lb_xasprintf("%s/diff", dir);
    _cleanup_free_ char *meta = lb_xasprintf("%s/meta.json", dir);
    struct stat st;
    return fstatat(root_fd, diff, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
           fstatat(root_fd, meta, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int lb_layers_record(int root_fd, const struct lb_layer_meta *meta, struct lb_error **err)
{
    if (lb_layers_exists(root_fd, &meta->chain_id))
        return 0;
    _cleanup_free_ char *dir = layer_dir(&meta->chain_id);
    _cleanup_free_ char *rel = lb_xasprintf("%s/meta.json", dir);
    if (mkdirat(root_fd, dir, 0755) < 0 && errno != EEXIST)
        return lb_error_set(err, errno, "cannot create '%s'", dir);
    _cleanup_json_ json_t *j = meta_to_json(meta, false);
    return lb_json_write_at(root_fd, rel, j, err);
}

size_t lb_layers_count(int root_fd)
{
    int fd = openat(root_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return 0;
    }
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (lb_is_lower_hex(de->d_name, LB_DIGEST_HEX_LEN))
            n++;
    closedir(d);
    return n;
}

/* --- staging and publishing ---------------------------------------------------------------- */

int lb_layers_stage(int root_fd, char **stage_rel, int *diff_fd, struct lb_error **err)
{
    *stage_rel = NULL;
    *diff_fd = -1;
    _cleanup_free_ char *rel = NULL;
    if (lb_mkdtemp_at(root_fd, "tmp", "layer-", &rel, err) < 0)
        return lb_error_wrap(err, "staging a layer");
    _cleanup_free_ char *diff = lb_xasprintf("%s/diff", rel);
    int fd = -1;
    /* 0755 like the rest of the store (mkdtemp made it 0700): anyone may read a layer. */
    if (fchmodat(root_fd, rel, 0755, 0) < 0 || mkdirat(root_fd, diff, 0755) < 0 ||
        (fd = openat(root_fd, diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        int saved = errno;
        struct lb_error *e = NULL;
        lb_rm_tree_at(root_fd, rel, &e);
        lb_error_free(e);
        return lb_error_set(err, saved, "cannot create '%s'", diff);
    }
    *diff_fd = fd;
    *stage_rel = lb_steal_pointer(&rel);
    return 0;
}

/* stage_rel must be what lb_layers_stage made: "tmp/layer-<name>", one level, no "..". */
static bool valid_stage(const char *rel)
{
    if (!lb_str_has_prefix(rel, "tmp/layer-"))
        return false;
    const char *name = rel + strlen("tmp/layer-");
    return *name != '\0' && strchr(name, '/') == NULL && strstr(name, "..") == NULL;
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
}

/* Create layers/l/<random> → ../<chainhex>/diff; out gets the name. */
static int make_link(int root_fd, const struct lb_digest *chain_id, char out[32],
                     struct lb_error **err)
{
    if (mkdirat(root_fd, "layers/l", 0755) < 0 && errno != EEXIST)
        return lb_error_set(err, errno, "cannot create 'layers/l'");
    _cleanup_free_ char *target = lb_xasprintf("../%s/diff", lb_digest_hex(chain_id));
    for (int attempt = 0; attempt < LINK_ATTEMPTS; attempt++) {
        unsigned char r[LB_LAYER_LINK_LEN];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return lb_error_set(err, errno, "cannot get random bytes for a short link");
        char name[LB_LAYER_LINK_LEN + 1];
        for (size_t i = 0; i < LB_LAYER_LINK_LEN; i++)
            name[i] = link_alphabet[r[i] % 32];
        name[LB_LAYER_LINK_LEN] = '\0';
        _cleanup_free_ char *rel = lb_xasprintf("layers/l/%s", name);
        if (symlinkat(target, root_fd, rel) == 0) {
            snprintf(out, 32, "%s", name);
            return 0;
        }
        if (errno != EEXIST)
            return lb_error_set(err, errno, "cannot create short link '%s'", rel);
    }
    return lb_error_set(err, EEXIST, "cannot find a free short link name in 'layers/l'");
}

/* Fill meta's counts from the comparison of the staged diff with the parent chain. */
static int compare_with_parent(int root_fd, const char *stage_rel, struct lb_layer_meta *meta,
                               struct lb_error **err)
{
    int *lower = NULL;
    size_t n = 0;
    if (meta->has_parent && lb_layers_open_chain(root_fd, &meta->parent, &lower, &n, err) < 0)
        return -1;
    _cleanup_free_ char *diff = lb_xasprintf("%s/diff", stage_rel);
    _cleanup_close_ int top =
        openat(root_fd, diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (top < 0) {
        int saved = errno;
        close_all(lower, n);
        return lb_error_set(err, saved, "cannot open '%s'", diff);
    }
    struct lb_union_diff d;
    int rc = lb_union_compare(top, lower, n, meta->format, &d, err);
    close_all(lower, n);
    if (rc < 0)
        return -1;
    meta->added = d.added;
    meta->changed = d.changed;
    meta->deleted = d.deleted;
    meta->opaques = d.opaques;
    lb_strv_free(meta->whiteouts);
    meta->whiteouts = d.whiteouts;
    return 0;
}

/* The layer is already there: take its link and counts, so the caller sees what it has. */
static void adopt_existing(int root_fd, struct lb_layer_meta *meta)
{
    struct lb_layer_meta old;
    struct lb_error *e = NULL;
    if (lb_layers_read_meta(root_fd, &meta->chain_id, &old, &e) < 0) {
        lb_error_free(e);
        return;
    }
    snprintf(meta->link, sizeof(meta->link), "%s", old.link);
    meta->added = old.added;
    meta->changed = old.changed;
    meta->deleted = old.deleted;
    meta->opaques = old.opaques;
    lb_strv_free(meta->whiteouts);
    meta->whiteouts = lb_steal_pointer(&old.whiteouts);
    lb_layer_meta_release(&old);
}

static int publish(int root_fd, const char *stage_rel, struct lb_layer_meta *meta, bool *shared,
                   struct lb_error **err)
{
    char c12[13];
    struct lb_digest want;
    lb_chain_id_next(&want, meta->has_parent ? &meta->parent : NULL, &meta->diff_id);
    if (!lb_digest_equal(&want, &meta->chain_id))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "layer %s: chain ID does not match its parent and DiffID (they give "
                             "%s)",
                             meta->chain_id.str, want.str);
    if (lb_layers_exists(root_fd, &meta->chain_id)) {
        adopt_existing(root_fd, meta);
        *shared = true;
        lb_explain("layer", "layer %s… is already unpacked: shared, not stored twice",
                   short12(c12, &meta->chain_id));
        return 0;
    }
    if (compare_with_parent(root_fd, stage_rel, meta, err) < 0)
        return lb_error_wrap(err, "layer %s", short12(c12, &meta->chain_id));

    meta->link[0] = '\0';
    if (make_link(root_fd, &meta->chain_id, meta->link, err) < 0)
        return -1;
    _cleanup_free_ char *link_rel = lb_xasprintf("layers/l/%s", meta->link);
    _cleanup_free_ char *meta_rel = lb_xasprintf("%s/meta.json", stage_rel);
    _cleanup_free_ char *linkfile = lb_xasprintf("%s/link", stage_rel);
    _cleanup_free_ char *dir = layer_dir(&meta->chain_id);
    _cleanup_json_ json_t *j = meta_to_json(meta, true);
    bool record = lb_path_exists_at(root_fd, dir); /* a record without diff/: replace it */
    int rc = lb_json_write_at(root_fd, meta_rel, j, err);
    if (rc == 0)
        rc = lb_atomic_write_at(root_fd, linkfile, meta->link, strlen(meta->link), 0644, err);
    if (rc == 0) {
        /* One rename makes the layer appear whole; over a record, an exchange keeps the record
         * until the new directory is in place. */
        if (record)
            rc = renameat2(root_fd, stage_rel, root_fd, dir, RENAME_EXCHANGE);
        else
            rc = renameat(root_fd, stage_rel, root_fd, dir);
        if (rc < 0)
            lb_error_set(err, errno, "cannot rename '%s' to '%s'", stage_rel, dir);
    }
    if (rc < 0) {
        unlinkat(root_fd, link_rel, 0);
        meta->link[0] = '\0';
        return -1;
    }
    /* After an exchange the old record is at the staging name: the caller removes it. */
    lb_explain("layer",
               "published layer %s… as %s (short link l/%s): %llu added, %llu changed, %llu "
               "deleted, %llu opaque directories",
               short12(c12, &meta->chain_id), dir, meta->link, (unsigned long long)meta->added,
               (unsigned long long)meta->changed, (unsigned long long)meta->deleted,
               (unsigned long long)meta->opaques);
    if (lb_fsync_dir_at(root_fd, "layers/l", err) < 0)
        return -1;
    return lb_fsync_dir_at(root_fd, "layers", err);
}

int lb_layers_publish(int root_fd, const char *stage_rel, struct lb_layer_meta *meta, bool *shared,
                      struct lb_error **err)
{
    *shared = false;
    if (stage_rel == NULL || !valid_stage(stage_rel))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is not a layer staging directory",
                             stage_rel ? stage_rel : "(null)");
    int rc = publish(root_fd, stage_rel, meta, shared, err);
    /* Consumed either way: after a rename it no longer exists and this is a no-op. */
    struct lb_error *e = NULL;
    lb_rm_tree_at(root_fd, stage_rel, &e);
    lb_error_free(e);
    return rc;
}

/* --- removing ------------------------------------------------------------------------------ */

/* Is dirfd/path the root of a mount? statx knows (also for bind mounts of the same file system);
 * without it, a different device than its parent's says so. */
static bool is_mount_point(int dirfd, const char *path, dev_t parent_dev)
{
    struct statx stx;
    if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
        return false;
    if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
        return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    return makedev(stx.stx_dev_major, stx.stx_dev_minor) != parent_dev;
}

/* The short link of a layer directory: its `link` file, else meta.json's. "" when none. */
static void read_link_name(int root_fd, const struct lb_digest *chain_id, char out[32])
{
    out[0] = '\0';
    _cleanup_free_ char *rel = lb_xasprintf("layers/%s/link", lb_digest_hex(chain_id));
    _cleanup_free_ char *buf = NULL;
    struct lb_error *e = NULL;
    if (lb_read_file_at(root_fd, rel, 64, &buf, NULL, &e) == 0) {
        buf[strcspn(buf, "\n")] = '\0';
        if (valid_link(buf)) {
            snprintf(out, 32, "%s", buf);
            return;
        }
    }
    lb_error_clear(&e);
    struct lb_layer_meta m;
    if (lb_layers_read_meta(root_fd, chain_id, &m, &e) == 0) {
        snprintf(out, 32, "%s", m.link);
        lb_layer_meta_release(&m);
    }
    lb_error_free(e);
}

int lb_layers_remove(int root_fd, const struct lb_digest *chain_id, struct lb_error **err)
{
    _cleanup_free_ char *dir = layer_dir(chain_id);
    _cleanup_free_ char *diff = lb_xasprintf("%s/diff", dir);
    struct stat layers_st, st;
    if (fstatat(root_fd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return lb_error_set(err, errno, "cannot stat '%s'", dir);
    }
    if (fstatat(root_fd, "layers", &layers_st, 0) < 0)
        return lb_error_set(err, errno, "cannot stat 'layers'");
    if (is_mount_point(root_fd, dir, layers_st.st_dev) ||
        is_mount_point(root_fd, diff, layers_st.st_dev))
        return lb_error_set(err, EBUSY,
                            "refusing to remove layer %s: it is mounted (unmount it "
                            "first)",
                            chain_id->str);

    char link[32];
    read_link_name(root_fd, chain_id, link);
    if (link[0] != '\0') {
        /* Only our own link: a name reused by another layer is left alone. */
        _cleanup_free_ char *rel = lb_xasprintf("layers/l/%s", link);
        _cleanup_free_ char *want = lb_xasprintf("../%s/diff", lb_digest_hex(chain_id));
        char target[256];
        ssize_t len = readlinkat(root_fd, rel, target, sizeof(target) - 1);
        if (len >= 0) {
            target[len] = '\0';
            if (strcmp(target, want) == 0 && unlinkat(root_fd, rel, 0) < 0 && errno != ENOENT)
                return lb_error_set(err, errno, "cannot remove short link '%s'", rel);
        }
    }
    if (lb_rm_tree_at(root_fd, dir, err) < 0)
        return lb_error_wrap(err, "removing layer %s", chain_id->str);
    char c12[13];
    lb_explain("layer", "removed layer %s… (%s%s%s)", short12(c12, chain_id), dir,
               link[0] ? " and l/" : "", link);
    return lb_fsync_dir_at(root_fd, "layers", err);
}

/* --- chains -------------------------------------------------------------------------------- */

int lb_layers_open_chain(int root_fd, const struct lb_digest *chain_id, int **fds, size_t *n,
                         struct lb_error **err)
{
    *fds = NULL;
    *n = 0;
    int *v = NULL;
    size_t nv = 0;
    struct lb_digest cur = *chain_id, child = {{0}};
    for (;;) {
        if (nv >= LB_LAYER_MAX_CHAIN) {
            lb_error_setk(err, LB_EKIND_INVALID, 0,
                          "layer %s: more than %d parent layers (a loop in meta.json?)",
                          chain_id->str, LB_LAYER_MAX_CHAIN);
            goto fail;
        }
        if (!lb_layers_exists(root_fd, &cur)) {
            if (nv == 0)
                lb_error_setk(err, LB_EKIND_NOT_FOUND, ENOENT, "layer %s is not unpacked", cur.str);
            else
                lb_error_setk(err, LB_EKIND_NOT_FOUND, ENOENT,
                              "parent layer %s of layer %s is not unpacked", cur.str, child.str);
            goto fail;
        }
        struct lb_layer_meta m;
        if (lb_layers_read_meta(root_fd, &cur, &m, err) < 0)
            goto fail;
        struct lb_digest want;
        lb_chain_id_next(&want, m.has_parent ? &m.parent : NULL, &m.diff_id);
        bool ok = lb_digest_equal(&want, &cur);
        bool has_parent = m.has_parent;
        struct lb_digest parent = m.parent;
        lb_layer_meta_release(&m);
        if (!ok) {
            lb_error_setk(err, LB_EKIND_INVALID, 0,
                          "layer %s: its meta.json's parent and diff_id give chain ID %s", cur.str,
                          want.str);
            goto fail;
        }
        _cleanup_free_ char *diff = lb_layers_diff_relpath(&cur);
        int fd = openat(root_fd, diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            lb_error_set(err, errno, "cannot open '%s'", diff);
            goto fail;
        }
        v = lb_xrealloc(v, (nv + 1) * sizeof(*v));
        v[nv++] = fd;
        if (!has_parent)
            break;
        child = cur;
        cur = parent;
    }
    *fds = v;
    *n = nv;
    return 0;
fail:
    close_all(v, nv);
    return -1;
}
