/* test_changes.c — docker's A/C/D list (layer/changes.h) on hand-built trees: an overlay upper
 * dir over two overlay-format layers, and a vfs container copy over `.wh.`-format layers. Every
 * expected list is written by hand from docker's rules (ChangesDirs + statDifferent), not taken
 * from the program: added, changed and deleted files, a deleted directory (listed once), an
 * opaque directory (its hidden lower children are D), a nested add making its parents C, an
 * unchanged directory not listed, a lower layer's whiteout respected, sorting by path. */
#include "unit.h"

#include "core/cleanup.h"
#include "layer/changes.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

struct fixture {
    char *dir;
};

static int setup(void **state)
{
    struct fixture *f = lb_xmalloc(sizeof(*f));
    f->dir = lb_unit_mkdtemp();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lb_unit_rmdir(f->dir);
    free(f);
    return 0;
}

static char *p(struct fixture *f, const char *rel)
{
    return lb_path_join(f->dir, rel);
}

/* A file with content and a fixed mtime (the same in every tree unless a test changes it). */
static void file(struct fixture *f, const char *rel, const char *content, time_t mtime)
{
    lb_unit_write(f->dir, rel, content, strlen(content));
    _cleanup_free_ char *path = p(f, rel);
    struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void dir(struct fixture *f, const char *rel, mode_t mode)
{
    _cleanup_free_ char *path = p(f, rel);
    struct lb_error *err = NULL;
    assert_int_equal(lb_mkdir_p(path, 0755, &err), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void whiteout_dev(struct fixture *f, const char *rel)
{
    _cleanup_free_ char *path = p(f, rel);
    assert_int_equal(mknod(path, S_IFCHR | 0, makedev(0, 0)), 0);
}

static void opaque(struct fixture *f, const char *rel)
{
    _cleanup_free_ char *path = p(f, rel);
    assert_int_equal(setxattr(path, "trusted.overlay.opaque", "y", 1, 0), 0);
}

static int open_dir(struct fixture *f, const char *rel)
{
    _cleanup_free_ char *path = p(f, rel);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* The list as "K /path\n" lines. */
static char *render(struct lb_change *v, size_t n)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    for (size_t i = 0; i < n; i++)
        lb_strbuf_addf(&sb, "%c %s\n", v[i].kind, v[i].path);
    return lb_strbuf_detach(&sb);
}

/* Run the overlay or vfs variant on NEW over the layers (top first) and compare. */
static void expect(struct fixture *f, bool overlay, const char *new_rel, const char **layers,
                   size_t n, const char *expected)
{
    int fds[8];
    for (size_t i = 0; i < n; i++)
        fds[i] = open_dir(f, layers[i]);
    _cleanup_close_ int nfd = open_dir(f, new_rel);
    struct lb_change *v = NULL;
    size_t nv = 0;
    struct lb_error *err = NULL;
    int r = overlay ? lb_changes_overlay(nfd, fds, n, &v, &nv, &err)
                    : lb_changes_vfs(nfd, fds, n, &v, &nv, &err);
    if (r < 0)
        fail_msg("changes: %s", err->msg);
    _cleanup_free_ char *got = render(v, nv);
    assert_string_equal(got, expected);
    lb_changes_free(v, nv);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

/* Two overlay-format layers: the image has /etc/{passwd,group}, /usr/bin/tool, /home/u/.profile,
 * /data/{a,b}, /keep/x, /opt/gone (deleted again by the top layer), all with mtime 1000. */
static void overlay_image(struct fixture *f)
{
    dir(f, "l1/etc", 0755);
    file(f, "l1/etc/passwd", "root\n", 1000);
    file(f, "l1/etc/group", "root\n", 1000);
    file(f, "l1/usr/bin/tool", "#!\n", 1000);
    file(f, "l1/home/u/.profile", "x\n", 1000);
    file(f, "l1/data/a", "a\n", 1000);
    file(f, "l1/opt/gone", "g\n", 1000);
    file(f, "l2/data/b", "b\n", 1000);
    file(f, "l2/keep/x", "x\n", 1000);
    dir(f, "l2/opt", 0755);
    whiteout_dev(f, "l2/opt/gone");
}

static void test_changes__overlay_lists_added_changed_and_deleted_as_docker(void **state)
{
    struct fixture *f = *state;
    overlay_image(f);
    /* the container: changed /etc/passwd (copied up, new size), added /etc/new, deleted
     * /usr/bin/tool (whiteout), deleted directory /home (whiteout), a nested add /keep/d/e/f,
     * an unchanged copy-up of /etc/group (same size, mode and mtime: not listed), and a file
     * the image deleted (/opt/gone) made again: A, since the image's merged tree lacks it. */
    file(f, "up/etc/passwd", "root\nme\n", 2000);
    file(f, "up/etc/group", "root\n", 1000);
    file(f, "up/etc/new", "n\n", 2000);
    dir(f, "up/usr/bin", 0755);
    whiteout_dev(f, "up/usr/bin/tool");
    whiteout_dev(f, "up/home");
    file(f, "up/keep/d/e/f", "f\n", 2000);
    file(f, "up/opt/gone", "again\n", 2000);
    const char *layers[] = {"l2", "l1"};
    expect(f, true, "up", layers, 2,
           "C /etc\n"
           "A /etc/new\n"
           "C /etc/passwd\n"
           "D /home\n"
           "C /keep\n"
           "A /keep/d\n"
           "A /keep/d/e\n"
           "A /keep/d/e/f\n"
           "C /opt\n"
           "A /opt/gone\n"
           "C /usr\n"
           "C /usr/bin\n"
           "D /usr/bin/tool\n");
}

static void test_changes__overlay_opaque_directory_deletes_what_it_hides(void **state)
{
    struct fixture *f = *state;
    overlay_image(f);
    /* rm -rf /data && mkdir /data && echo > /data/a: the opaque /data hides l1's a and l2's b;
     * a is there again (different content: C), b is D; /data itself is unchanged (mode 0755,
     * owner) but has changes below it: C. */
    dir(f, "up/data", 0755);
    opaque(f, "up/data");
    file(f, "up/data/a", "new a\n", 2000);
    const char *layers[] = {"l2", "l1"};
    expect(f, true, "up", layers, 2,
           "C /data\n"
           "C /data/a\n"
           "D /data/b\n");
}

static void test_changes__overlay_unchanged_and_mode_changed_directories(void **state)
{
    struct fixture *f = *state;
    overlay_image(f);
    /* /etc copied up with nothing changed below: not listed (docker ignores a directory's size
     * and mtime). /keep chmod'ed: C by itself, with nothing below it. An empty upper: nothing. */
    dir(f, "up/etc", 0755);
    dir(f, "up/keep", 0700);
    const char *layers[] = {"l2", "l1"};
    expect(f, true, "up", layers, 2, "C /keep\n");
    dir(f, "empty", 0755);
    expect(f, true, "empty", layers, 2, "");
}

static void test_changes__overlay_type_change_and_sorting(void **state)
{
    struct fixture *f = *state;
    overlay_image(f);
    /* /etc/passwd became a directory (C, and its contents A), "/a.b" sorts before "/a/x"
     * (bytewise: '.' < '/'), a symlink is compared without being followed. */
    dir(f, "up/etc/passwd", 0755);
    opaque(f, "up/etc/passwd");
    file(f, "up/etc/passwd/inner", "i\n", 2000);
    file(f, "up/a/x", "x\n", 2000);
    file(f, "up/a.b", "y\n", 2000);
    _cleanup_free_ char *sl = p(f, "up/etc/group");
    assert_int_equal(symlink("/nonexistent", sl), 0);
    const char *layers[] = {"l2", "l1"};
    expect(f, true, "up", layers, 2,
           "A /a\n"
           "A /a.b\n"
           "A /a/x\n"
           "C /etc\n"
           "C /etc/group\n"
           "C /etc/passwd\n"
           "A /etc/passwd/inner\n");
}

static void test_changes__vfs_compares_the_whole_copy_with_the_merged_layers(void **state)
{
    struct fixture *f = *state;
    /* vfs layers keep `.wh.` marker files: l2 deletes l1's /opt/gone and makes /data opaque. */
    file(f, "l1/etc/passwd", "root\n", 1000);
    file(f, "l1/etc/group", "root\n", 1000);
    file(f, "l1/opt/gone", "g\n", 1000);
    file(f, "l1/opt/kept", "k\n", 1000);
    file(f, "l1/data/old", "o\n", 1000);
    file(f, "l2/opt/.wh.gone", "", 1000);
    file(f, "l2/data/.wh..wh..opq", "", 1000);
    file(f, "l2/data/b", "b\n", 1000);
    /* the container's copy: the merged image (etc, opt/kept, data/b) with /etc/passwd changed
     * (mtime only: C), /opt/kept deleted, /data/b kept, /new added. /opt/gone and /data/old
     * are not in the image's merged tree, so their absence is no change. */
    file(f, "c/etc/passwd", "root\n", 3000);
    file(f, "c/etc/group", "root\n", 1000);
    dir(f, "c/opt", 0755);
    file(f, "c/data/b", "b\n", 1000);
    file(f, "c/new", "n\n", 3000);
    const char *layers[] = {"l2", "l1"};
    expect(f, false, "c", layers, 2,
           "C /etc\n"
           "C /etc/passwd\n"
           "A /new\n"
           "C /opt\n"
           "D /opt/kept\n");
}

static void test_changes__same_second_without_nanoseconds_is_the_same_time(void **state)
{
    struct fixture *f = *state;
    /* docker's sameFsTime: 1000.5 vs 1000.0 is the same (a tar dropped the nanoseconds);
     * 1000.5 vs 1000.25 is not. */
    file(f, "l1/a", "a\n", 1000);
    file(f, "l1/b", "b\n", 1000);
    file(f, "c/a", "a\n", 1000);
    file(f, "c/b", "b\n", 1000);
    _cleanup_free_ char *la = p(f, "l1/a"), *ca = p(f, "c/a"), *lb = p(f, "l1/b"),
                        *cb = p(f, "c/b");
    struct timespec half[2] = {{1000, 500000000}, {1000, 500000000}};
    struct timespec quarter[2] = {{1000, 250000000}, {1000, 250000000}};
    assert_int_equal(utimensat(AT_FDCWD, ca, half, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, lb, half, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, cb, quarter, 0), 0);
    (void)la;
    const char *layers[] = {"l1"};
    expect(f, false, "c", layers, 1, "C /b\n");
}

static void test_changes__errors_name_what_failed(void **state)
{
    struct fixture *f = *state;
    dir(f, "c", 0755);
    struct lb_change *v = NULL;
    size_t n = 7;
    struct lb_error *err = NULL;
    int bad[] = {-1};
    _cleanup_close_ int nfd = open_dir(f, "c");
    assert_int_equal(lb_changes_vfs(nfd, bad, 1, &v, &n, &err), -1);
    assert_null(v);
    assert_int_equal(n, 0);
    assert_int_equal(err->code, EBADF);
    assert_error_contains(err, "cannot open the image's layer 1");
    assert_int_equal(lb_changes_overlay(-1, NULL, 0, &v, &n, &err), -1);
    assert_error_contains(err, "cannot open the container's upper dir");
    /* no layers at all: everything is added */
    file(f, "c/x/y", "y\n", 1);
    assert_int_equal(lb_changes_vfs(nfd, NULL, 0, &v, &n, &err), 0);
    _cleanup_free_ char *got = render(v, n);
    assert_string_equal(got, "A /x\nA /x/y\n");
    lb_changes_free(v, n);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

LB_UNIT_MAIN(T(test_changes__overlay_lists_added_changed_and_deleted_as_docker),
             T(test_changes__overlay_opaque_directory_deletes_what_it_hides),
             T(test_changes__overlay_unchanged_and_mode_changed_directories),
             T(test_changes__overlay_type_change_and_sorting),
             T(test_changes__vfs_compares_the_whole_copy_with_the_merged_layers),
             T(test_changes__same_second_without_nanoseconds_is_the_same_time),
             T(test_changes__errors_name_what_failed))
