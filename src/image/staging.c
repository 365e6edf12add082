/* staging.c — the first half of `load`: an archive's files, staged in ROOT/tmp and found by name.
 *
 * The concept: a tar is a stream, and its table of contents (manifest.json, index.json) may come
 * after the files it describes. So the loader reads the tar once, front to back, and writes every
 * regular file into ROOT/tmp through a blob writer that hashes while it writes; what stays in
 * memory is only a table "name in the archive → staged file (digest, size)". Links (docker's
 * legacy layout shares a layer between images with a symlink) are remembered as links and
 * followed on lookup, never outside the archive. An OCI layout directory needs no pass: a file is
 * staged the first time it is asked for, opened without following symlinks.
 *
 * Sits on libarchive (tar reader, any compression) and image/store's staging writer.
 * Interface: lb_archive_path_normalise, lb_staging_read_tar, lb_staging_lookup,
 *            lb_staging_require, lb_staging_read_json, lb_staging_release
 */
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"
#include "image/archive_internal.h"

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

/* --- staging ----------------------------------------------------------------------------- */

static struct lb_staged *table_get(struct lb_staging *g, const char *name)
{
    for (size_t i = g->n; i-- > 0;)
        if (strcmp(g->v[i]->name, name) == 0)
            return g->v[i];
    return NULL;
}

static struct lb_staged *table_add(struct lb_staging *g, const char *name, struct lb_error **err)
{
    struct lb_staged *old = table_get(g, name);
    if (old) { /* a later entry of the same name replaces the earlier one, as tar extraction does */
        lb_blob_writer_abort(&old->w);
        free(old->link);
        old->link = NULL;
        old->escapes = false;
        memset(&old->w, 0, sizeof(old->w));
        old->w.fd = -1;
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
    g->v = lb_xrealloc(g->v, (g->n + 1) * sizeof(*g->v));
    g->v[g->n++] = st;
    return st;
}

static int write_zeros(struct lb_blob_writer *w, int64_t n, struct lb_error **err)
{
    static const char zeros[4096];
    while (n > 0) {
        size_t z = n > (int64_t)sizeof(zeros) ? sizeof(zeros) : (size_t)n;
        if (lb_blob_writer_write(w, zeros, z, err) < 0)
            return -1;
        n -= (int64_t)z;
    }
    return 0;
}

/* Copy a file's bytes into a new staging writer; src returns bytes (at offset *off), 0 at the
 * end, -1 on error. total: the file's size when known (a sparse file may end in a hole), or -1. */
static int stage_bytes(struct lb_staging *g, struct lb_staged *st,
                       la_ssize_t (*src)(void *data, const void **buf, int64_t *off), void *data,
                       int64_t total, struct lb_error **err)
{
    if (lb_blob_writer_begin(&st->w, g->store, err) < 0)
        return -1;
    int64_t pos = 0, off = 0;
    const void *buf = NULL;
    la_ssize_t n;
    while ((n = src(data, &buf, &off)) > 0) {
        if (off > pos && write_zeros(&st->w, off - pos, err) < 0) /* a hole in a sparse entry */
            return -1;
        pos = off > pos ? off : pos;
        if (lb_blob_writer_write(&st->w, buf, (size_t)n, err) < 0)
            return -1;
        pos += n;
    }
    if (n < 0 || (total > pos && write_zeros(&st->w, total - pos, err) < 0))
        return -1;
    if (lb_blob_writer_finish(&st->w, NULL, -1, err) < 0)
        return -1;
    char sd[20];
    lb_explain("load", "staged '%s' (%lld bytes) as %s, hashed while writing: %s…", st->name,
               (long long)st->w.size, st->w.tmp_relpath, lb_short_digest(sd, &st->w.digest));
    return 0;
}

struct tar_src {
    struct archive *a;
    struct lb_staging *g;
    const char *name;
    struct lb_error **err;
};

static la_ssize_t tar_src_read(void *data, const void **buf, int64_t *off)
{
    struct tar_src *t = data;
    size_t size = 0;
    la_int64_t o = 0;
    int r = archive_read_data_block(t->a, buf, &size, &o);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        lb_error_setk(t->err, LB_EKIND_INVALID, 0, "%s: reading '%s': %s", t->g->what, t->name,
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
    struct tar_src src = {.a = a, .g = g, .name = name, .err = err};
    return stage_bytes(g, st, tar_src_read, &src, archive_entry_size(e), err);
}

/* The one pass over the tar. */
int lb_staging_read_tar(struct lb_staging *g, int fd, struct lb_error **err)
{
    lb_explain("load",
               "reading %s in one pass: each file goes to ROOT/tmp and is hashed as it is "
               "written; nothing is published until everything is verified",
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
    struct lb_error **err;
};

static la_ssize_t fd_src_read(void *data, const void **buf, int64_t *off)
{
    struct fd_src *f = data;
    ssize_t n = lb_read_full(f->fd, f->buf, sizeof(f->buf), f->err);
    if (n < 0)
        return lb_error_wrap(f->err, "reading '%s'", f->name);
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
    struct fd_src *src = lb_xmalloc(sizeof(*src));
    src->fd = fd;
    src->name = name;
    src->err = err;
    int r = stage_bytes(g, st, fd_src_read, src, -1, err);
    free(src);
    return r < 0 ? NULL : st;
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
            return st->w.tmp_relpath || st->published ? st : NULL;
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
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (lb_read_file_at(g->store->root_fd, st->w.tmp_relpath, LB_JSON_MAX_SIZE, &buf, &len, err) <
        0)
        return NULL;
    return lb_json_parse(buf, len, what, err);
}

void lb_staging_release(struct lb_staging *g)
{
    for (size_t i = 0; i < g->n; i++) {
        lb_blob_writer_abort(&g->v[i]->w);
        free(g->v[i]->name);
        free(g->v[i]->link);
        free(g->v[i]);
    }
    free(g->v);
    free(g->what);
    g->v = NULL;
    g->n = 0;
    g->what = NULL;
}
