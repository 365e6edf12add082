/* unit.h — the cmocka harness shared by every tests/unit/test_<module>.c.
 *
 *     static void test_digest__rejects_uppercase(void **state) { ... }
 *     LB_UNIT_MAIN(cmocka_unit_test(test_digest__rejects_uppercase), ...)
 *
 * `build/tests/test_digest test_digest__rejects_uppercase` runs one test by name (a glob works:
 * 'test_digest__rejects_*'). Helpers make temp directories that are removed afterwards unless
 * LB_TEST_KEEP=1. */
#ifndef LB_TESTS_UNIT_H
#define LB_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/fs.h"
#include "core/util.h"

#define LB_UNIT_MAIN(...)                                                                          \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        if (argc > 1)                                                                              \
            cmocka_set_test_filter(argv[1]);                                                       \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

/* Assert that a call failed and its error message contains `needle`; frees the error. */
#define assert_error_contains(errp, needle)                                                        \
    do {                                                                                           \
        assert_non_null(errp);                                                                     \
        if (strstr((errp)->msg, (needle)) == NULL)                                                 \
            fail_msg("error '%s' does not contain '%s'", (errp)->msg, (needle));                   \
        lb_error_clear(&(errp));                                                                   \
    } while (0)

/* A fresh temp directory; lb_unit_rmdir removes it (unless LB_TEST_KEEP=1). Caller frees. */
static inline char *lb_unit_mkdtemp(void)
{
    char tmpl[] = "/tmp/lb-unit-XXXXXX";
    char *d = mkdtemp(tmpl);
    if (d == NULL)
        abort();
    return lb_xstrdup(d);
}

static inline void lb_unit_rmdir(char *dir)
{
    const char *keep = getenv("LB_TEST_KEEP");
    if (dir && !(keep && strcmp(keep, "1") == 0)) {
        struct lb_error *e = NULL;
        lb_rm_tree_at(-100 /* AT_FDCWD */, dir, &e);
        lb_error_free(e);
    }
    free(dir);
}

/* Write a file (creating parents) with the given content; aborts on failure. */
static inline void lb_unit_write(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = lb_path_join(dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    struct lb_error *e = NULL;
    if (lb_mkdir_p(path, 0755, &e) < 0)
        fail_msg("mkdir %s: %s", path, e->msg);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len)
        fail_msg("cannot write %s", path);
    fclose(f);
    free(path);
}

#endif
