/* test_harness_selftest.c — the unit-test harness itself (tests/unit/unit.h): temp directories
 * that are really made and really removed (unless LB_TEST_KEEP=1), files written with exactly
 * the bytes asked for, and assert_error_contains consuming the error it checked. The checks use
 * plain libc (stat, fopen), not the helpers under test. */
#include "unit.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char *keep_saved;

/* Each test starts without LB_TEST_KEEP and gets the caller's value back afterwards. */
static int save_keep(void **state)
{
    (void)state;
    const char *k = getenv("LB_TEST_KEEP");
    keep_saved = k ? lb_xstrdup(k) : NULL;
    unsetenv("LB_TEST_KEEP");
    return 0;
}

static int restore_keep(void **state)
{
    (void)state;
    if (keep_saved)
        setenv("LB_TEST_KEEP", keep_saved, 1);
    else
        unsetenv("LB_TEST_KEEP");
    free(keep_saved);
    keep_saved = NULL;
    return 0;
}

static void test_harness_selftest__mkdtemp_makes_a_new_empty_private_directory(void **state)
{
    (void)state;
    char *a = lb_unit_mkdtemp();
    char *b = lb_unit_mkdtemp();
    struct stat st;
    assert_int_equal(stat(a, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_string_not_equal(a, b);
    assert_int_equal(rmdir(a), 0); /* rmdir succeeds only on an empty directory */
    assert_int_equal(mkdir(a, 0700), 0);
    lb_unit_rmdir(a);
    lb_unit_rmdir(b);
}

static void test_harness_selftest__write_creates_parents_and_writes_exact_bytes(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    static const char data[] = {'a', '\0', 'b', '\n'};
    lb_unit_write(dir, "x/y/z.bin", data, sizeof data);

    char *path = lb_path_join(dir, "x/y/z.bin");
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(n, sizeof data);
    assert_memory_equal(buf, data, sizeof data);

    lb_unit_write(dir, "x/y/z.bin", "c", 1); /* rewriting truncates */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 1);
    free(path);
    lb_unit_rmdir(dir);
}

static void test_harness_selftest__rmdir_removes_the_whole_tree(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *copy = lb_xstrdup(dir);
    lb_unit_write(dir, "a/b/c", "x", 1);
    lb_unit_write(dir, "d", "y", 1);
    lb_unit_rmdir(dir); /* frees dir */
    struct stat st;
    assert_int_equal(lstat(copy, &st), -1);
    assert_int_equal(errno, ENOENT);
    free(copy);
}

static void test_harness_selftest__rmdir_keeps_the_tree_when_LB_TEST_KEEP_is_1(void **state)
{
    (void)state;
    setenv("LB_TEST_KEEP", "1", 1);
    char *dir = lb_unit_mkdtemp();
    char *copy = lb_xstrdup(dir);
    lb_unit_write(dir, "kept", "x", 1);
    lb_unit_rmdir(dir);
    char *kept = lb_path_join(copy, "kept");
    struct stat st;
    assert_int_equal(stat(kept, &st), 0);
    free(kept);

    unsetenv("LB_TEST_KEEP");
    lb_unit_rmdir(copy); /* now it goes */
}

static void test_harness_selftest__assert_error_contains_checks_and_clears_the_error(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    assert_int_equal(lb_error_set(&err, ENOENT, "cannot open '%s'", "x/y"), -1);
    assert_error_contains(err, "cannot open 'x/y'");
    assert_null(err);
}

#define T(name) cmocka_unit_test_setup_teardown(name, save_keep, restore_keep)

LB_UNIT_MAIN(T(test_harness_selftest__mkdtemp_makes_a_new_empty_private_directory),
             T(test_harness_selftest__write_creates_parents_and_writes_exact_bytes),
             T(test_harness_selftest__rmdir_removes_the_whole_tree),
             T(test_harness_selftest__rmdir_keeps_the_tree_when_LB_TEST_KEEP_is_1),
             T(test_harness_selftest__assert_error_contains_checks_and_clears_the_error))
