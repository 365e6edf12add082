/* test_cp.c — container/cp.h on a plain directory standing for a container's root: docker's
 * placement rules, ownership, symlinks kept, and container symlinks (to "/", to "../../..",
 * swapped parents) that must resolve inside the root, with openat2 and with the hand walk. */
#include "unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/cp.h"
#include "core/cleanup.h"

struct fx {
    char *dir;  /* scratch */
    char *root; /* dir/root: the "container" */
    char *host; /* dir/host: the host side */
    int rootfd;
};

static struct fx fx_new(void)
{
    struct fx f = {.dir = lb_unit_mkdtemp()};
    f.root = lb_xasprintf("%s/root", f.dir);
    f.host = lb_xasprintf("%s/host", f.dir);
    assert_int_equal(mkdir(f.root, 0755), 0);
    assert_int_equal(mkdir(f.host, 0755), 0);
    f.rootfd = open(f.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f.rootfd >= 0);
    return f;
}

static void fx_free(struct fx *f)
{
    close(f->rootfd);
    free(f->root);
    free(f->host);
    lb_unit_rmdir(f->dir); /* frees it */
}

/* Write dir/rel with text (parents must exist). */
static void put(const char *dir, const char *rel, const char *text)
{
    _cleanup_free_ char *p = lb_xasprintf("%s/%s", dir, rel);
    struct lb_error *e = NULL;
    assert_int_equal(lb_atomic_write_at(AT_FDCWD, p, text, strlen(text), 0644, &e), 0);
}

static void mkd(const char *dir, const char *rel)
{
    _cleanup_free_ char *p = lb_xasprintf("%s/%s", dir, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

/* Content of dir/rel, or NULL when it does not exist. Caller frees. */
static char *get(const char *dir, const char *rel)
{
    _cleanup_free_ char *p = lb_xasprintf("%s/%s", dir, rel);
    char *out = NULL;
    size_t len = 0;
    struct lb_error *e = NULL;
    if (lb_read_file_at(AT_FDCWD, p, 1 << 20, &out, &len, &e) < 0) {
        lb_error_free(e);
        return NULL;
    }
    return out;
}

static void assert_content(const char *dir, const char *rel, const char *want)
{
    _cleanup_free_ char *got = get(dir, rel);
    if (got == NULL)
        fail_msg("'%s/%s' is missing", dir, rel);
    assert_string_equal(got, want);
}

static bool exists(const char *dir, const char *rel)
{
    _cleanup_free_ char *p = lb_xasprintf("%s/%s", dir, rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

static const struct lb_cp_opts plain = {.container = "c"};

static void test_cp__copies_a_file_in_to_a_new_name_and_into_an_existing_directory(void **state)
{
    (void)state;
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    put(f.host, "a.txt", "alpha");
    mkd(f.root, "etc");
    _cleanup_free_ char *src = lb_xasprintf("%s/a.txt", f.host);
    assert_int_equal(lb_cp_in(f.rootfd, src, "/etc/renamed", &plain, &e), 0);
    assert_content(f.root, "etc/renamed", "alpha");
    assert_int_equal(lb_cp_in(f.rootfd, src, "etc", &plain, &e), 0); /* no leading '/' */
    assert_content(f.root, "etc/a.txt", "alpha");
    put(f.host, "a.txt", "beta"); /* an existing file is overwritten */
    assert_int_equal(lb_cp_in(f.rootfd, src, "/etc/renamed", &plain, &e), 0);
    assert_content(f.root, "etc/renamed", "beta");
    fx_free(&f);
}

static void test_cp__copies_a_directory_in_nested_or_its_contents_with_slash_dot(void **state)
{
    (void)state;
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    mkd(f.host, "d");
    mkd(f.host, "d/sub");
    put(f.host, "d/sub/x", "x1");
    mkd(f.root, "dst");
    _cleanup_free_ char *src = lb_xasprintf("%s/d", f.host);
    _cleanup_free_ char *dot = lb_xasprintf("%s/d/.", f.host);
    assert_int_equal(lb_cp_in(f.rootfd, src, "/dst", &plain, &e), 0);
    assert_content(f.root, "dst/d/sub/x", "x1");
    assert_int_equal(lb_cp_in(f.rootfd, dot, "/dst/", &plain, &e), 0);
    assert_content(f.root, "dst/sub/x", "x1");
    /* a missing DEST is made and gets the contents */
    assert_int_equal(lb_cp_in(f.rootfd, src, "/new", &plain, &e), 0);
    assert_content(f.root, "new/sub/x", "x1");
    assert_false(exists(f.root, "new/d"));
    fx_free(&f);
}

static void
test_cp__files_copied_in_are_root_owned_unless_archive_keeps_the_source_ids(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    put(f.host, "o", "own");
    _cleanup_free_ char *src = lb_xasprintf("%s/o", f.host);
    assert_int_equal(chown(src, 1234, 5678), 0);
    assert_int_equal(chmod(src, 0640), 0);
    assert_int_equal(lb_cp_in(f.rootfd, src, "/plain", &plain, &e), 0);
    struct lb_cp_opts a = {.archive = true, .container = "c"};
    assert_int_equal(lb_cp_in(f.rootfd, src, "/kept", &a, &e), 0);
    struct stat st;
    assert_int_equal(fstatat(f.rootfd, "plain", &st, 0), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_gid, 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(fstatat(f.rootfd, "kept", &st, 0), 0);
    assert_int_equal(st.st_uid, 1234);
    assert_int_equal(st.st_gid, 5678);
    fx_free(&f);
}

static void test_cp__copies_out_keeping_symlinks_as_symlinks_and_modes(void **state)
{
    (void)state;
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    mkd(f.root, "app");
    put(f.root, "app/run.sh", "#!/bin/sh\n");
    assert_int_equal(fchmodat(f.rootfd, "app/run.sh", 0751, 0), 0);
    assert_int_equal(symlinkat("/etc/passwd", f.rootfd, "app/pw"), 0);
    assert_int_equal(lb_cp_out(f.rootfd, "/app", f.host, &plain, &e), 0);
    assert_content(f.host, "app/run.sh", "#!/bin/sh\n");
    _cleanup_free_ char *pw = lb_xasprintf("%s/app/pw", f.host);
    char buf[64] = {0};
    assert_int_equal(readlink(pw, buf, sizeof(buf) - 1), 11);
    assert_string_equal(buf, "/etc/passwd");
    _cleanup_free_ char *sh = lb_xasprintf("%s/app/run.sh", f.host);
    struct stat st;
    assert_int_equal(stat(sh, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0751);
    /* -L copies what a symlink SRC names, under the link's name */
    assert_int_equal(symlinkat("app/run.sh", f.rootfd, "ln"), 0);
    struct lb_cp_opts l = {.follow_link = true, .container = "c"};
    _cleanup_free_ char *dst = lb_xasprintf("%s/", f.host);
    assert_int_equal(lb_cp_out(f.rootfd, "/ln", dst, &l, &e), 0);
    assert_content(f.host, "ln", "#!/bin/sh\n");
    fx_free(&f);
}

static void test_cp__copy_out_drops_setuid_of_a_file_the_caller_does_not_own(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    put(f.root, "suid", "x");
    assert_int_equal(fchownat(f.rootfd, "suid", 1000, 1000, 0), 0);
    assert_int_equal(fchmodat(f.rootfd, "suid", 06755, 0), 0);
    _cleanup_free_ char *dst = lb_xasprintf("%s/suid", f.host);
    assert_int_equal(lb_cp_out(f.rootfd, "suid", dst, &plain, &e), 0);
    struct stat st;
    assert_int_equal(stat(dst, &st), 0);
    assert_int_equal(st.st_uid, 0); /* the caller's, as docker's client untars */
    assert_int_equal(st.st_mode & 07777, 0755);
    fx_free(&f);
}

/* The heart of it: symlinks the container planted resolve inside the root. */
static void symlinks_stay_inside(bool walk)
{
    if (walk)
        setenv("LB_SAFEPATH_NO_OPENAT2", "1", 1);
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    _cleanup_free_ char *canary = lb_xasprintf("lb-cp-canary-%d", (int)getpid());
    _cleanup_free_ char *hostfile = lb_xasprintf("/tmp/%s", canary);
    unlink(hostfile);
    assert_int_equal(symlinkat("/", f.rootfd, "toroot"), 0);
    assert_int_equal(symlinkat("../../../../../..", f.rootfd, "up"), 0);
    mkd(f.root, "tmp");
    put(f.host, "c", "from-host");
    _cleanup_free_ char *src = lb_xasprintf("%s/c", f.host);
    _cleanup_free_ char *d1 = lb_xasprintf("/toroot/tmp/%s", canary);
    _cleanup_free_ char *d2 = lb_xasprintf("up/up/tmp/%s.2", canary);
    assert_int_equal(lb_cp_in(f.rootfd, src, d1, &plain, &e), 0);
    assert_int_equal(lb_cp_in(f.rootfd, src, d2, &plain, &e), 0);
    _cleanup_free_ char *in1 = lb_xasprintf("tmp/%s", canary);
    _cleanup_free_ char *in2 = lb_xasprintf("tmp/%s.2", canary);
    assert_content(f.root, in1, "from-host");
    assert_content(f.root, in2, "from-host");
    assert_false(exists("/tmp", canary));
    /* copying out through the same links reads the root's files, never the host's */
    put("/tmp", canary, "HOST SECRET");
    put(f.root, in1, "inside");
    _cleanup_free_ char *out = lb_xasprintf("%s/out", f.host);
    assert_int_equal(lb_cp_out(f.rootfd, d1, out, &plain, &e), 0);
    assert_content(f.host, "out", "inside");
    _cleanup_free_ char *etc = lb_xasprintf("/up/etc/%s", canary);
    assert_int_equal(lb_cp_out(f.rootfd, etc, out, &plain, &e), -1);
    assert_error_contains(e, "could not find the file");
    /* a DEST that is itself a link to "/" is the root's "/" */
    assert_int_equal(lb_cp_in(f.rootfd, src, "/toroot", &plain, &e), 0);
    assert_content(f.root, "c", "from-host");
    /* a final symlink DEST is followed, inside the root: the host file is untouched */
    assert_int_equal(symlinkat(hostfile, f.rootfd, "tmp/trap"), 0);
    put(f.host, "c", "through-trap");
    assert_int_equal(lb_cp_in(f.rootfd, src, "/tmp/trap", &plain, &e), 0);
    assert_content("/tmp", canary, "HOST SECRET");
    assert_content(f.root, in1, "through-trap");
    unlink(hostfile);
    fx_free(&f);
    unsetenv("LB_SAFEPATH_NO_OPENAT2");
}

static void test_cp__symlinks_to_slash_and_dotdot_resolve_inside_the_root(void **state)
{
    (void)state;
    symlinks_stay_inside(false);
}

static void test_cp__symlinks_resolve_inside_the_root_with_the_hand_walk(void **state)
{
    (void)state;
    symlinks_stay_inside(true);
}

static void test_cp__reports_missing_source_missing_parent_and_type_conflicts(void **state)
{
    (void)state;
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    put(f.host, "f", "file");
    mkd(f.host, "d");
    _cleanup_free_ char *hf = lb_xasprintf("%s/f", f.host);
    _cleanup_free_ char *hd = lb_xasprintf("%s/d", f.host);
    _cleanup_free_ char *nowhere = lb_xasprintf("%s/no/such/x", f.host);
    assert_int_equal(lb_cp_out(f.rootfd, "/nope", f.host, &plain, &e), -1);
    assert_error_contains(e, "could not find the file '/nope' in container 'c'");
    assert_int_equal(lb_cp_in(f.rootfd, hf, "/missing/x", &plain, &e), -1);
    assert_error_contains(e, "'/missing' in container 'c': no such directory");
    assert_false(exists(f.root, "missing"));
    assert_int_equal(lb_cp_in(f.rootfd, hf, "/newdir/", &plain, &e), -1);
    assert_error_contains(e, "no such directory");
    assert_false(exists(f.root, "newdir"));
    put(f.root, "file", "old");
    assert_int_equal(lb_cp_in(f.rootfd, hd, "/file", &plain, &e), -1);
    assert_error_contains(e, "cannot copy a directory onto the file");
    assert_content(f.root, "file", "old");
    mkd(f.root, "dst");
    mkd(f.root, "dst/f"); /* a file named like a directory that is there */
    assert_int_equal(lb_cp_in(f.rootfd, hf, "/dst", &plain, &e), -1);
    assert_error_contains(e, "cannot overwrite directory '/dst/f' with a non-directory");
    assert_int_equal(lb_cp_in(f.rootfd, hf, "/file/", &plain, &e), -1);
    assert_error_contains(e, "destination '/file/'");
    assert_content(f.root, "file", "old");
    assert_int_equal(lb_cp_out(f.rootfd, "/file/", f.host, &plain, &e), -1);
    assert_error_contains(e, "'/file/' in container 'c'");
    assert_int_equal(lb_cp_out(f.rootfd, "/file", nowhere, &plain, &e), -1);
    assert_error_contains(e, "no/such");
    _cleanup_free_ char *gone = lb_xasprintf("%s/gone", f.host);
    assert_int_equal(lb_cp_in(f.rootfd, gone, "/", &plain, &e), -1);
    assert_error_contains(e, "cannot find");
    fx_free(&f);
}

/* Entry names of a tar file, "\n"-joined, read with libarchive (not our writer). */
static char *tar_names(const char *path)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
    struct lb_strbuf sb = LB_STRBUF_INIT;
    struct archive_entry *ent;
    while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
        lb_strbuf_adds(&sb, archive_entry_pathname(ent));
        lb_strbuf_addc(&sb, '\n');
    }
    archive_read_free(a);
    return lb_strbuf_detach(&sb);
}

static void test_cp__tar_streams_out_and_in_round_trip(void **state)
{
    (void)state;
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    mkd(f.root, "srv");
    put(f.root, "srv/a", "A");
    assert_int_equal(symlinkat("a", f.rootfd, "srv/l"), 0);
    _cleanup_free_ char *tarp = lb_xasprintf("%s/out.tar", f.host);
    int fd = open(tarp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(lb_cp_out_tar(f.rootfd, "/srv", fd, &plain, &e), 0);
    close(fd);
    _cleanup_free_ char *names = tar_names(tarp);
    assert_non_null(strstr(names, "srv/\n"));
    assert_non_null(strstr(names, "srv/a\n"));
    assert_non_null(strstr(names, "srv/l\n"));
    fd = open(tarp, O_RDONLY);
    mkd(f.root, "copy");
    assert_int_equal(lb_cp_in_tar(f.rootfd, fd, "/copy", &plain, &e), 0);
    close(fd);
    assert_content(f.root, "copy/srv/a", "A");
    char buf[8] = {0};
    assert_int_equal(readlinkat(f.rootfd, "copy/srv/l", buf, sizeof(buf) - 1), 1);
    /* "/." names the entries from "." */
    fd = open(tarp, O_WRONLY | O_TRUNC);
    assert_int_equal(lb_cp_out_tar(f.rootfd, "/srv/.", fd, &plain, &e), 0);
    close(fd);
    _cleanup_free_ char *dotnames = tar_names(tarp);
    assert_non_null(strstr(dotnames, "./a\n"));
    /* a tar into a file or a missing directory is refused */
    fd = open(tarp, O_RDONLY);
    assert_int_equal(lb_cp_in_tar(f.rootfd, fd, "/srv/a", &plain, &e), -1);
    assert_error_contains(e, "destination 'c:/srv/a' must be a directory");
    assert_int_equal(lb_cp_in_tar(f.rootfd, fd, "/none/x", &plain, &e), -1);
    assert_error_contains(e, "no such directory");
    close(fd);
    fx_free(&f);
}

static void test_cp__tar_in_refuses_entries_that_leave_the_destination(void **state)
{
    (void)state;
    struct fx f = fx_new();
    struct lb_error *e = NULL;
    /* a tar whose first entry plants a symlink to "/" and whose second writes through it */
    _cleanup_free_ char *tarp = lb_xasprintf("%s/evil.tar", f.dir);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_filename(a, tarp), ARCHIVE_OK);
    struct archive_entry *ent = archive_entry_new();
    archive_entry_set_pathname(ent, "esc");
    archive_entry_set_filetype(ent, AE_IFLNK);
    archive_entry_set_symlink(ent, "/");
    archive_entry_set_perm(ent, 0777);
    archive_write_header(a, ent);
    archive_entry_clear(ent);
    archive_entry_set_pathname(ent, "esc/tmp/lb-cp-evil");
    archive_entry_set_filetype(ent, AE_IFREG);
    archive_entry_set_perm(ent, 0644);
    archive_entry_set_size(ent, 1);
    archive_write_header(a, ent);
    archive_write_data(a, "x", 1);
    archive_entry_free(ent);
    archive_write_free(a);
    int fd = open(tarp, O_RDONLY);
    assert_int_equal(lb_cp_in_tar(f.rootfd, fd, "/", &plain, &e), -1);
    assert_error_contains(e, "symlink");
    close(fd);
    assert_false(exists("/tmp", "lb-cp-evil"));
    fx_free(&f);
}

static void test_cp__splits_container_arguments_as_docker(void **state)
{
    (void)state;
    char *c = NULL;
    const char *p = NULL;
    lb_cp_split_arg("web:/etc/hosts", &c, &p);
    assert_string_equal(c, "web");
    assert_string_equal(p, "/etc/hosts");
    free(c);
    lb_cp_split_arg("/abs/a:b", &c, &p);
    assert_null(c);
    lb_cp_split_arg("./rel:b", &c, &p);
    assert_null(c);
    lb_cp_split_arg("plain", &c, &p);
    assert_null(c);
    assert_string_equal(p, "plain");
}

LB_UNIT_MAIN(
    cmocka_unit_test(test_cp__copies_a_file_in_to_a_new_name_and_into_an_existing_directory),
    cmocka_unit_test(test_cp__copies_a_directory_in_nested_or_its_contents_with_slash_dot),
    cmocka_unit_test(test_cp__files_copied_in_are_root_owned_unless_archive_keeps_the_source_ids),
    cmocka_unit_test(test_cp__copies_out_keeping_symlinks_as_symlinks_and_modes),
    cmocka_unit_test(test_cp__copy_out_drops_setuid_of_a_file_the_caller_does_not_own),
    cmocka_unit_test(test_cp__symlinks_to_slash_and_dotdot_resolve_inside_the_root),
    cmocka_unit_test(test_cp__symlinks_resolve_inside_the_root_with_the_hand_walk),
    cmocka_unit_test(test_cp__reports_missing_source_missing_parent_and_type_conflicts),
    cmocka_unit_test(test_cp__tar_streams_out_and_in_round_trip),
    cmocka_unit_test(test_cp__tar_in_refuses_entries_that_leave_the_destination),
    cmocka_unit_test(test_cp__splits_container_arguments_as_docker))
