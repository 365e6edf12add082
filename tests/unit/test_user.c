/* test_user.c — "user[:group]" resolved against an image's own /etc/passwd and /etc/group.
 *
 * Every rootfs here is a temp directory whose files are written by the test itself, so every
 * expected uid, gid and group list can be read off the text above the assertion. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/user.h"

static const char PASSWD[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "bob:x:1000:1000:Bob:/home/bob:/bin/sh\n"
                             "nohome:x:1001:1001:No Home::/bin/sh\n";
static const char GROUP[] = "root:x:0:\n"
                            "wheel:x:10:root,bob\n"
                            "bob:x:1000:\n"
                            "staff:x:50:bob\n"
                            "audio:x:29:alice\n"
                            "users:x:100:daemon,bob,carol\n";

struct root {
    char *dir;
    int fd;
};

static struct root root_make(const char *passwd, const char *group)
{
    struct root r = {lb_unit_mkdtemp(), -1};
    if (passwd)
        lb_unit_write(r.dir, "etc/passwd", passwd, strlen(passwd));
    if (group)
        lb_unit_write(r.dir, "etc/group", group, strlen(group));
    r.fd = open(r.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(r.fd >= 0);
    return r;
}

static void root_free(struct root *r)
{
    close(r->fd);
    lb_unit_rmdir(r->dir);
}

static struct lb_user resolve_ok(struct root *r, const char *spec)
{
    struct lb_user u;
    struct lb_error *err = NULL;
    if (lb_user_resolve(&u, r->fd, spec, &err) < 0)
        fail_msg("resolve('%s') failed: %s", spec ? spec : "(null)", err->msg);
    return u;
}

static void assert_groups(const struct lb_user *u, const gid_t *want, size_t n)
{
    if (u->n_groups != n)
        fail_msg("%zu groups, expected %zu", u->n_groups, n);
    for (size_t i = 0; i < n; i++)
        if (u->groups[i] != want[i])
            fail_msg("groups[%zu] = %u, expected %u", i, (unsigned)u->groups[i], (unsigned)want[i]);
}

static void expect_error(struct root *r, const char *spec, const char *needle)
{
    struct lb_user u;
    struct lb_error *err = NULL;
    assert_int_equal(lb_user_resolve(&u, r->fd, spec, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_null(u.name);
    assert_null(u.home);
    assert_null(u.groups);
    assert_error_contains(err, needle);
}

static void test_user__name_gives_entry_and_every_group_listing_it(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    struct lb_user u = resolve_ok(&r, "bob");
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 1000);
    assert_string_equal(u.name, "bob");
    assert_string_equal(u.home, "/home/bob");
    /* primary first (docker), then wheel, staff, users in file order; not audio (alice) */
    assert_groups(&u, (const gid_t[]){1000, 10, 50, 100}, 4);
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__no_spec_is_root_with_its_groups(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    struct lb_user u = resolve_ok(&r, NULL);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 0);
    assert_string_equal(u.name, "root");
    assert_string_equal(u.home, "/root");
    assert_groups(&u, (const gid_t[]){0, 10}, 2);
    lb_user_release(&u);
    u = resolve_ok(&r, "");
    assert_string_equal(u.name, "root");
    assert_groups(&u, (const gid_t[]){0, 10}, 2);
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__number_with_entry_is_that_entry(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    struct lb_user u = resolve_ok(&r, "1");
    assert_int_equal(u.uid, 1);
    assert_int_equal(u.gid, 1);
    assert_string_equal(u.name, "daemon");
    assert_string_equal(u.home, "/usr/sbin");
    assert_groups(&u, (const gid_t[]){1, 100}, 2);
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__number_without_entry_gets_gid_0_and_home_slash(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    struct lb_user u = resolve_ok(&r, "4242");
    assert_int_equal(u.uid, 4242);
    assert_int_equal(u.gid, 0);
    assert_null(u.name);
    assert_string_equal(u.home, "/");
    assert_groups(&u, (const gid_t[]){0}, 1);
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__number_is_a_uid_never_a_name(void **state)
{
    (void)state;
    /* a user literally named "1000" (uid 5) must not be picked for "1000" */
    struct root r =
        root_make("1000:x:5:5::/five:/bin/sh\nalice:x:1000:7::/home/alice:/bin/sh\n", "g7:x:7:\n");
    struct lb_user u = resolve_ok(&r, "1000");
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 7);
    assert_string_equal(u.name, "alice");
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__unknown_name_is_dockers_error(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    expect_error(&r, "carol", "unable to find user carol: no matching entries in passwd file");
    expect_error(&r, "carol:staff",
                 "unable to find user carol: no matching entries in passwd file");
    root_free(&r);
}

static void test_user__explicit_group_replaces_gid_and_supplementary_groups(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    struct lb_user u = resolve_ok(&r, "bob:audio");
    assert_int_equal(u.uid, 1000);
    assert_int_equal(u.gid, 29);
    assert_string_equal(u.home, "/home/bob");
    assert_groups(&u, (const gid_t[]){29}, 1);
    lb_user_release(&u);

    u = resolve_ok(&r, "bob:50");
    assert_int_equal(u.gid, 50);
    assert_groups(&u, (const gid_t[]){50}, 1);
    lb_user_release(&u);

    u = resolve_ok(&r, "4242:4343"); /* neither in the files: numbers are fine */
    assert_int_equal(u.uid, 4242);
    assert_int_equal(u.gid, 4343);
    assert_groups(&u, (const gid_t[]){4343}, 1);
    lb_user_release(&u);

    u = resolve_ok(&r, ":staff"); /* no user part: uid 0 */
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 50);
    assert_string_equal(u.name, "root");
    lb_user_release(&u);

    u = resolve_ok(&r, "bob:"); /* empty group part: as if none were given */
    assert_groups(&u, (const gid_t[]){1000, 10, 50, 100}, 4);
    lb_user_release(&u);

    u = resolve_ok(&r, "bob:staff:ignored"); /* runc reads two fields */
    assert_int_equal(u.gid, 50);
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__unknown_group_name_is_an_error(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    expect_error(&r, "bob:nogroup",
                 "unable to find group nogroup: no matching entries in group file");
    root_free(&r);
}

static void test_user__ids_out_of_range_are_errors(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    expect_error(&r, "-1", "uids and gids must be in range 0-2147483647");
    expect_error(&r, "2147483648", "uids and gids must be in range 0-2147483647");
    expect_error(&r, "99999999999999999999999", "uids and gids must be in range");
    expect_error(&r, "bob:-5", "uids and gids must be in range");
    struct lb_user u = resolve_ok(&r, "2147483647");
    assert_int_equal(u.uid, 2147483647);
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__missing_files_allow_numbers_only(void **state)
{
    (void)state;
    struct root r = root_make(NULL, NULL); /* no /etc at all, like a scratch image */
    struct lb_user u = resolve_ok(&r, NULL);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 0);
    assert_null(u.name);
    assert_string_equal(u.home, "/");
    assert_groups(&u, (const gid_t[]){0}, 1);
    lb_user_release(&u);
    u = resolve_ok(&r, "123:456");
    assert_int_equal(u.uid, 123);
    assert_int_equal(u.gid, 456);
    lb_user_release(&u);
    expect_error(&r, "bob", "unable to find user bob: no matching entries in passwd file");
    expect_error(&r, "0:staff", "unable to find group staff: no matching entries in group file");
    root_free(&r);

    r = root_make(PASSWD, NULL); /* /etc exists, /etc/group does not */
    u = resolve_ok(&r, "bob");
    assert_groups(&u, (const gid_t[]){1000}, 1);
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__odd_lines_are_skipped_not_misread(void **state)
{
    (void)state;
    /* comments, blanks, CRLF, NIS entries; a non-numeric uid must not become uid 0 (runc would
     * read "evil:x:abc:..." as uid 0); short lines are ignored; the first match wins */
    static const char passwd[] = "# comment\n"
                                 "#old:x:60:60::/old:/bin/sh\n"
                                 "\n"
                                 "   \n"
                                 "+nis::0:0:::\n"
                                 "evil:x:abc:0::/root:/bin/sh\n"
                                 "short:x:7\n"
                                 "crlf:x:30:31:CR LF:/home/crlf:/bin/sh\r\n"
                                 "dup:x:40:40::/first:/bin/sh\n"
                                 "dup:x:41:41::/second:/bin/sh\n"
                                 "nohome:x:50:50";
    static const char group[] = "# c\n"
                                "bad:x:zz:crlf\n"
                                "g32:x:32:crlf\r\n"
                                "g33:x:33:other,crlf\n"
                                "nomembers:x:34\n";
    struct root r = root_make(passwd, group);
    expect_error(&r, "evil", "unable to find user evil");
    expect_error(&r, "short", "unable to find user short");
    expect_error(&r, "+nis", "unable to find user +nis");
    expect_error(&r, "#old", "unable to find user #old"); /* commented out */
    struct lb_user u = resolve_ok(&r, "crlf");
    assert_int_equal(u.uid, 30);
    assert_int_equal(u.gid, 31);
    assert_string_equal(u.home, "/home/crlf");
    assert_groups(&u, (const gid_t[]){31, 32, 33}, 3);
    lb_user_release(&u);
    u = resolve_ok(&r, "dup");
    assert_int_equal(u.uid, 40);
    assert_string_equal(u.home, "/first");
    lb_user_release(&u);
    u = resolve_ok(&r, "nohome"); /* no home field (and no newline at the end) */
    assert_int_equal(u.uid, 50);
    assert_string_equal(u.home, "/");
    lb_user_release(&u);
    root_free(&r);

    r = root_make(PASSWD, GROUP);
    u = resolve_ok(&r, "nohome"); /* empty home field */
    assert_string_equal(u.home, "/");
    lb_user_release(&u);
    root_free(&r);
}

static void test_user__symlinked_files_are_never_followed(void **state)
{
    (void)state;
    for (int fallback = 0; fallback < 2; fallback++) {
        if (fallback)
            setenv("LB_SAFEPATH_NO_OPENAT2", "1", 1);
        else
            unsetenv("LB_SAFEPATH_NO_OPENAT2");
        /* a "host" passwd outside the root, where a symlink in the image points */
        char *host = lb_unit_mkdtemp();
        lb_unit_write(host, "passwd", "bob:x:0:0::/root:/bin/sh\n", 25);
        char *target = lb_path_join(host, "passwd");

        struct root r = root_make(NULL, NULL);
        char *etc = lb_path_join(r.dir, "etc");
        assert_int_equal(mkdir(etc, 0755), 0);
        char *link = lb_path_join(etc, "passwd");
        assert_int_equal(symlink(target, link), 0);
        expect_error(&r, "bob", "'etc/passwd' is a symlink");
        expect_error(&r, NULL, "cannot read '/etc/passwd' of the image");
        free(link);
        free(etc);
        root_free(&r);

        /* /etc itself a symlink to the host directory */
        r = root_make(NULL, NULL);
        etc = lb_path_join(r.dir, "etc");
        assert_int_equal(symlink(host, etc), 0);
        expect_error(&r, "bob", "parent 'etc' is a symlink");
        free(etc);
        root_free(&r);

        /* the group file too */
        r = root_make(PASSWD, NULL);
        char *glink = lb_path_join(r.dir, "etc/group");
        assert_int_equal(symlink(target, glink), 0);
        expect_error(&r, "bob", "cannot read '/etc/group' of the image");
        expect_error(&r, "0:staff", "'etc/group' is a symlink");
        /* a numeric uid without an entry never needs /etc/group */
        struct lb_user u = resolve_ok(&r, "4242");
        assert_int_equal(u.gid, 0);
        lb_user_release(&u);
        free(glink);
        root_free(&r);

        free(target);
        lb_unit_rmdir(host);
    }
    unsetenv("LB_SAFEPATH_NO_OPENAT2");
}

static void test_user__fifo_or_directory_passwd_is_refused_without_hanging(void **state)
{
    (void)state;
    struct root r = root_make(NULL, NULL);
    char *etc = lb_path_join(r.dir, "etc");
    assert_int_equal(mkdir(etc, 0755), 0);
    char *fifo = lb_path_join(etc, "passwd");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    expect_error(&r, "bob", "cannot read '/etc/passwd' of the image: not a regular file");
    assert_int_equal(unlink(fifo), 0);
    assert_int_equal(mkdir(fifo, 0755), 0);
    expect_error(&r, "bob", "not a regular file");
    free(fifo);
    free(etc);
    root_free(&r);
}

static void test_user__release_is_safe_twice(void **state)
{
    (void)state;
    struct root r = root_make(PASSWD, GROUP);
    struct lb_user u = resolve_ok(&r, "bob");
    lb_user_release(&u);
    lb_user_release(&u);
    assert_null(u.groups);
    assert_int_equal(u.n_groups, 0);
    root_free(&r);
}

LB_UNIT_MAIN(cmocka_unit_test(test_user__name_gives_entry_and_every_group_listing_it),
             cmocka_unit_test(test_user__no_spec_is_root_with_its_groups),
             cmocka_unit_test(test_user__number_with_entry_is_that_entry),
             cmocka_unit_test(test_user__number_without_entry_gets_gid_0_and_home_slash),
             cmocka_unit_test(test_user__number_is_a_uid_never_a_name),
             cmocka_unit_test(test_user__unknown_name_is_dockers_error),
             cmocka_unit_test(test_user__explicit_group_replaces_gid_and_supplementary_groups),
             cmocka_unit_test(test_user__unknown_group_name_is_an_error),
             cmocka_unit_test(test_user__ids_out_of_range_are_errors),
             cmocka_unit_test(test_user__missing_files_allow_numbers_only),
             cmocka_unit_test(test_user__odd_lines_are_skipped_not_misread),
             cmocka_unit_test(test_user__symlinked_files_are_never_followed),
             cmocka_unit_test(test_user__fifo_or_directory_passwd_is_refused_without_hanging),
             cmocka_unit_test(test_user__release_is_safe_twice))
