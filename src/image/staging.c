/* staging.c — the first half of `load`: an archive's files, staged in ROOT/tmp and found by name,
 * and its layers unpacked in the same pass.
 *
 * The concept: a tar is a stream, and its table of contents (manifest.json, index.json) may come
 * after the files it describes. So the loader reads the tar once, front to back, and writes every
 * regular file into ROOT/tmp through a blob writer that hashes while it writes; what stays in
 * memory is only a table "name in the archive → staged file (digest, size)". A file whose first
 * bytes say "layer" (gzip or zstd magic, or a tar header) is also unpacked on the way: its bytes
 * go through layer/unpack.h into ROOT/tmp/layer-XXXX while they are copied to the blob writer, so
 * a 500 MB layer is read once, not once to verify and again to unpack. Whether it really is one
 * of the image's layers is only known when the table of contents is read; a file that looked like
 * a layer but cannot be unpacked keeps its error, reported only if an image uses it as a layer.
 * A file named blobs/sha256/<hex> that the store has already is not read at all: its bytes are
 * the store's (content addressing), which is what makes loading a second image that shares a big
 * base layer cheap.
 *
 * Links (docker's legacy layout shares a layer between images with a symlink) are remembered as
 * links and followed on lookup, never outside the archive. An OCI layout directory needs no pass:
 * a file is staged the first time it is asked for, opened without following symlinks.
 *
 * Sits on libarchive (tar reader, any compression), image/store's staging writer and
 * archive.c's lb_archive_unpack.
 * Interface: lb_archive_path_normalise, lb_staging_read_tar, lb_staging_lookup,
 *            lb_staging_require, lb_staging_read_json, lb_staging_open, lb_staging_unpack,
 *            lb_staging_release
 */
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"
#include "image/archive_internal.h"
#include "layer/driver.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* More entries than any real image archive has; a bound on what a hostile tar can make us track. */
#define MAX_ENTRIES   100000
#define MAX_LINK_HOPS 16
/* Enough of a file to tell a layer: compression magic, or the "ustar" of a tar header at 257. */
#define PEEK 512

/* Split on '/', drop "" and "." components; ".." pops (and escaping the root gives NULL unless
 * keep_dotdot, which keeps them so that the caller can refuse them by name). */
char *lb_archive_path_normalise(const char *dir, const char *path, bool keep_dotdot)
{
    _cleanup_free_ char *joined = dir && *dir ? lb_xasprintf("%s/%s", dir, path) : lb_xstrdup(path);
    _cleanup_strv_ char **parts = lb_xmalloc(sizeof(char *));
    size_t n = 0;
    for (char *s = joined; *s;) {
        size_t len = strcspn(s, "/");
        char saved = s[len];
        s[len] = '\0';
        if (len == 0 || strcmp(s, ".") == 0) {
            /* skip */
        } else if (strcmp(s, "..") == 0 && !keep_dotdot) {
            if (n == 0)
                return NULL;
            free(parts[--n]);
            parts[n] = NULL;
        } else {
            lb_strv_push(&parts, s);
            n++;
        }
        s[len] = saved;
        s += len + (saved ? 1 : 0);
    }
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    for (size_t i = 0; i < n; i++)
        lb_strbuf_addf(&sb, "%s%s", i ? "/" : "", parts[i]);
    return lb_strbuf_detach(&sb);
}

/* --- the table ----------------------------------------------------------------------------- */

static struct lb_staged *table_get(struct lb_staging *g, const char *name)
{
    for (size_t i = g->n; i-- > 0;)
        if (strcmp(g->v[i]->name, name) == 0)
            return g->v[i];
    return NULL;
}

/* Forget what an entry held (its staged file, its unpacked layer), keeping its name. */
static void staged_clear(struct lb_staging *g, struct lb_staged *st)
{
    lb_blob_writer_abort(&st->w);
    memset(&st->w, 0, sizeof(st->w));
    st->w.fd = -1;
    lb_unpacked_release(g->store, &st->spare);
    lb_error_free(st->not_layer);
    st->not_layer = NULL;
    free(st->link);
    st->link = NULL;
    st->escapes = st->in_store = st->published = st->layer_known = false;
    st->layer_size = -1;
}

static struct lb_staged *table_add(struct lb_staging *g, const char *name, struct lb_error **err)
{
    struct lb_staged *old = table_get(g, name);
    if (old) { /* a later entry of the same name replaces the earlier one, as tar extraction does */
        staged_clear(g, old);
        return old;
    }
    if (g->n >= MAX_ENTRIES) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s has more than %d entries", g->what,
                      MAX_ENTRIES);
        return NULL;
    }
    struct lb_staged *st = lb_xmalloc(sizeof(*st));
    st->name = lb_xstrdup(name);
    st->w.fd = -1;
    st->layer_size = -1;
    g->v = lb_xrealloc(g->v, (g->n + 1) * sizeof(*g->v));
    g->v[g->n++] = st;
    return st;
}

/* Where st's bytes are, relative to the store root (caller frees). */
static char *staged_relpath(const struct lb_staged *st)
{
    if (st->in_store || st->published || st->w.tmp_relpath == NULL)
        return lb_store_blob_relpath(&st->w.digest);
    return lb_xstrdup(st->w.tmp_relpath);
}

/* A name that promises its content (blobs/sha256/<hex>) for a blob the store has: *d = it. */
static bool in_store_by_name(struct lb_staging *g, const char *name, struct lb_digest *d)
{
    if (!lb_str_has_prefix(name, "blobs/sha256/"))
        return false;
    struct lb_error *e = NULL;
    if (lb_digest_from_hex(d, name + strlen("blobs/sha256/"), &e) < 0) {
        lb_error_free(e);
        return false;
    }
    return lb_store_has_blob(g->store, d);
}

static int mark_in_store(struct lb_staging *g, struct lb_staged *st, const struct lb_digest *d,
                         int64_t archive_size, struct lb_error **err)
{
    _cleanup_free_ char *rel = lb_store_blob_relpath(d);
    struct stat s;
    if (fstatat(g->store->root_fd, rel, &s, AT_SYMLINK_NOFOLLOW) < 0)
        return lb_error_set(err, errno, "cannot stat '%s'", rel);
    st->in_store = true;
    st->w.digest = *d;
    st->w.size = (int64_t)s.st_size;
    char hs[32];
    lb_explain(
        "load",
        "'%s' is named by its digest and the store has that blob already: not read, the "
        "store's copy stands for it (%s skipped)",
        st->name,
        lb_human_size(hs, sizeof(hs), (double)(archive_size >= 0 ? archive_size : s.st_size)));
    return 0;
}

/* --- a file's bytes as one stream -------------------------------------------------------- */

/* Returns the next block of a file and its offset in the file: bytes, 0 at the end, -1 (err). */
typedef la_ssize_t (*block_fn)(void *data, const void **buf, int64_t *off, struct lb_error **err);

/* The bytes of one file, in order: blocks from libarchive (a tar entry) or read() (a layout
 * directory), holes of a sparse entry as zeros, and the first PEEK bytes read ahead to tell a
 * layer. Every byte is handed out once, to the unpacker's stream or to the blob writer. */
struct entry_reader {
    block_fn next;
    void *data;
    int64_t total; /* the file's size when known (a sparse file may end in a hole), or -1 */
    int64_t pos;   /* bytes handed out so far by raw_read */
    const unsigned char *cur;
    size_t cur_len;
    int64_t cur_off;
    bool eof;
    bool failed;          /* the archive itself could not be read: err says why */
    struct lb_error *err; /* owned; set by `next` (which may run on the unpacker's thread) */
    unsigned char peek[PEEK];
    size_t peek_len, peek_pos;
};

static ssize_t raw_read(struct entry_reader *r, unsigned char *buf, size_t len)
{
    for (;;) {
        if (r->cur_len > 0) {
            if (r->cur_off > r->pos) { /* a hole in a sparse entry */
                int64_t hole = r->cur_off - r->pos;
                size_t z = hole < (int64_t)len ? (size_t)hole : len;
                memset(buf, 0, z);
                r->pos += (int64_t)z;
                return (ssize_t)z;
            }
            size_t k = r->cur_len < len ? r->cur_len : len;
            memcpy(buf, r->cur, k);
            r->cur += k;
            r->cur_len -= k;
            r->cur_off += (int64_t)k;
            r->pos += (int64_t)k;
            return (ssize_t)k;
        }
        if (r->eof) { /* a sparse file may end in a hole */
            if (r->total <= r->pos)
                return 0;
            int64_t hole = r->total - r->pos;
            size_t z = hole < (int64_t)len ? (size_t)hole : len;
            memset(buf, 0, z);
            r->pos += (int64_t)z;
            return (ssize_t)z;
        }
        if (r->failed)
            return -1;
        const void *b = NULL;
        int64_t off = 0;
        la_ssize_t n = r->next(r->data, &b, &off, &r->err);
        if (n < 0) {
            r->failed = true;
            return -1;
        }
        if (n == 0) {
            r->eof = true;
            continue;
        }
        r->cur = b;
        r->cur_len = (size_t)n;
        r->cur_off = off > r->pos ? off : r->pos;
    }
}

/* len > 0. The peeked bytes first, then the rest. */
static ssize_t reader_read(struct entry_reader *r, void *buf, size_t len)
{
    if (r->peek_pos < r->peek_len) {
        size_t k = r->peek_len - r->peek_pos < len ? r->peek_len - r->peek_pos : len;
        memcpy(buf, r->peek + r->peek_pos, k);
        r->peek_pos += k;
        return (ssize_t)k;
    }
    return raw_read(r, buf, len);
}

static int reader_peek(struct entry_reader *r)
{
    while (r->peek_len < PEEK) {
        ssize_t n = raw_read(r, r->peek + r->peek_len, PEEK - r->peek_len);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        r->peek_len += (size_t)n;
    }
    return 0;
}

/* The archive could not be read: that error, not what the unpacker made of it. */
static int reader_error(struct entry_reader *r, struct lb_error **err)
{
    if (r->err == NULL)
        return lb_error_set(err, EIO, "cannot read the archive");
    struct lb_error *e = lb_steal_pointer(&r->err);
    if (err && *err == NULL)
        *err = e;
    else
        lb_error_free(e);
    return -1;
}

/* The unpacker's source: the file's bytes (on the unpacker's reading thread). */
static ssize_t entry_source(void *data, void *buf, size_t len, struct lb_error **err)
{
    ssize_t n = reader_read(data, buf, len);
    if (n < 0)
        return lb_error_set(err, EIO, "the archive could not be read");
    return n;
}

static int writer_sink(void *data, const void *buf, size_t len, struct lb_error **err)
{
    return lb_blob_writer_write(data, buf, len, err);
}

/* gzip or zstd magic, or a tar header: worth unpacking while the bytes go by. */
static bool looks_like_layer(const unsigned char *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return true;
    if (lb_compression_detect(p, n) != LB_COMP_NONE)
        return true;
    return n >= 262 && memcmp(p + 257, "ustar", 5) == 0;
}

static void explain_unpacked(const char *what, const struct lb_unpacked *u, const char *how)
{
    if (!lb_explain_enabled())
        return;
    char s1[20], s2[20], hs[32];
    const struct lb_unpack_result *r = &u->res;
    lb_explain(
        "layer", "unpacked %s (%s, %s in %llu files, %llu entries) into %s%s, blob %s…, DiffID %s…",
        what, lb_compression_name(r->stream.compression),
        lb_human_size(hs, sizeof(hs), (double)r->stats.regular_bytes),
        (unsigned long long)r->stats.files, (unsigned long long)r->stats.entries, u->stage, how,
        lb_short_digest(s1, &r->stream.blob_digest), lb_short_digest(s2, &r->stream.diff_id));
}

static void take_layer_facts(struct lb_staged *st, const struct lb_unpacked *u)
{
    st->layer_known = true;
    st->compression = u->res.stream.compression;
    st->diff_id = u->res.stream.diff_id;
    st->layer_size = (int64_t)u->res.stats.regular_bytes;
}

/* Unpack the file being staged: the bytes the unpacker reads are teed into st's blob writer. A
 * content error is kept in st->not_layer (0 is returned: the file is staged all the same). */
static int unpack_in_pass(struct lb_staging *g, struct lb_staged *st, struct entry_reader *r,
                          struct lb_error **err)
{
    const struct lb_driver *d = NULL;
    if (lb_store_driver(g->store, &d, err) < 0)
        return -1;
    struct lb_layer_stream_opts so = {.source = entry_source,
                                      .source_data = r,
                                      .tee_compressed = writer_sink,
                                      .tee_compressed_data = &st->w,
                                      .threaded = true,
                                      .what = st->name};
    struct lb_error *e = NULL;
    if (lb_archive_unpack(g->store, &so, &st->spare, &e) == 0) {
        take_layer_facts(st, &st->spare);
        _cleanup_free_ char *what = lb_xasprintf("'%s'", st->name);
        explain_unpacked(what, &st->spare, ", while staging its blob");
        return 0;
    }
    if (r->failed) {
        lb_error_free(e);
        return reader_error(r, err);
    }
    if (e != NULL && e->kind == LB_EKIND_INVALID) {
        lb_explain("layer",
                   "'%s' looked like a layer but cannot be unpacked (%s): staged as a plain file; "
                   "an image that uses it as a layer will be refused",
                   st->name, e->msg);
        st->not_layer = e;
        return 0;
    }
    if (e == NULL)
        return lb_error_set(err, EIO, "'%s': cannot unpack", st->name);
    if (err && *err == NULL)
        *err = e;
    else
        lb_error_free(e);
    return -1;
}

/* Stage a file's bytes: into a new blob writer, and through the unpacker when it looks like a
 * layer. */
static int stage_bytes(struct lb_staging *g, struct lb_staged *st, struct entry_reader *r,
                       struct lb_error **err)
{
    if (lb_blob_writer_begin(&st->w, g->store, err) < 0)
        return -1;
    if (reader_peek(r) < 0)
        return reader_error(r, err);
    if (looks_like_layer(r->peek, r->peek_len) && unpack_in_pass(g, st, r, err) < 0)
        return -1;
    /* Whatever the unpacker did not read (all of it, for a file that is not a layer). */
    unsigned char *buf = lb_xmalloc(LB_ARCHIVE_BLOCK);
    ssize_t n;
    int rc = 0;
    while ((n = reader_read(r, buf, LB_ARCHIVE_BLOCK)) > 0)
        if (lb_blob_writer_write(&st->w, buf, (size_t)n, err) < 0) {
            rc = -1;
            break;
        }
    free(buf);
    if (rc < 0)
        return -1;
    if (n < 0)
        return reader_error(r, err);
    if (lb_blob_writer_finish(&st->w, NULL, -1, err) < 0)
        return -1;
    char sd[20];
    lb_explain("load", "staged '%s' (%lld bytes) as %s, hashed while writing: %s…", st->name,
               (long long)st->w.size, st->w.tmp_relpath, lb_short_digest(sd, &st->w.digest));
    return 0;
}

/* --- the tar pass -------------------------------------------------------------------------- */

struct tar_src {
    struct archive *a;
    struct lb_staging *g;
    const char *name;
};

static la_ssize_t tar_src_read(void *data, const void **buf, int64_t *off, struct lb_error **err)
{
    struct tar_src *t = data;
    size_t size = 0;
    la_int64_t o = 0;
    int r = archive_read_data_block(t->a, buf, &size, &o);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: reading '%s': %s", t->g->what, t->name,
                      archive_error_string(t->a));
        return -1;
    }
    *off = o;
    return (la_ssize_t)size;
}

static int stage_entry(struct lb_staging *g, struct archive *a, struct archive_entry *e,
                       struct lb_error **err)
{
    const char *raw = archive_entry_pathname(e);
    if (raw == NULL)
        return 0;
    _cleanup_free_ char *name = lb_archive_path_normalise(NULL, raw, true);
    if (name[0] == '\0')
        return 0;
    const char *hard = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    if (hard == NULL && type != AE_IFREG && type != AE_IFLNK)
        return 0; /* directories and the like carry nothing a loader needs */
    struct lb_staged *st = table_add(g, name, err);
    if (st == NULL)
        return -1;
    if (hard) {
        st->link = lb_archive_path_normalise(NULL, hard, true);
        return 0;
    }
    if (type == AE_IFLNK) {
        const char *target = archive_entry_symlink(e);
        _cleanup_free_ char *dir = lb_xstrdup(name);
        char *slash = strrchr(dir, '/');
        *(slash ? slash : dir) = '\0';
        st->link =
            target && target[0] != '/' ? lb_archive_path_normalise(dir, target, false) : NULL;
        if (st->link == NULL) {
            st->escapes = true;
            st->link = lb_xstrdup(target ? target : "");
        }
        return 0;
    }
    struct lb_digest d;
    if (in_store_by_name(g, name, &d)) {
        if (mark_in_store(g, st, &d, archive_entry_size(e), err) < 0)
            return -1;
        if (archive_read_data_skip(a) != ARCHIVE_OK)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: reading '%s': %s", g->what, name,
                                 archive_error_string(a));
        return 0;
    }
    struct tar_src src = {.a = a, .g = g, .name = name};
    struct entry_reader r = {.next = tar_src_read, .data = &src, .total = archive_entry_size(e)};
    int rc = stage_bytes(g, st, &r, err);
    lb_error_free(r.err);
    return rc;
}

/* The one pass over the tar. */
int lb_staging_read_tar(struct lb_staging *g, int fd, struct lb_error **err)
{
    lb_explain("load",
               "reading %s in one pass: each file goes to ROOT/tmp and is hashed as it is "
               "written, each layer is unpacked on the way; nothing is published until "
               "everything is verified",
               g->what);
    struct archive *a = archive_read_new();
    if (a == NULL)
        lb_oom();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    int rc = 0;
    if (archive_read_open_fd(a, fd, LB_ARCHIVE_BLOCK) != ARCHIVE_OK) {
        struct stat st;
        const char *msg = archive_error_string(a);
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
            rc = lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is empty: not an image archive",
                               g->what);
        else if (msg && strstr(msg, "Unrecognized archive format"))
            rc = lb_error_setk(err, LB_EKIND_INVALID, 0,
                               "%s is not a tar archive (plain, gzip or zstd compressed)", g->what);
        else
            rc = lb_error_setk(err, LB_EKIND_INVALID, 0, "cannot read %s: %s", g->what,
                               msg ? msg : "unknown error");
        archive_read_free(a);
        return rc;
    }
    struct archive_entry *e = NULL;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (stage_entry(g, a, e, err) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a valid tar archive: %s", g->what,
                           archive_error_string(a));
    if (rc == 0 && archive_filter_count(a) > 1)
        lb_explain("load", "the archive was %s-compressed: libarchive decompressed it on the fly",
                   archive_filter_name(a, 0));
    archive_read_free(a);
    return rc;
}

/* An OCI layout directory: files are staged when first asked for, opened component by
 * component without following symlinks so nothing outside the directory can be read. */
static int open_in_dir(int dirfd, const char *name)
{
    _cleanup_free_ char *copy = lb_xstrdup(name);
    _cleanup_close_ int cur = -1;
    char *s = copy;
    for (;;) {
        char *slash = strchr(s, '/');
        if (slash)
            *slash = '\0';
        int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (slash ? O_DIRECTORY : 0);
        int fd = openat(cur >= 0 ? cur : dirfd, s, flags);
        if (fd < 0)
            return -1;
        if (cur >= 0)
            close(cur);
        cur = fd;
        if (slash == NULL)
            break;
        s = slash + 1;
    }
    struct stat st;
    if (fstat(cur, &st) < 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    return lb_steal_fd(&cur);
}

struct fd_src {
    int fd;
    char buf[LB_ARCHIVE_BLOCK];
    int64_t pos;
    const char *name;
};

static la_ssize_t fd_src_read(void *data, const void **buf, int64_t *off, struct lb_error **err)
{
    struct fd_src *f = data;
    ssize_t n = lb_read_full(f->fd, f->buf, sizeof(f->buf), err);
    if (n < 0)
        return lb_error_wrap(err, "reading '%s'", f->name);
    *buf = f->buf;
    *off = f->pos;
    f->pos += n;
    return n;
}

static struct lb_staged *stage_from_dir(struct lb_staging *g, const char *name,
                                        struct lb_error **err)
{
    _cleanup_close_ int fd = open_in_dir(g->dirfd, name);
    if (fd < 0)
        return NULL; /* the caller reports a missing file */
    struct lb_staged *st = table_add(g, name, err);
    if (st == NULL)
        return NULL;
    struct lb_digest d;
    if (in_store_by_name(g, name, &d))
        return mark_in_store(g, st, &d, -1, err) < 0 ? NULL : st;
    struct fd_src *src = lb_xmalloc(sizeof(*src));
    src->fd = fd;
    src->name = name;
    struct entry_reader r = {.next = fd_src_read, .data = src, .total = -1};
    int rc = stage_bytes(g, st, &r, err);
    lb_error_free(r.err);
    free(src);
    return rc < 0 ? NULL : st;
}

/* The staged file called name (links followed), or NULL (err set only on a real error). */
struct lb_staged *lb_staging_lookup(struct lb_staging *g, const char *name, struct lb_error **err)
{
    _cleanup_free_ char *cur = lb_archive_path_normalise(NULL, name, true);
    for (int hop = 0; hop <= MAX_LINK_HOPS; hop++) {
        struct lb_staged *st = table_get(g, cur);
        if (st == NULL)
            return g->dirfd >= 0 ? stage_from_dir(g, cur, err) : NULL;
        if (st->link == NULL)
            return st->w.tmp_relpath || st->published || st->in_store ? st : NULL;
        if (st->escapes) {
            lb_error_setk(err, LB_EKIND_INVALID, 0,
                          "'%s' in %s is a symlink to '%s', outside the archive", st->name, g->what,
                          st->link);
            return NULL;
        }
        char *next = lb_xstrdup(st->link);
        free(cur);
        cur = next;
    }
    lb_error_setk(err, LB_EKIND_INVALID, 0, "too many levels of links at '%s' in %s", name,
                  g->what);
    return NULL;
}

struct lb_staged *lb_staging_require(struct lb_staging *g, const char *name, const char *what,
                                     struct lb_error **err)
{
    struct lb_staged *st = lb_staging_lookup(g, name, err);
    if (st == NULL && (err == NULL || *err == NULL))
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s '%s' is missing from %s", what, name, g->what);
    return st;
}

json_t *lb_staging_read_json(struct lb_staging *g, struct lb_staged *st, const char *what,
                             struct lb_error **err)
{
    if (st->w.size > (int64_t)LB_JSON_MAX_SIZE) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is too large (%lld bytes, limit %u)", what,
                      (long long)st->w.size, LB_JSON_MAX_SIZE);
        return NULL;
    }
    _cleanup_free_ char *rel = staged_relpath(st);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (lb_read_file_at(g->store->root_fd, rel, LB_JSON_MAX_SIZE, &buf, &len, err) < 0)
        return NULL;
    return lb_json_parse(buf, len, what, err);
}

int lb_staging_open(struct lb_staging *g, struct lb_staged *st, struct lb_error **err)
{
    _cleanup_free_ char *rel = staged_relpath(st);
    int fd = openat(g->store->root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open '%s'", rel);
    return fd;
}

int lb_staging_unpack(struct lb_staging *g, struct lb_staged *st, const char *what,
                      struct lb_unpacked *out, struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_close_ int fd = lb_staging_open(g, st, err);
    if (fd < 0)
        return lb_error_wrap(err, "%s", what);
    enum lb_compression c = LB_COMP_NONE;
    const char *other = NULL;
    if (lb_blob_sniff(fd, &c, &other, err) < 0)
        return lb_error_wrap(err, "reading %s", what);
    if (other != NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "%s uses a compression layerbox does not store (%s; only plain, "
                             "gzip and zstd layers)",
                             what, other);
    struct lb_layer_stream_opts so = {
        .source = lb_source_fd, .source_data = &fd, .threaded = true, .what = what};
    if (lb_archive_unpack(g->store, &so, out, err) < 0)
        return -1;
    if (!lb_digest_equal(&out->res.stream.blob_digest, &st->w.digest)) {
        lb_unpacked_release(g->store, out);
        return lb_error_set(err, 0, "%s changed while it was being loaded: it hashes to %s now",
                            what, out->res.stream.blob_digest.str);
    }
    take_layer_facts(st, out);
    _cleanup_free_ char *rel = staged_relpath(st);
    _cleanup_free_ char *how = lb_xasprintf(", read again from %s", rel);
    explain_unpacked(what, out, how);
    return 0;
}

void lb_staging_release(struct lb_staging *g)
{
    for (size_t i = 0; i < g->n; i++) {
        staged_clear(g, g->v[i]);
        free(g->v[i]->name);
        free(g->v[i]);
    }
    free(g->v);
    free(g->what);
    g->v = NULL;
    g->n = 0;
    g->what = NULL;
}
