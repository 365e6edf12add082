/* test_diff.c — layer diffs: an overlay upper dir and a pair of trees back to an OCI changeset.
 *
 * Every produced tar is read back with libarchive and each header is checked against a
 * hand-written list; the round trip is checked independently by extracting with GNU tar and
 * comparing the result with the source tree. Needs root (mknod 0/0, trusted.* xattrs, chown);
 * skips with a message otherwise. */
#include "unit.h"

#include "layer/diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <locale.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define T0       1600000000    /* the mtime of every fixture entry unless a test says otherwise */
#define T0_NSEC  123456789     /* dropped in the tar */
#define BIG_SIZE (2621440 + 7) /* 2.5 MiB + 7: three copy blocks, not a multiple of 512 */

#define REQUIRE_ROOT()                                                                             \
    do {                                                                                           \
        if (geteuid() != 0) {                                                                      \
            print_message("skipped: needs root (mknod 0/0, trusted.* xattrs, chown)\n");           \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

#define REQUIRE_GNU_TAR()                                                                          \
    do {                                                                                           \
        if (system("tar --version 2>/dev/null | grep -q 'GNU tar'") != 0) {                        \
            print_message("skipped: needs GNU tar\n");                                             \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- building trees ---- */

/* root + "/" + rel in one of a few rotating buffers (tests only hold a couple at a time). */
static const char *pj(const char *root, const char *rel)
{
    static char bufs[8][4096];
    static int i;
    char *b = bufs[i++ % 8];
    char tmp[sizeof(bufs[0])]; /* root may be an earlier result */
    snprintf(tmp, sizeof(tmp), "%s/%s", root, rel);
    memcpy(b, tmp, sizeof(tmp));
    return b;
}

static void own(const char *p, uid_t uid, gid_t gid)
{
    if (geteuid() == 0 && lchown(p, uid, gid) < 0)
        fail_msg("lchown %s: %s", p, strerror(errno));
}

static void mkd(const char *root, const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
    const char *p = pj(root, rel);
    if (mkdir(p, mode) < 0 || chmod(p, mode) < 0)
        fail_msg("mkdir %s: %s", p, strerror(errno));
    own(p, uid, gid);
}

static void mkfn(const char *root, const char *rel, const void *data, size_t len, mode_t mode,
                 uid_t uid, gid_t gid)
{
    const char *p = pj(root, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        fail_msg("create %s: %s", p, strerror(errno));
    struct lb_error *err = NULL;
    if (lb_write_all(fd, data, len, &err) < 0)
        fail_msg("write %s: %s", p, err->msg);
    close(fd);
    if (chmod(p, mode) < 0)
        fail_msg("chmod %s", p);
    own(p, uid, gid);
}

static void mkf(const char *root, const char *rel, const char *content, mode_t mode)
{
    mkfn(root, rel, content, strlen(content), mode, 0, 0);
}

static void mknode(const char *root, const char *rel, mode_t type, dev_t dev, mode_t perm,
                   uid_t uid, gid_t gid)
{
    const char *p = pj(root, rel);
    if (mknod(p, type | perm, dev) < 0 || chmod(p, perm) < 0)
        fail_msg("mknod %s: %s", p, strerror(errno));
    own(p, uid, gid);
}

static void mklnk(const char *root, const char *rel, const char *target)
{
    if (symlink(target, pj(root, rel)) < 0)
        fail_msg("symlink %s: %s", rel, strerror(errno));
}

static void mkhl(const char *root, const char *existing, const char *rel)
{
    char *a = lb_xstrdup(pj(root, existing));
    if (link(a, pj(root, rel)) < 0)
        fail_msg("link %s: %s", rel, strerror(errno));
    free(a);
}

static void mksock(const char *root, const char *rel)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", pj(root, rel));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fail_msg("socket %s: %s", rel, strerror(errno));
    close(s);
}

static void setx(const char *root, const char *rel, const char *name, const char *value)
{
    const char *p = pj(root, rel);
    if (lsetxattr(p, name, value, strlen(value), 0) < 0)
        fail_msg("setxattr %s %s: %s", p, name, strerror(errno));
}

static void set_mtime(const char *root, const char *rel, time_t sec, long nsec)
{
    const char *p = pj(root, rel);
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = sec, .tv_nsec = nsec}};
    if (utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) < 0)
        fail_msg("utimensat %s: %s", p, strerror(errno));
}

static int mtime_all_cb(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = T0, .tv_nsec = T0_NSEC}};
    return utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

/* Every entry, the root included, gets mtime T0.T0_NSEC (children first, so directories keep it).
 */
static void mtime_all(const char *root)
{
    if (nftw(root, mtime_all_cb, 16, FTW_PHYS | FTW_DEPTH) != 0)
        fail_msg("nftw %s: %s", root, strerror(errno));
}

static char *big_content(void)
{
    char *b = lb_xmalloc(BIG_SIZE);
    for (size_t i = 0; i < BIG_SIZE; i++)
        b[i] = (char)(i * 7 + i / 1000);
    return b;
}

/* The overlay upper used by most tests. `variant` builds the same tree in another order (other
 * inode numbers, readdir order and hardlink direction), which must not change the tar. */
static void build_upper(const char *u, int variant)
{
    char *big = big_content();
    if (chmod(u, 0755) < 0)
        fail_msg("chmod %s", u);
    if (variant == 0) {
        mkfn(u, "a.txt", "hello\n", 6, 0644, 1000, 1000);
        mkfn(u, "big.bin", big, BIG_SIZE, 0600, 0, 0);
        mkd(u, "bin", 0755, 0, 0);
        mkd(u, "etc", 0750, 0, 0);
        mkf(u, "etc/hostname", "box\n", 0644);
        mkhl(u, "etc/hostname", "bin/hn"); /* created second, sorts first */
        mkf(u, "caf\xc3\xa9", "c", 0644);
        mkd(u, "d", 0700, 0, 0);
        mkf(u, "d/x", "", 0644);
        mkf(u, "d-x", "dx", 0644);
        mkd(u, "dev", 0755, 0, 0);
        mknode(u, "dev/null", S_IFCHR, makedev(1, 3), 0666, 0, 0);
        mknode(u, "dev/sda", S_IFBLK, makedev(8, 0), 0660, 0, 6);
        mknode(u, "etc/gone", S_IFCHR, makedev(0, 0), 0, 7, 8);
        mkhl(u, "etc/gone", "zgone"); /* kernels share one inode between whiteouts */
        mknode(u, "fifo", S_IFIFO, 0, 0640, 0, 0);
        mklnk(u, "lnk", "etc/hostname");
        mkd(u, "opaque", 0711, 0, 0);
        mkf(u, "opaque/inside", "in", 0644);
        mksock(u, "sock");
        mkf(u, "raw\xff", "r", 0644); /* not UTF-8 */
    } else {
        mkf(u, "raw\xff", "r", 0644);
        mksock(u, "sock");
        mkd(u, "opaque", 0711, 0, 0);
        mkf(u, "opaque/inside", "in", 0644);
        mklnk(u, "lnk", "etc/hostname");
        mknode(u, "fifo", S_IFIFO, 0, 0640, 0, 0);
        mkd(u, "etc", 0750, 0, 0);
        mknode(u, "zgone", S_IFCHR, makedev(0, 0), 0, 7, 8);
        mkhl(u, "zgone", "etc/gone");
        mkd(u, "dev", 0755, 0, 0);
        mknode(u, "dev/sda", S_IFBLK, makedev(8, 0), 0660, 0, 6);
        mknode(u, "dev/null", S_IFCHR, makedev(1, 3), 0666, 0, 0);
        mkf(u, "d-x", "dx", 0644);
        mkd(u, "d", 0700, 0, 0);
        mkf(u, "d/x", "", 0644);
        mkf(u, "caf\xc3\xa9", "c", 0644);
        mkd(u, "bin", 0755, 0, 0);
        mkf(u, "bin/hn", "box\n", 0644);
        mkhl(u, "bin/hn", "etc/hostname");
        mkfn(u, "big.bin", big, BIG_SIZE, 0600, 0, 0);
        mkfn(u, "a.txt", "hello\n", 6, 0644, 1000, 1000);
    }
    free(big);
    /* In a different order too. */
    const char *xa[][3] = {{"a.txt", "user.b", "2"},
                           {"a.txt", "trusted.overlay.origin", "junk"},
                           {"a.txt", "user.a", "1"},
                           {"a.txt", "trusted.test", "t"},
                           {"opaque", "trusted.overlay.opaque", "y"},
                           {"opaque", "user.keep", "k"},
                           {"d", "trusted.overlay.opaque", "x"}, /* not "y": not opaque */
                           {"etc", "trusted.overlay.redirect", "/old"}};
    for (size_t i = 0; i < LB_ARRAY_SIZE(xa); i++) {
        size_t k = variant == 0 ? i : LB_ARRAY_SIZE(xa) - 1 - i;
        setx(u, xa[k][0], xa[k][1], xa[k][2]);
    }
    mtime_all(u);
    set_mtime(u, "etc/gone", T0 + 5, 0);
    set_mtime(u, "opaque", T0 + 7, 999);
}

/* ---- reading a tar back ---- */

struct ent {
    char *path;
    mode_t type, perm;
    int64_t uid, gid, size;
    time_t mtime;
    long mtime_nsec;
    bool has_uname;
    char *symlink, *hardlink;
    unsigned maj, min;
    char *xattrs; /* "name=value;" sorted by name */
    char *data;
};

struct tarread {
    struct ent *e;
    size_t n;
};

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *entry_xattrs(struct archive_entry *ae)
{
    char *items[64];
    size_t n = 0;
    const char *name;
    const void *value;
    size_t size;
    archive_entry_xattr_reset(ae);
    while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK && n < 64)
        items[n++] = lb_xasprintf("%s=%.*s;", name, (int)size, (const char *)value);
    qsort(items, n, sizeof(items[0]), str_cmp);
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    for (size_t i = 0; i < n; i++) {
        lb_strbuf_adds(&sb, items[i]);
        free(items[i]);
    }
    return lb_strbuf_detach(&sb);
}

static void read_tar(const char *file, struct tarread *out)
{
    memset(out, 0, sizeof(*out));
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, file, 10240) != ARCHIVE_OK)
        fail_msg("open %s: %s", file, archive_error_string(a));
    struct archive_entry *ae;
    int r;
    /* ARCHIVE_WARN: a UTF-8 name that the test's locale cannot show; the bytes are intact. */
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        out->e = lb_xrealloc(out->e, (out->n + 1) * sizeof(*out->e));
        struct ent *e = &out->e[out->n++];
        memset(e, 0, sizeof(*e));
        e->path = lb_xstrdup(archive_entry_pathname(ae));
        e->type = archive_entry_filetype(ae);
        e->perm = archive_entry_perm(ae);
        e->uid = archive_entry_uid(ae);
        e->gid = archive_entry_gid(ae);
        e->size = archive_entry_size(ae);
        e->mtime = archive_entry_mtime(ae);
        e->mtime_nsec = archive_entry_mtime_nsec(ae);
        const char *un = archive_entry_uname(ae), *gn = archive_entry_gname(ae);
        e->has_uname = (un && *un) || (gn && *gn) || archive_entry_atime_is_set(ae) ||
                       archive_entry_ctime_is_set(ae);
        e->symlink = archive_entry_symlink(ae) ? lb_xstrdup(archive_entry_symlink(ae)) : NULL;
        e->hardlink = archive_entry_hardlink(ae) ? lb_xstrdup(archive_entry_hardlink(ae)) : NULL;
        e->maj = archive_entry_rdevmajor(ae);
        e->min = archive_entry_rdevminor(ae);
        e->xattrs = entry_xattrs(ae);
        e->data = lb_xmalloc(e->size > 0 ? (size_t)e->size + 1 : 1);
        if (e->size > 0 && archive_read_data(a, e->data, (size_t)e->size) != e->size)
            fail_msg("short data for %s", e->path);
    }
    if (r != ARCHIVE_EOF)
        fail_msg("reading %s: %s", file, archive_error_string(a));
    archive_read_free(a);
}

static void tarread_release(struct tarread *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->e[i].path);
        free(t->e[i].symlink);
        free(t->e[i].hardlink);
        free(t->e[i].xattrs);
        free(t->e[i].data);
    }
    free(t->e);
}

/* One expected header. type: 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'c'/'b' device,
 * 'p' FIFO. link: the symlink or hardlink target. data: NULL = not checked. */
struct want {
    const char *path;
    char type;
    mode_t perm;
    int uid, gid;
    int64_t size;
    time_t mtime;
    const char *link;
    const char *xattrs;
    const char *data;
    unsigned maj, min;
};

static mode_t want_type(char t)
{
    switch (t) {
    case 'd':
        return AE_IFDIR;
    case 'l':
        return AE_IFLNK;
    case 'c':
        return AE_IFCHR;
    case 'b':
        return AE_IFBLK;
    case 'p':
        return AE_IFIFO;
    case 'h':
        return 0; /* libarchive reads a hardlink entry (typeflag '1') with no file type */
    default:
        return AE_IFREG;
    }
}

static void check_entries(const struct tarread *t, const struct want *w, size_t nw)
{
    for (size_t i = 0; i < t->n && i < nw; i++) {
        const struct ent *e = &t->e[i];
        const struct want *x = &w[i];
        if (strcmp(e->path, x->path) != 0)
            fail_msg("entry %zu: path '%s', want '%s'", i, e->path, x->path);
        if (e->type != want_type(x->type))
            fail_msg("%s: type %o, want %c", e->path, e->type, x->type);
        if (e->perm != x->perm)
            fail_msg("%s: perm %o, want %o", e->path, e->perm, x->perm);
        if (e->uid != x->uid || e->gid != x->gid)
            fail_msg("%s: owner %lld:%lld", e->path, (long long)e->uid, (long long)e->gid);
        if (e->size != x->size)
            fail_msg("%s: size %lld, want %lld", e->path, (long long)e->size, (long long)x->size);
        if (e->mtime != x->mtime || e->mtime_nsec != 0)
            fail_msg("%s: mtime %lld.%ld, want %lld", e->path, (long long)e->mtime, e->mtime_nsec,
                     (long long)x->mtime);
        if (e->has_uname)
            fail_msg("%s: has uname/gname/atime/ctime", e->path);
        const char *link = x->type == 'h' ? e->hardlink : e->symlink;
        const char *other = x->type == 'h' ? e->symlink : e->hardlink;
        if ((x->link == NULL) != (link == NULL) || (link && strcmp(link, x->link) != 0) ||
            other != NULL)
            fail_msg("%s: link '%s', want '%s'", e->path, link ? link : "(none)",
                     x->link ? x->link : "(none)");
        if (strcmp(e->xattrs, x->xattrs ? x->xattrs : "") != 0)
            fail_msg("%s: xattrs '%s', want '%s'", e->path, e->xattrs, x->xattrs);
        if (x->data && (e->size != (int64_t)strlen(x->data) || memcmp(e->data, x->data, e->size)))
            fail_msg("%s: content differs", e->path);
        if ((x->type == 'c' || x->type == 'b') && (e->maj != x->maj || e->min != x->min))
            fail_msg("%s: device %u,%u", e->path, e->maj, e->min);
    }
    if (t->n != nw) {
        for (size_t i = 0; i < t->n; i++)
            print_message("  got %s\n", t->e[i].path);
        fail_msg("%zu entries, want %zu", t->n, nw);
    }
}

/* ---- running the diff ---- */

static int run_upper(const char *upper, const char *tarfile, struct lb_diff_stats *st,
                     struct lb_error **err)
{
    int ufd = open(upper, O_RDONLY | O_DIRECTORY);
    int ofd = open(tarfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(ufd >= 0 && ofd >= 0);
    int r = lb_diff_overlay_upper(ufd, ofd, st, err);
    close(ufd);
    close(ofd);
    return r;
}

static int run_trees(const char *old, const char *new, const char *tarfile,
                     struct lb_diff_stats *st, struct lb_error **err)
{
    int ofd = open(old, O_RDONLY | O_DIRECTORY);
    int nfd = open(new, O_RDONLY | O_DIRECTORY);
    int tfd = open(tarfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(ofd >= 0 && nfd >= 0 && tfd >= 0);
    int r = lb_diff_trees(ofd, nfd, tfd, st, err);
    close(ofd);
    close(nfd);
    close(tfd);
    return r;
}

static char *slurp(const char *file, size_t *len)
{
    char *buf = NULL;
    struct lb_error *err = NULL;
    if (lb_read_file_at(AT_FDCWD, file, 64 << 20, &buf, len, &err) < 0)
        fail_msg("read %s: %s", file, err->msg);
    return buf;
}

static void assert_same_file(const char *a, const char *b)
{
    size_t la, lbn;
    char *x = slurp(a, &la);
    char *y = slurp(b, &lbn);
    if (la != lbn || memcmp(x, y, la) != 0)
        fail_msg("%s and %s differ (%zu and %zu bytes)", a, b, la, lbn);
    free(x);
    free(y);
}

/* ---- an independent look: extract with GNU tar and compare with the source ---- */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    int r = system(sb.buf);
    if (r != 0)
        fail_msg("'%s' failed (%d)", sb.buf, r);
    lb_strbuf_release(&sb);
}

static void gnu_extract(const char *tarfile, const char *dest)
{
    sh("tar --xattrs --xattrs-include='*' --numeric-owner --same-owner "
       "-xpf '%s' -C '%s' 2>'%s.err' || { cat '%s.err' >&2; false; }",
       tarfile, dest, tarfile, tarfile);
}

/* The xattrs of a path as "name=value;" sorted, without trusted.overlay.*. */
static char *path_xattrs(const char *p)
{
    char list[4096];
    ssize_t n = llistxattr(p, list, sizeof(list));
    if (n < 0)
        fail_msg("llistxattr %s: %s", p, strerror(errno));
    char *items[64];
    size_t k = 0;
    for (char *q = list; q < list + n && k < 64; q += strlen(q) + 1) {
        if (lb_str_has_prefix(q, "trusted.overlay."))
            continue;
        char v[1024];
        ssize_t vl = lgetxattr(p, q, v, sizeof(v));
        if (vl < 0)
            fail_msg("lgetxattr %s %s", p, q);
        items[k++] = lb_xasprintf("%s=%.*s;", q, (int)vl, v);
    }
    qsort(items, k, sizeof(items[0]), str_cmp);
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    for (size_t i = 0; i < k; i++) {
        lb_strbuf_adds(&sb, items[i]);
        free(items[i]);
    }
    return lb_strbuf_detach(&sb);
}

static bool is_opaque(const char *p)
{
    char v[4];
    ssize_t n = lgetxattr(p, "trusted.overlay.opaque", v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static void expect_marker(const char *p, mode_t perm, const struct stat *like, bool mtime)
{
    struct stat g;
    if (lstat(p, &g) < 0)
        fail_msg("missing %s", p);
    if (!S_ISREG(g.st_mode) || g.st_size != 0 || (g.st_mode & 07777) != perm ||
        g.st_uid != like->st_uid || g.st_gid != like->st_gid ||
        (mtime && g.st_mtime != like->st_mtime))
        fail_msg("%s: wrong marker (mode %o, size %lld, owner %d:%d)", p, g.st_mode,
                 (long long)g.st_size, g.st_uid, g.st_gid);
}

static size_t count_dir(const char *p)
{
    DIR *d = opendir(p);
    if (d == NULL)
        fail_msg("opendir %s", p);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* `got` must hold exactly what `exp` holds: same names, types, permissions, owners, mtimes
 * (seconds; directories only when dir_mtimes), contents, link targets, device numbers and
 * xattrs. ovl: `exp` is an overlay upper, whose whiteouts and opaque directories must show up
 * as OCI markers, and whose sockets must be absent. */
static void compare_tree(const char *exp, const char *got, bool ovl, bool dir_mtimes)
{
    DIR *d = opendir(exp);
    if (d == NULL)
        fail_msg("opendir %s", exp);
    size_t want_n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *ep = lb_path_join(exp, de->d_name);
        char *gp = lb_path_join(got, de->d_name);
        struct stat e, g;
        if (lstat(ep, &e) < 0)
            fail_msg("lstat %s", ep);
        if (S_ISSOCK(e.st_mode)) {
            assert_false(lb_path_exists_at(AT_FDCWD, gp));
        } else if (ovl && S_ISCHR(e.st_mode) && e.st_rdev == makedev(0, 0)) {
            char *wh = lb_xasprintf("%s/.wh.%s", got, de->d_name);
            expect_marker(wh, 0600, &e, true);
            assert_false(lb_path_exists_at(AT_FDCWD, gp));
            free(wh);
            want_n++;
        } else {
            if (lstat(gp, &g) < 0)
                fail_msg("missing %s", gp);
            want_n++;
            if ((e.st_mode & S_IFMT) != (g.st_mode & S_IFMT) ||
                (e.st_mode & 07777) != (g.st_mode & 07777) || e.st_uid != g.st_uid ||
                e.st_gid != g.st_gid)
                fail_msg("%s: mode %o owner %d:%d, want mode %o owner %d:%d", gp, g.st_mode,
                         g.st_uid, g.st_gid, e.st_mode, e.st_uid, e.st_gid);
            if ((!S_ISDIR(e.st_mode) || dir_mtimes) && e.st_mtime != g.st_mtime)
                fail_msg("%s: mtime %lld, want %lld", gp, (long long)g.st_mtime,
                         (long long)e.st_mtime);
            char *ex = path_xattrs(ep), *gx = path_xattrs(gp);
            if (strcmp(ex, gx) != 0)
                fail_msg("%s: xattrs '%s', want '%s'", gp, gx, ex);
            free(ex);
            free(gx);
            if (S_ISREG(e.st_mode)) {
                assert_same_file(ep, gp);
            } else if (S_ISLNK(e.st_mode)) {
                char a[4096] = "", b[4096] = "";
                assert_true(readlink(ep, a, sizeof(a) - 1) >= 0);
                assert_true(readlink(gp, b, sizeof(b) - 1) >= 0);
                assert_string_equal(a, b);
            } else if (S_ISCHR(e.st_mode) || S_ISBLK(e.st_mode)) {
                assert_true(e.st_rdev == g.st_rdev);
            } else if (S_ISDIR(e.st_mode)) {
                if (ovl && is_opaque(ep)) {
                    char *m = lb_path_join(gp, ".wh..wh..opq");
                    expect_marker(m, e.st_mode & 0777, &e, true);
                    free(m);
                    /* the marker is one more entry in got, not in exp */
                }
                compare_tree(ep, gp, ovl, dir_mtimes);
            }
        }
        free(ep);
        free(gp);
    }
    closedir(d);
    size_t extra = ovl && is_opaque(exp) ? 1 : 0;
    size_t have = count_dir(got);
    if (have != want_n + extra)
        fail_msg("%s holds %zu entries, want %zu", got, have, want_n + extra);
}

static ino_t ino_of(const char *root, const char *rel)
{
    struct stat s;
    if (lstat(pj(root, rel), &s) < 0)
        fail_msg("lstat %s", rel);
    return s.st_ino;
}

/* ---- overlay upper ---- */

#define XA_A "trusted.test=t;user.a=1;user.b=2;"

static const struct want upper_want[] = {
    {"a.txt", 'f', 0644, 1000, 1000, 6, T0, NULL, XA_A, "hello\n", 0, 0},
    {"big.bin", 'f', 0600, 0, 0, BIG_SIZE, T0, NULL, NULL, NULL, 0, 0},
    {"bin/", 'd', 0755, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"bin/hn", 'f', 0644, 0, 0, 4, T0, NULL, NULL, "box\n", 0, 0},
    {"caf\xc3\xa9", 'f', 0644, 0, 0, 1, T0, NULL, NULL, "c", 0, 0},
    {"d/", 'd', 0700, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"d/x", 'f', 0644, 0, 0, 0, T0, NULL, NULL, "", 0, 0},
    {"d-x", 'f', 0644, 0, 0, 2, T0, NULL, NULL, "dx", 0, 0},
    {"dev/", 'd', 0755, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"dev/null", 'c', 0666, 0, 0, 0, T0, NULL, NULL, NULL, 1, 3},
    {"dev/sda", 'b', 0660, 0, 6, 0, T0, NULL, NULL, NULL, 8, 0},
    {"etc/", 'd', 0750, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"etc/.wh.gone", 'f', 0600, 7, 8, 0, T0 + 5, NULL, NULL, "", 0, 0},
    {"etc/hostname", 'h', 0644, 0, 0, 0, T0, "bin/hn", NULL, NULL, 0, 0},
    {"fifo", 'p', 0640, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"lnk", 'l', 0777, 0, 0, 0, T0, "etc/hostname", NULL, NULL, 0, 0},
    {"opaque/", 'd', 0711, 0, 0, 0, T0 + 7, NULL, "user.keep=k;", NULL, 0, 0},
    {"opaque/.wh..wh..opq", 'f', 0711, 0, 0, 0, T0 + 7, NULL, NULL, "", 0, 0},
    {"opaque/inside", 'f', 0644, 0, 0, 2, T0, NULL, NULL, "in", 0, 0},
    {"raw\xff", 'f', 0644, 0, 0, 1, T0, NULL, NULL, "r", 0, 0},
    {".wh.zgone", 'f', 0600, 7, 8, 0, T0 + 5, NULL, NULL, "", 0, 0},
};

struct fx {
    char *dir;
    char *paths[16]; /* from sub(), freed at teardown */
    size_t npaths;
};

/* A stable path under the test's directory (pj's buffers rotate). */
static const char *sub(struct fx *f, const char *name)
{
    assert_true(f->npaths < LB_ARRAY_SIZE(f->paths));
    return f->paths[f->npaths++] = lb_xstrdup(pj(f->dir, name));
}

static int fx_setup(void **state)
{
    struct fx *f = lb_xmalloc(sizeof(*f));
    f->dir = lb_unit_mkdtemp();
    umask(022);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    lb_unit_rmdir(f->dir);
    for (size_t i = 0; i < f->npaths; i++)
        free(f->paths[i]);
    free(f);
    return 0;
}

static const char *mk_upper(struct fx *f, const char *name, int variant)
{
    const char *u = sub(f, name);
    if (mkdir(u, 0755) < 0)
        fail_msg("mkdir %s", u);
    build_upper(u, variant);
    return u;
}

static void test_diff__upper_headers_are_exact_and_sorted(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *u = mk_upper(f, "upper", 0);
    const char *tar = sub(f, "out.tar");
    struct lb_diff_stats st;
    struct lb_error *err = NULL;
    assert_int_equal(run_upper(u, tar, &st, &err), 0);

    struct tarread t;
    read_tar(tar, &t);
    check_entries(&t, upper_want, LB_ARRAY_SIZE(upper_want));
    /* big.bin went through several copy blocks: compare with the pattern. */
    char *big = big_content();
    assert_memory_equal(t.e[1].data, big, BIG_SIZE);
    free(big);
    tarread_release(&t);

    assert_int_equal(st.entries, LB_ARRAY_SIZE(upper_want));
    assert_int_equal(st.whiteouts, 2);
    assert_int_equal(st.opaques, 1);
    assert_int_equal(st.bytes, 6 + BIG_SIZE + 4 + 1 + 0 + 2 + 2 + 1);
}

static size_t count_occurrences(const char *b, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    for (const char *p = b; (p = memmem(p, len - (size_t)(p - b), needle, nl)) != NULL; p += nl)
        n++;
    return n;
}

/* Raw bytes, not libarchive's reading of them: pax headers only where ustar cannot say it
 * (xattrs, a non-ASCII name: a.txt, café, opaque/, raw\xff), UTF-8 names as they are and only
 * the non-UTF-8 one flagged as binary, xattrs in name order, no overlay xattr anywhere, nothing
 * after the two zero blocks. Run in a non-UTF-8 locale: the output must not care. */
static void test_diff__upper_tar_bytes_have_sorted_xattrs_and_no_overlay_xattrs(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *u = mk_upper(f, "upper", 0);
    const char *tar = sub(f, "out.tar");
    struct lb_error *err = NULL;
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    locale_t old = uselocale(c);
    assert_int_equal(run_upper(u, tar, NULL, &err), 0);
    assert_true(uselocale(old) == c); /* and the caller's locale is back */
    freelocale(c);
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(count_occurrences(b, len, "PaxHeader/"), 4);
    assert_int_equal(count_occurrences(b, len, "hdrcharset=BINARY\n"), 1);
    assert_non_null(memmem(b, len, "path=caf\xc3\xa9\n", 11));
    assert_non_null(memmem(b, len, "path=raw\xff\n", 10));
    assert_null(memmem(b, len, "trusted.overlay", 15));
    assert_null(memmem(b, len, "LIBARCHIVE.", 11));
    assert_null(memmem(b, len, "atime=", 6));
    assert_null(memmem(b, len, "ctime=", 6));
    char *t = memmem(b, len, "SCHILY.xattr.trusted.test=t\n", 28);
    char *a = memmem(b, len, "SCHILY.xattr.user.a=1\n", 22);
    char *bb = memmem(b, len, "SCHILY.xattr.user.b=2\n", 22);
    assert_true(t && a && bb && t < a && a < bb);
    assert_int_equal(len % 512, 0);
    for (size_t i = len - 1024; i < len; i++)
        assert_int_equal(b[i], 0);
    free(b);
}

static void test_diff__upper_round_trips_through_gnu_tar(void **state)
{
    REQUIRE_ROOT();
    REQUIRE_GNU_TAR();
    struct fx *f = *state;
    const char *u = mk_upper(f, "upper", 0);
    const char *tar = sub(f, "out.tar");
    const char *x = sub(f, "x");
    struct lb_error *err = NULL;
    assert_int_equal(run_upper(u, tar, NULL, &err), 0);
    assert_int_equal(mkdir(x, 0755), 0);
    gnu_extract(tar, x);
    compare_tree(u, x, true, true);
    assert_true(ino_of(x, "bin/hn") == ino_of(x, "etc/hostname"));
}

static void test_diff__upper_output_does_not_depend_on_creation_order_or_process(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *u1 = mk_upper(f, "u1", 0);
    const char *u2 = mk_upper(f, "u2", 1);
    const char *t1 = sub(f, "1.tar");
    const char *t2 = sub(f, "2.tar");
    const char *t3 = sub(f, "3.tar");
    struct lb_error *err = NULL;
    assert_int_equal(run_upper(u1, t1, NULL, &err), 0);
    assert_int_equal(run_upper(u2, t2, NULL, &err), 0);
    assert_same_file(t1, t2);
    /* Another process (another pid, which some pax writers put in header names). */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct lb_error *e = NULL;
        int r = run_upper(u1, t3, NULL, &e);
        lb_error_free(e);
        _exit(r == 0 ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_same_file(t1, t3);
    /* And the comparison can fail: one permission bit changes the bytes. */
    assert_int_equal(chmod(pj(u2, "d-x"), 0640), 0);
    assert_int_equal(run_upper(u2, t2, NULL, &err), 0);
    size_t l1, l2;
    char *b1 = slurp(t1, &l1), *b2 = slurp(t2, &l2);
    assert_true(l1 == l2 && memcmp(b1, b2, l1) != 0);
    free(b1);
    free(b2);
}

static void test_diff__upper_opaque_root_writes_the_marker_first(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *u = sub(f, "upper");
    assert_int_equal(mkdir(u, 0755), 0);
    mkf(u, "b", "b", 0644);
    mkf(u, "!a", "a", 0644); /* sorts before ".wh..wh..opq": the marker still comes first */
    setx(u, ".", "trusted.overlay.opaque", "y");
    mtime_all(u);
    const char *tar = sub(f, "out.tar");
    struct lb_diff_stats st;
    struct lb_error *err = NULL;
    assert_int_equal(run_upper(u, tar, &st, &err), 0);
    struct tarread t;
    read_tar(tar, &t);
    static const struct want w[] = {
        {".wh..wh..opq", 'f', 0755, 0, 0, 0, T0, NULL, NULL, "", 0, 0},
        {"!a", 'f', 0644, 0, 0, 1, T0, NULL, NULL, "a", 0, 0},
        {"b", 'f', 0644, 0, 0, 1, T0, NULL, NULL, "b", 0, 0},
    };
    check_entries(&t, w, LB_ARRAY_SIZE(w));
    tarread_release(&t);
    assert_int_equal(st.opaques, 1);
    assert_int_equal(st.entries, 3);
}

static void test_diff__upper_empty_gives_an_empty_tar(void **state)
{
    struct fx *f = *state;
    const char *u = sub(f, "upper");
    assert_int_equal(mkdir(u, 0755), 0);
    const char *tar = sub(f, "out.tar");
    struct lb_diff_stats st = {1, 1, 1, 1};
    struct lb_error *err = NULL;
    assert_int_equal(run_upper(u, tar, &st, &err), 0);
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(len, 1024);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(b[i], 0);
    assert_int_equal(st.entries + st.whiteouts + st.opaques + st.bytes, 0);
    free(b);
}

static void test_diff__upper_rejects_names_reserved_for_whiteouts(void **state)
{
    struct fx *f = *state;
    const char *u = sub(f, "upper");
    assert_int_equal(mkdir(u, 0755), 0);
    assert_int_equal(mkdir(pj(u, "etc"), 0755), 0);
    mkf(u, "etc/.wh.passwd", "", 0644);
    const char *tar = sub(f, "out.tar");
    struct lb_error *err = NULL;
    assert_int_equal(run_upper(u, tar, NULL, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "cannot store 'etc/.wh.passwd' in a layer");
}

static void test_diff__upper_rejects_overlay_metacopy_files(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *u = sub(f, "upper");
    assert_int_equal(mkdir(u, 0755), 0);
    mkf(u, "m", "", 0644);
    setx(u, "m", "trusted.overlay.metacopy", "");
    const char *tar = sub(f, "out.tar");
    struct lb_error *err = NULL;
    assert_int_equal(run_upper(u, tar, NULL, &err), -1);
    assert_error_contains(err, "'m' is an overlay metacopy file");
}

static void test_diff__upper_not_a_directory_fails(void **state)
{
    struct fx *f = *state;
    mkf(f->dir, "file", "x", 0644);
    int ufd = open(pj(f->dir, "file"), O_RDONLY);
    int ofd = open(pj(f->dir, "out.tar"), O_WRONLY | O_CREAT, 0644);
    struct lb_error *err = NULL;
    assert_int_equal(lb_diff_overlay_upper(ufd, ofd, NULL, &err), -1);
    assert_error_contains(err, "cannot open the upper directory");
    close(ufd);
    close(ofd);
}

static void test_diff__closed_output_fd_fails(void **state)
{
    struct fx *f = *state;
    const char *u = sub(f, "upper");
    assert_int_equal(mkdir(u, 0755), 0);
    mkf(u, "a", "a", 0644);
    int ufd = open(u, O_RDONLY | O_DIRECTORY);
    int ofd = open(pj(f->dir, "out.tar"), O_WRONLY | O_CREAT, 0644);
    close(ofd);
    struct lb_error *err = NULL;
    assert_int_equal(lb_diff_overlay_upper(ufd, ofd, NULL, &err), -1);
    assert_error_contains(err, "layer tar");
    assert_int_equal(lb_diff_trees(ufd, ufd, ofd, NULL, &err), -1);
    assert_error_contains(err, "layer tar");
    close(ufd);
}

/* Opened, but not for writing: refused before anything is read. */
static void test_diff__unwritable_output_fd_fails(void **state)
{
    struct fx *f = *state;
    const char *u = sub(f, "upper");
    assert_int_equal(mkdir(u, 0755), 0);
    mkf(u, "a", "a", 0644);
    mkf(f->dir, "ro.tar", "", 0644);
    int ufd = open(u, O_RDONLY | O_DIRECTORY);
    int ofd = open(pj(f->dir, "ro.tar"), O_RDONLY);
    struct lb_error *err = NULL;
    assert_int_equal(lb_diff_overlay_upper(ufd, ofd, NULL, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->code, EBADF);
    assert_error_contains(err, "layer tar");
    close(ufd);
    close(ofd);
}

/* A write that fails in the middle (a full disk) names the entry being written and leaves
 * nothing leaked. */
static void test_diff__full_disk_fails_with_the_entry_being_written(void **state)
{
    struct fx *f = *state;
    const char *u = sub(f, "upper");
    assert_int_equal(mkdir(u, 0755), 0);
    mkf(u, "a.txt", "a", 0644);
    char *big = big_content();
    mkfn(u, "big.bin", big, BIG_SIZE, 0644, 0, 0);
    free(big);
    int ufd = open(u, O_RDONLY | O_DIRECTORY);
    int ofd = open("/dev/full", O_WRONLY);
    if (ofd < 0) {
        close(ufd);
        print_message("skipped: no /dev/full\n");
        skip();
    }
    struct lb_error *err = NULL;
    assert_int_equal(lb_diff_overlay_upper(ufd, ofd, NULL, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->code, ENOSPC);
    assert_error_contains(err, "cannot write 'big.bin' into the layer tar");
    /* Nothing changed: the only bytes are the end-of-archive blocks, written when finishing. */
    assert_int_equal(lb_diff_trees(ufd, ufd, ofd, NULL, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->code, ENOSPC);
    assert_error_contains(err, "cannot finish the layer tar");
    close(ufd);
    close(ofd);
}

/* As nobody, a root-only directory or file inside the tree cannot be read: an error naming it. */
static void test_diff__unreadable_entries_fail_with_their_path(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *u = sub(f, "upper");
    assert_int_equal(mkdir(u, 0755), 0);
    assert_int_equal(chmod(f->dir, 0755), 0);
    mkd(u, "a", 0755, 0, 0);
    mkd(u, "a/locked", 0700, 0, 0);
    mkf(u, "a/locked/f", "x", 0644);
    mkf(u, "b-secret", "s", 0600);
    const char *cases[][2] = {{"a", "cannot open directory 'a/locked'"},
                              {"b-secret", "cannot open 'b-secret'"}};
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        /* One unreadable entry at a time. */
        if (i == 1)
            assert_int_equal(rename(pj(u, "a"), pj(f->dir, "a-moved")), 0);
        int ufd = open(u, O_RDONLY | O_DIRECTORY);
        int ofd = open(pj(f->dir, "out.tar"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct lb_error *e = NULL;
            int ok = setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0;
            int r = ok ? lb_diff_overlay_upper(ufd, ofd, NULL, &e) : 0;
            int good = ok && r == -1 && e && e->code == EACCES && strstr(e->msg, cases[i][1]);
            if (!good)
                fprintf(stderr, "got: %s\n", e ? e->msg : "(no error)");
            lb_error_free(e);
            _exit(good ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(ufd);
        close(ofd);
    }
}

/* ---- two trees ---- */

/* The image's tree. */
static void build_old(const char *o)
{
    assert_int_equal(chmod(o, 0755), 0);
    mkf(o, "keep.txt", "same", 0644);
    mkf(o, "grow.txt", "a", 0644);
    mkf(o, "mode.txt", "m", 0644);
    mkf(o, "owner.txt", "o", 0644);
    mkf(o, "time.txt", "t", 0644);
    mkf(o, "xattr.txt", "x", 0644);
    setx(o, "xattr.txt", "user.x", "1");
    mklnk(o, "link", "a");
    mkf(o, "removed.txt", "r", 0644);
    mkd(o, "removeddir", 0755, 0, 0);
    mkd(o, "removeddir/sub", 0755, 0, 0);
    mkf(o, "removeddir/sub/f", "f", 0644);
    mkf(o, "removeddir/g", "g", 0644);
    mkf(o, "flip1", "file", 0644);
    mkd(o, "flip2", 0755, 0, 0);
    mkf(o, "flip2/child", "c", 0644);
    mkf(o, "flip3", "file", 0644);
    mkd(o, "sub", 0755, 0, 0);
    mkf(o, "sub/inner.txt", "i", 0644);
    mkf(o, "sub/same.txt", "s", 0644);
    mkf(o, "sub/gone.txt", "g", 0644);
    mkd(o, "quiet", 0755, 0, 0);
    mkf(o, "quiet/q.txt", "q", 0644);
    mkd(o, "metadir", 0755, 0, 0);
    mkf(o, "metadir/m", "m", 0644);
    mknode(o, "fifo", S_IFIFO, 0, 0644, 0, 0);
    mkf(o, "sockflip", "s", 0644);
}

/* The container's tree: the old one with changes of every kind. */
static void build_new(const char *n)
{
    build_old(n);
    mkf(n, "grow.txt", "ab", 0644);
    assert_int_equal(chmod(pj(n, "mode.txt"), 0755), 0);
    own(pj(n, "owner.txt"), 1, 0);
    setx(n, "xattr.txt", "user.x", "2");
    assert_int_equal(unlink(pj(n, "link")), 0);
    mklnk(n, "link", "b");
    assert_int_equal(unlink(pj(n, "removed.txt")), 0);
    sh("rm -rf '%s'", pj(n, "removeddir"));
    assert_int_equal(unlink(pj(n, "flip1")), 0);
    mkd(n, "flip1", 0755, 0, 0);
    mkf(n, "flip1/c", "c", 0644);
    sh("rm -rf '%s'", pj(n, "flip2"));
    mkf(n, "flip2", "now a file", 0644);
    assert_int_equal(unlink(pj(n, "flip3")), 0);
    mklnk(n, "flip3", "keep.txt");
    mkf(n, "sub/inner.txt", "inner", 0644);
    assert_int_equal(unlink(pj(n, "sub/gone.txt")), 0);
    assert_int_equal(chmod(pj(n, "metadir"), 0700), 0);
    mkf(n, "new.txt", "new", 0644);
    mkd(n, "newdir", 0755, 0, 0);
    mkf(n, "newdir/f", "f", 0644);
    mkd(n, "newdir/sub", 0755, 0, 0);
    mkf(n, "newdir/sub/g", "g", 0644);
    mkf(n, "hl1", "linked", 0644);
    mkhl(n, "hl1", "hl2");
    mksock(n, "sock");
    assert_int_equal(unlink(pj(n, "sockflip")), 0);
    mksock(n, "sockflip"); /* cannot be stored, but must hide the old file */
}

static const struct want trees_want[] = {
    {"flip1/", 'd', 0755, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"flip1/c", 'f', 0644, 0, 0, 1, T0, NULL, NULL, "c", 0, 0},
    {"flip2", 'f', 0644, 0, 0, 10, T0, NULL, NULL, "now a file", 0, 0},
    {"flip3", 'l', 0777, 0, 0, 0, T0, "keep.txt", NULL, NULL, 0, 0},
    {"grow.txt", 'f', 0644, 0, 0, 2, T0, NULL, NULL, "ab", 0, 0},
    {"hl1", 'f', 0644, 0, 0, 6, T0, NULL, NULL, "linked", 0, 0},
    {"hl2", 'h', 0644, 0, 0, 0, T0, "hl1", NULL, NULL, 0, 0},
    {"link", 'l', 0777, 0, 0, 0, T0, "b", NULL, NULL, 0, 0},
    {"metadir/", 'd', 0700, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"mode.txt", 'f', 0755, 0, 0, 1, T0, NULL, NULL, "m", 0, 0},
    {"new.txt", 'f', 0644, 0, 0, 3, T0, NULL, NULL, "new", 0, 0},
    {"newdir/", 'd', 0755, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"newdir/f", 'f', 0644, 0, 0, 1, T0, NULL, NULL, "f", 0, 0},
    {"newdir/sub/", 'd', 0755, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"newdir/sub/g", 'f', 0644, 0, 0, 1, T0, NULL, NULL, "g", 0, 0},
    {"owner.txt", 'f', 0644, 1, 0, 1, T0, NULL, NULL, "o", 0, 0},
    {".wh.removed.txt", 'f', 0600, 0, 0, 0, T0, NULL, NULL, "", 0, 0},
    {".wh.removeddir", 'f', 0600, 0, 0, 0, T0, NULL, NULL, "", 0, 0},
    {".wh.sockflip", 'f', 0600, 0, 0, 0, T0, NULL, NULL, "", 0, 0},
    {"sub/", 'd', 0755, 0, 0, 0, T0, NULL, NULL, NULL, 0, 0},
    {"sub/.wh.gone.txt", 'f', 0600, 0, 0, 0, T0, NULL, NULL, "", 0, 0},
    {"sub/inner.txt", 'f', 0644, 0, 0, 5, T0, NULL, NULL, "inner", 0, 0},
    {"time.txt", 'f', 0644, 0, 0, 1, T0 + 1, NULL, NULL, "t", 0, 0},
    {"xattr.txt", 'f', 0644, 0, 0, 1, T0, NULL, "user.x=2;", "x", 0, 0},
};

static void mk_trees(struct fx *f, const char **old, const char **new)
{
    *old = sub(f, "old");
    *new = sub(f, "new");
    assert_int_equal(mkdir(*old, 0755), 0);
    assert_int_equal(mkdir(*new, 0755), 0);
    build_old(*old);
    build_new(*new);
    mtime_all(*old);
    mtime_all(*new);
    set_mtime(*new, "time.txt", T0 + 1, 0);
}

static void test_diff__trees_headers_are_exact(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *old, *new;
    mk_trees(f, &old, &new);
    const char *tar = sub(f, "out.tar");
    struct lb_diff_stats st;
    struct lb_error *err = NULL;
    assert_int_equal(run_trees(old, new, tar, &st, &err), 0);
    struct tarread t;
    read_tar(tar, &t);
    check_entries(&t, trees_want, LB_ARRAY_SIZE(trees_want));
    tarread_release(&t);
    assert_int_equal(st.entries, LB_ARRAY_SIZE(trees_want));
    assert_int_equal(st.whiteouts, 4);
    assert_int_equal(st.opaques, 0);
    assert_int_equal(st.bytes, 1 + 10 + 2 + 6 + 1 + 3 + 1 + 1 + 1 + 5 + 1 + 1);
}

/* Independent check of the meaning: GNU tar extracts the diff over a copy of the old tree, the
 * whiteouts are carried out by hand, and the result must be the new tree. */
static void test_diff__trees_applied_to_old_give_new(void **state)
{
    REQUIRE_ROOT();
    REQUIRE_GNU_TAR();
    struct fx *f = *state;
    const char *old, *new;
    mk_trees(f, &old, &new);
    const char *tar = sub(f, "out.tar");
    const char *x = sub(f, "x");
    struct lb_error *err = NULL;
    assert_int_equal(run_trees(old, new, tar, NULL, &err), 0);
    sh("cp -a '%s' '%s'", old, x);
    /* OCI: a non-directory entry replaces whatever was there, a whole directory included
     * (GNU tar would refuse to replace a non-empty directory). */
    struct tarread t;
    read_tar(tar, &t);
    for (size_t i = 0; i < t.n; i++) {
        struct stat s;
        if (t.e[i].type != AE_IFDIR && lstat(pj(x, t.e[i].path), &s) == 0 && S_ISDIR(s.st_mode))
            sh("rm -rf '%s'", pj(x, t.e[i].path));
    }
    tarread_release(&t);
    gnu_extract(tar, x);
    sh("cd '%s' && find . -name '.wh.*' | while read -r w; do "
       "rm -rf \"$(dirname \"$w\")/$(basename \"$w\" | cut -c5-)\" \"$w\"; done",
       x);
    compare_tree(new, x, false, false);
    assert_true(ino_of(x, "hl1") == ino_of(x, "hl2"));
}

static void test_diff__trees_identical_give_an_empty_tar(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *old = sub(f, "old"), *new = sub(f, "new");
    assert_int_equal(mkdir(old, 0755), 0);
    assert_int_equal(mkdir(new, 0755), 0);
    build_old(old);
    build_old(new);
    mtime_all(old);
    mtime_all(new);
    const char *tar = sub(f, "out.tar");
    struct lb_diff_stats st;
    struct lb_error *err = NULL;
    assert_int_equal(run_trees(old, new, tar, &st, &err), 0);
    struct tarread t;
    read_tar(tar, &t);
    assert_int_equal(t.n, 0);
    tarread_release(&t);
    assert_int_equal(st.entries, 0);
}

/* docker's rule, kept on purpose: same size and same mtime (to the nanosecond) = unchanged,
 * without reading the content; one nanosecond apart = changed. */
static void test_diff__trees_same_size_and_mtime_is_unchanged(void **state)
{
    struct fx *f = *state;
    const char *old = sub(f, "old"), *new = sub(f, "new");
    assert_int_equal(mkdir(old, 0755), 0);
    assert_int_equal(mkdir(new, 0755), 0);
    mkf(old, "sneaky", "abcd", 0644);
    mkf(new, "sneaky", "wxyz", 0644);
    mkf(old, "nano", "abcd", 0644);
    mkf(new, "nano", "abcd", 0644);
    mtime_all(old);
    mtime_all(new);
    set_mtime(new, "nano", T0, T0_NSEC + 1);
    set_mtime(new, ".", T0, T0_NSEC);
    const char *tar = sub(f, "out.tar");
    struct lb_error *err = NULL;
    assert_int_equal(run_trees(old, new, tar, NULL, &err), 0);
    struct tarread t;
    read_tar(tar, &t);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.e[0].path, "nano");
    tarread_release(&t);
}

static void test_diff__trees_removed_directory_gives_one_whiteout(void **state)
{
    struct fx *f = *state;
    const char *old = sub(f, "old"), *new = sub(f, "new");
    assert_int_equal(mkdir(old, 0755), 0);
    assert_int_equal(mkdir(new, 0755), 0);
    assert_int_equal(mkdir(pj(old, "a"), 0755), 0);
    assert_int_equal(mkdir(pj(old, "a/big"), 0755), 0);
    for (int i = 0; i < 50; i++) {
        char name[32];
        snprintf(name, sizeof(name), "a/big/f%02d", i);
        mkf(old, name, "x", 0644);
    }
    assert_int_equal(mkdir(pj(new, "a"), 0755), 0);
    mtime_all(old);
    mtime_all(new);
    const char *tar = sub(f, "out.tar");
    struct lb_diff_stats st;
    struct lb_error *err = NULL;
    assert_int_equal(run_trees(old, new, tar, &st, &err), 0);
    struct tarread t;
    read_tar(tar, &t);
    struct stat root;
    assert_int_equal(lstat(new, &root), 0);
    const struct want w[] = {
        {"a/", 'd', 0755, (int)root.st_uid, (int)root.st_gid, 0, T0, NULL, NULL, NULL, 0, 0},
        {"a/.wh.big", 'f', 0600, 0, 0, 0, T0, NULL, NULL, "", 0, 0},
    };
    check_entries(&t, w, LB_ARRAY_SIZE(w));
    tarread_release(&t);
    assert_int_equal(st.whiteouts, 1);
}

static void test_diff__trees_reject_names_reserved_for_whiteouts(void **state)
{
    struct fx *f = *state;
    const char *old = sub(f, "old"), *new = sub(f, "new");
    assert_int_equal(mkdir(old, 0755), 0);
    assert_int_equal(mkdir(new, 0755), 0);
    mkf(old, ".wh.x", "", 0644);
    const char *tar = sub(f, "out.tar");
    struct lb_error *err = NULL;
    assert_int_equal(run_trees(old, new, tar, NULL, &err), -1);
    assert_error_contains(err, "cannot store '.wh.x' in a layer");
    assert_int_equal(rename(pj(old, ".wh.x"), pj(new, ".wh.x")), 0);
    assert_int_equal(run_trees(old, new, tar, NULL, &err), -1);
    assert_error_contains(err, "cannot store '.wh.x' in a layer");
}

static void test_diff__trees_bad_directory_fds_fail(void **state)
{
    struct fx *f = *state;
    mkf(f->dir, "file", "x", 0644);
    int dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
    int ffd = open(pj(f->dir, "file"), O_RDONLY);
    int ofd = open(pj(f->dir, "out.tar"), O_WRONLY | O_CREAT, 0644);
    struct lb_error *err = NULL;
    assert_int_equal(lb_diff_trees(ffd, dfd, ofd, NULL, &err), -1);
    assert_error_contains(err, "cannot open the old directory");
    assert_int_equal(lb_diff_trees(dfd, ffd, ofd, NULL, &err), -1);
    assert_error_contains(err, "cannot open the new directory");
    close(dfd);
    close(ffd);
    close(ofd);
}

static void test_diff__trees_unreadable_directory_fails(void **state)
{
    REQUIRE_ROOT();
    struct fx *f = *state;
    const char *old = sub(f, "old"), *new = sub(f, "new");
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(mkdir(old, 0755), 0);
    assert_int_equal(mkdir(new, 0755), 0);
    mkd(old, "d", 0700, 0, 0);
    mkd(new, "d", 0700, 0, 0);
    int ofd = open(old, O_RDONLY | O_DIRECTORY);
    int nfd = open(new, O_RDONLY | O_DIRECTORY);
    int tfd = open(pj(f->dir, "out.tar"), O_WRONLY | O_CREAT, 0644);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct lb_error *e = NULL;
        int ok = setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0;
        int r = ok ? lb_diff_trees(ofd, nfd, tfd, NULL, &e) : 0;
        int good = ok && r == -1 && e && strstr(e->msg, "cannot open directory 'd' of the old");
        if (!good)
            fprintf(stderr, "got: %s\n", e ? e->msg : "(no error)");
        lb_error_free(e);
        _exit(good ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(ofd);
    close(nfd);
    close(tfd);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

LB_UNIT_MAIN(T(test_diff__upper_headers_are_exact_and_sorted),
             T(test_diff__upper_tar_bytes_have_sorted_xattrs_and_no_overlay_xattrs),
             T(test_diff__upper_round_trips_through_gnu_tar),
             T(test_diff__upper_output_does_not_depend_on_creation_order_or_process),
             T(test_diff__upper_opaque_root_writes_the_marker_first),
             T(test_diff__upper_empty_gives_an_empty_tar),
             T(test_diff__upper_rejects_names_reserved_for_whiteouts),
             T(test_diff__upper_rejects_overlay_metacopy_files),
             T(test_diff__upper_not_a_directory_fails), T(test_diff__closed_output_fd_fails),
             T(test_diff__unwritable_output_fd_fails),
             T(test_diff__full_disk_fails_with_the_entry_being_written),
             T(test_diff__unreadable_entries_fail_with_their_path),
             T(test_diff__trees_headers_are_exact), T(test_diff__trees_applied_to_old_give_new),
             T(test_diff__trees_identical_give_an_empty_tar),
             T(test_diff__trees_same_size_and_mtime_is_unchanged),
             T(test_diff__trees_removed_directory_gives_one_whiteout),
             T(test_diff__trees_reject_names_reserved_for_whiteouts),
             T(test_diff__trees_bad_directory_fds_fail),
             T(test_diff__trees_unreadable_directory_fails))
