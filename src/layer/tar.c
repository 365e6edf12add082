/* tar.c — a small POSIX pax tar writer: 512-byte ustar headers, a pax 'x' header in front of an
 * entry only when ustar cannot say something, two zero blocks at the end.
 *
 * Why our own: libarchive's pax writer cannot be linked statically without its whole table of
 * writers (xar → libxml2 → ICU, C++). Reading stays with libarchive. The shape of the output is
 * documented in tar.h; it is what Go's archive/tar and docker write, with libarchive's names for
 * pax headers ("dir/PaxHeader/base") and its hdrcharset=BINARY for names that are not UTF-8.
 *
 * Sits on: core/fs.h (lb_write_all), core/util.h (strbuf).
 * Interface: lb_tar_writer_init, lb_tar_writer_release, lb_tar_write_header, lb_tar_write_data,
 *            lb_tar_write_file, lb_tar_flush, lb_tar_finish
 */
#include "layer/tar.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define TAR_BUF      (64U * 1024)  /* output buffer: few syscalls for many small entries */
#define TAR_COPY     (128U * 1024) /* lb_tar_write_file's read size */
#define NAME_LEN     100
#define PREFIX_LEN   155
#define MAX_OCTAL_11 077777777777LL /* size and mtime: 11 digits */
#define MAX_OCTAL_7  07777777U      /* uid, gid, devmajor, devminor: 7 digits */

/* Offsets of the ustar header fields (POSIX.1-1988). */
enum {
    H_NAME = 0,
    H_MODE = 100,
    H_UID = 108,
    H_GID = 116,
    H_SIZE = 124,
    H_MTIME = 136,
    H_CHKSUM = 148,
    H_TYPE = 156,
    H_LINKNAME = 157,
    H_MAGIC = 257,
    H_VERSION = 263,
    H_DEVMAJOR = 329,
    H_DEVMINOR = 337,
    H_PREFIX = 345,
};

static const char zeros[2 * LB_TAR_BLOCK];

/* ---- output ---- */

static const char *what(const struct lb_tar_writer *w)
{
    return w->what ? w->what : "tar";
}

/* Write the buffer out; 0 or an errno value. Any failure is final. */
static int flush_raw(struct lb_tar_writer *w)
{
    if (w->used == 0)
        return 0;
    struct lb_error *e = NULL;
    if (lb_write_all(w->fd, w->buf, w->used, &e) < 0) {
        int code = e->code ? e->code : EIO;
        lb_error_free(e);
        w->failed = true;
        w->used = 0;
        return code;
    }
    w->used = 0;
    return 0;
}

/* Append n bytes to the tar; 0 or an errno value. */
static int emit(struct lb_tar_writer *w, const void *p, size_t n)
{
    if (w->used + n > TAR_BUF) {
        int e = flush_raw(w);
        if (e)
            return e;
        if (n >= TAR_BUF) {
            struct lb_error *le = NULL;
            if (lb_write_all(w->fd, p, n, &le) < 0) {
                e = le->code ? le->code : EIO;
                lb_error_free(le);
                w->failed = true;
                return e;
            }
            w->offset += n;
            return 0;
        }
    }
    memcpy(w->buf + w->used, p, n);
    w->used += n;
    w->offset += n;
    return 0;
}

static int write_error(struct lb_tar_writer *w, const char *path, int code, struct lb_error **err)
{
    return lb_error_set(err, code, "cannot write '%s' into the %s", path, what(w));
}

/* Every call starts here: refused after a failure or the end of the archive. */
static int usable(const struct lb_tar_writer *w, const char *path, struct lb_error **err)
{
    if (w->failed)
        return lb_error_set(err, 0, "cannot write '%s' into the %s: an earlier write failed", path,
                            what(w));
    if (w->finished)
        return lb_error_set(err, 0, "cannot write '%s' into the %s: the archive is finished", path,
                            what(w));
    return 0;
}

int lb_tar_writer_init(struct lb_tar_writer *w, int fd, const char *name, struct lb_error **err)
{
    memset(w, 0, sizeof(*w));
    w->fd = fd;
    w->what = name;
    w->buf = lb_xmalloc(TAR_BUF);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
        w->failed = true;
        return lb_error_set(err, fl < 0 ? errno : EBADF, "cannot write the %s to fd %d", what(w),
                            fd);
    }
    return 0;
}

void lb_tar_writer_release(struct lb_tar_writer *w)
{
    free(w->buf);
    free(w->copy);
    free(w->entry);
    w->buf = w->copy = w->entry = NULL;
    w->used = 0;
}

int lb_tar_flush(struct lb_tar_writer *w, struct lb_error **err)
{
    const char *path = w->entry ? w->entry : "";
    if (w->failed)
        return usable(w, path, err);
    int e = flush_raw(w);
    return e ? write_error(w, path, e, err) : 0;
}

/* ---- names ---- */

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static bool is_utf8(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        size_t n;
        unsigned min;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, c &= 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false; /* also stops at the NUL */
            c = (c << 6) | (s[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        s += n + 1;
    }
    return true;
}

/* Where to split path into prefix "/" name for ustar: the index of the '/', 0 when the path fits
 * the name field alone, -1 when it cannot be said in ustar. Like libarchive, the longest name
 * that fits (the shortest prefix); neither part may be empty. */
static ssize_t ustar_split(const char *path, size_t len)
{
    if (len <= NAME_LEN)
        return 0;
    const char *s = memchr(path + len - NAME_LEN - 1, '/', NAME_LEN + 1);
    if (s == path)
        s = memchr(s + 1, '/', len - 1);
    if (s == NULL || s[1] == '\0' || (size_t)(s - path) > PREFIX_LEN)
        return -1;
    return s - path;
}

/* Fill name and prefix: split when possible, else the first 100 bytes (a pax record then holds
 * the real path). Returns whether the path fits. */
static bool put_name(char *blk, const char *path)
{
    size_t len = strlen(path);
    ssize_t at = ustar_split(path, len);
    if (at > 0) {
        memcpy(blk + H_PREFIX, path, (size_t)at);
        memcpy(blk + H_NAME, path + at + 1, len - (size_t)at - 1);
    } else {
        memcpy(blk + H_NAME, path, len < NAME_LEN ? len : NAME_LEN);
    }
    return at >= 0;
}

/* "dir/PaxHeader/base" (a directory's trailing '/' dropped), or "PaxHeader/base" with base cut
 * to fit when that is too long: readers ignore this name, but it must be a sane one. */
static char *pax_name(const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    const char *slash = memrchr(path, '/', len);
    size_t dirlen = slash ? (size_t)(slash - path) : 0;
    const char *base = slash ? slash + 1 : path;
    size_t baselen = len - (size_t)(base - path);
    char *full = slash ? lb_xasprintf("%.*s/PaxHeader/%.*s", (int)dirlen, path, (int)baselen, base)
                       : lb_xasprintf("PaxHeader/%.*s", (int)baselen, base);
    if (ustar_split(full, strlen(full)) >= 0)
        return full;
    free(full);
    size_t room = NAME_LEN - strlen("PaxHeader/");
    return lb_xasprintf("PaxHeader/%.*s", (int)(baselen < room ? baselen : room), base);
}

/* ---- headers ---- */

/* width includes the terminating NUL: width-1 octal digits. The value must fit. */
static void put_octal(char *field, size_t width, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), (unsigned long long)v);
    memcpy(field, tmp, width); /* the digits and snprintf's NUL */
}

static void put_checksum(char *blk)
{
    memset(blk + H_CHKSUM, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < LB_TAR_BLOCK; i++)
        sum += (unsigned char)blk[i];
    char tmp[16];
    snprintf(tmp, sizeof(tmp), "%06o", sum);
    memcpy(blk + H_CHKSUM, tmp, 7); /* six digits, NUL, and the space stays: "%06o\0 " */
}

static void put_common(char *blk, char type, mode_t perm, uid_t uid, gid_t gid, int64_t mtime,
                       int64_t size)
{
    put_octal(blk + H_MODE, 8, perm & 07777);
    put_octal(blk + H_UID, 8, uid <= MAX_OCTAL_7 ? uid : 0);
    put_octal(blk + H_GID, 8, gid <= MAX_OCTAL_7 ? gid : 0);
    put_octal(blk + H_SIZE, 12, size <= MAX_OCTAL_11 ? (uint64_t)size : 0);
    put_octal(blk + H_MTIME, 12, mtime >= 0 && mtime <= MAX_OCTAL_11 ? (uint64_t)mtime : 0);
    blk[H_TYPE] = type;
    memcpy(blk + H_MAGIC, "ustar", 6);
    memcpy(blk + H_VERSION, "00", 2);
}

/* One "%d key=value\n" record; the length counts itself. */
static void pax_record(struct lb_strbuf *sb, const char *key, const void *val, size_t vlen)
{
    size_t base = 1 + strlen(key) + 1 + vlen + 1; /* " key=value\n" */
    size_t total = base + 1;
    char tmp[24];
    for (;;) { /* the length's own digits count: settle on a fixed point */
        int d = snprintf(tmp, sizeof(tmp), "%zu", total);
        if (base + (size_t)d == total)
            break;
        total = base + (size_t)d;
    }
    lb_strbuf_addf(sb, "%s %s=", tmp, key);
    lb_strbuf_add(sb, val, vlen);
    lb_strbuf_addc(sb, '\n');
}

static void pax_number(struct lb_strbuf *sb, const char *key, long long v)
{
    char tmp[24];
    snprintf(tmp, sizeof(tmp), "%lld", v);
    pax_record(sb, key, tmp, strlen(tmp));
}

static char type_flag(mode_t mode, bool hardlink)
{
    if (hardlink)
        return '1';
    switch (mode & S_IFMT) {
    case S_IFREG:
        return '0';
    case S_IFLNK:
        return '2';
    case S_IFCHR:
        return '3';
    case S_IFBLK:
        return '4';
    case S_IFDIR:
        return '5';
    case S_IFIFO:
        return '6';
    default:
        return 0;
    }
}

static int check_header(const struct lb_tar_header *h, char type, struct lb_error **err)
{
    const char *p = h->path && *h->path ? h->path : "";
    if (*p == '\0')
        return lb_error_set(err, EINVAL, "cannot write an entry with an empty path into a tar");
    if (type == 0)
        return lb_error_set(err, EINVAL, "cannot write '%s' into a tar: unsupported file type 0%o",
                            p, (unsigned)(h->mode & S_IFMT));
    if (h->size < 0)
        return lb_error_set(err, EINVAL, "cannot write '%s' into a tar: negative size", p);
    if ((type == '1' || type == '2') && (h->linkname == NULL || *h->linkname == '\0'))
        return lb_error_set(err, EINVAL, "cannot write '%s' into a tar: a link needs a target", p);
    if ((type == '3' || type == '4') &&
        (major(h->rdev) > MAX_OCTAL_7 || minor(h->rdev) > MAX_OCTAL_7))
        return lb_error_set(err, EINVAL, "cannot write '%s' into a tar: device number too large",
                            p);
    for (size_t i = 0; i < h->n_xattrs; i++) {
        const char *n = h->xattrs[i].name;
        if (n == NULL || *n == '\0' || strchr(n, '=') != NULL)
            return lb_error_set(err, EINVAL, "cannot write '%s' into a tar: bad xattr name '%s'", p,
                                n ? n : "");
    }
    return 0;
}

/* The pax records for h (empty when ustar says it all). */
static void pax_records(const struct lb_tar_header *h, const char *path, const char *link,
                        bool path_fits, struct lb_strbuf *sb)
{
    bool need_path = !path_fits || !is_ascii(path);
    bool need_link = link && (strlen(link) > NAME_LEN || !is_ascii(link));
    if ((need_path && !is_utf8(path)) || (need_link && !is_utf8(link)))
        pax_record(sb, "hdrcharset", "BINARY", 6);
    if (need_path)
        pax_record(sb, "path", path, strlen(path));
    if (need_link)
        pax_record(sb, "linkpath", link, strlen(link));
    if (h->size > MAX_OCTAL_11)
        pax_number(sb, "size", h->size);
    if (h->uid > MAX_OCTAL_7)
        pax_number(sb, "uid", (long long)h->uid);
    if (h->gid > MAX_OCTAL_7)
        pax_number(sb, "gid", (long long)h->gid);
    if (h->mtime < 0 || h->mtime > MAX_OCTAL_11)
        pax_number(sb, "mtime", h->mtime);
    for (size_t i = 0; i < h->n_xattrs; i++) {
        _cleanup_free_ char *key = lb_xasprintf("SCHILY.xattr.%s", h->xattrs[i].name);
        pax_record(sb, key, h->xattrs[i].value, h->xattrs[i].size);
    }
}

static int emit_padded(struct lb_tar_writer *w, const void *p, size_t n)
{
    int e = emit(w, p, n);
    size_t pad = (LB_TAR_BLOCK - n % LB_TAR_BLOCK) % LB_TAR_BLOCK;
    return e ? e : emit(w, zeros, pad);
}

int lb_tar_write_header(struct lb_tar_writer *w, const struct lb_tar_header *h,
                        struct lb_error **err)
{
    char type = type_flag(h->mode, h->hardlink);
    if (check_header(h, type, err) < 0)
        return -1;
    if (usable(w, h->path, err) < 0)
        return -1;
    if (w->left > 0) {
        w->failed = true; /* the previous entry can never be completed now */
        return lb_error_set(err, 0,
                            "cannot write '%s' into the %s: '%s' is missing %lld bytes of content",
                            h->path, what(w), w->entry, (long long)w->left);
    }
    _cleanup_free_ char *path = type == '5' && !lb_str_has_suffix(h->path, "/")
                                    ? lb_xasprintf("%s/", h->path)
                                    : lb_xstrdup(h->path);
    const char *link = type == '1' || type == '2' ? h->linkname : NULL;
    int64_t size = type == '0' ? h->size : 0;

    char blk[LB_TAR_BLOCK];
    memset(blk, 0, sizeof(blk));
    bool fits = put_name(blk, path);
    if (link)
        memcpy(blk + H_LINKNAME, link, strlen(link) < NAME_LEN ? strlen(link) : NAME_LEN);
    put_common(blk, type, h->mode, h->uid, h->gid, h->mtime, size);
    if (type == '3' || type == '4') {
        put_octal(blk + H_DEVMAJOR, 8, major(h->rdev));
        put_octal(blk + H_DEVMINOR, 8, minor(h->rdev));
    }
    put_checksum(blk);

    struct lb_strbuf pax = LB_STRBUF_INIT;
    struct lb_tar_header sized = *h;
    sized.size = size;
    pax_records(&sized, path, link, fits, &pax);
    int e = 0;
    if (pax.len > 0) {
        char x[LB_TAR_BLOCK];
        memset(x, 0, sizeof(x));
        _cleanup_free_ char *xname = pax_name(path);
        put_name(x, xname);
        put_common(x, 'x', 0644, 0, 0, h->mtime, (int64_t)pax.len);
        put_checksum(x);
        e = emit(w, x, sizeof(x));
        if (e == 0)
            e = emit_padded(w, pax.buf, pax.len);
    }
    lb_strbuf_release(&pax);
    if (e == 0)
        e = emit(w, blk, sizeof(blk));
    free(w->entry);
    w->entry = lb_steal_pointer(&path);
    if (e)
        return write_error(w, w->entry, e, err);
    w->left = size;
    w->pad = (size_t)((LB_TAR_BLOCK - size % LB_TAR_BLOCK) % LB_TAR_BLOCK);
    return 0;
}

/* ---- content ---- */

int lb_tar_write_data(struct lb_tar_writer *w, const void *buf, size_t n, struct lb_error **err)
{
    const char *path = w->entry ? w->entry : "";
    if (usable(w, path, err) < 0)
        return -1;
    if (n > (uint64_t)w->left)
        return lb_error_set(err, 0,
                            "cannot write '%s' into the %s: %zu bytes of content, only %lld "
                            "expected",
                            path, what(w), n, (long long)w->left);
    int e = n ? emit(w, buf, n) : 0;
    if (e)
        return write_error(w, path, e, err);
    w->left -= (int64_t)n;
    if (w->left == 0 && w->pad) {
        e = emit(w, zeros, w->pad);
        w->pad = 0;
        if (e)
            return write_error(w, path, e, err);
    }
    return 0;
}

int lb_tar_write_file(struct lb_tar_writer *w, int src_fd, int64_t size, struct lb_error **err)
{
    const char *path = w->entry ? w->entry : "";
    if (usable(w, path, err) < 0)
        return -1;
    if (size < 0 || size > w->left)
        return lb_error_set(err, 0,
                            "cannot write '%s' into the %s: %lld bytes of content, "
                            "%lld expected",
                            path, what(w), (long long)size, (long long)w->left);
    if (w->copy == NULL && size > 0)
        w->copy = lb_xmalloc(TAR_COPY);
    while (size > 0) {
        size_t want = size < (int64_t)TAR_COPY ? (size_t)size : TAR_COPY;
        ssize_t n = read(src_fd, w->copy, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            w->failed = true; /* the header promised bytes that will not come */
            if (n < 0)
                return lb_error_set(err, e, "cannot read '%s'", path);
            return lb_error_set(err, 0, "'%s' shrank while it was being read", path);
        }
        if (lb_tar_write_data(w, w->copy, (size_t)n, err) < 0)
            return -1;
        size -= n;
    }
    return 0;
}

int lb_tar_finish(struct lb_tar_writer *w, struct lb_error **err)
{
    const char *path = w->entry ? w->entry : "";
    if (usable(w, path, err) < 0)
        return -1;
    if (w->left > 0) {
        w->failed = true;
        return lb_error_set(err, 0, "cannot finish the %s: '%s' is missing %lld bytes of content",
                            what(w), path, (long long)w->left);
    }
    int e = emit(w, zeros, sizeof(zeros));
    if (e == 0)
        e = flush_raw(w);
    if (e)
        return lb_error_set(err, e, "cannot finish the %s", what(w));
    w->finished = true;
    return 0;
}
