/* test_core.c — the core module: errors, strings, files, JSON, locks, explain, human units, time.
 *
 * Expected human sizes and durations were worked out by hand from docker's go-units
 * (HumanSizeWithPrecision(size, 3) and HumanDuration); expected Unix times come from
 * `date -u -d <timestamp> +%s`. */
#include "unit.h"

#include <sys/mount.h>

#include "core/cleanup.h"
#include "core/explain.h"
#include "core/human.h"
#include "core/json.h"
#include "core/lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------- */

static char *tpath(const char *dir, const char *name)
{
    return lb_path_join(dir, name);
}

/* Names in dir, sorted, joined with ',' (caller frees). */
static char *list_dir(const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    struct lb_strbuf sb = LB_STRBUF_INIT;
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
            if (sb.len)
                lb_strbuf_addc(&sb, ',');
            lb_strbuf_adds(&sb, names[i]->d_name);
        }
        free(names[i]);
    }
    free(names);
    return lb_strbuf_detach(&sb);
}

/* ---- error ------------------------------------------------------------------------------ */

static void test_core__error_set_fills_code_kind_and_message(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    assert_int_equal(lb_error_set(&err, ENOENT, "cannot open '%s'", "x"), -1);
    assert_non_null(err);
    assert_int_equal(err->code, ENOENT);
    assert_int_equal(err->kind, LB_EKIND_GENERIC);
    assert_string_equal(err->msg, "cannot open 'x'");
    lb_error_clear(&err);
    assert_null(err);

    assert_int_equal(lb_error_setk(&err, LB_EKIND_NOT_FOUND, 0, "no such image '%s'", "y"), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_int_equal(err->code, 0);
    assert_string_equal(err->msg, "no such image 'y'");
    lb_error_clear(&err);
}

static void test_core__error_first_error_wins(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    lb_error_set(&err, EACCES, "first");
    assert_int_equal(lb_error_set(&err, ENOENT, "second"), -1);
    assert_int_equal(lb_error_setk(&err, LB_EKIND_USAGE, 0, "third"), -1);
    assert_string_equal(err->msg, "first");
    assert_int_equal(err->code, EACCES);
    assert_int_equal(err->kind, LB_EKIND_GENERIC);
    lb_error_clear(&err);
}

static void test_core__error_accepts_a_null_error_pointer(void **state)
{
    (void)state;
    assert_int_equal(lb_error_set(NULL, EIO, "ignored"), -1);
    assert_int_equal(lb_error_setk(NULL, LB_EKIND_INVALID, 0, "ignored"), -1);
    assert_int_equal(lb_error_wrap(NULL, "ctx"), -1);
    lb_error_clear(NULL);
    lb_error_free(NULL);
}

static void test_core__error_wrap_prefixes_context_and_keeps_code(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    assert_int_equal(lb_error_wrap(&err, "nothing to wrap"), -1);
    assert_null(err);

    lb_error_setk(&err, LB_EKIND_INVALID, EIO, "cannot read 'a'");
    assert_int_equal(lb_error_wrap(&err, "loading '%s'", "img"), -1);
    assert_int_equal(lb_error_wrap(&err, "pulling"), -1);
    assert_string_equal(err->msg, "pulling: loading 'img': cannot read 'a'");
    assert_int_equal(err->code, EIO);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    lb_error_clear(&err);
}

static void test_core__error_string_appends_strerror_when_there_is_a_code(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    lb_error_set(&err, ENOENT, "cannot open 'x'");
    char *s = lb_error_string(err);
    char *want = lb_xasprintf("cannot open 'x': %s", strerror(ENOENT));
    assert_string_equal(s, want);
    free(s);
    free(want);
    lb_error_clear(&err);

    lb_error_set(&err, 0, "plain");
    s = lb_error_string(err);
    assert_string_equal(s, "plain");
    free(s);
    lb_error_clear(&err);

    s = lb_error_string(NULL);
    assert_string_equal(s, "unknown error");
    free(s);
}

/* ---- util ------------------------------------------------------------------------------- */

static void test_core__util_strings_and_prefixes(void **state)
{
    (void)state;
    char *s = lb_xasprintf("%s-%d", "a", 42);
    assert_string_equal(s, "a-42");
    free(s);
    s = lb_xstrndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    s = lb_xstrdup("");
    assert_string_equal(s, "");
    free(s);

    assert_true(lb_str_has_prefix("sha256:abc", "sha256:"));
    assert_true(lb_str_has_prefix("abc", ""));
    assert_false(lb_str_has_prefix("sha", "sha256:"));
    assert_true(lb_str_has_suffix("file.json", ".json"));
    assert_true(lb_str_has_suffix("x", ""));
    assert_false(lb_str_has_suffix("json", ".json"));
    assert_false(lb_str_has_suffix("a.jsonx", ".json"));

    void *p = lb_xmalloc(16);
    static const char zeros[16];
    assert_memory_equal(p, zeros, 16); /* zero-filled */
    p = lb_xrealloc(p, 4096);
    free(p);
}

static void test_core__util_strv_push_len_contains_free(void **state)
{
    (void)state;
    char **v = NULL;
    assert_int_equal(lb_strv_len(v), 0);
    assert_false(lb_strv_contains(v, "a"));
    lb_strv_push(&v, "a");
    lb_strv_push(&v, "bb");
    lb_strv_push(&v, "");
    assert_int_equal(lb_strv_len(v), 3);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[1], "bb");
    assert_string_equal(v[2], "");
    assert_null(v[3]);
    assert_true(lb_strv_contains(v, "bb"));
    assert_true(lb_strv_contains(v, ""));
    assert_false(lb_strv_contains(v, "b"));
    lb_strv_free(v);
    lb_strv_free(NULL);
}

static void test_core__util_strbuf_grows_formats_resets_and_detaches(void **state)
{
    (void)state;
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "ab");
    lb_strbuf_addc(&sb, 'c');
    lb_strbuf_add(&sb, "dexyz", 2);
    lb_strbuf_addf(&sb, "-%d-%s", 7, "z");
    assert_string_equal(sb.buf, "abcde-7-z");
    assert_int_equal(sb.len, 9);

    /* Grow well past the first allocation, by add and by addf. */
    for (int i = 0; i < 1000; i++)
        lb_strbuf_addc(&sb, 'x');
    lb_strbuf_addf(&sb, "%0500d", 0);
    assert_int_equal(sb.len, 9 + 1000 + 500);
    assert_int_equal(strlen(sb.buf), sb.len);
    assert_true(sb.alloc > sb.len);

    lb_strbuf_reset(&sb);
    assert_int_equal(sb.len, 0);
    assert_string_equal(sb.buf, "");
    lb_strbuf_addf(&sb, "%s", "");
    assert_string_equal(sb.buf, "");
    lb_strbuf_adds(&sb, "kept");
    char *s = lb_strbuf_detach(&sb);
    assert_string_equal(s, "kept");
    assert_null(sb.buf);
    assert_int_equal(sb.len, 0);
    free(s);

    /* Detaching an untouched buffer gives an empty, owned string. */
    s = lb_strbuf_detach(&sb);
    assert_string_equal(s, "");
    free(s);
    lb_strbuf_reset(&sb); /* on an empty buffer */
    lb_strbuf_release(&sb);
    lb_strbuf_release(&sb);
}

/* ---- fs --------------------------------------------------------------------------------- */

static void test_core__fs_mkdir_p_creates_every_component(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *deep = tpath(dir, "a/b/c/");
    struct lb_error *err = NULL;
    assert_int_equal(lb_mkdir_p(deep, 0750, &err), 0);
    assert_null(err);
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* Again: existing directories are fine. */
    assert_int_equal(lb_mkdir_p(deep, 0750, &err), 0);
    free(deep);
    deep = tpath(dir, "a//b/d");
    assert_int_equal(lb_mkdir_p(deep, 0755, &err), 0);
    assert_true(lb_path_exists_at(AT_FDCWD, deep));
    free(deep);
    assert_int_equal(lb_mkdir_p("/", 0755, &err), 0);
    lb_unit_rmdir(dir);
}

static void test_core__fs_mkdir_p_refuses_to_go_through_a_file(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    lb_unit_write(dir, "file", "x", 1);
    struct lb_error *err = NULL;

    char *over = tpath(dir, "file");
    assert_int_equal(lb_mkdir_p(over, 0755, &err), -1);
    assert_int_equal(err->code, ENOTDIR);
    assert_error_contains(err, "cannot create directory");

    char *under = tpath(dir, "file/sub/x");
    assert_int_equal(lb_mkdir_p(under, 0755, &err), -1);
    assert_int_equal(err->code, ENOTDIR);
    assert_error_contains(err, "/file'");

    assert_int_equal(lb_mkdir_p("", 0755, &err), -1);
    assert_int_equal(err->code, ENOENT);
    lb_error_clear(&err);
    free(over);
    free(under);
    lb_unit_rmdir(dir);
}

static void test_core__fs_atomic_write_replaces_and_leaves_no_temp(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *path = tpath(dir, "state.json");
    struct lb_error *err = NULL;
    assert_int_equal(lb_atomic_write_at(AT_FDCWD, path, "old", 3, 0644, &err), 0);
    assert_int_equal(lb_atomic_write_at(AT_FDCWD, path, "new!", 4, 0640, &err), 0);
    assert_null(err);

    char *data = NULL;
    size_t len = 0;
    assert_int_equal(lb_read_file_at(AT_FDCWD, path, 100, &data, &len, &err), 0);
    assert_int_equal(len, 4);
    assert_string_equal(data, "new!");
    free(data);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640); /* exact, whatever the umask */

    char *names = list_dir(dir);
    assert_string_equal(names, "state.json");
    free(names);

    /* Relative to a directory fd, with an empty payload. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    assert_int_equal(lb_atomic_write_at(dfd, "empty", "", 0, 0600, &err), 0);
    assert_int_equal(lb_read_file_at(dfd, "empty", 0, &data, &len, &err), 0);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    close(dfd);
    names = list_dir(dir);
    assert_string_equal(names, "empty,state.json");
    free(names);
    free(path);
    lb_unit_rmdir(dir);
}

/* Go's path.Clean, rooted: the cases of Go's own path_test.go that start with '/', and the
 * relative ones as docker sees a container path (taken from "/"). */
static void test_core__path_clean_abs_is_gos_path_clean_from_the_root(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"", "/"},
        {".", "/"},
        {"/", "/"},
        {"//", "/"},
        {"/abc", "/abc"},
        {"/abc/", "/abc"},
        {"//abc", "/abc"},
        {"/abc//def//ghi", "/abc/def/ghi"},
        {"/abc/./def", "/abc/def"},
        {"/./abc/def", "/abc/def"},
        {"/abc/.", "/abc"},
        {"/abc/def/ghi/../jkl", "/abc/def/jkl"},
        {"/abc/def/../ghi/../jkl", "/abc/jkl"},
        {"/abc/def/..", "/abc"},
        {"/abc/def/../..", "/"},
        {"/abc/def/../../..", "/"},
        {"/abc/def/../../../ghi/jkl/../../../mno", "/mno"},
        {"/../abc", "/abc"},
        {"/..", "/"},
        {"abc/./../def", "/def"},
        {"a/b", "/a/b"},
        {"/data/", "/data"},
        {"/data/../data", "/data"},
        {"/a/...", "/a/..."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = lb_path_clean_abs(cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("clean('%s') = '%s', want '%s'", cases[i][0], got, cases[i][1]);
        free(got);
    }
}

static void test_core__fs_volatile_replace_replaces_and_leaves_no_temp(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    struct lb_error *err = NULL;
    assert_int_equal(lb_replace_file_at(dfd, "s", "first", 5, 0600, LB_VOLATILE, &err), 0);
    assert_int_equal(lb_replace_file_at(dfd, "s", "2nd", 3, 0644, LB_VOLATILE, &err), 0);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(lb_read_file_at(dfd, "s", 100, &data, &len, &err), 0);
    assert_string_equal(data, "2nd");
    free(data);
    struct stat st;
    assert_int_equal(fstatat(dfd, "s", &st, 0), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    char *names = list_dir(dir);
    assert_string_equal(names, "s");
    free(names);
    /* a failed rename removes the temp file here too */
    lb_unit_write(dir, "d/inside", "x", 1);
    assert_int_equal(lb_replace_file_at(dfd, "d", "x", 1, 0644, LB_VOLATILE, &err), -1);
    assert_error_contains(err, "cannot replace");
    names = list_dir(dir);
    assert_string_equal(names, "d,s");
    free(names);
    close(dfd);
    lb_unit_rmdir(dir);
}

static void test_core__fs_atomic_write_failures_clean_up(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    struct lb_error *err = NULL;

    char *missing = tpath(dir, "no/such/dir/file");
    assert_int_equal(lb_atomic_write_at(AT_FDCWD, missing, "x", 1, 0644, &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_error_contains(err, "cannot create");

    /* The name is a non-empty directory: rename fails and the temp file must go. */
    char *target = tpath(dir, "taken");
    lb_unit_write(dir, "taken/inside", "x", 1);
    assert_int_equal(lb_atomic_write_at(AT_FDCWD, target, "x", 1, 0644, &err), -1);
    assert_error_contains(err, "cannot replace");
    char *names = list_dir(dir);
    assert_string_equal(names, "taken");
    free(names);

    free(missing);
    free(target);
    lb_unit_rmdir(dir);
}

static void test_core__fs_read_file_enforces_the_size_limit(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    lb_unit_write(dir, "ten", "0123456789", 10);
    char *path = tpath(dir, "ten");
    struct lb_error *err = NULL;
    char *data = NULL;
    size_t len = 0;

    assert_int_equal(lb_read_file_at(AT_FDCWD, path, 10, &data, &len, &err), 0);
    assert_int_equal(len, 10);
    assert_string_equal(data, "0123456789");
    free(data);
    data = NULL;
    assert_int_equal(lb_read_file_at(AT_FDCWD, path, 10, &data, NULL, &err), 0); /* len optional */
    free(data);
    data = NULL;

    assert_int_equal(lb_read_file_at(AT_FDCWD, path, 9, &data, &len, &err), -1);
    assert_null(data);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "is too large (10 bytes, limit 9)");

    char *missing = tpath(dir, "missing");
    assert_int_equal(lb_read_file_at(AT_FDCWD, missing, 10, &data, &len, &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_error_contains(err, "cannot open");
    free(missing);
    free(path);
    lb_unit_rmdir(dir);
}

static void test_core__fs_read_file_refuses_non_regular_files(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    struct lb_error *err = NULL;
    char *data = NULL;
    size_t len = 0;

    assert_int_equal(lb_read_file_at(AT_FDCWD, dir, 1 << 20, &data, &len, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "is not a regular file");

    /* A FIFO with no writer: refused at once, not a hang waiting for a writer. */
    char *fifo = tpath(dir, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(10);
    assert_int_equal(lb_read_file_at(AT_FDCWD, fifo, 1 << 20, &data, &len, &err), -1);
    alarm(0);
    assert_error_contains(err, "is not a regular file");
    assert_null(data);

    assert_int_equal(lb_read_file_at(AT_FDCWD, "/dev/null", 1 << 20, &data, &len, &err), -1);
    assert_error_contains(err, "is not a regular file");
    free(fifo);
    lb_unit_rmdir(dir);
}

static void test_core__fs_rm_tree_removes_nested_trees(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    lb_unit_write(dir, "t/a/b/c/file", "x", 1);
    lb_unit_write(dir, "t/a/other", "y", 1);
    lb_unit_write(dir, "t/top", "z", 1);
    char *empty = tpath(dir, "t/a/b/empty");
    assert_int_equal(mkdir(empty, 0755), 0);
    char *link = tpath(dir, "t/a/dangling");
    assert_int_equal(symlink("/nonexistent/target", link), 0);
    char *fifo = tpath(dir, "t/a/b/fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    char *t = tpath(dir, "t");

    struct lb_error *err = NULL;
    assert_int_equal(lb_rm_tree_at(AT_FDCWD, t, &err), 0);
    assert_null(err);
    assert_false(lb_path_exists_at(AT_FDCWD, t));
    char *names = list_dir(dir);
    assert_string_equal(names, "");
    free(names);

    /* Relative to a dirfd, and a plain file. */
    lb_unit_write(dir, "f", "1", 1);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_int_equal(lb_rm_tree_at(dfd, "f", &err), 0);
    assert_false(lb_path_exists_at(dfd, "f"));
    close(dfd);

    free(empty);
    free(link);
    free(fifo);
    free(t);
    lb_unit_rmdir(dir);
}

static void test_core__fs_rm_tree_does_not_follow_symlinks_out(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    lb_unit_write(dir, "outside/precious", "keep", 4);
    lb_unit_write(dir, "tree/sub/file", "x", 1);
    char *outside = tpath(dir, "outside");
    char *precious = tpath(dir, "outside/precious");
    char *link_in = tpath(dir, "tree/sub/escape");
    assert_int_equal(symlink(outside, link_in), 0);
    char *link_rel = tpath(dir, "tree/rel");
    assert_int_equal(symlink("../outside", link_rel), 0);
    char *tree = tpath(dir, "tree");

    struct lb_error *err = NULL;
    assert_int_equal(lb_rm_tree_at(AT_FDCWD, tree, &err), 0);
    assert_false(lb_path_exists_at(AT_FDCWD, tree));
    assert_true(lb_path_exists_at(AT_FDCWD, precious));

    /* The path itself a symlink to a directory: the link goes, the directory stays. */
    char *top_link = tpath(dir, "top-link");
    assert_int_equal(symlink(outside, top_link), 0);
    assert_int_equal(lb_rm_tree_at(AT_FDCWD, top_link, &err), 0);
    assert_false(lb_path_exists_at(AT_FDCWD, top_link));
    assert_true(lb_path_exists_at(AT_FDCWD, precious));
    char *names = list_dir(dir);
    assert_string_equal(names, "outside");
    free(names);

    free(outside);
    free(precious);
    free(link_in);
    free(link_rel);
    free(tree);
    free(top_link);
    lb_unit_rmdir(dir);
}

/* /proc files report size 0 yet have content: they are read to EOF, and the limit still holds. */
static void test_core__fs_read_file_reads_proc_files_to_the_end(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 20, &buf, &len, &err), 0);
    assert_true(len > 100);
    assert_non_null(strstr(buf, "\nPid:\t"));
    assert_int_equal(strlen(buf), len);
    free(buf);
    buf = NULL;
    assert_int_equal(lb_read_file_at(AT_FDCWD, "/proc/self/status", 64, &buf, &len, &err), -1);
    assert_error_contains(err, "too large");
    assert_null(buf);
}

/* A bind mount from the same file system has the same st_dev: only statx's mount-root attribute
 * tells it apart. rm -r must stop at it, top level or nested, and leave the mounted tree alone. */
static void test_core__fs_rm_tree_refuses_bind_mounts(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    char *dir = lb_unit_mkdtemp();
    lb_unit_write(dir, "tree/sub/keep.txt", "x", 1);
    lb_unit_write(dir, "outside/precious.txt", "y", 1);
    char *sub = lb_path_join(dir, "tree/sub");
    char *outside = lb_path_join(dir, "outside");
    char *tree = lb_path_join(dir, "tree");
    char *precious = lb_path_join(dir, "outside/precious.txt");
    if (mount(outside, sub, "none", MS_BIND, NULL) < 0)
        skip();
    struct lb_error *err = NULL;
    assert_int_equal(lb_rm_tree_at(AT_FDCWD, tree, &err), -1);
    assert_error_contains(err, "mount point");
    assert_int_equal(lb_rm_tree_at(AT_FDCWD, sub, &err), -1);
    assert_error_contains(err, "mount point");
    assert_int_equal(access(precious, F_OK), 0);
    assert_int_equal(umount2(sub, 0), 0);
    assert_int_equal(lb_rm_tree_at(AT_FDCWD, tree, &err), 0);
    assert_int_equal(access(precious, F_OK), 0);
    free(sub);
    free(outside);
    free(tree);
    free(precious);
    lb_unit_rmdir(dir);
}

static void test_core__fs_rm_tree_of_a_missing_path_is_success(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *missing = tpath(dir, "missing");
    struct lb_error *err = NULL;
    assert_int_equal(lb_rm_tree_at(AT_FDCWD, missing, &err), 0);
    assert_null(err);
    /* Under a file: ENOTDIR is a real error. */
    lb_unit_write(dir, "file", "x", 1);
    char *under = tpath(dir, "file/x");
    assert_int_equal(lb_rm_tree_at(AT_FDCWD, under, &err), -1);
    assert_int_equal(err->code, ENOTDIR);
    assert_error_contains(err, "cannot stat");
    free(missing);
    free(under);
    lb_unit_rmdir(dir);
}

static void test_core__fs_small_helpers(void **state)
{
    (void)state;
    char *s = lb_path_join("a", "b");
    assert_string_equal(s, "a/b");
    free(s);
    s = lb_path_join("a/", "b");
    assert_string_equal(s, "a/b");
    free(s);
    s = lb_path_join("a", "//b");
    assert_string_equal(s, "a/b");
    free(s);
    s = lb_path_join("/", "x");
    assert_string_equal(s, "/x");
    free(s);

    char *dir = lb_unit_mkdtemp();
    struct lb_error *err = NULL;
    char *link = tpath(dir, "dangling");
    assert_int_equal(symlink("nowhere", link), 0);
    assert_true(lb_path_exists_at(AT_FDCWD, link)); /* lstat: the link itself exists */
    assert_false(lb_path_exists_at(AT_FDCWD, "/nonexistent/x"));

    assert_int_equal(lb_fsync_dir_at(AT_FDCWD, dir, &err), 0);
    assert_int_equal(lb_fsync_dir_at(AT_FDCWD, "/nonexistent", &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_error_contains(err, "cannot open directory '/nonexistent'");

    char *t1 = NULL, *t2 = NULL;
    assert_int_equal(lb_mkdtemp_at(AT_FDCWD, dir, "tmp-", &t1, &err), 0);
    assert_int_equal(lb_mkdtemp_at(AT_FDCWD, dir, "tmp-", &t2, &err), 0);
    assert_string_not_equal(t1, t2);
    assert_true(lb_str_has_prefix(t1, dir));
    assert_non_null(strstr(t1, "/tmp-"));
    struct stat st;
    assert_int_equal(stat(t1, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    char *nope = NULL;
    assert_int_equal(lb_mkdtemp_at(AT_FDCWD, "/nonexistent", "x", &nope, &err), -1);
    assert_null(nope);
    assert_error_contains(err, "cannot create directory");
    free(t1);
    free(t2);
    free(link);
    lb_unit_rmdir(dir);
}

static void test_core__fs_write_all_and_read_full_through_a_pipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct lb_error *err = NULL;
    assert_int_equal(lb_write_all(p[1], "hello", 5, &err), 0);
    close(p[1]);
    char buf[16] = "";
    assert_int_equal(lb_read_full(p[0], buf, sizeof(buf), &err), 5); /* short only at EOF */
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(lb_read_full(p[0], buf, sizeof(buf), &err), 0);
    close(p[0]);

    assert_int_equal(lb_write_all(-1, "x", 1, &err), -1);
    assert_int_equal(err->code, EBADF);
    assert_error_contains(err, "write failed");
    assert_int_equal(lb_read_full(-1, buf, 1, &err), -1);
    assert_int_equal(err->code, EBADF);
    assert_error_contains(err, "read failed");
}

/* ---- json ------------------------------------------------------------------------------- */

static void test_core__json_parse_reports_errors_with_the_document_name(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    const char *ok = "{\"a\": 1}";
    json_t *j = lb_json_parse(ok, strlen(ok), "ok.json", &err);
    assert_non_null(j);
    json_decref(j);

    const char *bad = "{\n\"a\": 1,\n}";
    assert_null(lb_json_parse(bad, strlen(bad), "manifest.json", &err));
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "manifest.json is not valid JSON");
    assert_null(lb_json_parse(bad, strlen(bad), "manifest.json", &err));
    assert_error_contains(err, "at line 3");

    const char *dup = "{\"a\": 1, \"a\": 2}";
    assert_null(lb_json_parse(dup, strlen(dup), "dup.json", &err));
    assert_error_contains(err, "dup.json is not valid JSON");

    /* len bounds the parse: the closing brace is outside it. */
    assert_null(lb_json_parse(ok, strlen(ok) - 1, "cut.json", &err));
    assert_error_contains(err, "cut.json is not valid JSON");
    assert_null(lb_json_parse("", 0, "empty.json", &err));
    assert_error_contains(err, "empty.json is not valid JSON");
}

static void test_core__json_parse_refuses_documents_over_the_limit(void **state)
{
    (void)state;
    size_t n = LB_JSON_MAX_SIZE + 1;
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, ' ', n);
    buf[0] = '[';
    buf[n - 1] = ']';
    struct lb_error *err = NULL;
    assert_null(lb_json_parse(buf, n, "big.json", &err));
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "big.json is too large (8388609 bytes, limit 8388608)");
    /* One byte less is parsed. */
    buf[n - 2] = ']';
    json_t *j = lb_json_parse(buf, n - 1, "big.json", &err);
    assert_non_null(j);
    json_decref(j);
    free(buf);
}

static void test_core__json_load_and_write_round_trip(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    struct lb_error *err = NULL;

    json_t *j = json_pack("{s:s, s:i, s:[s,s]}", "b", "x", "a", 1, "c", "p", "q");
    assert_int_equal(lb_json_write_at(dfd, "doc.json", j, &err), 0);
    char *data = NULL;
    assert_int_equal(lb_read_file_at(dfd, "doc.json", 1024, &data, NULL, &err), 0);
    assert_string_equal(data, "{\"b\":\"x\",\"a\":1,\"c\":[\"p\",\"q\"]}"); /* insertion order */
    free(data);
    json_t *back = lb_json_load_at(dfd, "doc.json", &err);
    assert_non_null(back);
    assert_true(json_equal(j, back));
    json_decref(back);

    char *pretty = lb_json_dump_pretty(j);
    assert_string_equal(pretty,
                        "{\n    \"b\": \"x\",\n    \"a\": 1,\n    \"c\": [\n        \"p\",\n"
                        "        \"q\"\n    ]\n}");
    free(pretty);
    json_t *str = json_string("s");
    char *compact = lb_json_dump(str);
    assert_string_equal(compact, "\"s\""); /* JSON_ENCODE_ANY */
    free(compact);
    json_decref(str);
    json_decref(j);

    assert_null(lb_json_load_at(dfd, "missing.json", &err));
    assert_int_equal(err->code, ENOENT);
    assert_error_contains(err, "cannot open 'missing.json'");

    lb_unit_write(dir, "bad.json", "{", 1);
    assert_null(lb_json_load_at(dfd, "bad.json", &err));
    assert_error_contains(err, "bad.json is not valid JSON");

    /* Too large is refused from the file size, before reading. */
    int fd = openat(dfd, "huge.json", O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)LB_JSON_MAX_SIZE + 1), 0);
    close(fd);
    assert_null(lb_json_load_at(dfd, "huge.json", &err));
    assert_error_contains(err, "'huge.json' is too large");

    close(dfd);
    lb_unit_rmdir(dir);
}

static void test_core__json_getters_check_types(void **state)
{
    (void)state;
    const char *doc = "{\"s\":\"str\",\"i\":42,\"o\":{\"k\":1},\"a\":[1],\"n\":null,\"f\":1.5}";
    struct lb_error *err = NULL;
    json_t *j = lb_json_parse(doc, strlen(doc), "doc", &err);
    assert_non_null(j);

    assert_string_equal(lb_json_str(j, "s"), "str");
    assert_null(lb_json_str(j, "i"));
    assert_null(lb_json_str(j, "missing"));
    assert_int_equal(lb_json_int(j, "i", -1), 42);
    assert_int_equal(lb_json_int(j, "s", -1), -1);
    assert_int_equal(lb_json_int(j, "f", -1), -1);
    assert_int_equal(lb_json_int(j, "missing", 7), 7);
    assert_non_null(lb_json_obj(j, "o"));
    assert_int_equal(lb_json_int(lb_json_obj(j, "o"), "k", 0), 1);
    assert_null(lb_json_obj(j, "a"));
    assert_null(lb_json_obj(j, "n"));
    assert_non_null(lb_json_arr(j, "a"));
    assert_null(lb_json_arr(j, "o"));
    assert_null(lb_json_arr(j, "missing"));

    /* Getters on a non-object (or NULL) return the default. */
    json_t *arr = lb_json_arr(j, "a");
    assert_null(lb_json_str(arr, "s"));
    assert_int_equal(lb_json_int(arr, "i", 5), 5);
    assert_null(lb_json_obj(NULL, "o"));
    assert_null(lb_json_arr(NULL, "a"));
    assert_null(lb_json_str(NULL, "s"));
    json_decref(j);
}

static void test_core__json_strv_round_trip(void **state)
{
    (void)state;
    char **v = NULL;
    lb_strv_push(&v, "PATH=/bin");
    lb_strv_push(&v, "");
    lb_strv_push(&v, "\xc3\xa9"); /* é in UTF-8 */
    json_t *a = lb_json_from_strv(v);
    char *s = lb_json_dump(a);
    assert_string_equal(s, "[\"PATH=/bin\",\"\",\"\xc3\xa9\"]");
    free(s);
    char **back = lb_json_to_strv(a);
    assert_int_equal(lb_strv_len(back), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(back[i], v[i]);
    lb_strv_free(back);
    json_decref(a);
    lb_strv_free(v);

    a = lb_json_from_strv(NULL);
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), 0);
    back = lb_json_to_strv(a);
    assert_non_null(back);
    assert_null(back[0]);
    lb_strv_free(back);
    json_decref(a);

    json_t *mixed = json_pack("[s,i,s]", "a", 1, "b");
    assert_null(lb_json_to_strv(mixed)); /* valgrind: the partial vector is freed */
    json_decref(mixed);
    json_t *obj = json_object();
    assert_null(lb_json_to_strv(obj));
    assert_null(lb_json_to_strv(NULL));
    json_decref(obj);
}

/* ---- lock ------------------------------------------------------------------------------- */

static void test_core__lock_try_fails_while_another_open_holds_it(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    char *path = tpath(dir, "lock");
    struct lb_error *err = NULL;

    int held = lb_lock_acquire(path, true, &err);
    assert_true(held >= 0);
    assert_true(lb_path_exists_at(AT_FDCWD, path)); /* created */
    /* flock belongs to the open file description: a second open in this process conflicts. */
    assert_int_equal(lb_lock_try(path, true, &err), -1);
    assert_int_equal(err->code, EWOULDBLOCK);
    assert_error_contains(err, "cannot lock");
    assert_int_equal(lb_lock_try(path, false, &err), -1);
    assert_int_equal(err->code, EWOULDBLOCK);
    lb_error_clear(&err);
    lb_lock_release(held);

    int again = lb_lock_try(path, true, &err);
    assert_true(again >= 0);
    lb_lock_release(again);

    /* Shared locks coexist; an exclusive one waits for both. */
    int s1 = lb_lock_acquire(path, false, &err);
    int s2 = lb_lock_try(path, false, &err);
    assert_true(s1 >= 0 && s2 >= 0);
    assert_int_equal(lb_lock_try(path, true, &err), -1);
    assert_int_equal(err->code, EWOULDBLOCK);
    lb_error_clear(&err);
    lb_lock_release(s1);
    lb_lock_release(s2);
    lb_lock_release(-1);

    char *bad = tpath(dir, "missing/lock");
    assert_int_equal(lb_lock_acquire(bad, true, &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_error_contains(err, "cannot open lock");
    free(bad);
    free(path);
    lb_unit_rmdir(dir);
}

/* ---- explain ---------------------------------------------------------------------------- */

struct explain_log {
    int calls;
    char text[128];
    char topic[32];
};

static void explain_record(const char *topic, const char *text, void *data)
{
    struct explain_log *log = data;
    log->calls++;
    snprintf(log->topic, sizeof(log->topic), "%s", topic);
    snprintf(log->text, sizeof(log->text), "%s", text);
}

static int side_effects;
static int count_call(void)
{
    return ++side_effects;
}

static void test_core__explain_calls_the_sink_only_when_on(void **state)
{
    (void)state;
    struct explain_log log = {0};
    lb_explain_set_sink(NULL, NULL);
    assert_false(lb_explain_enabled());
    lb_explain("layer", "n=%d", count_call());
    assert_int_equal(side_effects, 0); /* arguments not even evaluated */

    lb_explain_set_sink(explain_record, &log);
    assert_true(lb_explain_enabled());
    lb_explain("layer", "unpacked %s (%d)", "sha256:ab", count_call());
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.topic, "layer");
    assert_string_equal(log.text, "unpacked sha256:ab (1)");

    lb_explain_set_sink(NULL, NULL);
    lb_explain_("layer", "direct call while off");
    assert_int_equal(log.calls, 1);
}

/* ---- human ------------------------------------------------------------------------------ */

static void test_core__human_size_matches_go_units(void **state)
{
    (void)state;
    static const struct {
        double bytes;
        const char *want;
    } cases[] = {
        {0, "0B"},           {1, "1B"},        {999, "999B"},         {1000, "1kB"},
        {1500, "1.5kB"},     {1024, "1.02kB"}, {4260000, "4.26MB"},   {123456789, "123MB"},
        {999999, "1e+03kB"}, /* go-units quirk too: 999.999 to 3 digits is 1e+03 */
        {1e9, "1GB"},        {1e12, "1TB"},    {1e15, "1PB"},         {1e18, "1EB"},
        {1e21, "1ZB"},       {1e24, "1YB"},    {2.5e27, "2.5e+03YB"}, /* no unit above YB */
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char buf[32];
        assert_ptr_equal(lb_human_size(buf, sizeof(buf), cases[i].bytes), buf);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("size %.0f: got '%s', want '%s'", cases[i].bytes, buf, cases[i].want);
    }
}

static void test_core__human_duration_matches_go_units_at_each_boundary(void **state)
{
    (void)state;
    static const struct {
        double seconds;
        const char *want;
    } cases[] = {
        {-5, "Less than a second"},
        {0, "Less than a second"},
        {0.999, "Less than a second"},
        {1, "1 second"},
        {1.999, "1 second"},
        {2, "2 seconds"},
        {59.9, "59 seconds"},
        {60, "About a minute"},
        {119.9, "About a minute"},
        {120, "2 minutes"},
        {3599, "59 minutes"},
        {3600, "About an hour"},          /* hours = int(1 + 0.5) = 1 */
        {5399, "About an hour"},          /* int(1.4997 + 0.5) = 1 */
        {5400, "2 hours"},                /* int(1.5 + 0.5) = 2 */
        {47 * 3600 + 1799, "47 hours"},   /* 47.4997h rounds to 47 */
        {47 * 3600 + 1800, "2 days"},     /* 47.5h rounds to 48 → 48/24 */
        {335 * 3600 + 1799, "13 days"},   /* 335h/24 = 13 */
        {335 * 3600 + 1800, "2 weeks"},   /* 336h = 24*7*2 */
        {1439 * 3600 + 1799, "8 weeks"},  /* 1439h/24/7 = 8 */
        {1439 * 3600 + 1800, "2 months"}, /* 1440h = 24*30*2 */
        {17519 * 3600, "24 months"},      /* 17519h/24/30 = 24 */
        {17519 * 3600 + 1800, "1 years"}, /* rounds to 17520h; years use int(hours)=17519 → 1 */
        {17520 * 3600, "2 years"},
        {56.0 * 365 * 24 * 3600, "56 years"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char buf[64];
        assert_ptr_equal(lb_human_duration(buf, sizeof(buf), cases[i].seconds), buf);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%.3f s: got '%s', want '%s'", cases[i].seconds, buf, cases[i].want);
    }
}

/* ---- time ------------------------------------------------------------------------------- */

static void test_core__time_parse_handles_zones_and_fractions(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t sec; /* date -u -d <in> +%s */
        int32_t nsec;
    } cases[] = {
        {"2024-01-02T03:04:05Z", 1704164645, 0},
        {"2024-01-02T03:04:05+02:00", 1704157445, 0},
        {"2024-01-02T03:04:05-05:30", 1704184445, 0},
        {"2024-01-01T00:00:00+00:30", 1704065400, 0},
        {"2024-01-02T03:04:05.123456789Z", 1704164645, 123456789},
        {"2024-01-02T03:04:05.12Z", 1704164645, 120000000},
        {"2024-01-02T03:04:05.000000001Z", 1704164645, 1},
        {"2024-01-02T03:04:05.1234567891234Z", 1704164645, 123456789}, /* beyond ns: dropped */
        {"2024-01-02t03:04:05z", 1704164645, 0},
        {"2024-01-02 03:04:05Z", 1704164645, 0},
        {"1970-01-01T00:00:00Z", 0, 0},
        {"1969-12-31T23:59:59Z", -1, 0},
        {"2000-02-29T23:59:59Z", 951868799, 0},
        {"2024-02-29T12:00:00Z", 1709208000, 0},
        {"1600-03-01T00:00:00Z", -11670912000LL, 0},
        {"2038-01-19T03:14:08Z", 2147483648LL, 0},
        {"9999-12-31T23:59:59Z", 253402300799LL, 0},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        struct lb_time t = {-7, -7};
        struct lb_error *err = NULL;
        if (lb_time_parse(&t, cases[i].in, &err) < 0)
            fail_msg("'%s' refused: %s", cases[i].in, err->msg);
        if (t.sec != cases[i].sec || t.nsec != cases[i].nsec)
            fail_msg("'%s': got %lld.%09d", cases[i].in, (long long)t.sec, (int)t.nsec);
    }
}

static void test_core__time_parse_rejects_invalid_timestamps(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2024-01-02",
        "2024-01-02T03:04:05", /* no zone */
        "2024-01-02T03:04Z",   /* no seconds */
        "2024-1-02T03:04:05Z", /* one-digit month */
        "2024/01/02T03:04:05Z",
        "2024-01-02X03:04:05Z",
        "2024-00-02T03:04:05Z",
        "2024-13-02T03:04:05Z",
        "2024-01-00T03:04:05Z",
        "2024-01-32T03:04:05Z",
        "2023-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z", /* century, not a leap year */
        "2024-02-30T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-01-02T24:00:00Z",
        "2024-01-02T03:60:00Z",
        "2024-01-02T03:04:61Z",
        "2024-01-02T03:04:05.Z",    /* empty fraction */
        "2024-01-02T03:04:05+0200", /* offset without colon */
        "2024-01-02T03:04:05+02",
        "2024-01-02T03:04:05+24:00", /* offset out of range */
        "2024-01-02T03:04:05+02:60",
        "2024-01-02T03:04:05Zjunk",
        "2024-01-02T03:04:05Z ",
        " 2024-01-02T03:04:05Z",
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++) {
        struct lb_time t;
        struct lb_error *err = NULL;
        if (lb_time_parse(&t, bad[i], &err) == 0)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        char *want = lb_xasprintf("invalid timestamp '%s'", bad[i]);
        assert_error_contains(err, want);
        free(want);
    }
}

static void test_core__time_format_trims_nanoseconds_like_rfc3339nano(void **state)
{
    (void)state;
    static const struct {
        int64_t sec;
        int32_t nsec;
        const char *want;
    } cases[] = {
        {0, 0, "1970-01-01T00:00:00Z"},
        {1704164645, 0, "2024-01-02T03:04:05Z"},
        {1704164645, 120000000, "2024-01-02T03:04:05.12Z"},
        {1704164645, 123400000, "2024-01-02T03:04:05.1234Z"},
        {1704164645, 123456789, "2024-01-02T03:04:05.123456789Z"},
        {1704164645, 1, "2024-01-02T03:04:05.000000001Z"},
        {1704164645, 100000000, "2024-01-02T03:04:05.1Z"},
        {-1, 500000000, "1969-12-31T23:59:59.5Z"},
        {951868799, 0, "2000-02-29T23:59:59Z"},
        {253402300799LL, 999999999, "9999-12-31T23:59:59.999999999Z"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char buf[40];
        struct lb_time t = {cases[i].sec, cases[i].nsec};
        assert_ptr_equal(lb_time_format(buf, sizeof(buf), t), buf);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_core__time_round_trips_through_utc(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"2024-01-02T03:04:05.120Z", "2024-01-02T03:04:05.12Z"},
        {"2024-01-02T05:04:05.5+02:00", "2024-01-02T03:04:05.5Z"},
        {"2024-01-01T22:04:05-05:00", "2024-01-02T03:04:05Z"},
        {"2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z"},
        {"1969-12-31T23:59:59.000000001Z", "1969-12-31T23:59:59.000000001Z"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        struct lb_time t;
        struct lb_error *err = NULL;
        assert_int_equal(lb_time_parse(&t, cases[i].in, &err), 0);
        char buf[40];
        assert_string_equal(lb_time_format(buf, sizeof(buf), t), cases[i].out);
        /* and the output parses back to the same instant */
        struct lb_time u;
        assert_int_equal(lb_time_parse(&u, buf, &err), 0);
        assert_true(u.sec == t.sec && u.nsec == t.nsec);
    }
}

static void test_core__time_now_is_recent_and_well_formed(void **state)
{
    (void)state;
    struct lb_time t = lb_time_now();
    assert_true(t.sec > 1704164645); /* after 2024-01-02 */
    assert_true(t.nsec >= 0 && t.nsec < 1000000000);
    time_t before = time(NULL);
    assert_true(t.sec <= before + 1 && t.sec >= before - 5);
}

LB_UNIT_MAIN(cmocka_unit_test(test_core__error_set_fills_code_kind_and_message),
             cmocka_unit_test(test_core__fs_rm_tree_refuses_bind_mounts),
             cmocka_unit_test(test_core__fs_read_file_reads_proc_files_to_the_end),
             cmocka_unit_test(test_core__error_first_error_wins),
             cmocka_unit_test(test_core__error_accepts_a_null_error_pointer),
             cmocka_unit_test(test_core__error_wrap_prefixes_context_and_keeps_code),
             cmocka_unit_test(test_core__error_string_appends_strerror_when_there_is_a_code),
             cmocka_unit_test(test_core__util_strings_and_prefixes),
             cmocka_unit_test(test_core__util_strv_push_len_contains_free),
             cmocka_unit_test(test_core__util_strbuf_grows_formats_resets_and_detaches),
             cmocka_unit_test(test_core__fs_mkdir_p_creates_every_component),
             cmocka_unit_test(test_core__fs_mkdir_p_refuses_to_go_through_a_file),
             cmocka_unit_test(test_core__fs_atomic_write_replaces_and_leaves_no_temp),
             cmocka_unit_test(test_core__path_clean_abs_is_gos_path_clean_from_the_root),
             cmocka_unit_test(test_core__fs_volatile_replace_replaces_and_leaves_no_temp),
             cmocka_unit_test(test_core__fs_atomic_write_failures_clean_up),
             cmocka_unit_test(test_core__fs_read_file_enforces_the_size_limit),
             cmocka_unit_test(test_core__fs_read_file_refuses_non_regular_files),
             cmocka_unit_test(test_core__fs_rm_tree_removes_nested_trees),
             cmocka_unit_test(test_core__fs_rm_tree_does_not_follow_symlinks_out),
             cmocka_unit_test(test_core__fs_rm_tree_of_a_missing_path_is_success),
             cmocka_unit_test(test_core__fs_small_helpers),
             cmocka_unit_test(test_core__fs_write_all_and_read_full_through_a_pipe),
             cmocka_unit_test(test_core__json_parse_reports_errors_with_the_document_name),
             cmocka_unit_test(test_core__json_parse_refuses_documents_over_the_limit),
             cmocka_unit_test(test_core__json_load_and_write_round_trip),
             cmocka_unit_test(test_core__json_getters_check_types),
             cmocka_unit_test(test_core__json_strv_round_trip),
             cmocka_unit_test(test_core__lock_try_fails_while_another_open_holds_it),
             cmocka_unit_test(test_core__explain_calls_the_sink_only_when_on),
             cmocka_unit_test(test_core__human_size_matches_go_units),
             cmocka_unit_test(test_core__human_duration_matches_go_units_at_each_boundary),
             cmocka_unit_test(test_core__time_parse_handles_zones_and_fractions),
             cmocka_unit_test(test_core__time_parse_rejects_invalid_timestamps),
             cmocka_unit_test(test_core__time_format_trims_nanoseconds_like_rfc3339nano),
             cmocka_unit_test(test_core__time_round_trips_through_utc),
             cmocka_unit_test(test_core__time_now_is_recent_and_well_formed))
