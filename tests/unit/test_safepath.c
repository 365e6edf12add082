/* test_safepath.c — archive paths resolved inside a root, never through a symlink.
 *
 * Each resolving test runs twice: with the kernel's openat2 walk and with the hand-made
 * O_NOFOLLOW walk (LB_SAFEPATH_NO_OPENAT2=1), which must agree. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/safepath.h"

static void use_fallback(bool on)
{
    if (on)
        setenv("LB_SAFEPATH_NO_OPENAT2", "1", 1);
    else
        unsetenv("LB_SAFEPATH_NO_OPENAT2");
}

static char *clean_ok(const char *in)
{
    char *out = NULL;
    struct lb_error *err = NULL;
    if (lb_safepath_clean(in, &out, &err) < 0)
        fail_msg("clean('%s') failed: %s", in, err->msg);
    return out;
}

static void test_safepath__clean_normalises_slashes_and_dots(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"a", "a"},
        {"./a", "a"},
        {"a/", "a"},
        {"./a/b/", "a/b"},
        {"a//b", "a/b"},
        {"a/./b", "a/b"},
        {".", ""},
        {"./", ""},
        {"", ""},
        {"./././", ""},
        {"a/.../b", "a/.../b"},
        {"..a/b..", "..a/b.."},
        {".wh..wh..opq", ".wh..wh..opq"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char *out = clean_ok(cases[i][0]);
        if (strcmp(out, cases[i][1]) != 0)
            fail_msg("clean('%s') = '%s', expected '%s'", cases[i][0], out, cases[i][1]);
        free(out);
    }
}

static void test_safepath__clean_rejects_dotdot_and_absolute_paths(void **state)
{
    (void)state;
    static const char *const dotdot[] = {"..", "../a", "a/..", "a/../b", "./a/../../b", "a/b/../"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(dotdot); i++) {
        char *out = (char *)0x1;
        struct lb_error *err = NULL;
        assert_int_equal(lb_safepath_clean(dotdot[i], &out, &err), -1);
        assert_null(out);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "path leaves the layer ('..')");
    }
    static const char *const abs[] = {"/", "/etc/passwd", "//a", "/./a"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(abs); i++) {
        char *out = NULL;
        struct lb_error *err = NULL;
        assert_int_equal(lb_safepath_clean(abs[i], &out, &err), -1);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "path is absolute");
    }
}

static void test_safepath__symlink_stays_inside_is_lexical_from_the_links_directory(void **state)
{
    (void)state;
    static const struct {
        const char *link, *target;
        bool inside;
    } cases[] = {
        {"l", "/etc/passwd", true}, /* absolute: resolved inside the root at run time */
        {"l", "a", true},
        {"l", ".", true},
        {"l", "..", false},
        {"l", "../x", false},
        {"l", "a/../..", false},
        {"l", "a/..", true},
        {"d/l", "..", true},
        {"d/l", "../x", true},
        {"d/l", "../..", false},
        {"d/e/l", "../../x", true},
        {"d/e/l", "../../../x", false},
        {"d/e/l", "x/y/../../../../z", true},
        {"d/e/l", "x/y/../../../../../z", false},
        {"d/e/l", "x/y/../../../z", true},
        {"d/l", "./.././", true},
        {"d/l", "a//..//..//..", false},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        bool got = lb_safepath_symlink_stays_inside(cases[i].link, cases[i].target);
        if (got != cases[i].inside)
            fail_msg("%s -> %s: stays_inside = %d, expected %d", cases[i].link, cases[i].target,
                     got, cases[i].inside);
    }
}

struct root {
    char *dir;
    int fd;
};

static struct root root_new(void)
{
    struct root r = {lb_unit_mkdtemp(), -1};
    r.fd = open(r.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(r.fd >= 0);
    return r;
}

static void root_free(struct root *r)
{
    close(r->fd);
    lb_unit_rmdir(r->dir);
}

static mode_t lmode(const struct root *r, const char *rel)
{
    struct stat st;
    if (fstatat(r->fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return st.st_mode;
}

static void open_parent_creates_missing_parents_0755(bool fallback)
{
    use_fallback(fallback);
    struct root r = root_new();
    mode_t old = umask(077);
    const char *base = NULL;
    struct lb_error *err = NULL;
    int fd = lb_safepath_open_parent(r.fd, "a/b/c/file", true, &base, &err);
    umask(old);
    assert_true(fd >= 0);
    assert_string_equal(base, "file");
    assert_int_equal(lmode(&r, "a"), S_IFDIR | 0755);
    assert_int_equal(lmode(&r, "a/b/c"), S_IFDIR | 0755);
    /* the fd is a/b/c: a file made through it appears there */
    assert_int_equal(mkdirat(fd, "probe", 0700), 0);
    assert_true(S_ISDIR(lmode(&r, "a/b/c/probe")));
    close(fd);
    /* top-level names get the root itself */
    fd = lb_safepath_open_parent(r.fd, "top", false, &base, &err);
    assert_true(fd >= 0);
    assert_string_equal(base, "top");
    assert_int_equal(mkdirat(fd, "top", 0700), 0);
    assert_true(S_ISDIR(lmode(&r, "top")));
    close(fd);
    root_free(&r);
    use_fallback(false);
}

static void test_safepath__open_parent_creates_missing_parents_0755(void **state)
{
    (void)state;
    open_parent_creates_missing_parents_0755(false);
}

static void test_safepath__fallback_walk_creates_missing_parents_0755(void **state)
{
    (void)state;
    open_parent_creates_missing_parents_0755(true);
}

static void open_parent_replaces_a_file_parent_only_when_creating(bool fallback)
{
    use_fallback(fallback);
    struct root r = root_new();
    lb_unit_write(r.dir, "a/f", "x", 1);
    assert_int_equal(mkfifoat(r.fd, "a/fifo", 0644), 0);
    const char *base = NULL;
    struct lb_error *err = NULL;

    assert_int_equal(lb_safepath_open_parent(r.fd, "a/f/x", false, &base, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "parent 'a/f' is not a directory");
    assert_true(S_ISREG(lmode(&r, "a/f")));

    assert_int_equal(lb_safepath_open_parent(r.fd, "a/nope/x", false, &base, &err), -1);
    assert_error_contains(err, "parent 'a/nope' does not exist");
    assert_int_equal(lmode(&r, "a/nope"), 0);

    int fd = lb_safepath_open_parent(r.fd, "a/f/x", true, &base, &err);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(lmode(&r, "a/f"), S_IFDIR | 0755);
    fd = lb_safepath_open_parent(r.fd, "a/fifo/y/z", true, &base, &err);
    assert_true(fd >= 0);
    close(fd);
    assert_true(S_ISDIR(lmode(&r, "a/fifo/y")));
    root_free(&r);
    use_fallback(false);
}

static void test_safepath__open_parent_replaces_a_file_parent_only_when_creating(void **state)
{
    (void)state;
    open_parent_replaces_a_file_parent_only_when_creating(false);
}

static void test_safepath__fallback_walk_replaces_a_file_parent_only_when_creating(void **state)
{
    (void)state;
    open_parent_replaces_a_file_parent_only_when_creating(true);
}

static void open_parent_never_goes_through_a_symlink(bool fallback)
{
    use_fallback(fallback);
    struct root r = root_new();
    char *outside = lb_unit_mkdtemp();
    char *rel_out = NULL;
    assert_int_equal(mkdirat(r.fd, "d", 0755), 0);
    /* absolute, relative-escaping and harmless inside symlinks: all refused as parents */
    assert_int_equal(symlinkat(outside, r.fd, "abs"), 0);
    rel_out = lb_xasprintf("../%s", strrchr(outside, '/') + 1);
    assert_int_equal(symlinkat(rel_out, r.fd, "rel"), 0);
    assert_int_equal(symlinkat("d", r.fd, "inside"), 0);
    assert_int_equal(symlinkat("/", r.fd, "d/slash"), 0);
    static const char *const paths[] = {"abs/x", "rel/x", "inside/x", "d/slash/tmp/x",
                                        "abs/deeper/x"};
    static const char *const parents[] = {"abs", "rel", "inside", "d/slash", "abs"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(paths); i++) {
        for (int create = 0; create <= 1; create++) {
            const char *base = NULL;
            struct lb_error *err = NULL;
            assert_int_equal(lb_safepath_open_parent(r.fd, paths[i], create, &base, &err), -1);
            assert_int_equal(err->kind, LB_EKIND_INVALID);
            char *want = lb_xasprintf("parent '%s' is a symlink", parents[i]);
            assert_error_contains(err, want);
            free(want);
        }
    }
    /* nothing was made outside, and the symlinks are still symlinks */
    char *probe = lb_path_join(outside, "deeper");
    assert_false(lb_path_exists_at(AT_FDCWD, probe));
    free(probe);
    assert_true(S_ISLNK(lmode(&r, "abs")));
    assert_true(S_ISLNK(lmode(&r, "inside")));
    free(rel_out);
    lb_unit_rmdir(outside);
    root_free(&r);
    use_fallback(false);
}

static void test_safepath__open_parent_never_goes_through_a_symlink(void **state)
{
    (void)state;
    open_parent_never_goes_through_a_symlink(false);
}

static void test_safepath__fallback_walk_never_goes_through_a_symlink(void **state)
{
    (void)state;
    open_parent_never_goes_through_a_symlink(true);
}

static void test_safepath__open_parent_rejects_unclean_input(void **state)
{
    (void)state;
    struct root r = root_new();
    const char *base = (const char *)0x1;
    struct lb_error *err = NULL;
    assert_int_equal(lb_safepath_open_parent(r.fd, "", true, &base, &err), -1);
    assert_null(base);
    assert_error_contains(err, "is not a clean path below the root");
    assert_int_equal(lb_safepath_open_parent(r.fd, "/etc/x", true, &base, &err), -1);
    assert_error_contains(err, "is not a clean path below the root");
    root_free(&r);
}

static void safepath_open_refuses_a_final_symlink(bool fallback)
{
    use_fallback(fallback);
    struct root r = root_new();
    lb_unit_write(r.dir, "d/f", "hello", 5);
    assert_int_equal(symlinkat("f", r.fd, "d/l"), 0);
    struct lb_error *err = NULL;
    int fd = lb_safepath_open(r.fd, "d/f", O_RDONLY, &err);
    assert_true(fd >= 0);
    char buf[8] = {0};
    assert_int_equal(read(fd, buf, sizeof(buf)), 5);
    assert_string_equal(buf, "hello");
    close(fd);
    assert_int_equal(lb_safepath_open(r.fd, "d/l", O_RDONLY, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "'d/l' is a symlink");
    assert_int_equal(lb_safepath_open(r.fd, "d/missing", O_RDONLY, &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_error_contains(err, "cannot open 'd/missing'");
    /* "" is the root itself */
    fd = lb_safepath_open(r.fd, "", O_RDONLY | O_DIRECTORY, &err);
    assert_true(fd >= 0);
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(fstat(r.fd, &b), 0);
    assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
    close(fd);
    root_free(&r);
    use_fallback(false);
}

static void test_safepath__open_refuses_a_final_symlink(void **state)
{
    (void)state;
    safepath_open_refuses_a_final_symlink(false);
}

static void test_safepath__fallback_open_refuses_a_final_symlink(void **state)
{
    (void)state;
    safepath_open_refuses_a_final_symlink(true);
}

static void test_safepath__open_parent_refuses_a_mount_point(void **state)
{
    (void)state;
    /* /proc is another file system below "/": with "/" as the root, "proc/x" must be refused
     * by both walks (RESOLVE_NO_XDEV; st_dev check). */
    int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(rootfd >= 0);
    struct stat a, b;
    if (stat("/", &a) < 0 || stat("/proc", &b) < 0 || a.st_dev == b.st_dev) {
        close(rootfd);
        skip();
    }
    for (int fallback = 0; fallback <= 1; fallback++) {
        use_fallback(fallback);
        const char *base = NULL;
        struct lb_error *err = NULL;
        assert_int_equal(lb_safepath_open_parent(rootfd, "proc/self/x", false, &base, &err), -1);
        assert_int_equal(err->code, EXDEV);
        assert_error_contains(err, "parent 'proc' is another file system (a mount point)");
    }
    use_fallback(false);
    close(rootfd);
}

/* --- lb_safepath_open_dir_in_root: symlinks followed, confined to the root ------------------ */

/* A root inside a temp dir, so escaping it would land somewhere real (the temp dir, /tmp, /):
 *   root/a/up -> ../../..      root/a/slash -> /       root/abs -> /inner
 *   root/inner/mark (a file)   root/loop1 <-> root/loop2
 * and a decoy "inner" next to root, where a link that escaped by one level would go. */
struct in_root {
    char *top;
    char *root; /* top/root */
    int fd;
};

static struct in_root in_root_new(void)
{
    struct in_root t = {lb_unit_mkdtemp(), NULL, -1};
    t.root = lb_path_join(t.top, "root");
    lb_unit_write(t.top, "root/inner/mark", "x", 1);
    lb_unit_write(t.top, "inner/decoy", "x", 1);
    t.fd = open(t.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(t.fd >= 0);
    assert_int_equal(mkdirat(t.fd, "a", 0755), 0);
    assert_int_equal(symlinkat("../../..", t.fd, "a/up"), 0);
    assert_int_equal(symlinkat("/", t.fd, "a/slash"), 0);
    assert_int_equal(symlinkat("/inner", t.fd, "abs"), 0);
    assert_int_equal(symlinkat("loop2", t.fd, "loop1"), 0);
    assert_int_equal(symlinkat("loop1", t.fd, "loop2"), 0);
    return t;
}

static void in_root_free(struct in_root *t)
{
    close(t->fd);
    free(t->root);
    lb_unit_rmdir(t->top);
}

/* Is fd the directory at the host path top/rel? (Checked by the host's own stat.) */
static bool is_dir_at(int fd, const struct in_root *t, const char *rel)
{
    char *path = lb_path_join(t->top, rel);
    struct stat want, got;
    int rc = stat(path, &want);
    free(path);
    return rc == 0 && fstat(fd, &got) == 0 && S_ISDIR(got.st_mode) && got.st_ino == want.st_ino &&
           got.st_dev == want.st_dev;
}

static void open_dir_in_root_lands(const struct in_root *t, const char *path, const char *rel)
{
    struct lb_error *err = NULL;
    int fd = lb_safepath_open_dir_in_root(t->fd, path, &err);
    if (fd < 0)
        fail_msg("open_dir_in_root('%s') failed: %s", path, err->msg);
    if (!is_dir_at(fd, t, rel))
        fail_msg("open_dir_in_root('%s') is not '%s'", path, rel);
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    close(fd);
}

static void open_dir_in_root_fails(const struct in_root *t, const char *path, int code)
{
    struct lb_error *err = NULL;
    int fd = lb_safepath_open_dir_in_root(t->fd, path, &err);
    if (fd >= 0)
        fail_msg("open_dir_in_root('%s') succeeded, expected %s", path, strerror(code));
    if (err->code != code)
        fail_msg("open_dir_in_root('%s'): %s, expected %s", path, strerror(err->code),
                 strerror(code));
    char *want = lb_xasprintf("cannot open the directory '%s' inside the root", path);
    assert_error_contains(err, want);
    free(want);
}

static void open_dir_in_root_confines_symlinks(bool fallback)
{
    use_fallback(fallback);
    struct in_root t = in_root_new();
    open_dir_in_root_lands(&t, "", "root");
    open_dir_in_root_lands(&t, "/", "root");
    open_dir_in_root_lands(&t, "inner", "root/inner");
    open_dir_in_root_lands(&t, "a/slash", "root"); /* "/" is the root */
    open_dir_in_root_lands(&t, "a/slash/inner", "root/inner");
    open_dir_in_root_lands(&t, "a/up", "root");             /* ".." stops at the root */
    open_dir_in_root_lands(&t, "a/up/inner", "root/inner"); /* not top/inner, the decoy */
    open_dir_in_root_lands(&t, "a/up/a/up/a", "root/a");
    open_dir_in_root_lands(&t, "../../inner", "root/inner");
    open_dir_in_root_lands(&t, "abs", "root/inner");
    /* ".." after a symlink is taken from where the link led (the kernel's rule, not lexical) */
    open_dir_in_root_lands(&t, "abs/../a", "root/a");
    in_root_free(&t);
    use_fallback(false);
}

static void test_safepath__open_dir_in_root_confines_symlinks_to_the_root(void **state)
{
    (void)state;
    open_dir_in_root_confines_symlinks(false);
}

static void test_safepath__fallback_open_dir_in_root_confines_symlinks_to_the_root(void **state)
{
    (void)state;
    open_dir_in_root_confines_symlinks(true);
}

static void open_dir_in_root_takes_absolute_paths_from_the_root(bool fallback)
{
    use_fallback(fallback);
    struct in_root t = in_root_new();
    /* /tmp exists on the host, never in the root: an absolute path is not the host's */
    open_dir_in_root_fails(&t, "/tmp", ENOENT);
    open_dir_in_root_lands(&t, "/inner", "root/inner");
    open_dir_in_root_lands(&t, "//inner/./", "root/inner");
    open_dir_in_root_lands(&t, "/../inner", "root/inner");
    in_root_free(&t);
    use_fallback(false);
}

static void test_safepath__open_dir_in_root_takes_absolute_paths_from_the_root(void **state)
{
    (void)state;
    open_dir_in_root_takes_absolute_paths_from_the_root(false);
}

static void
test_safepath__fallback_open_dir_in_root_takes_absolute_paths_from_the_root(void **state)
{
    (void)state;
    open_dir_in_root_takes_absolute_paths_from_the_root(true);
}

static void open_dir_in_root_reports_errno(bool fallback)
{
    use_fallback(fallback);
    struct in_root t = in_root_new();
    open_dir_in_root_fails(&t, "loop1", ELOOP);
    open_dir_in_root_fails(&t, "a/slash/loop2/x", ELOOP);
    open_dir_in_root_fails(&t, "nope", ENOENT);
    open_dir_in_root_fails(&t, "inner/nope/x", ENOENT);
    open_dir_in_root_fails(&t, "a/up/nope", ENOENT);
    open_dir_in_root_fails(&t, "inner/mark", ENOTDIR);
    open_dir_in_root_fails(&t, "inner/mark/x", ENOTDIR);
    in_root_free(&t);
    use_fallback(false);
}

static void test_safepath__open_dir_in_root_reports_loops_missing_and_non_directories(void **state)
{
    (void)state;
    open_dir_in_root_reports_errno(false);
}

static void
test_safepath__fallback_open_dir_in_root_reports_loops_missing_and_non_directories(void **state)
{
    (void)state;
    open_dir_in_root_reports_errno(true);
}

static void open_dir_in_root_follows_40_symlinks_not_41(bool fallback)
{
    use_fallback(fallback);
    struct in_root t = in_root_new();
    /* l1 -> l2 -> ... -> l41 -> inner: from l2 it takes 40 links (Linux's MAXSYMLINKS) */
    for (int i = 1; i <= 41; i++) {
        char name[16], target[16];
        snprintf(name, sizeof(name), "l%d", i);
        if (i == 41)
            snprintf(target, sizeof(target), "inner");
        else
            snprintf(target, sizeof(target), "l%d", i + 1);
        assert_int_equal(symlinkat(target, t.fd, name), 0);
    }
    open_dir_in_root_lands(&t, "l2", "root/inner");
    open_dir_in_root_fails(&t, "l1", ELOOP);
    in_root_free(&t);
    use_fallback(false);
}

static void test_safepath__open_dir_in_root_follows_40_symlinks_not_41(void **state)
{
    (void)state;
    open_dir_in_root_follows_40_symlinks_not_41(false);
}

static void test_safepath__fallback_open_dir_in_root_follows_40_symlinks_not_41(void **state)
{
    (void)state;
    open_dir_in_root_follows_40_symlinks_not_41(true);
}

static void test_safepath__open_dir_in_root_refuses_a_mount_point(void **state)
{
    (void)state;
    int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(rootfd >= 0);
    struct stat a, b;
    if (stat("/", &a) < 0 || stat("/proc", &b) < 0 || a.st_dev == b.st_dev) {
        close(rootfd);
        skip();
    }
    for (int fallback = 0; fallback <= 1; fallback++) {
        use_fallback(fallback);
        struct lb_error *err = NULL;
        assert_int_equal(lb_safepath_open_dir_in_root(rootfd, "proc", &err), -1);
        assert_int_equal(err->code, EXDEV);
        assert_error_contains(err, "cannot open the directory 'proc' inside the root");
    }
    use_fallback(false);
    close(rootfd);
}

LB_UNIT_MAIN(
    cmocka_unit_test(test_safepath__clean_normalises_slashes_and_dots),
    cmocka_unit_test(test_safepath__clean_rejects_dotdot_and_absolute_paths),
    cmocka_unit_test(test_safepath__symlink_stays_inside_is_lexical_from_the_links_directory),
    cmocka_unit_test(test_safepath__open_parent_creates_missing_parents_0755),
    cmocka_unit_test(test_safepath__fallback_walk_creates_missing_parents_0755),
    cmocka_unit_test(test_safepath__open_parent_replaces_a_file_parent_only_when_creating),
    cmocka_unit_test(test_safepath__fallback_walk_replaces_a_file_parent_only_when_creating),
    cmocka_unit_test(test_safepath__open_parent_never_goes_through_a_symlink),
    cmocka_unit_test(test_safepath__fallback_walk_never_goes_through_a_symlink),
    cmocka_unit_test(test_safepath__open_parent_rejects_unclean_input),
    cmocka_unit_test(test_safepath__open_refuses_a_final_symlink),
    cmocka_unit_test(test_safepath__fallback_open_refuses_a_final_symlink),
    cmocka_unit_test(test_safepath__open_parent_refuses_a_mount_point),
    cmocka_unit_test(test_safepath__open_dir_in_root_confines_symlinks_to_the_root),
    cmocka_unit_test(test_safepath__fallback_open_dir_in_root_confines_symlinks_to_the_root),
    cmocka_unit_test(test_safepath__open_dir_in_root_takes_absolute_paths_from_the_root),
    cmocka_unit_test(test_safepath__fallback_open_dir_in_root_takes_absolute_paths_from_the_root),
    cmocka_unit_test(test_safepath__open_dir_in_root_reports_loops_missing_and_non_directories),
    cmocka_unit_test(
        test_safepath__fallback_open_dir_in_root_reports_loops_missing_and_non_directories),
    cmocka_unit_test(test_safepath__open_dir_in_root_follows_40_symlinks_not_41),
    cmocka_unit_test(test_safepath__fallback_open_dir_in_root_follows_40_symlinks_not_41),
    cmocka_unit_test(test_safepath__open_dir_in_root_refuses_a_mount_point))
