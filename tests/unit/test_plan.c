/* test_plan.c — the run plan: image config + options → argv, env, user, caps, mounts, limits.
 *
 * No root needed: each test makes a rootfs directory holding only what it needs (passwd and
 * group files written here), builds a plan and reads it. Expected values come from docker's
 * documented behaviour and from the kernel's own capability numbers, never from a plan. */
#include "unit.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <math.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/plan.h"

#define ID       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHORT_ID "0123456789ab"
#define DEFPATH  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char PASSWD[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "bob:x:1000:1000:Bob:/home/bob:/bin/sh\n";
static const char GROUP[] = "root:x:0:\n"
                            "wheel:x:10:root,bob\n"
                            "staff:x:50:bob\n";

struct root {
    char *dir;
    int fd;
};

static struct root root_make(bool with_etc)
{
    struct root r = {lb_unit_mkdtemp(), -1};
    if (with_etc) {
        lb_unit_write(r.dir, "etc/passwd", PASSWD, strlen(PASSWD));
        lb_unit_write(r.dir, "etc/group", GROUP, strlen(GROUP));
    }
    r.fd = open(r.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(r.fd >= 0);
    return r;
}

static void root_free(struct root *r)
{
    close(r->fd);
    lb_unit_rmdir(r->dir);
}

static json_t *config_of(const char *text)
{
    if (text == NULL)
        return NULL;
    json_error_t jerr;
    json_t *c = json_loads(text, 0, &jerr);
    if (c == NULL)
        fail_msg("bad test JSON '%s': %s", text, jerr.text);
    return c;
}

static void plan_ok(struct lb_run_plan *plan, struct root *r, const char *config,
                    const struct lb_run_opts *o)
{
    json_t *c = config_of(config);
    struct lb_error *err = NULL;
    if (lb_plan_build(plan, c, o, r->fd, "/var/lib/layerbox/containers/x/rootfs", ID, &err) < 0)
        fail_msg("plan failed: %s", err->msg);
    json_decref(c);
}

static void assert_plan_empty(const struct lb_run_plan *p)
{
    static const struct lb_run_plan zero;
    assert_memory_equal(p, &zero, sizeof(zero));
}

/* Fails with `needle` in the message and the given kind, leaving the plan empty. */
static void plan_fails(struct root *r, const char *config, const struct lb_run_opts *o, int kind,
                       const char *needle)
{
    json_t *c = config_of(config);
    struct lb_run_plan plan;
    struct lb_error *err = NULL;
    assert_int_equal(
        lb_plan_build(&plan, c, o, r->fd, "/var/lib/layerbox/containers/x/rootfs", ID, &err), -1);
    json_decref(c);
    assert_non_null(err);
    if (err->kind != kind)
        fail_msg("error '%s' has kind %d, expected %d", err->msg, err->kind, kind);
    assert_plan_empty(&plan);
    assert_error_contains(err, needle);
}

static void assert_strv(char *const *got, const char *const *want)
{
    size_t i = 0;
    for (; want[i]; i++) {
        if (got[i] == NULL)
            fail_msg("entry %zu missing, expected '%s'", i, want[i]);
        if (strcmp(got[i], want[i]) != 0)
            fail_msg("entry %zu is '%s', expected '%s'", i, got[i], want[i]);
    }
    if (got[i] != NULL)
        fail_msg("unexpected extra entry %zu '%s'", i, got[i]);
}

#define STRV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- argv ------------------------------------------------------------------------------ */

static void expect_argv(const char *config, const struct lb_run_opts *o, const char *const *want)
{
    struct root r = root_make(true);
    struct lb_run_plan p;
    plan_ok(&p, &r, config, o);
    assert_strv(p.argv, want);
    lb_plan_release(&p);
    root_free(&r);
}

static void test_plan__argv_is_entrypoint_then_cmd(void **state)
{
    (void)state;
    struct lb_run_opts o = {0};
    expect_argv("{\"Cmd\":[\"sh\",\"-c\",\"echo hi\"]}", &o, STRV("sh", "-c", "echo hi"));
    expect_argv("{\"Entrypoint\":[\"/init\",\"-v\"],\"Cmd\":[\"serve\"]}", &o,
                STRV("/init", "-v", "serve"));
    expect_argv("{\"Entrypoint\":[\"/init\"],\"Cmd\":null}", &o, STRV("/init"));
    /* an image entrypoint of [""] is none (docker resets it) */
    expect_argv("{\"Entrypoint\":[\"\"],\"Cmd\":[\"ls\"]}", &o, STRV("ls"));
}

static void test_plan__args_after_image_replace_cmd_only(void **state)
{
    (void)state;
    char *cmd[] = {"echo", "x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    expect_argv("{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"serve\"]}", &o, STRV("/init", "echo", "x"));
    expect_argv("{\"Cmd\":[\"serve\"]}", &o, STRV("echo", "x"));
    expect_argv(NULL, &o, STRV("echo", "x"));
    /* an empty vector is "no arguments": the image's Cmd stays */
    char *none[] = {NULL};
    struct lb_run_opts e = {.cmd = none};
    expect_argv("{\"Cmd\":[\"serve\"]}", &e, STRV("serve"));
}

static void test_plan__entrypoint_option_replaces_and_drops_image_cmd(void **state)
{
    (void)state;
    struct lb_run_opts o = {.entrypoint = "/bin/other"};
    expect_argv("{\"Entrypoint\":[\"/init\",\"-v\"],\"Cmd\":[\"serve\"]}", &o, STRV("/bin/other"));
    char *cmd[] = {"a", "b", NULL};
    o.cmd = cmd;
    expect_argv("{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"serve\"]}", &o,
                STRV("/bin/other", "a", "b"));
    /* one string, one argument: docker does not split --entrypoint */
    struct lb_run_opts sp = {.entrypoint = "sh -c"};
    expect_argv("{\"Cmd\":[\"serve\"]}", &sp, STRV("sh -c"));
}

static void test_plan__empty_entrypoint_clears_it(void **state)
{
    (void)state;
    char *cmd[] = {"ls", "/", NULL};
    struct lb_run_opts o = {.entrypoint = "", .cmd = cmd};
    expect_argv("{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"serve\"]}", &o, STRV("ls", "/"));
    /* and, as in docker, it drops the image's Cmd too: nothing is left */
    struct lb_run_opts bare = {.entrypoint = ""};
    struct root r = root_make(true);
    plan_fails(&r, "{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"serve\"]}", &bare, LB_EKIND_USAGE,
               "no command specified");
    root_free(&r);
}

static void test_plan__no_command_is_an_error(void **state)
{
    (void)state;
    struct root r = root_make(true);
    struct lb_run_opts o = {0};
    plan_fails(&r, "{}", &o, LB_EKIND_USAGE, "no command specified");
    plan_fails(&r, NULL, &o, LB_EKIND_USAGE, "no command specified");
    plan_fails(&r, NULL, NULL, LB_EKIND_USAGE, "no command specified");
    plan_fails(&r, "{\"Cmd\":[],\"Entrypoint\":null}", &o, LB_EKIND_USAGE, "no command specified");
    plan_fails(&r, "{\"Entrypoint\":[\"\"]}", &o, LB_EKIND_USAGE, "no command specified");
    root_free(&r);
}

static void test_plan__malformed_image_config_is_invalid(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    plan_fails(&r, "{\"Entrypoint\":\"/init\"}", &o, LB_EKIND_INVALID,
               "image config: 'Entrypoint' is not a list of strings");
    plan_fails(&r, "{\"Cmd\":[\"a\",1]}", NULL, LB_EKIND_INVALID,
               "image config: 'Cmd' is not a list of strings");
    plan_fails(&r, "{\"Env\":{\"A\":\"1\"}}", &o, LB_EKIND_INVALID,
               "image config: 'Env' is not a list of strings");
    plan_fails(&r, "{\"WorkingDir\":5}", &o, LB_EKIND_INVALID,
               "image config: 'WorkingDir' is not a string");
    plan_fails(&r, "{\"User\":[\"bob\"]}", &o, LB_EKIND_INVALID,
               "image config: 'User' is not a string");
    plan_fails(&r, "[1]", &o, LB_EKIND_INVALID, "image config: 'config' is not an object");
    root_free(&r);
}

/* ---- environment ----------------------------------------------------------------------- */

static void expect_env(const char *config, const struct lb_run_opts *o, const char *const *want)
{
    struct root r = root_make(true);
    struct lb_run_plan p;
    plan_ok(&p, &r, config, o);
    assert_strv(p.env, want);
    lb_plan_release(&p);
    root_free(&r);
}

static void test_plan__env_defaults_are_path_hostname_home(void **state)
{
    (void)state;
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    expect_env(NULL, &o, STRV(DEFPATH, "HOSTNAME=" SHORT_ID, "HOME=/root"));
    o.tty = true;
    expect_env(NULL, &o, STRV(DEFPATH, "HOSTNAME=" SHORT_ID, "TERM=xterm", "HOME=/root"));
    o.tty = false;
    o.hostname = "web";
    expect_env(NULL, &o, STRV(DEFPATH, "HOSTNAME=web", "HOME=/root"));
}

static void test_plan__image_env_replaces_defaults_in_place(void **state)
{
    (void)state;
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd, .tty = true};
    expect_env("{\"Env\":[\"A=1\",\"PATH=/opt/bin\",\"TERM=vt100\",\"HOME=/srv\",\"B=\"]}", &o,
               STRV("PATH=/opt/bin", "HOSTNAME=" SHORT_ID, "TERM=vt100", "A=1", "HOME=/srv", "B="));
}

static void test_plan__e_overrides_image_and_comes_first(void **state)
{
    (void)state;
    char *cmd[] = {"x", NULL};
    char *env[] = {"B=from-e", "C=3", "C=4", NULL};
    struct lb_run_opts o = {.cmd = cmd, .env = env};
    /* docker's merge: the -e values, then the image's whose keys -e does not name */
    expect_env("{\"Env\":[\"A=1\",\"B=image\"]}", &o,
               STRV(DEFPATH, "HOSTNAME=" SHORT_ID, "B=from-e", "C=4", "A=1", "HOME=/root"));
}

static void test_plan__e_key_alone_takes_our_environment_or_unsets(void **state)
{
    (void)state;
    char *cmd[] = {"x", NULL};
    setenv("LB_TEST_PLAN_SET", "value with = sign", 1);
    setenv("LB_TEST_PLAN_EMPTY", "", 1);
    unsetenv("LB_TEST_PLAN_UNSET");
    char *env[] = {"LB_TEST_PLAN_SET", "LB_TEST_PLAN_EMPTY", "LB_TEST_PLAN_UNSET", NULL};
    struct lb_run_opts o = {.cmd = cmd, .env = env};
    /* unset here: absent there, and the image's value is dropped too (as docker does) */
    expect_env("{\"Env\":[\"LB_TEST_PLAN_UNSET=image\",\"KEEP=1\"]}", &o,
               STRV(DEFPATH, "HOSTNAME=" SHORT_ID, "LB_TEST_PLAN_SET=value with = sign",
                    "LB_TEST_PLAN_EMPTY=", "KEEP=1", "HOME=/root"));
    unsetenv("LB_TEST_PLAN_SET");
    unsetenv("LB_TEST_PLAN_EMPTY");
}

static void test_plan__home_comes_from_the_users_passwd_entry(void **state)
{
    (void)state;
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd, .user = "bob"};
    expect_env(NULL, &o, STRV(DEFPATH, "HOSTNAME=" SHORT_ID, "HOME=/home/bob"));
    o.user = "4242"; /* no entry */
    expect_env(NULL, &o, STRV(DEFPATH, "HOSTNAME=" SHORT_ID, "HOME=/"));
    char *env[] = {"HOME=/mine", NULL};
    o.user = "bob";
    o.env = env;
    expect_env(NULL, &o, STRV(DEFPATH, "HOSTNAME=" SHORT_ID, "HOME=/mine"));
}

static void test_plan__env_without_a_key_is_an_error(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    char *env[] = {"A=1", "=oops", NULL};
    struct lb_run_opts o = {.cmd = cmd, .env = env};
    plan_fails(&r, NULL, &o, LB_EKIND_USAGE, "invalid environment variable: =oops");
    root_free(&r);
}

/* ---- working directory ----------------------------------------------------------------- */

static void expect_cwd(const char *config, const char *w, const char *want)
{
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd, .workdir = w};
    struct lb_run_plan p;
    plan_ok(&p, &r, config, &o);
    assert_string_equal(p.cwd, want);
    lb_plan_release(&p);
    root_free(&r);
}

static void test_plan__cwd_is_w_else_image_else_root(void **state)
{
    (void)state;
    expect_cwd(NULL, NULL, "/");
    expect_cwd("{\"WorkingDir\":\"\"}", NULL, "/");
    expect_cwd("{\"WorkingDir\":\"/srv/app\"}", NULL, "/srv/app");
    expect_cwd("{\"WorkingDir\":\"/srv/app\"}", "/tmp", "/tmp");
    expect_cwd("{\"WorkingDir\":\"/srv/app\"}", "", "/srv/app");
    expect_cwd("{\"WorkingDir\":\"app\"}", NULL, "/app"); /* relative in an image: from / */
    /* cleaned like Go's filepath.Clean */
    expect_cwd(NULL, "//a/./b/../c/", "/a/c");
    expect_cwd(NULL, "/../..", "/");
    expect_cwd(NULL, "/a/b/../../..", "/");
}

static void test_plan__relative_w_is_dockers_error(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd, .workdir = "x"};
    plan_fails(&r, NULL, &o, LB_EKIND_USAGE,
               "the working directory 'x' is invalid, it needs to be an absolute path");
    o.workdir = "./srv";
    plan_fails(&r, NULL, &o, LB_EKIND_USAGE, "the working directory './srv' is invalid");
    root_free(&r);
}

/* ---- user ------------------------------------------------------------------------------ */

static void test_plan__user_from_option_or_image(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_run_plan p;

    plan_ok(&p, &r, NULL, &o);
    assert_int_equal(p.uid, 0);
    assert_int_equal(p.gid, 0);
    assert_int_equal(p.n_groups, 2);
    assert_int_equal(p.groups[0], 0);
    assert_int_equal(p.groups[1], 10);
    lb_plan_release(&p);

    plan_ok(&p, &r, "{\"User\":\"bob\"}", &o);
    assert_int_equal(p.uid, 1000);
    assert_int_equal(p.gid, 1000);
    assert_int_equal(p.n_groups, 3);
    assert_int_equal(p.groups[0], 1000);
    assert_int_equal(p.groups[1], 10);
    assert_int_equal(p.groups[2], 50);
    lb_plan_release(&p);

    o.user = "1000:staff"; /* -u wins over the image's User */
    plan_ok(&p, &r, "{\"User\":\"root\"}", &o);
    assert_int_equal(p.uid, 1000);
    assert_int_equal(p.gid, 50);
    assert_int_equal(p.n_groups, 1);
    assert_int_equal(p.groups[0], 50);
    lb_plan_release(&p);

    o.user = ""; /* -u "" is no option: the image's */
    plan_ok(&p, &r, "{\"User\":\"bob\"}", &o);
    assert_int_equal(p.uid, 1000);
    lb_plan_release(&p);

    o.user = "7:8";
    plan_ok(&p, &r, NULL, &o);
    assert_int_equal(p.uid, 7);
    assert_int_equal(p.gid, 8);
    lb_plan_release(&p);
    root_free(&r);
}

static void test_plan__unknown_user_is_dockers_error(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd, .user = "alice"};
    plan_fails(&r, NULL, &o, LB_EKIND_INVALID,
               "unable to find user alice: no matching entries in passwd file");
    o.user = NULL;
    plan_fails(&r, "{\"User\":\"nobody\"}", &o, LB_EKIND_INVALID,
               "unable to find user nobody: no matching entries in passwd file");
    root_free(&r);

    r = root_make(false); /* a scratch image: names cannot resolve, numbers can */
    o.user = "bob";
    plan_fails(&r, NULL, &o, LB_EKIND_INVALID, "unable to find user bob");
    root_free(&r);
}

/* ---- capabilities ---------------------------------------------------------------------- */

static uint64_t bit(int cap)
{
    return 1ULL << cap;
}

static uint64_t plan_caps(char **add, char **drop)
{
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd, .cap_add = add, .cap_drop = drop};
    struct lb_run_plan p;
    plan_ok(&p, &r, NULL, &o);
    uint64_t caps = p.caps;
    lb_plan_release(&p);
    root_free(&r);
    return caps;
}

static void test_plan__default_caps_are_dockers_fourteen(void **state)
{
    (void)state;
    /* moby oci/caps/defaults.go, by name, with the kernel's numbers */
    uint64_t want = bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_FSETID) | bit(CAP_FOWNER) |
                    bit(CAP_MKNOD) | bit(CAP_NET_RAW) | bit(CAP_SETGID) | bit(CAP_SETUID) |
                    bit(CAP_SETFCAP) | bit(CAP_SETPCAP) | bit(CAP_NET_BIND_SERVICE) |
                    bit(CAP_SYS_CHROOT) | bit(CAP_KILL) | bit(CAP_AUDIT_WRITE);
    assert_int_equal(__builtin_popcountll(want), 14);
    /* docker's CapEff in /proc/self/status of a default container */
    assert_int_equal(want, 0x00000000a80425fbULL);
    assert_int_equal(LB_CAPS_DOCKER_DEFAULT, want);
    uint64_t got = plan_caps(NULL, NULL);
    for (int i = 0; i < 64; i++)
        if (((got >> i) & 1) != ((want >> i) & 1))
            fail_msg("capability %d is %s, expected %s", i, (got >> i) & 1 ? "kept" : "dropped",
                     (want >> i) & 1 ? "kept" : "dropped");
}

static void test_plan__cap_drop_then_cap_add(void **state)
{
    (void)state;
    const uint64_t def = 0xa80425fbULL;
    char *drop[] = {"NET_RAW", "cap_mknod", NULL};
    char *add[] = {"CAP_SYS_ADMIN", "net_admin", "Sys_Ptrace", NULL};
    assert_int_equal(plan_caps(NULL, drop), def & ~bit(CAP_NET_RAW) & ~bit(CAP_MKNOD));
    assert_int_equal(plan_caps(add, NULL),
                     def | bit(CAP_SYS_ADMIN) | bit(CAP_NET_ADMIN) | bit(CAP_SYS_PTRACE));
    /* named in both: dropped from the default, then added back (docker's order) */
    char *both[] = {"CHOWN", NULL};
    assert_int_equal(plan_caps(both, both), def);
    char *sa[] = {"SYS_ADMIN", NULL};
    assert_int_equal(plan_caps(sa, sa), def | bit(CAP_SYS_ADMIN));
}

static void test_plan__all_works_in_cap_add_and_cap_drop(void **state)
{
    (void)state;
    uint64_t every = 0;
    for (int i = 0; i <= CAP_LAST_CAP; i++)
        every |= bit(i);
    char *all[] = {"ALL", NULL};
    char *all_lower[] = {"all", NULL};
    char *chown_kill[] = {"CHOWN", "KILL", NULL};
    char *sys_admin[] = {"SYS_ADMIN", NULL};
    assert_int_equal(plan_caps(all, NULL), every);
    assert_int_equal(plan_caps(NULL, all_lower), 0);
    assert_int_equal(plan_caps(chown_kill, all), bit(CAP_CHOWN) | bit(CAP_KILL));
    assert_int_equal(plan_caps(all_lower, sys_admin), every & ~bit(CAP_SYS_ADMIN));
    /* add ALL wins over drop ALL (docker's TweakCapabilities checks add first) */
    assert_int_equal(plan_caps(all, all), every);
    assert_true((every & bit(CAP_CHECKPOINT_RESTORE)) != 0);
}

static void test_plan__unknown_capability_is_an_error(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    char *bad[] = {"CHOWN", "foo", NULL};
    struct lb_run_opts o = {.cmd = cmd, .cap_add = bad};
    plan_fails(&r, NULL, &o, LB_EKIND_USAGE, "unknown capability 'CAP_FOO'");
    o.cap_add = NULL;
    char *bad2[] = {"CAP_ALL", NULL};
    o.cap_drop = bad2;
    plan_fails(&r, NULL, &o, LB_EKIND_USAGE, "unknown capability 'CAP_ALL'");
    char *bad3[] = {"", NULL};
    o.cap_drop = bad3;
    plan_fails(&r, NULL, &o, LB_EKIND_USAGE, "unknown capability 'CAP_'");
    root_free(&r);
}

static void test_plan__cap_from_name_agrees_with_libcap(void **state)
{
    (void)state;
    /* libcap's own table ("cap_net_admin" ...) for every capability this kernel header knows */
    for (int i = 0; i <= CAP_LAST_CAP; i++) {
        char *name = cap_to_name((cap_value_t)i);
        assert_non_null(name);
        if (strncmp(name, "cap_", 4) != 0)
            fail_msg("libcap has no name for capability %d ('%s')", i, name);
        int n = -1;
        struct lb_error *err = NULL;
        if (lb_cap_from_name(name, &n, &err) < 0)
            fail_msg("'%s': %s", name, err->msg);
        assert_int_equal(n, i);
        if (lb_cap_from_name(name + 4, &n, &err) < 0)
            fail_msg("'%s': %s", name + 4, err->msg);
        assert_int_equal(n, i);
        cap_free(name);
    }
    int n = -1;
    struct lb_error *err = NULL;
    assert_int_equal(lb_cap_from_name("NET_ADMIN", &n, &err), 0);
    assert_int_equal(n, 12);
    assert_int_equal(lb_cap_from_name("cap_sys_admin", &n, &err), 0);
    assert_int_equal(n, 21);
    assert_int_equal(lb_cap_from_name("12", &n, &err), -1); /* libcap takes numbers; docker not */
    assert_error_contains(err, "unknown capability 'CAP_12'");
    assert_int_equal(lb_cap_from_name("ALL", &n, &err), -1); /* a set, not a capability */
    assert_int_equal(err->kind, LB_EKIND_USAGE);
    assert_error_contains(err, "unknown capability 'CAP_ALL'");
    assert_int_equal(lb_cap_from_name("CAP_NET_ADMINX", &n, &err), -1);
    assert_error_contains(err, "unknown capability 'CAP_NET_ADMINX'");
}

/* ---- namespaces, mounts, masked paths -------------------------------------------------- */

static void test_plan__namespaces_add_net_only_for_network_none(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_run_plan p;
    plan_ok(&p, &r, NULL, &o);
    assert_int_equal(p.clone_flags, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC);
    lb_plan_release(&p);
    o.network = LB_NET_NONE;
    plan_ok(&p, &r, NULL, &o);
    assert_int_equal(p.clone_flags,
                     CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET);
    lb_plan_release(&p);
    root_free(&r);
}

struct want_mount {
    enum lb_mount_kind kind;
    const char *source;
    const char *target;
    unsigned long flags;
    const char *data;
    mode_t mode;
};

static void test_plan__mounts_follow_mobys_defaults_in_order(void **state)
{
    (void)state;
    const mode_t dir = S_IFDIR | 0755, chr = S_IFCHR | 0666;
    /* moby daemon/pkg/oci/defaults.go DefaultLinuxSpec().Mounts, less /sys/fs/cgroup, with the
     * daemon's 64 MiB shm; then the six devices of the OCI runtime spec's default list, bound */
    static const struct want_mount want[] = {
        {LB_MOUNT_PROC, NULL, "/proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, 0},
        {LB_MOUNT_TMPFS, NULL, "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", 0},
        {LB_MOUNT_DEVPTS, NULL, "/dev/pts", MS_NOSUID | MS_NOEXEC,
         "newinstance,ptmxmode=0666,mode=0620,gid=5", 0},
        {LB_MOUNT_SYSFS, NULL, "/sys", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL, 0},
        {LB_MOUNT_MQUEUE, NULL, "/dev/mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, 0},
        {LB_MOUNT_TMPFS, NULL, "/dev/shm", MS_NOSUID | MS_NOEXEC | MS_NODEV,
         "mode=1777,size=65536k", 0},
        {LB_MOUNT_DEVICE, "/dev/null", "/dev/null", 0, NULL, 1},
        {LB_MOUNT_DEVICE, "/dev/zero", "/dev/zero", 0, NULL, 1},
        {LB_MOUNT_DEVICE, "/dev/full", "/dev/full", 0, NULL, 1},
        {LB_MOUNT_DEVICE, "/dev/random", "/dev/random", 0, NULL, 1},
        {LB_MOUNT_DEVICE, "/dev/urandom", "/dev/urandom", 0, NULL, 1},
        {LB_MOUNT_DEVICE, "/dev/tty", "/dev/tty", 0, NULL, 1},
    };
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_run_plan p;
    plan_ok(&p, &r, NULL, &o);
    assert_int_equal(p.n_mounts, LB_ARRAY_SIZE(want));
    for (size_t i = 0; i < LB_ARRAY_SIZE(want); i++) {
        const struct lb_mount_spec *m = &p.mounts[i];
        assert_int_equal(m->kind, want[i].kind);
        assert_string_equal(m->target, want[i].target);
        if (want[i].source)
            assert_string_equal(m->source, want[i].source);
        else
            assert_null(m->source);
        if (m->flags != want[i].flags)
            fail_msg("%s: flags %#lx, expected %#lx", m->target, m->flags, want[i].flags);
        if (want[i].data)
            assert_string_equal(m->data, want[i].data);
        else
            assert_null(m->data);
        assert_int_equal(m->mode, want[i].mode ? chr : dir);
    }
    lb_plan_release(&p);
    root_free(&r);
}

static void test_plan__masked_and_readonly_paths_are_mobys(void **state)
{
    (void)state;
    static const char *const masked[] = {
        "/proc/acpi",
        "/proc/asound",
        "/proc/interrupts",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/sys/devices/virtual/powercap",
        "/sys/firmware",
    };
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_run_plan p;
    plan_ok(&p, &r, NULL, &o);
    size_t i = 0;
    for (; i < LB_ARRAY_SIZE(masked); i++) {
        assert_non_null(p.masked_paths[i]);
        assert_string_equal(p.masked_paths[i], masked[i]);
    }
    /* then only this host's thermal_throttle directories, each of which exists */
    for (; p.masked_paths[i]; i++) {
        unsigned cpu;
        char tail[32] = "";
        if (sscanf(p.masked_paths[i], "/sys/devices/system/cpu/cpu%u/thermal_throttl%31s", &cpu,
                   tail) != 2 ||
            strcmp(tail, "e") != 0)
            fail_msg("unexpected masked path '%s'", p.masked_paths[i]);
        struct stat st;
        assert_int_equal(stat(p.masked_paths[i], &st), 0);
    }
    assert_strv(p.readonly_paths,
                STRV("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
    lb_plan_release(&p);
    root_free(&r);
}

static void test_plan__symlinked_dev_proc_or_sys_is_refused(void **state)
{
    (void)state;
    static const char *const names[] = {"dev", "proc", "sys"};
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    for (size_t i = 0; i < LB_ARRAY_SIZE(names); i++) {
        struct root r = root_make(true);
        char *link = lb_path_join(r.dir, names[i]);
        assert_int_equal(symlink("/etc", link), 0);
        char want[80];
        snprintf(want, sizeof(want), "image has /%s as a symlink: refusing to mount over it",
                 names[i]);
        plan_fails(&r, NULL, &o, LB_EKIND_INVALID, want);
        /* a relative one pointing inside is refused just the same */
        assert_int_equal(unlink(link), 0);
        assert_int_equal(symlink("etc", link), 0);
        plan_fails(&r, NULL, &o, LB_EKIND_INVALID, want);
        /* a regular file cannot be mounted over either */
        assert_int_equal(unlink(link), 0);
        lb_unit_write(r.dir, names[i], "x", 1);
        plan_fails(&r, NULL, &o, LB_EKIND_INVALID, "that is not a directory");
        /* a real directory is fine */
        assert_int_equal(unlink(link), 0);
        assert_int_equal(mkdir(link, 0755), 0);
        struct lb_run_plan p;
        plan_ok(&p, &r, NULL, &o);
        lb_plan_release(&p);
        free(link);
        root_free(&r);
    }
}

/* ---- limits ---------------------------------------------------------------------------- */

static struct lb_run_plan limits_ok(int64_t memory, int64_t pids, double cpus)
{
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd, .memory_bytes = memory, .pids_limit = pids, .cpus = cpus};
    struct lb_run_plan p;
    plan_ok(&p, &r, NULL, &o);
    root_free(&r);
    return p;
}

static void limits_fail(int64_t memory, int64_t pids, double cpus, const char *needle)
{
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd, .memory_bytes = memory, .pids_limit = pids, .cpus = cpus};
    plan_fails(&r, NULL, &o, LB_EKIND_USAGE, needle);
    root_free(&r);
}

static void test_plan__limits_are_copied_and_cpus_become_a_quota(void **state)
{
    (void)state;
    struct lb_run_plan p = limits_ok(0, 0, 0);
    assert_int_equal(p.memory_bytes, 0);
    assert_int_equal(p.pids_limit, 0);
    assert_int_equal(p.cpu_quota_us, 0);
    assert_int_equal(p.cpu_period_us, 0);
    assert_string_equal(p.cgroup_name, "layerbox-" ID);
    lb_plan_release(&p);

    p = limits_ok(64LL << 20, 100, 0.5);
    assert_int_equal(p.memory_bytes, 67108864);
    assert_int_equal(p.pids_limit, 100);
    assert_int_equal(p.cpu_quota_us, 50000);
    assert_int_equal(p.cpu_period_us, 100000);
    lb_plan_release(&p);

    p = limits_ok(6LL << 20, -1, 0.29); /* -1 is docker's "unlimited"; 0.29 → 29000 exactly */
    assert_int_equal(p.memory_bytes, 6291456);
    assert_int_equal(p.pids_limit, 0);
    assert_int_equal(p.cpu_quota_us, 29000);
    lb_plan_release(&p);

    p = limits_ok(0, 4194304, 0.01);
    assert_int_equal(p.pids_limit, 4194304);
    assert_int_equal(p.cpu_quota_us, 1000);
    lb_plan_release(&p);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    p = limits_ok(0, 0, (double)ncpu);
    assert_int_equal(p.cpu_quota_us, ncpu * 100000);
    lb_plan_release(&p);
}

static void test_plan__bad_limits_are_errors(void **state)
{
    (void)state;
    limits_fail(-1, 0, 0, "invalid memory limit -1");
    limits_fail((6LL << 20) - 1, 0, 0, "minimum memory limit allowed is 6MB");
    limits_fail(INT64_MAX, 0, 0, "too large");
    limits_fail(0, -2, 0, "invalid pids limit -2");
    limits_fail(0, 4194305, 0, "invalid pids limit 4194305");
    limits_fail(0, 0, -0.5, "invalid value for --cpus");
    limits_fail(0, 0, NAN, "invalid value for --cpus");
    limits_fail(0, 0, 0.001, "range of CPUs is from 0.01 to");
    limits_fail(0, 0, 1e9, "range of CPUs is from 0.01 to");
    limits_fail(0, 0, INFINITY, "range of CPUs is from 0.01 to");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char want[96];
    snprintf(want, sizeof(want), "range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs",
             ncpu, ncpu);
    limits_fail(0, 0, (double)ncpu + 0.5, want);
}

/* ---- hostname, identity, the rest ------------------------------------------------------ */

static void test_plan__hostname_defaults_to_short_id_and_is_validated(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_run_plan p;
    plan_ok(&p, &r, NULL, &o);
    assert_string_equal(p.hostname, SHORT_ID);
    lb_plan_release(&p);

    char longest[65];
    memset(longest, 'a', 64);
    longest[31] = '.'; /* two labels of 31 and 32: 64 in all */
    longest[64] = '\0';
    static const char *const good[] = {"web", "Web-1.example.org", "a", "0abc", NULL};
    for (size_t i = 0; good[i]; i++) {
        o.hostname = good[i];
        plan_ok(&p, &r, NULL, &o);
        assert_string_equal(p.hostname, good[i]);
        lb_plan_release(&p);
    }
    o.hostname = longest;
    plan_ok(&p, &r, NULL, &o);
    lb_plan_release(&p);

    char too_long[66];
    memset(too_long, 'a', 65);
    too_long[32] = '.';
    too_long[65] = '\0';
    char label64[65];
    memset(label64, 'b', 64);
    label64[64] = '\0';
    const char *bad[] = {too_long, label64, "-web", "web-", "a..b", ".a",
                         "a.",     "a_b",   "a b",  "wéb",  "a/b",  NULL};
    for (size_t i = 0; bad[i]; i++) {
        o.hostname = bad[i];
        char want[128];
        snprintf(want, sizeof(want), "invalid hostname '%s'", bad[i]);
        plan_fails(&r, NULL, &o, LB_EKIND_USAGE, want);
    }
    root_free(&r);
}

static void test_plan__flags_and_rootfs_are_copied(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_run_plan p;
    plan_ok(&p, &r, NULL, &o);
    assert_false(p.tty);
    assert_false(p.no_new_privs);
    assert_false(p.readonly_rootfs);
    assert_string_equal(p.rootfs, "/var/lib/layerbox/containers/x/rootfs");
    lb_plan_release(&p);
    o.tty = true;
    o.no_new_privileges = true;
    o.read_only = true;
    plan_ok(&p, &r, NULL, &o);
    assert_true(p.tty);
    assert_true(p.no_new_privs);
    assert_true(p.readonly_rootfs);
    lb_plan_release(&p);
    root_free(&r);
}

static void test_plan__bad_id_rootfs_or_fd_are_errors(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_run_plan p;
    struct lb_error *err = NULL;
    static const char *const bad_ids[] = {"", "../x", "a/b", ".hidden"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(bad_ids); i++) {
        assert_int_equal(lb_plan_build(&p, NULL, &o, r.fd, "/rootfs", bad_ids[i], &err), -1);
        assert_plan_empty(&p);
        assert_error_contains(err, "invalid container id");
    }
    assert_int_equal(lb_plan_build(&p, NULL, &o, r.fd, "/rootfs", NULL, &err), -1);
    assert_error_contains(err, "invalid container id");
    assert_int_equal(lb_plan_build(&p, NULL, &o, r.fd, "rootfs", ID, &err), -1);
    assert_error_contains(err, "the root file system path 'rootfs' is not absolute");
    assert_int_equal(lb_plan_build(&p, NULL, &o, r.fd, NULL, ID, &err), -1);
    assert_error_contains(err, "is not absolute");
    assert_int_equal(lb_plan_build(&p, NULL, &o, -1, "/rootfs", ID, &err), -1);
    assert_error_contains(err, "no root file system");
    /* a short id is its own hostname */
    assert_int_equal(lb_plan_build(&p, NULL, &o, r.fd, "/rootfs", "abc", &err), 0);
    assert_string_equal(p.hostname, "abc");
    assert_string_equal(p.cgroup_name, "layerbox-abc");
    lb_plan_release(&p);
    root_free(&r);
}

static void test_plan__release_leaves_an_empty_plan_and_can_repeat(void **state)
{
    (void)state;
    struct root r = root_make(true);
    char *cmd[] = {"x", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_run_plan p;
    plan_ok(&p, &r, NULL, &o);
    lb_plan_release(&p);
    assert_plan_empty(&p);
    lb_plan_release(&p);
    assert_plan_empty(&p);
    root_free(&r);
}

LB_UNIT_MAIN(cmocka_unit_test(test_plan__argv_is_entrypoint_then_cmd),
             cmocka_unit_test(test_plan__args_after_image_replace_cmd_only),
             cmocka_unit_test(test_plan__entrypoint_option_replaces_and_drops_image_cmd),
             cmocka_unit_test(test_plan__empty_entrypoint_clears_it),
             cmocka_unit_test(test_plan__no_command_is_an_error),
             cmocka_unit_test(test_plan__malformed_image_config_is_invalid),
             cmocka_unit_test(test_plan__env_defaults_are_path_hostname_home),
             cmocka_unit_test(test_plan__image_env_replaces_defaults_in_place),
             cmocka_unit_test(test_plan__e_overrides_image_and_comes_first),
             cmocka_unit_test(test_plan__e_key_alone_takes_our_environment_or_unsets),
             cmocka_unit_test(test_plan__home_comes_from_the_users_passwd_entry),
             cmocka_unit_test(test_plan__env_without_a_key_is_an_error),
             cmocka_unit_test(test_plan__cwd_is_w_else_image_else_root),
             cmocka_unit_test(test_plan__relative_w_is_dockers_error),
             cmocka_unit_test(test_plan__user_from_option_or_image),
             cmocka_unit_test(test_plan__unknown_user_is_dockers_error),
             cmocka_unit_test(test_plan__default_caps_are_dockers_fourteen),
             cmocka_unit_test(test_plan__cap_drop_then_cap_add),
             cmocka_unit_test(test_plan__all_works_in_cap_add_and_cap_drop),
             cmocka_unit_test(test_plan__unknown_capability_is_an_error),
             cmocka_unit_test(test_plan__cap_from_name_agrees_with_libcap),
             cmocka_unit_test(test_plan__namespaces_add_net_only_for_network_none),
             cmocka_unit_test(test_plan__mounts_follow_mobys_defaults_in_order),
             cmocka_unit_test(test_plan__masked_and_readonly_paths_are_mobys),
             cmocka_unit_test(test_plan__symlinked_dev_proc_or_sys_is_refused),
             cmocka_unit_test(test_plan__limits_are_copied_and_cpus_become_a_quota),
             cmocka_unit_test(test_plan__bad_limits_are_errors),
             cmocka_unit_test(test_plan__hostname_defaults_to_short_id_and_is_validated),
             cmocka_unit_test(test_plan__flags_and_rootfs_are_copied),
             cmocka_unit_test(test_plan__bad_id_rootfs_or_fd_are_errors),
             cmocka_unit_test(test_plan__release_leaves_an_empty_plan_and_can_repeat))
