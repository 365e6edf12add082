/* test_size.c — docker's size of a writable layer: non-directories' st_size, each inode once,
 * whiteout devices 0, errors naming the path; vfs: only what differs from the image's layers. */
#include "unit.h"

#include "container/size.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static char *zeros(size_t n)
{
    char *b = lb_xmalloc(n ? n : 1);
    memset(b, 'x', n);
    return b;
}

static void write_n(const char *dir, const char *name, size_t n)
{
    char *b = zeros(n);
    lb_unit_write(dir, name, b, n);
    free(b);
}

static void test_size__sums_files_and_symlinks_and_counts_a_hardlink_once(void **state)
{
    (void)state;
    char *d = lb_unit_mkdtemp();
    write_n(d, "a", 1000);
    write_n(d, "sub/deeper/b", 234);
    write_n(d, "empty", 0);
    char *a = lb_path_join(d, "a"), *a2 = lb_path_join(d, "sub/a-again");
    assert_int_equal(link(a, a2), 0); /* same inode: 1000 once */
    char *ln = lb_path_join(d, "sub/link");
    assert_int_equal(symlink("deeper/b", ln), 0); /* 8 bytes of target */
    uint64_t sz = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_size_tree_at(AT_FDCWD, d, &sz, &err), 0);
    assert_int_equal(sz, 1000 + 234 + 0 + 8);
    free(a);
    free(a2);
    free(ln);
    lb_unit_rmdir(d);
}

static void test_size__counts_a_whiteout_device_as_nothing(void **state)
{
    (void)state;
    char *d = lb_unit_mkdtemp();
    write_n(d, "f", 10);
    char *wh = lb_path_join(d, "gone");
    if (mknod(wh, S_IFCHR | 0600, makedev(0, 0)) < 0) {
        free(wh);
        lb_unit_rmdir(d);
        skip(); /* not root: no device nodes */
    }
    uint64_t sz = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_size_tree_at(AT_FDCWD, d, &sz, &err), 0);
    assert_int_equal(sz, 10);
    free(wh);
    lb_unit_rmdir(d);
}

static void test_size__empty_tree_is_zero(void **state)
{
    (void)state;
    char *d = lb_unit_mkdtemp();
    char *sub = lb_path_join(d, "only/dirs");
    struct lb_error *err = NULL;
    assert_int_equal(lb_mkdir_p(sub, 0755, &err), 0);
    uint64_t sz = 99;
    assert_int_equal(lb_size_tree_at(AT_FDCWD, d, &sz, &err), 0);
    assert_int_equal(sz, 0);
    free(sub);
    lb_unit_rmdir(d);
}

static void test_size__missing_tree_is_an_error_naming_it(void **state)
{
    (void)state;
    char *d = lb_unit_mkdtemp();
    char *nope = lb_path_join(d, "nope");
    uint64_t sz = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_size_tree_at(AT_FDCWD, nope, &sz, &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_error_contains(err, nope);
    free(nope);
    lb_unit_rmdir(d);
}

/* An unreadable directory inside: as root (who reads everything) the walk runs in a child that
 * became nobody. The child reports the message over a pipe. */
static void test_size__unreadable_directory_is_an_error_naming_it(void **state)
{
    (void)state;
    char *d = lb_unit_mkdtemp();
    write_n(d, "locked/secret", 5);
    char *locked = lb_path_join(d, "locked");
    assert_int_equal(chmod(locked, 0), 0);
    assert_int_equal(chmod(d, 0755), 0);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* frees what it holds before _exit, so that valgrind's leak check passes here too */
        close(p[0]);
        free(locked);
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(3);
        uint64_t sz = 0;
        struct lb_error *e = NULL;
        int r = lb_size_tree_at(AT_FDCWD, d, &sz, &e);
        free(d);
        if (r == 0)
            _exit(4);
        ssize_t w = write(p[1], e->msg, strlen(e->msg));
        lb_error_free(e);
        _exit(w > 0 ? 0 : 5);
    }
    close(p[1]);
    char buf[1024] = {0};
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(n > 0);
    if (strstr(buf, locked) == NULL || strstr(buf, "cannot") == NULL)
        fail_msg("error '%s' does not name '%s'", buf, locked);
    assert_int_equal(chmod(locked, 0755), 0);
    free(locked);
    lb_unit_rmdir(d);
}

/* vfs: a two-layer image (top first) and a container copy. */
static void test_size__vfs_counts_only_what_differs_from_the_image(void **state)
{
    (void)state;
    char *d = lb_unit_mkdtemp();
    char *lower = lb_path_join(d, "l0"), *upper = lb_path_join(d, "l1"),
         *tree = lb_path_join(d, "c");
    write_n(lower, "same", 100);    /* copied unchanged: 0 */
    write_n(lower, "changed", 50);  /* rewritten in the container with 70 bytes: 70 */
    write_n(lower, "hidden/x", 40); /* whited out by l1 (.wh.hidden), then re-added: 40 */
    write_n(lower, "opq/y", 30);    /* l1 makes opq/ opaque; the container re-adds y: 30 */
    write_n(upper, ".wh.hidden", 0);
    write_n(upper, "opq/.wh..wh..opq", 0);
    write_n(upper, "top", 20); /* from the top layer, unchanged: 0 */
    write_n(tree, "same", 100);
    write_n(tree, "changed", 70);
    write_n(tree, "hidden/x", 40);
    write_n(tree, "opq/y", 30);
    write_n(tree, "top", 20);
    write_n(tree, "new/file", 5); /* new: 5 */
    /* The copy keeps the image's mtimes (as vfs's copy does), also for the paths a whiteout
     * hides: so only the whiteouts can make those count. */
    const char *same_paths[] = {"top", "same", "hidden/x", "opq/y"};
    for (size_t i = 0; i < 4; i++) {
        char *src = lb_path_join(i == 0 ? upper : lower, same_paths[i]);
        char *dst = lb_path_join(tree, same_paths[i]);
        struct stat st;
        assert_int_equal(stat(src, &st), 0);
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        assert_int_equal(utimensat(AT_FDCWD, dst, ts, 0), 0);
        free(src);
        free(dst);
    }
    int fds[2] = {open(upper, O_RDONLY | O_DIRECTORY), open(lower, O_RDONLY | O_DIRECTORY)};
    assert_true(fds[0] >= 0 && fds[1] >= 0);
    uint64_t sz = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_size_changed_at(AT_FDCWD, tree, fds, 2, &sz, &err), 0);
    assert_int_equal(sz, 70 + 40 + 30 + 5);
    /* no layers: all of it */
    assert_int_equal(lb_size_changed_at(AT_FDCWD, tree, NULL, 0, &sz, &err), 0);
    assert_int_equal(sz, 100 + 70 + 40 + 30 + 20 + 5);
    close(fds[0]);
    close(fds[1]);
    free(lower);
    free(upper);
    free(tree);
    lb_unit_rmdir(d);
}

static void test_size__string_is_dockers_size_column(void **state)
{
    (void)state;
    struct lb_container_size sz = {.rw = 1000, .root_fs = 1000 + 2801613};
    char *s = lb_container_size_string(&sz);
    assert_string_equal(s, "1kB (virtual 2.8MB)"); /* docker: %.3g of 1.000 kB, 2.802613 MB */
    free(s);
    sz = (struct lb_container_size){.rw = 0, .root_fs = 4260000};
    s = lb_container_size_string(&sz);
    assert_string_equal(s, "0B (virtual 4.26MB)");
    free(s);
    sz = (struct lb_container_size){.rw = 1500, .root_fs = 0}; /* image gone */
    s = lb_container_size_string(&sz);
    assert_string_equal(s, "1.5kB");
    free(s);
}

LB_UNIT_MAIN(cmocka_unit_test(test_size__sums_files_and_symlinks_and_counts_a_hardlink_once),
             cmocka_unit_test(test_size__counts_a_whiteout_device_as_nothing),
             cmocka_unit_test(test_size__empty_tree_is_zero),
             cmocka_unit_test(test_size__missing_tree_is_an_error_naming_it),
             cmocka_unit_test(test_size__unreadable_directory_is_an_error_naming_it),
             cmocka_unit_test(test_size__vfs_counts_only_what_differs_from_the_image),
             cmocka_unit_test(test_size__string_is_dockers_size_column))
