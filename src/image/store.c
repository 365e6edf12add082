/* store.c — the image store's directory and its blobs: an OCI image layout a student can `ls`.
 *
 * The concept: content addressing. Every manifest, config and layer is a file named by the
 * SHA-256 of its bytes (blobs/sha256/<hex>). Writing one means: stream to tmp/, hash while
 * writing, fsync, rename into place; "already there" is success, because same name = same bytes
 * (git's finalize_object_file). Nothing is ever half-written.
 * Sits on core/fs (atomic writes, rm -r), core/lock (flock) and image/digest.
 * The index (names → manifests) lives in store_index.c.
 *
 * Interface: lb_store_default_root, lb_store_open, lb_store_release, lb_store_lock,
 *            lb_store_unlock, lb_store_driver, lb_store_blob_relpath, lb_store_has_blob,
 *            lb_store_blob_open,
 *            lb_store_blob_read, lb_store_blob_put, lb_blob_writer_begin/write/finish/publish/
 *            commit/abort, lb_store_layer_record, lb_store_layer_size, lb_store_layer_stage,
 *            lb_store_count,
 *            lb_store_set_image_user_check
 */
#include "image/store.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/lock.h"
#include "core/util.h"
#include "layer/driver.h"
#include "layer/layers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
static const char empty_index[] = "{\"schemaVersion\":2,\"manifests\":[]}";

char *lb_store_default_root(void)
{
    const char *env = getenv("LAYERBOX_ROOT");
    if (env && *env)
        return lb_xstrdup(env);
    if (geteuid() == 0)
        return lb_xstrdup("/var/lib/layerbox");
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg && *xdg == '/')
        return lb_path_join(xdg, "layerbox");
    const char *home = getenv("HOME");
    return lb_xasprintf("%s/.local/share/layerbox", home && *home ? home : "/tmp");
}

/* Create the layout's directories and files when missing (first use of a root). */
static int store_init_layout(struct lb_store *s, struct lb_error **err)
{
    static const char *const dirs[] = {"images", "images/blobs", "images/blobs/sha256", "layers",
                                       "tmp"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(dirs); i++)
        if (mkdirat(s->root_fd, dirs[i], 0755) < 0 && errno != EEXIST)
            return lb_error_set(err, errno, "cannot create '%s/%s'", s->root, dirs[i]);
    if (!lb_path_exists_at(s->root_fd, "images/oci-layout") &&
        lb_atomic_write_at(s->root_fd, "images/oci-layout", oci_layout, strlen(oci_layout), 0644,
                           err) < 0)
        return -1;
    if (!lb_path_exists_at(s->root_fd, "images/index.json") &&
        lb_atomic_write_at(s->root_fd, "images/index.json", empty_index, strlen(empty_index), 0644,
                           err) < 0)
        return -1;
    return 0;
}

/* Remove what crashed processes left in tmp/, but only when nobody is staging right now. */
static void store_clean_tmp(struct lb_store *s)
{
    _cleanup_free_ char *path = lb_path_join(s->root, "tmp.lock");
    struct lb_error *e = NULL;
    int fd = lb_lock_try(path, true, &e);
    lb_error_free(e);
    if (fd < 0)
        return; /* someone is staging: their files are not leftovers */
    _cleanup_close_ int dfd = openat(s->root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (d != NULL) {
        dfd = -1; /* owned by d now */
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            _cleanup_free_ char *rel = lb_xasprintf("tmp/%s", de->d_name);
            e = NULL;
            lb_rm_tree_at(s->root_fd, rel, &e);
            lb_error_free(e);
            lb_explain("store", "removed leftover staging entry %s", rel);
        }
        closedir(d);
    }
    lb_lock_release(fd);
}

int lb_store_open(struct lb_store *s, const char *root, struct lb_error **err)
{
    memset(s, 0, sizeof(*s));
    s->root_fd = s->lock_fd = s->tmp_lock_fd = -1;
    if (root == NULL || *root == '\0')
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "the store root must not be empty");
    if (lb_mkdir_p(root, 0700, err) < 0)
        return lb_error_wrap(err, "cannot create store root");
    char real[PATH_MAX];
    if (realpath(root, real) == NULL)
        return lb_error_set(err, errno, "cannot resolve store root '%s'", root);
    s->root = lb_xstrdup(real);
    s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->root_fd < 0) {
        int saved = errno;
        lb_store_release(s);
        return lb_error_set(err, saved, "cannot open store root '%s'", root);
    }
    if (store_init_layout(s, err) < 0) {
        lb_store_release(s);
        return -1;
    }
    store_clean_tmp(s);
    return 0;
}

void lb_store_release(struct lb_store *s)
{
    for (size_t i = 0; i < s->n_memo; i++)
        free(s->memo[i].data);
    free(s->memo);
    s->memo = NULL;
    s->n_memo = 0;
    lb_lock_release(s->tmp_lock_fd);
    lb_lock_release(s->lock_fd);
    if (s->root_fd >= 0)
        close(s->root_fd);
    free(s->root);
    s->root = NULL;
    s->root_fd = s->lock_fd = s->tmp_lock_fd = -1;
    s->lock_depth = 0;
}

int lb_store_lock(struct lb_store *s, struct lb_error **err)
{
    if (s->lock_depth++ > 0)
        return 0;
    _cleanup_free_ char *path = lb_path_join(s->root, "lock");
    s->lock_fd = lb_lock_acquire(path, true, err);
    if (s->lock_fd < 0) {
        s->lock_depth = 0;
        return -1;
    }
    return 0;
}

void lb_store_unlock(struct lb_store *s)
{
    if (s->lock_depth == 0 || --s->lock_depth > 0)
        return;
    lb_lock_release(s->lock_fd);
    s->lock_fd = -1;
}

int lb_store_driver(struct lb_store *s, const struct lb_driver **out, struct lb_error **err)
{
    if (s->driver == NULL) {
        _cleanup_free_ char *why = NULL;
        const struct lb_driver *d = NULL;
        if (lb_driver_select(s->root_fd, s->root, s->requested_driver, &d, &why, err) < 0)
            return -1;
        s->driver = d;
        lb_explain("driver", "%s", why);
    }
    *out = s->driver;
    return 0;
}

void lb_store_set_image_user_check(struct lb_store *s, lb_image_user_fn fn, void *data)
{
    s->user_fn = fn;
    s->user_data = data;
}

/* --- blobs ------------------------------------------------------------------------------- */

char *lb_store_blob_relpath(const struct lb_digest *d)
{
    return lb_xasprintf("images/blobs/sha256/%s", lb_digest_hex(d));
}

bool lb_store_has_blob(struct lb_store *s, const struct lb_digest *d)
{
    _cleanup_free_ char *rel = lb_store_blob_relpath(d);
    struct stat st;
    return fstatat(s->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int lb_store_blob_open(struct lb_store *s, const struct lb_digest *d, struct lb_error **err)
{
    _cleanup_free_ char *rel = lb_store_blob_relpath(d);
    int fd = openat(s->root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int saved = errno;
        return lb_error_setk(err, saved == ENOENT ? LB_EKIND_NOT_FOUND : LB_EKIND_GENERIC, saved,
                             "cannot open blob %s", d->str);
    }
    return fd;
}

static const struct lb_blob_memo *memo_find(const struct lb_store *s, const struct lb_digest *d)
{
    for (size_t i = 0; i < s->n_memo; i++)
        if (lb_digest_equal(&s->memo[i].digest, d))
            return &s->memo[i];
    return NULL;
}

static void memo_add(struct lb_store *s, const struct lb_digest *d, const char *data, size_t len)
{
    if (len > LB_BLOB_MEMO_MAX_SIZE || s->n_memo >= LB_BLOB_MEMO_MAX)
        return;
    if (s->memo == NULL)
        s->memo = lb_xmalloc(LB_BLOB_MEMO_MAX * sizeof(*s->memo));
    struct lb_blob_memo *m = &s->memo[s->n_memo++];
    m->digest = *d;
    m->data = lb_xmalloc(len + 1);
    memcpy(m->data, data, len + 1); /* with the NUL lb_read_file_at put after the bytes */
    m->len = len;
}

int lb_store_blob_read(struct lb_store *s, const struct lb_digest *d, size_t max, char **out,
                       size_t *len, struct lb_error **err)
{
    const struct lb_blob_memo *m = memo_find(s, d);
    if (m != NULL && m->len <= max) {
        *out = lb_xmalloc(m->len + 1);
        memcpy(*out, m->data, m->len + 1);
        if (len)
            *len = m->len;
        return 0;
    }
    _cleanup_free_ char *rel = lb_store_blob_relpath(d);
    _cleanup_free_ char *buf = NULL;
    size_t n = 0;
    if (lb_read_file_at(s->root_fd, rel, max, &buf, &n, err) < 0)
        return lb_error_wrap(err, "reading blob %s", d->str);
    struct lb_digest got;
    lb_digest_buffer(&got, buf, n);
    if (!lb_digest_equal(&got, d))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "blob %s is corrupt: its content hashes to %s", d->str, got.str);
    memo_add(s, d, buf, n);
    if (len)
        *len = n;
    *out = lb_steal_pointer(&buf);
    return 0;
}

int lb_store_blob_put(struct lb_store *s, struct lb_digest *out, const void *data, size_t len,
                      struct lb_error **err)
{
    struct lb_blob_writer w = {0};
    if (lb_blob_writer_begin(&w, s, err) < 0)
        return -1;
    if (lb_blob_writer_write(&w, data, len, err) < 0 ||
        lb_blob_writer_commit(&w, out, NULL, -1, err) < 0) {
        lb_blob_writer_abort(&w);
        return -1;
    }
    lb_blob_writer_abort(&w); /* frees the writer's strings; the blob is published */
    return 0;
}

/* Take the shared staging lock once per process, so that no other process's lb_store_open
 * clears tmp/ under our feet. */
static int store_hold_tmp(struct lb_store *s, struct lb_error **err)
{
    if (s->tmp_lock_fd >= 0)
        return 0;
    _cleanup_free_ char *path = lb_path_join(s->root, "tmp.lock");
    s->tmp_lock_fd = lb_lock_acquire(path, false, err);
    return s->tmp_lock_fd < 0 ? -1 : 0;
}

int lb_blob_writer_begin(struct lb_blob_writer *w, struct lb_store *s, struct lb_error **err)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    w->store = s;
    if (store_hold_tmp(s, err) < 0)
        return -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned long long r = 0;
        if (getrandom(&r, sizeof(r), 0) < 0)
            r = (unsigned long long)attempt;
        _cleanup_free_ char *rel = lb_xasprintf("tmp/blob-%d-%012llx", (int)getpid(),
                                                (r + (unsigned)attempt) & 0xffffffffffffULL);
        w->fd = openat(s->root_fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (w->fd >= 0) {
            w->tmp_relpath = lb_steal_pointer(&rel);
            lb_sha256_init(&w->hash);
            return 0;
        }
        if (errno != EEXIST)
            return lb_error_set(err, errno, "cannot create staging file in '%s/tmp'", s->root);
    }
    return lb_error_set(err, EEXIST, "cannot create a staging file in '%s/tmp'", s->root);
}

int lb_blob_writer_write(struct lb_blob_writer *w, const void *data, size_t len,
                         struct lb_error **err)
{
    lb_sha256_update(&w->hash, data, len);
    if (lb_write_all(w->fd, data, len, err) < 0)
        return lb_error_wrap(err, "staging blob");
    return 0;
}

int lb_blob_writer_finish(struct lb_blob_writer *w, const struct lb_digest *expected,
                          int64_t expected_size, struct lb_error **err)
{
    w->size = (int64_t)w->hash.bytes;
    lb_sha256_final(&w->hash, &w->digest);
    w->finished = 1;
    if (fsync(w->fd) < 0)
        return lb_error_set(err, errno, "cannot sync staged blob");
    close(w->fd);
    w->fd = -1;
    if (expected_size >= 0 && w->size != expected_size)
        return lb_error_setk(
            err, LB_EKIND_INVALID, 0, "size mismatch for blob %s: expected %lld bytes, got %lld",
            expected ? expected->str : w->digest.str, (long long)expected_size, (long long)w->size);
    if (expected && !lb_digest_equal(expected, &w->digest))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "digest mismatch: expected %s, content hashes to %s", expected->str,
                             w->digest.str);
    return 0;
}

int lb_blob_writer_publish(struct lb_blob_writer *w, struct lb_error **err)
{
    struct lb_store *s = w->store;
    _cleanup_free_ char *rel = lb_store_blob_relpath(&w->digest);
    if (lb_store_has_blob(s, &w->digest)) {
        unlinkat(s->root_fd, w->tmp_relpath, 0);
    } else if (renameat(s->root_fd, w->tmp_relpath, s->root_fd, rel) < 0) {
        return lb_error_set(err, errno, "cannot publish blob %s", w->digest.str);
    } else {
        lb_explain("store", "stored blob %s (%lld bytes) as %s", w->digest.str, (long long)w->size,
                   rel);
    }
    free(w->tmp_relpath);
    w->tmp_relpath = NULL;
    return lb_fsync_dir_at(s->root_fd, "images/blobs/sha256", err);
}

int lb_blob_writer_commit(struct lb_blob_writer *w, struct lb_digest *out,
                          const struct lb_digest *expected, int64_t expected_size,
                          struct lb_error **err)
{
    if (lb_blob_writer_finish(w, expected, expected_size, err) < 0 ||
        lb_blob_writer_publish(w, err) < 0)
        return -1;
    if (out)
        *out = w->digest;
    return 0;
}

void lb_blob_writer_abort(struct lb_blob_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (!w->finished)
        lb_sha256_release(&w->hash);
    if (w->tmp_relpath && w->store)
        unlinkat(w->store->root_fd, w->tmp_relpath, 0);
    free(w->tmp_relpath);
    w->tmp_relpath = NULL;
}

/* --- layer records ----------------------------------------------------------------------- */

int lb_store_layer_record(struct lb_store *s, const struct lb_digest *chain_id,
                          const struct lb_digest *parent_chain, const struct lb_digest *diff_id,
                          int64_t size, struct lb_error **err)
{
    struct lb_layer_meta m = {.chain_id = *chain_id, .diff_id = *diff_id, .size = size};
    if (parent_chain) {
        m.has_parent = true;
        m.parent = *parent_chain;
    }
    return lb_layers_record(s->root_fd, &m, err);
}

int64_t lb_store_layer_size(struct lb_store *s, const struct lb_digest *chain_id)
{
    struct lb_layer_meta m;
    struct lb_error *e = NULL;
    if (lb_layers_read_meta(s->root_fd, chain_id, &m, &e) < 0) {
        lb_error_free(e);
        return -1;
    }
    int64_t size = m.size >= 0 ? m.size : -1;
    lb_layer_meta_release(&m);
    return size;
}

int lb_store_layer_stage(struct lb_store *s, char **stage_rel, int *diff_fd, struct lb_error **err)
{
    if (store_hold_tmp(s, err) < 0)
        return -1;
    return lb_layers_stage(s->root_fd, stage_rel, diff_fd, err);
}

/* --- counts ------------------------------------------------------------------------------ */

static size_t count_entries(struct lb_store *s, const char *rel, int64_t *bytes)
{
    _cleanup_close_ int fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (d == NULL)
        return 0;
    fd = -1;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        n++;
        struct stat st;
        if (bytes && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            *bytes += st.st_size;
    }
    closedir(d);
    return n;
}

int lb_store_count(struct lb_store *s, struct lb_store_counts *out, struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    struct lb_image **imgs = NULL;
    size_t n = 0;
    if (lb_store_list_images(s, &imgs, &n, err) < 0)
        return -1;
    lb_image_list_free(imgs, n);
    out->images = n;
    out->blobs = count_entries(s, "images/blobs/sha256", &out->blob_bytes);
    out->layers = lb_layers_count(s->root_fd); /* not layers/l, the short links */
    return 0;
}
