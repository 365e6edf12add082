/* test_apply.c — applying a layer tar: the OCI changeset rules and every safety rule.
 *
 * Tars are built in memory with libarchive's writer (pax format), or by hand for headers no
 * writer would produce (a 1 TB size claim), then read back and applied into a fresh directory
 * `root` that sits next to an `outside` directory in the same temp dir: a write that escapes
 * lands in `outside` (or next to `root`) where the test looks for it. Expected values are the
 * inputs themselves (contents, modes, times written into the tar), checked with stat(2). */
#include "unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <locale.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer/apply.h"

#define T0 1000000000 /* a fixed mtime for entries that do not care */

/* --- an in-memory tar writer ------------------------------------------------------------- */

struct tarb {
    struct archive *w;
    char *buf;
    size_t cap, used;
};

static void tb_init(struct tarb *t)
{
    t->cap = 16 << 20;
    t->buf = lb_xmalloc(t->cap);
    t->used = 0;
    t->w = archive_write_new();
    assert_int_equal(archive_write_set_format_pax(t->w), ARCHIVE_OK);
    assert_int_equal(archive_write_open_memory(t->w, t->buf, t->cap, &t->used), ARCHIVE_OK);
}

static struct archive_entry *tb_entry(const char *name, mode_t type, mode_t perm)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_mtime(e, T0, 0);
    archive_entry_set_uid(e, geteuid());
    archive_entry_set_gid(e, getegid());
    return e;
}

/* Write e (and len bytes of data) and free it. */
static void tb_put(struct tarb *t, struct archive_entry *e, const void *data, size_t len)
{
    if (archive_entry_filetype(e) == AE_IFREG && archive_entry_hardlink(e) == NULL &&
        archive_entry_sparse_count(e) == 0)
        archive_entry_set_size(e, (la_int64_t)len);
    if (archive_write_header(t->w, e) != ARCHIVE_OK)
        fail_msg("archive_write_header(%s): %s", archive_entry_pathname(e),
                 archive_error_string(t->w));
    if (len && archive_write_data(t->w, data, len) != (la_ssize_t)len)
        fail_msg("archive_write_data: %s", archive_error_string(t->w));
    archive_entry_free(e);
}

static void tb_file(struct tarb *t, const char *name, mode_t perm, const char *content)
{
    tb_put(t, tb_entry(name, AE_IFREG, perm), content, strlen(content));
}

static void tb_dir(struct tarb *t, const char *name, mode_t perm)
{
    tb_put(t, tb_entry(name, AE_IFDIR, perm), NULL, 0);
}

static void tb_symlink(struct tarb *t, const char *name, const char *target)
{
    struct archive_entry *e = tb_entry(name, AE_IFLNK, 0777);
    archive_entry_set_symlink(e, target);
    tb_put(t, e, NULL, 0);
}

static void tb_hardlink(struct tarb *t, const char *name, const char *target)
{
    struct archive_entry *e = tb_entry(name, AE_IFREG, 0644);
    archive_entry_set_hardlink(e, target);
    archive_entry_set_size(e, 0);
    tb_put(t, e, NULL, 0);
}

static void tb_node(struct tarb *t, const char *name, mode_t type, mode_t perm, unsigned maj,
                    unsigned min)
{
    struct archive_entry *e = tb_entry(name, type, perm);
    archive_entry_set_rdevmajor(e, maj);
    archive_entry_set_rdevminor(e, min);
    tb_put(t, e, NULL, 0);
}

static void tb_close(struct tarb *t)
{
    if (t->w) {
        assert_int_equal(archive_write_close(t->w), ARCHIVE_OK);
        archive_write_free(t->w);
        t->w = NULL;
    }
}

/* --- the directories --------------------------------------------------------------------- */

struct env {
    char *top;     /* the temp dir */
    char *dir;     /* top/root: where layers are applied */
    char *outside; /* top/outside: must never change */
    int fd;        /* of dir */
};

static struct env env_new(void)
{
    struct env v = {.top = lb_unit_mkdtemp()};
    v.dir = lb_path_join(v.top, "root");
    v.outside = lb_path_join(v.top, "outside");
    assert_int_equal(mkdir(v.dir, 0755), 0);
    assert_int_equal(mkdir(v.outside, 0755), 0);
    lb_unit_write(v.outside, "secret", "outside data", 12);
    v.fd = open(v.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(v.fd >= 0);
    return v;
}

static size_t count_names(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Nothing escaped: top holds only root/ and outside/, outside holds only its secret. */
static void assert_outside_untouched(const struct env *v)
{
    assert_int_equal(count_names(v->top), 2);
    assert_int_equal(count_names(v->outside), 1);
    char *p = lb_path_join(v->outside, "secret");
    char *data = NULL;
    size_t len = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_read_file_at(AT_FDCWD, p, 1024, &data, &len, &err), 0);
    assert_string_equal(data, "outside data");
    free(data);
    free(p);
}

static void env_free(struct env *v)
{
    close(v->fd);
    /* directories applied read-only must be removable */
    char *cmd = lb_xasprintf("chmod -R u+rwX '%s' 2>/dev/null", v->top);
    if (system(cmd) != 0) {
        /* nothing: removal below reports */
    }
    free(cmd);
    free(v->dir);
    free(v->outside);
    lb_unit_rmdir(v->top);
}

static struct lb_apply_opts opts_files(void)
{
    struct lb_apply_opts o = {LB_WHITEOUT_FILES, geteuid() == 0, 0, "layer 'test'"};
    return o;
}

static struct lb_apply_opts opts_overlay(void)
{
    struct lb_apply_opts o = {LB_WHITEOUT_OVERLAY, geteuid() == 0, 0, "layer 'test'"};
    return o;
}

/* Apply t's tar (closing the writer) into v->fd. */
static int apply_buf(const char *buf, size_t len, int fd, const struct lb_apply_opts *o,
                     struct lb_apply_stats *st, struct lb_error **err)
{
    struct archive *r = archive_read_new();
    archive_read_support_format_tar(r);
    /* a failed open (junk, a cut header) is left for lb_layer_apply to report */
    (void)archive_read_open_memory(r, buf, len);
    int rc = lb_layer_apply(r, fd, o, st, err);
    archive_read_free(r);
    return rc;
}

static int apply_tar(struct tarb *t, const struct env *v, const struct lb_apply_opts *o,
                     struct lb_apply_stats *st, struct lb_error **err)
{
    tb_close(t);
    int rc = apply_buf(t->buf, t->used, v->fd, o, st, err);
    free(t->buf);
    t->buf = NULL;
    return rc;
}

static void apply_ok(struct tarb *t, const struct env *v, const struct lb_apply_opts *o,
                     struct lb_apply_stats *st)
{
    struct lb_error *err = NULL;
    if (apply_tar(t, v, o, st, &err) < 0)
        fail_msg("apply failed: %s", err->msg);
}

/* Apply and expect an LB_EKIND_INVALID error that is exactly `msg`. */
static void apply_rejects(struct tarb *t, const struct env *v, const struct lb_apply_opts *o,
                          const char *msg)
{
    struct lb_error *err = NULL;
    assert_int_equal(apply_tar(t, v, o, NULL, &err), -1);
    assert_non_null(err);
    if (strcmp(err->msg, msg) != 0)
        fail_msg("error '%s', expected '%s'", err->msg, msg);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_null(strchr(err->msg, '\n'));
    lb_error_free(err);
}

static struct stat lst(const struct env *v, const char *rel)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    if (fstatat(v->fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        st.st_mode = 0;
    return st;
}

static char *content(const struct env *v, const char *rel)
{
    char *data = NULL;
    size_t len = 0;
    struct lb_error *err = NULL;
    if (lb_read_file_at(v->fd, rel, 1 << 20, &data, &len, &err) < 0)
        fail_msg("read %s: %s", rel, err->msg);
    return data;
}

static void assert_content(const struct env *v, const char *rel, const char *want)
{
    char *got = content(v, rel);
    if (strcmp(got, want) != 0)
        fail_msg("%s contains '%s', expected '%s'", rel, got, want);
    free(got);
}

static void with_fallback(bool on)
{
    if (on)
        setenv("LB_SAFEPATH_NO_OPENAT2", "1", 1);
    else
        unsetenv("LB_SAFEPATH_NO_OPENAT2");
}

/* --- what gets written ------------------------------------------------------------------- */

static void writes_every_type_with_modes_times_and_stats(bool fallback)
{
    with_fallback(fallback);
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    struct archive_entry *e = tb_entry("etc/", AE_IFDIR, 0750);
    archive_entry_set_mtime(e, 1111, 500);
    tb_put(&t, e, NULL, 0);
    e = tb_entry("etc/hostname", AE_IFREG, 0640);
    archive_entry_set_mtime(e, 2222, 0);
    tb_put(&t, e, "box\n", 4);
    e = tb_entry("etc/link", AE_IFLNK, 0777);
    archive_entry_set_symlink(e, "hostname");
    archive_entry_set_mtime(e, 3333, 0);
    tb_put(&t, e, NULL, 0);
    tb_node(&t, "run/fifo", AE_IFIFO, 0620, 0, 0); /* "run" is implied */
    tb_file(&t, "bin/tool", 0751, "#!/bin/sh\n");
    tb_hardlink(&t, "bin/tool2", "bin/tool");
    struct lb_apply_stats st;
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, &st);

    assert_content(&v, "etc/hostname", "box\n");
    assert_content(&v, "bin/tool", "#!/bin/sh\n");
    struct stat s = lst(&v, "etc/hostname");
    assert_int_equal(s.st_mode, S_IFREG | 0640);
    assert_int_equal(s.st_mtim.tv_sec, 2222);
    s = lst(&v, "etc");
    assert_int_equal(s.st_mode, S_IFDIR | 0750);
    assert_int_equal(s.st_mtim.tv_sec, 1111); /* set after its contents were written */
    assert_int_equal(s.st_mtim.tv_nsec, 500);
    s = lst(&v, "etc/link");
    assert_true(S_ISLNK(s.st_mode));
    assert_int_equal(s.st_mtim.tv_sec, 3333);
    char target[64] = {0};
    assert_int_equal(readlinkat(v.fd, "etc/link", target, sizeof(target) - 1), 8);
    assert_string_equal(target, "hostname");
    assert_int_equal(lst(&v, "run/fifo").st_mode, S_IFIFO | 0620);
    assert_int_equal(lst(&v, "run").st_mode, S_IFDIR | 0755);
    assert_int_equal(lst(&v, "bin/tool").st_mode, S_IFREG | 0751);
    assert_int_equal(lst(&v, "bin/tool").st_ino, lst(&v, "bin/tool2").st_ino);
    assert_int_equal(lst(&v, "bin/tool").st_nlink, 2);

    assert_int_equal(st.entries, 6);
    assert_int_equal(st.files, 2);
    assert_int_equal(st.dirs, 1);
    assert_int_equal(st.symlinks, 1);
    assert_int_equal(st.hardlinks, 1);
    assert_int_equal(st.others, 1);
    assert_int_equal(st.regular_bytes, 4 + 10); /* the hard link counted once */
    assert_int_equal(st.whiteouts + st.opaques + st.skipped_devices, 0);
    assert_outside_untouched(&v);
    env_free(&v);
    with_fallback(false);
}

static void test_apply__writes_every_type_with_modes_times_and_stats(void **state)
{
    (void)state;
    writes_every_type_with_modes_times_and_stats(false);
}

static void test_apply__fallback_walk_writes_every_type_with_modes_times_and_stats(void **state)
{
    (void)state;
    writes_every_type_with_modes_times_and_stats(true);
}

static void test_apply__sets_directory_modes_and_mtimes_after_their_contents(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    struct archive_entry *e = tb_entry("./", AE_IFDIR, 0711);
    archive_entry_set_mtime(e, 500, 0);
    tb_put(&t, e, NULL, 0);
    e = tb_entry("a/", AE_IFDIR, 0755);
    archive_entry_set_mtime(e, 1000, 0);
    tb_put(&t, e, NULL, 0);
    e = tb_entry("a/b/", AE_IFDIR, 0555); /* read-only, and filled afterwards */
    archive_entry_set_mtime(e, 2000, 0);
    tb_put(&t, e, NULL, 0);
    tb_file(&t, "a/b/f", 0644, "f");
    tb_file(&t, "a/g", 0644, "g");
    tb_dir(&t, "a/b/c/", 0700);
    tb_file(&t, "a/b/c/h", 0644, "h");
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    struct stat s = lst(&v, "a");
    assert_int_equal(s.st_mtim.tv_sec, 1000);
    s = lst(&v, "a/b");
    assert_int_equal(s.st_mode, S_IFDIR | 0555);
    assert_int_equal(s.st_mtim.tv_sec, 2000);
    assert_int_equal(lst(&v, "a/b/c").st_mode, S_IFDIR | 0700);
    assert_int_equal(lst(&v, "a/b/c").st_mtim.tv_sec, T0);
    assert_content(&v, "a/b/c/h", "h");
    /* the root entry sets the root's own mode and time */
    struct stat r;
    assert_int_equal(fstat(v.fd, &r), 0);
    assert_int_equal(r.st_mode, S_IFDIR | 0711);
    assert_int_equal(r.st_mtim.tv_sec, 500);
    env_free(&v);
}

static void test_apply__replaces_instead_of_truncating_a_hardlinked_inode(void **state)
{
    (void)state;
    struct env v = env_new();
    lb_unit_write(v.dir, "dir/a", "original", 8);
    char *a = lb_path_join(v.dir, "dir/a");
    char *b = lb_path_join(v.outside, "b");
    assert_int_equal(link(a, b), 0);
    struct tarb t;
    tb_init(&t);
    tb_file(&t, "dir/a", 0644, "rewritten");
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    assert_content(&v, "dir/a", "rewritten");
    char *data = NULL;
    size_t len = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_read_file_at(AT_FDCWD, b, 1024, &data, &len, &err), 0);
    assert_string_equal(data, "original"); /* the other name of the old inode is intact */
    free(data);
    struct stat sb;
    assert_int_equal(stat(b, &sb), 0);
    assert_int_equal(sb.st_nlink, 1);
    assert_true(sb.st_ino != lst(&v, "dir/a").st_ino);
    free(a);
    free(b);
    env_free(&v);
}

static void test_apply__replaces_a_non_directory_parent_with_a_directory(void **state)
{
    (void)state;
    struct env v = env_new();
    lb_unit_write(v.dir, "p", "was a file", 10);
    struct tarb t;
    tb_init(&t);
    tb_file(&t, "p/x", 0644, "x");
    tb_file(&t, "q", 0644, "q");
    tb_file(&t, "q/r/s", 0644, "s");
    tb_node(&t, "fifo", AE_IFIFO, 0644, 0, 0);
    tb_file(&t, "fifo/t", 0644, "t");
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    assert_int_equal(lst(&v, "p").st_mode, S_IFDIR | 0755);
    assert_content(&v, "p/x", "x");
    assert_int_equal(lst(&v, "q").st_mode, S_IFDIR | 0755);
    assert_content(&v, "q/r/s", "s");
    assert_int_equal(lst(&v, "fifo").st_mode, S_IFDIR | 0755);
    assert_content(&v, "fifo/t", "t");
    env_free(&v);
}

static void test_apply__same_path_twice_with_a_type_flip_the_later_wins(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_file(&t, "a", 0644, "file first");
    tb_dir(&t, "a/", 0700);
    tb_file(&t, "a/x", 0644, "x");
    tb_dir(&t, "b/", 0755);
    tb_file(&t, "b/c", 0644, "c");
    tb_file(&t, "b", 0600, "file later");
    tb_symlink(&t, "s", v.outside);
    tb_dir(&t, "s/", 0755);
    tb_file(&t, "s/secret", 0644, "inside now");
    tb_dir(&t, "d/", 0755);
    tb_file(&t, "d/e", 0644, "e");
    tb_symlink(&t, "d", "/");
    struct archive_entry *e = tb_entry("m/", AE_IFDIR, 0711);
    archive_entry_set_mtime(e, 5000, 0);
    tb_put(&t, e, NULL, 0);
    tb_file(&t, "m", 0644, "m");
    e = tb_entry("m/", AE_IFDIR, 0750);
    archive_entry_set_mtime(e, 6000, 0);
    tb_put(&t, e, NULL, 0);
    tb_dir(&t, "z/", 0700);
    tb_file(&t, "z", 0640, "z");
    e = tb_entry("n/", AE_IFDIR, 0711); /* replaced, then implied again by n/x */
    archive_entry_set_mtime(e, 5000, 0);
    tb_put(&t, e, NULL, 0);
    tb_file(&t, "n", 0644, "n");
    tb_file(&t, "n/x", 0644, "x");
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    assert_int_equal(lst(&v, "a").st_mode, S_IFDIR | 0700);
    assert_content(&v, "a/x", "x");
    assert_int_equal(lst(&v, "b").st_mode, S_IFREG | 0600);
    assert_content(&v, "b", "file later");
    assert_int_equal(lst(&v, "s").st_mode, S_IFDIR | 0755);
    assert_content(&v, "s/secret", "inside now");
    assert_true(S_ISLNK(lst(&v, "d").st_mode));
    assert_int_equal(lst(&v, "m").st_mode, S_IFDIR | 0750);
    assert_int_equal(lst(&v, "m").st_mtim.tv_sec, 6000);
    assert_int_equal(lst(&v, "z").st_mode, S_IFREG | 0640);
    assert_int_equal(lst(&v, "n").st_mode, S_IFDIR | 0755);
    assert_true(lst(&v, "n").st_mtim.tv_sec != 5000);
    assert_outside_untouched(&v);
    env_free(&v);
}

static void test_apply__writes_sparse_files_with_holes(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    const size_t size = 4 << 20, blk = 4096;
    struct archive_entry *e = tb_entry("sparse", AE_IFREG, 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_sparse_add_entry(e, 0, (la_int64_t)blk);
    archive_entry_sparse_add_entry(e, 2 << 20, (la_int64_t)blk);
    /* the pax writer takes the whole logical content and leaves the holes out itself */
    char *data = lb_xmalloc(size);
    memset(data, 'A', blk);
    memset(data + (2 << 20), 'B', blk);
    tb_put(&t, e, data, size);
    free(data);
    struct lb_apply_opts o = opts_files();
    struct lb_apply_stats st;
    apply_ok(&t, &v, &o, &st);
    struct stat s = lst(&v, "sparse");
    assert_int_equal(s.st_size, size); /* it ends in a hole */
    assert_true((size_t)s.st_blocks * 512 < size / 4);
    int fd = openat(v.fd, "sparse", O_RDONLY);
    assert_true(fd >= 0);
    char *buf = lb_xmalloc(size);
    assert_int_equal(lb_read_full(fd, buf, size, NULL), (ssize_t)size);
    close(fd);
    for (size_t i = 0; i < size; i++) {
        char want = i < blk ? 'A' : (i >= (2u << 20) && i < (2u << 20) + blk) ? 'B' : 0;
        if (buf[i] != want)
            fail_msg("byte %zu is %d, expected %d", i, buf[i], want);
    }
    free(buf);
    assert_int_equal(st.regular_bytes, size);
    env_free(&v);
}

static void test_apply__sets_xattrs_on_files_directories_and_links(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    struct archive_entry *e = tb_entry("d/", AE_IFDIR, 0755);
    archive_entry_xattr_add_entry(e, "user.dir", "on a dir", 8);
    tb_put(&t, e, NULL, 0);
    e = tb_entry("d/f", AE_IFREG, 0644);
    archive_entry_xattr_add_entry(e, "user.one", "1", 1);
    archive_entry_xattr_add_entry(e, "user.bin", "\0\1\2", 3);
    tb_put(&t, e, "f", 1);
    bool root = geteuid() == 0;
    if (root) { /* only trusted.* may be set on a symlink or a FIFO */
        e = tb_entry("d/l", AE_IFLNK, 0777);
        archive_entry_set_symlink(e, "f");
        archive_entry_xattr_add_entry(e, "trusted.lbtest", "link", 4);
        tb_put(&t, e, NULL, 0);
        e = tb_entry("d/p", AE_IFIFO, 0644);
        archive_entry_xattr_add_entry(e, "trusted.lbtest", "fifo", 4);
        tb_put(&t, e, NULL, 0);
    }
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    char *p = lb_path_join(v.dir, "d");
    char buf[32] = {0};
    assert_int_equal(getxattr(p, "user.dir", buf, sizeof(buf)), 8);
    assert_string_equal(buf, "on a dir");
    free(p);
    p = lb_path_join(v.dir, "d/f");
    memset(buf, 0, sizeof(buf));
    assert_int_equal(getxattr(p, "user.one", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "1");
    assert_int_equal(getxattr(p, "user.bin", buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "\0\1\2", 3);
    free(p);
    if (root) {
        p = lb_path_join(v.dir, "d/l");
        memset(buf, 0, sizeof(buf));
        assert_int_equal(lgetxattr(p, "trusted.lbtest", buf, sizeof(buf)), 4);
        assert_string_equal(buf, "link");
        free(p);
        p = lb_path_join(v.dir, "d/p");
        memset(buf, 0, sizeof(buf));
        assert_int_equal(lgetxattr(p, "trusted.lbtest", buf, sizeof(buf)), 4);
        assert_string_equal(buf, "fifo");
        free(p);
    }
    env_free(&v);
}

static void test_apply__rejects_overlay_xattrs_carried_by_the_tar(void **state)
{
    (void)state;
    static const char *const names[] = {"trusted.overlay.opaque", "trusted.overlay.redirect",
                                        "user.overlay.opaque"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(names); i++) {
        struct env v = env_new();
        struct tarb t;
        tb_init(&t);
        struct archive_entry *e = tb_entry("d/", AE_IFDIR, 0755);
        archive_entry_xattr_add_entry(e, names[i], "y", 1);
        tb_put(&t, e, NULL, 0);
        struct lb_apply_opts o = opts_overlay();
        char *msg = lb_xasprintf("layer 'test': entry 'd/': xattr '%s' is reserved for the "
                                 "storage driver (use whiteouts)",
                                 names[i]);
        apply_rejects(&t, &v, &o, msg);
        free(msg);
        env_free(&v);
    }
}

/* As a real unprivileged user (a child process that drops to nobody): trusted.* xattrs that
 * cannot be set are tolerated when opts.privileged is false, and an error when it is true. */
static void test_apply__tolerates_unsettable_trusted_xattrs_only_when_unprivileged(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    for (int privileged = 0; privileged <= 1; privileged++) {
        struct env v = env_new();
        assert_int_equal(chown(v.dir, 65534, 65534), 0);
        assert_int_equal(chmod(v.top, 0755), 0);
        struct tarb t;
        tb_init(&t);
        struct archive_entry *e = tb_entry("f", AE_IFREG, 0644);
        archive_entry_set_uid(e, 65534);
        archive_entry_set_gid(e, 65534);
        archive_entry_xattr_add_entry(e, "trusted.lbtest", "x", 1);
        tb_put(&t, e, "f", 1);
        e = tb_entry("g", AE_IFREG, 0644);
        archive_entry_set_uid(e, 65534);
        archive_entry_set_gid(e, 65534);
        archive_entry_xattr_add_entry(e, "security.lbtest", "x", 1);
        tb_put(&t, e, "g", 1);
        tb_close(&t);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
                setresuid(65534, 65534, 65534) < 0)
                _exit(10);
            struct lb_apply_opts o = {LB_WHITEOUT_FILES, privileged, 0, "layer 'u'"};
            struct lb_error *err = NULL;
            int rc = apply_buf(t.buf, t.used, v.fd, &o, NULL, &err);
            if (privileged)
                _exit(rc == -1 && err && strstr(err->msg, "cannot set xattr 'trusted.lbtest'")
                          ? 0
                          : 11);
            _exit(rc == 0 ? 0 : 12);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        if (!privileged)
            assert_content(&v, "g", "g");
        free(t.buf);
        env_free(&v);
    }
}

static void test_apply__sets_owner_then_mode_when_privileged(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    for (int privileged = 0; privileged <= 1; privileged++) {
        struct env v = env_new();
        struct tarb t;
        tb_init(&t);
        struct archive_entry *e = tb_entry("suid", AE_IFREG, 06755);
        archive_entry_set_uid(e, 1234);
        archive_entry_set_gid(e, 5678);
        tb_put(&t, e, "x", 1);
        e = tb_entry("d/", AE_IFDIR, 02775);
        archive_entry_set_uid(e, 42);
        archive_entry_set_gid(e, 43);
        tb_put(&t, e, NULL, 0);
        e = tb_entry("l", AE_IFLNK, 0777);
        archive_entry_set_symlink(e, "suid");
        archive_entry_set_uid(e, 7);
        archive_entry_set_gid(e, 8);
        tb_put(&t, e, NULL, 0);
        struct lb_apply_opts o = opts_files();
        o.privileged = privileged;
        apply_ok(&t, &v, &o, NULL);
        struct stat s = lst(&v, "suid");
        assert_int_equal(s.st_mode, S_IFREG | 06755); /* chmod after chown kept the set-id bits */
        assert_int_equal(s.st_uid, privileged ? 1234 : 0);
        assert_int_equal(s.st_gid, privileged ? 5678 : getegid());
        s = lst(&v, "d");
        assert_int_equal(s.st_mode, S_IFDIR | 02775);
        assert_int_equal(s.st_uid, privileged ? 42 : 0);
        s = lst(&v, "l");
        assert_int_equal(s.st_uid, privileged ? 7 : 0);
        assert_int_equal(s.st_gid, privileged ? 8 : getegid());
        env_free(&v);
    }
}

static void test_apply__creates_devices_only_when_privileged(void **state)
{
    (void)state;
    for (int privileged = 0; privileged <= 1; privileged++) {
        if (privileged && geteuid() != 0)
            skip();
        struct env v = env_new();
        struct tarb t;
        tb_init(&t);
        tb_node(&t, "dev/null", AE_IFCHR, 0666, 1, 3);
        tb_node(&t, "dev/loop0", AE_IFBLK, 0660, 7, 0);
        tb_node(&t, "dev/fifo", AE_IFIFO, 0600, 0, 0);
        struct lb_apply_opts o = opts_files();
        o.privileged = privileged;
        struct lb_apply_stats st;
        apply_ok(&t, &v, &o, &st);
        if (privileged) {
            struct stat s = lst(&v, "dev/null");
            assert_int_equal(s.st_mode, S_IFCHR | 0666);
            assert_int_equal(s.st_rdev, makedev(1, 3));
            s = lst(&v, "dev/loop0");
            assert_int_equal(s.st_mode, S_IFBLK | 0660);
            assert_int_equal(s.st_rdev, makedev(7, 0));
            assert_int_equal(st.skipped_devices, 0);
            assert_int_equal(st.others, 3);
        } else {
            assert_int_equal(lst(&v, "dev/null").st_mode, 0);
            assert_int_equal(lst(&v, "dev/loop0").st_mode, 0);
            assert_int_equal(st.skipped_devices, 2);
            assert_int_equal(st.others, 1);
        }
        assert_int_equal(lst(&v, "dev/fifo").st_mode, S_IFIFO | 0600); /* FIFOs either way */
        env_free(&v);
    }
}

/* Go's archive/tar (docker, buildkit) writes non-ASCII names as UTF-8 pax "path" records; the
 * reader runs in the C locale, as the CLI does. */
static void test_apply__keeps_non_ascii_pax_names_as_utf8_bytes(void **state)
{
    (void)state;
    if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
        skip();
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_file(&t, "caf\xc3\xa9/na\xc3\xafve", 0644, "utf8");
    tb_close(&t);
    setlocale(LC_CTYPE, "C");
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    assert_content(&v, "caf\xc3\xa9/na\xc3\xafve", "utf8");
    env_free(&v);
}

/* --- whiteouts --------------------------------------------------------------------------- */

static void whiteout_tar(struct tarb *t)
{
    tb_init(t);
    tb_file(t, ".wh.gone", 0644, "");
    tb_file(t, "d/.wh.sub", 0644, "");
    tb_dir(t, "o/", 0755);
    tb_file(t, "o/keep", 0644, "kept");
    tb_file(t, "o/.wh..wh..opq", 0644, ""); /* after a sibling: position does not matter */
    tb_file(t, "p/.wh..wh..opq", 0644, ""); /* p is implied */
}

static void test_apply__overlay_whiteouts_are_char_0_0_and_opaque_xattrs(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* trusted.* xattrs */
    struct env v = env_new();
    struct tarb t;
    whiteout_tar(&t);
    struct lb_apply_opts o = opts_overlay();
    struct lb_apply_stats st;
    apply_ok(&t, &v, &o, &st);
    static const char *const devs[] = {"gone", "d/sub"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(devs); i++) {
        struct stat s = lst(&v, devs[i]);
        assert_true(S_ISCHR(s.st_mode));
        assert_int_equal(s.st_rdev, makedev(0, 0));
    }
    assert_int_equal(lst(&v, ".wh.gone").st_mode, 0);
    assert_int_equal(lst(&v, "d/.wh.sub").st_mode, 0);
    assert_int_equal(lst(&v, "o/.wh..wh..opq").st_mode, 0);
    static const char *const opaque[] = {"o", "p"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(opaque); i++) {
        char *p = lb_path_join(v.dir, opaque[i]);
        char buf[4] = {0};
        assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
        assert_string_equal(buf, "y");
        free(p);
    }
    assert_content(&v, "o/keep", "kept"); /* opaque hides lower layers, not this one */
    assert_int_equal(st.whiteouts, 2);
    assert_int_equal(st.opaques, 2);
    env_free(&v);
}

static void test_apply__overlay_opaque_marker_at_the_top_marks_the_root(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_file(&t, ".wh..wh..opq", 0644, "");
    struct lb_apply_opts o = opts_overlay();
    apply_ok(&t, &v, &o, NULL);
    char buf[4] = {0};
    assert_int_equal(fgetxattr(v.fd, "trusted.overlay.opaque", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "y");
    assert_int_equal(count_names(v.dir), 0);
    env_free(&v);
}

static void test_apply__files_whiteouts_are_kept_as_empty_markers(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    whiteout_tar(&t);
    struct lb_apply_opts o = opts_files();
    struct lb_apply_stats st;
    apply_ok(&t, &v, &o, &st);
    static const char *const markers[] = {".wh.gone", "d/.wh.sub", "o/.wh..wh..opq",
                                          "p/.wh..wh..opq"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(markers); i++) {
        struct stat s = lst(&v, markers[i]);
        assert_int_equal(s.st_mode, S_IFREG | 0644);
        assert_int_equal(s.st_size, 0);
    }
    assert_int_equal(lst(&v, "gone").st_mode, 0);
    assert_int_equal(lst(&v, "d/sub").st_mode, 0);
    char *p = lb_path_join(v.dir, "o");
    char buf[4];
    assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", buf, sizeof(buf)), -1);
    free(p);
    assert_content(&v, "o/keep", "kept");
    assert_int_equal(st.whiteouts, 2);
    assert_int_equal(st.opaques, 2);
    env_free(&v);
}

static void test_apply__overlay_later_entry_replaces_its_whiteout_and_vice_versa(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_file(&t, ".wh.a", 0644, "");
    tb_file(&t, "a", 0600, "back");
    tb_dir(&t, "b/", 0755);
    tb_file(&t, "b/child", 0644, "c");
    tb_file(&t, ".wh.b", 0644, "");
    tb_file(&t, ".wh.c", 0644, "");
    tb_file(&t, "c/d", 0644, "d"); /* a whiteout as a parent becomes a directory */
    struct lb_apply_opts o = opts_overlay();
    apply_ok(&t, &v, &o, NULL);
    assert_int_equal(lst(&v, "a").st_mode, S_IFREG | 0600);
    assert_content(&v, "a", "back");
    assert_true(S_ISCHR(lst(&v, "b").st_mode));
    assert_int_equal(lst(&v, "b").st_rdev, makedev(0, 0));
    assert_int_equal(lst(&v, "c").st_mode, S_IFDIR | 0755);
    assert_content(&v, "c/d", "d");
    env_free(&v);
}

static void test_apply__files_whiteout_and_same_layer_entry_both_stay(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_file(&t, ".wh.a", 0644, "");
    tb_file(&t, "a", 0600, "a");
    tb_file(&t, "b", 0600, "b");
    tb_file(&t, ".wh.b", 0644, "");
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    assert_content(&v, "a", "a");
    assert_content(&v, "b", "b");
    assert_int_equal(lst(&v, ".wh.a").st_mode, S_IFREG | 0644);
    assert_int_equal(lst(&v, ".wh.b").st_mode, S_IFREG | 0644);
    env_free(&v);
}

/* --- rejections -------------------------------------------------------------------------- */

/* One-entry tars whose only entry is refused. */
static void rejects_one(const char *name, mode_t type, const char *target, const char *want,
                        bool overlay)
{
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    if (type == AE_IFLNK)
        tb_symlink(&t, name, target);
    else if (target)
        tb_hardlink(&t, name, target);
    else if (type == AE_IFDIR)
        tb_dir(&t, name, 0755);
    else
        tb_file(&t, name, 0644, "evil");
    struct lb_apply_opts o = overlay ? opts_overlay() : opts_files();
    bool slash = type == AE_IFDIR && !target && name[0] && name[strlen(name) - 1] != '/';
    char *msg = lb_xasprintf("layer 'test': entry '%s%s': %s", name, slash ? "/" : "", want);
    apply_rejects(&t, &v, &o, msg);
    free(msg);
    assert_outside_untouched(&v);
    env_free(&v);
}

static void test_apply__rejects_dotdot_paths(void **state)
{
    (void)state;
    static const char *const names[] = {"../evil", "a/../../evil", "./../evil",
                                        "..",      "a/b/..",       "../outside/secret"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(names); i++) {
        rejects_one(names[i], AE_IFREG, NULL, "path leaves the layer ('..')", false);
        rejects_one(names[i], AE_IFDIR, NULL, "path leaves the layer ('..')", true);
    }
}

static void test_apply__rejects_absolute_paths(void **state)
{
    (void)state;
    static const char *const names[] = {"/evil", "/tmp/lb-unit-evil", "//x", "/"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(names); i++)
        rejects_one(names[i], AE_IFREG, NULL, "path is absolute (it would leave the layer)", false);
}

static void test_apply__rejects_bad_whiteout_names_at_any_depth(void **state)
{
    (void)state;
    static const struct {
        const char *base, *msg;
    } cases[] = {
        {".wh.", "whiteout '.wh.' names no file"},
        {".wh..", "whiteout '.wh..' would delete its own directory ('.')"},
        {".wh...", "whiteout '.wh...' leaves its directory ('..')"},
        {".wh..wh.", "reserved whiteout name (only '.wh..wh..opq' is defined)"},
        {".wh..wh.foo", "reserved whiteout name (only '.wh..wh..opq' is defined)"},
        {".wh..wh..plnk", "reserved whiteout name (only '.wh..wh..opq' is defined)"},
        {".wh..wh..opq.x", "reserved whiteout name (only '.wh..wh..opq' is defined)"},
    };
    static const char *const dirs[] = {"", "a/", "a/b/c/"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++)
        for (size_t j = 0; j < LB_ARRAY_SIZE(dirs); j++)
            for (int overlay = 0; overlay <= 1; overlay++) {
                char *name = lb_xasprintf("%s%s", dirs[j], cases[i].base);
                rejects_one(name, AE_IFREG, NULL, cases[i].msg, overlay);
                free(name);
            }
}

static void test_apply__rejects_whiteouts_whose_directory_leaves_the_layer(void **state)
{
    (void)state;
    rejects_one("../.wh.x", AE_IFREG, NULL, "path leaves the layer ('..')", true);
    rejects_one("a/../../.wh.x", AE_IFREG, NULL, "path leaves the layer ('..')", false);
    rejects_one("../.wh..wh..opq", AE_IFREG, NULL, "path leaves the layer ('..')", true);
    rejects_one("/etc/.wh.passwd", AE_IFREG, NULL, "path is absolute (it would leave the layer)",
                true);
    rejects_one("/.wh..wh..opq", AE_IFREG, NULL, "path is absolute (it would leave the layer)",
                false);
    rejects_one(".wh.x/y", AE_IFREG, NULL, "'.wh.x' is a whiteout name and cannot be a directory",
                false);
    rejects_one("a/.wh..wh..opq/y", AE_IFREG, NULL,
                "'.wh..wh..opq' is a whiteout name and cannot be a directory", true);
}

static void test_apply__rejects_a_root_entry_that_is_not_a_directory(void **state)
{
    (void)state;
    static const char *const names[] = {".", "./"};
    const char *want = "the root entry ('.') is not a directory";
    for (size_t i = 0; i < LB_ARRAY_SIZE(names); i++) {
        /* libarchive reads a regular file named "./" as a directory: "." only */
        if (i == 0)
            rejects_one(names[i], AE_IFREG, NULL, want, false);
        rejects_one(names[i], AE_IFLNK, "/etc", want, true);
        rejects_one(names[i], AE_IFREG, "x", want, false); /* hardlink */
    }
}

static void test_apply__rejects_relative_symlinks_climbing_above_the_root(void **state)
{
    (void)state;
    rejects_one("l", AE_IFLNK, "..", "symlink target '..' climbs above the layer root ('..')",
                false);
    rejects_one("l", AE_IFLNK, "../outside",
                "symlink target '../outside' climbs above the layer root ('..')", true);
    rejects_one("d/l", AE_IFLNK, "../../outside/secret",
                "symlink target '../../outside/secret' climbs above the layer root ('..')", false);
    rejects_one("d/l", AE_IFLNK, "x/../../..",
                "symlink target 'x/../../..' climbs above the layer root ('..')", false);
    rejects_one("l", AE_IFLNK, "", "symlink with an empty target", false);
}

static void test_apply__accepts_absolute_and_inside_symlinks(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_symlink(&t, "abs", v.outside); /* resolved inside the root when used */
    tb_symlink(&t, "d/up", "../abs");
    tb_symlink(&t, "d/e/up2", "../../d");
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    assert_true(S_ISLNK(lst(&v, "abs").st_mode));
    assert_true(S_ISLNK(lst(&v, "d/up").st_mode));
    assert_true(S_ISLNK(lst(&v, "d/e/up2").st_mode));
    assert_outside_untouched(&v);
    env_free(&v);
}

static void test_apply__rejects_bad_hardlinks(void **state)
{
    (void)state;
    rejects_one("h", AE_IFREG, "../outside/secret",
                "hardlink target '../outside/secret': path leaves the layer ('..')", false);
    rejects_one("h", AE_IFREG, "..", "hardlink target '..': path leaves the layer ('..')", true);
    rejects_one("h", AE_IFREG, "/etc/passwd",
                "hardlink target '/etc/passwd': path is absolute (it would leave the layer)",
                false);
    rejects_one("h", AE_IFREG, "missing",
                "hardlink target 'missing' does not exist (in this layer)", false);
    rejects_one("h", AE_IFREG, "no/parent",
                "hardlink target 'no/parent': parent 'no' does not exist", false);
    rejects_one("h", AE_IFREG, "h", "hardlink to itself", false);
    rejects_one("h", AE_IFREG, ".", "hardlink to the root directory", false);

    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_dir(&t, "d/", 0755);
    tb_hardlink(&t, "h", "d");
    struct lb_apply_opts o = opts_files();
    apply_rejects(&t, &v, &o, "layer 'test': entry 'h': hardlink target 'd' is a directory");
    env_free(&v);
}

static void test_apply__hardlink_to_a_symlink_links_the_symlink_itself(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_symlink(&t, "l", v.outside);
    tb_hardlink(&t, "h", "l");
    struct lb_apply_opts o = opts_files();
    apply_ok(&t, &v, &o, NULL);
    assert_true(S_ISLNK(lst(&v, "h").st_mode));
    assert_int_equal(lst(&v, "h").st_ino, lst(&v, "l").st_ino);
    assert_outside_untouched(&v);
    env_free(&v);
}

/* A symlink planted by the tar, then used as a parent by a later entry of the same tar. */
static void rejects_through_symlink(const char *link_target_rel, bool fallback)
{
    with_fallback(fallback);
    static const struct {
        const char *name, *hardlink, *want;
        mode_t type;
        bool overlay;
    } cases[] = {
        {"l/x", NULL, "parent 'l' is a symlink", AE_IFREG, false},
        {"l/secret", NULL, "parent 'l' is a symlink", AE_IFREG, true},
        {"l/newdir/", NULL, "parent 'l' is a symlink", AE_IFDIR, false},
        {"l/deep/x", NULL, "parent 'l' is a symlink", AE_IFREG, false},
        {"l/.wh.secret", NULL, "parent 'l' is a symlink", AE_IFREG, true},
        {"l/.wh.secret", NULL, "parent 'l' is a symlink", AE_IFREG, false},
        {"l/.wh..wh..opq", NULL, "parent 'l' is a symlink", AE_IFREG, true},
        {"l/.wh..wh..opq", NULL, "parent 'l' is a symlink", AE_IFREG, false},
        {"h", "l/secret", "hardlink target 'l/secret': parent 'l' is a symlink", AE_IFREG, false},
        {"l/h", "f", "parent 'l' is a symlink", AE_IFREG, false},
        {"l/s", NULL, "parent 'l' is a symlink", AE_IFLNK, false},
        {"l/p", NULL, "parent 'l' is a symlink", AE_IFIFO, false},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        struct env v = env_new();
        struct tarb t;
        tb_init(&t);
        tb_file(&t, "f", 0644, "f");
        if (link_target_rel)
            tb_symlink(&t, "l", link_target_rel);
        else
            tb_symlink(&t, "l", v.outside);
        if (cases[i].hardlink)
            tb_hardlink(&t, cases[i].name, cases[i].hardlink);
        else if (cases[i].type == AE_IFLNK)
            tb_symlink(&t, cases[i].name, "/");
        else if (cases[i].type == AE_IFDIR)
            tb_dir(&t, cases[i].name, 0755);
        else if (cases[i].type == AE_IFIFO)
            tb_node(&t, cases[i].name, AE_IFIFO, 0644, 0, 0);
        else
            tb_file(&t, cases[i].name, 0644, "written through");
        struct lb_apply_opts o = cases[i].overlay ? opts_overlay() : opts_files();
        char *msg = lb_xasprintf("layer 'test': entry '%s': %s", cases[i].name, cases[i].want);
        apply_rejects(&t, &v, &o, msg);
        free(msg);
        assert_outside_untouched(&v);
        char *p = lb_path_join(v.outside, "secret");
        char buf[4];
        assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", buf, sizeof(buf)), -1);
        free(p);
        env_free(&v);
    }
    with_fallback(false);
}

static void test_apply__rejects_writes_through_a_symlink_planted_by_the_same_tar(void **state)
{
    (void)state;
    rejects_through_symlink(NULL, false);
}

static void test_apply__fallback_walk_rejects_writes_through_a_planted_symlink(void **state)
{
    (void)state;
    rejects_through_symlink(NULL, true);
}

static void test_apply__rejects_writes_through_a_symlink_even_one_inside_the_root(void **state)
{
    (void)state;
    rejects_through_symlink(".", false);
}

static void test_apply__rejects_an_entry_claiming_more_than_max_entry_size(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_file(&t, "small", 0644, "0123456789");
    tb_file(&t, "big", 0644, "0123456789abcdef");
    struct lb_apply_opts o = opts_files();
    o.max_entry_size = 10;
    apply_rejects(&t, &v, &o,
                  "layer 'test': entry 'big': claims 16 bytes, more than the limit of 10 bytes");
    assert_content(&v, "small", "0123456789"); /* exactly the limit is fine */
    assert_int_equal(lst(&v, "big").st_mode, 0);
    env_free(&v);
}

/* A GNU tar header claiming 1 TB (base-256 size field) followed by 512 bytes of data: what no
 * tar writer would produce. */
static size_t terabyte_tar(unsigned char *buf)
{
    memset(buf, 0, 1024);
    memcpy(buf, "huge", 4);
    memcpy(buf + 100, "0000644", 7);
    memcpy(buf + 108, "0000000", 7);
    memcpy(buf + 116, "0000000", 7);
    uint64_t size = 1ULL << 40;
    buf[124] = 0x80;
    for (int i = 0; i < 8; i++)
        buf[135 - i] = (unsigned char)(size >> (8 * i));
    memcpy(buf + 136, "00000000000", 11);
    buf[156] = '0';
    memcpy(buf + 257, "ustar  ", 8); /* GNU magic + version */
    memset(buf + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += buf[i];
    snprintf((char *)buf + 148, 8, "%06o", sum);
    memset(buf + 512, 'A', 512);
    return 1024;
}

static void test_apply__rejects_a_header_claiming_a_terabyte_before_writing(void **state)
{
    (void)state;
    struct env v = env_new();
    unsigned char buf[1024];
    size_t len = terabyte_tar(buf);
    struct lb_apply_opts o = opts_files();
    o.max_entry_size = 64ULL << 30;
    struct lb_error *err = NULL;
    assert_int_equal(apply_buf((char *)buf, len, v.fd, &o, NULL, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "layer 'test': entry 'huge': claims 1099511627776 bytes, more "
                               "than the limit of 68719476736 bytes");
    assert_int_equal(count_names(v.dir), 0);
    /* without a limit it is only the truncated data that stops it */
    o.max_entry_size = 0;
    assert_int_equal(apply_buf((char *)buf, len, v.fd, &o, NULL, &err), -1);
    assert_error_contains(err, "layer 'test': entry 'huge': cannot read the tar: ");
    env_free(&v);
}

static void test_apply__rejects_truncated_and_junk_tars(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    char big[8192];
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    tb_file(&t, "f", 0644, big);
    tb_close(&t);
    struct lb_apply_opts o = opts_files();
    struct lb_error *err = NULL;
    /* cut inside the data of f */
    assert_int_equal(apply_buf(t.buf, t.used / 2, v.fd, &o, NULL, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err,
                          "layer 'test': entry 'f': cannot read the tar: Truncated tar archive");
    /* cut inside the first header */
    assert_int_equal(apply_buf(t.buf, 100, v.fd, &o, NULL, &err), -1);
    assert_error_contains(err, "layer 'test': cannot read the tar: ");
    /* junk */
    char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 7 + 3);
    assert_int_equal(apply_buf(junk, sizeof(junk), v.fd, &o, NULL, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "layer 'test': cannot read the tar: ");
    free(t.buf);
    env_free(&v);
}

static void test_apply__error_messages_are_one_line_whatever_the_name(void **state)
{
    (void)state;
    struct env v = env_new();
    struct tarb t;
    tb_init(&t);
    tb_file(&t, "bad\nname\x1b/../../x", 0644, "x");
    struct lb_apply_opts o = opts_files();
    apply_rejects(&t, &v, &o,
                  "layer 'test': entry 'bad\\x0aname\\x1b/../../x': path leaves the layer ('..')");
    /* without a layer name */
    tb_init(&t);
    tb_file(&t, "../x", 0644, "x");
    o.what = NULL;
    apply_rejects(&t, &v, &o, "layer entry '../x': path leaves the layer ('..')");
    env_free(&v);
}

LB_UNIT_MAIN(
    cmocka_unit_test(test_apply__writes_every_type_with_modes_times_and_stats),
    cmocka_unit_test(test_apply__fallback_walk_writes_every_type_with_modes_times_and_stats),
    cmocka_unit_test(test_apply__sets_directory_modes_and_mtimes_after_their_contents),
    cmocka_unit_test(test_apply__replaces_instead_of_truncating_a_hardlinked_inode),
    cmocka_unit_test(test_apply__replaces_a_non_directory_parent_with_a_directory),
    cmocka_unit_test(test_apply__same_path_twice_with_a_type_flip_the_later_wins),
    cmocka_unit_test(test_apply__writes_sparse_files_with_holes),
    cmocka_unit_test(test_apply__sets_xattrs_on_files_directories_and_links),
    cmocka_unit_test(test_apply__rejects_overlay_xattrs_carried_by_the_tar),
    cmocka_unit_test(test_apply__tolerates_unsettable_trusted_xattrs_only_when_unprivileged),
    cmocka_unit_test(test_apply__sets_owner_then_mode_when_privileged),
    cmocka_unit_test(test_apply__creates_devices_only_when_privileged),
    cmocka_unit_test(test_apply__keeps_non_ascii_pax_names_as_utf8_bytes),
    cmocka_unit_test(test_apply__overlay_whiteouts_are_char_0_0_and_opaque_xattrs),
    cmocka_unit_test(test_apply__overlay_opaque_marker_at_the_top_marks_the_root),
    cmocka_unit_test(test_apply__files_whiteouts_are_kept_as_empty_markers),
    cmocka_unit_test(test_apply__overlay_later_entry_replaces_its_whiteout_and_vice_versa),
    cmocka_unit_test(test_apply__files_whiteout_and_same_layer_entry_both_stay),
    cmocka_unit_test(test_apply__rejects_dotdot_paths),
    cmocka_unit_test(test_apply__rejects_absolute_paths),
    cmocka_unit_test(test_apply__rejects_bad_whiteout_names_at_any_depth),
    cmocka_unit_test(test_apply__rejects_whiteouts_whose_directory_leaves_the_layer),
    cmocka_unit_test(test_apply__rejects_a_root_entry_that_is_not_a_directory),
    cmocka_unit_test(test_apply__rejects_relative_symlinks_climbing_above_the_root),
    cmocka_unit_test(test_apply__accepts_absolute_and_inside_symlinks),
    cmocka_unit_test(test_apply__rejects_bad_hardlinks),
    cmocka_unit_test(test_apply__hardlink_to_a_symlink_links_the_symlink_itself),
    cmocka_unit_test(test_apply__rejects_writes_through_a_symlink_planted_by_the_same_tar),
    cmocka_unit_test(test_apply__fallback_walk_rejects_writes_through_a_planted_symlink),
    cmocka_unit_test(test_apply__rejects_writes_through_a_symlink_even_one_inside_the_root),
    cmocka_unit_test(test_apply__rejects_an_entry_claiming_more_than_max_entry_size),
    cmocka_unit_test(test_apply__rejects_a_header_claiming_a_terabyte_before_writing),
    cmocka_unit_test(test_apply__rejects_truncated_and_junk_tars),
    cmocka_unit_test(test_apply__error_messages_are_one_line_whatever_the_name))
