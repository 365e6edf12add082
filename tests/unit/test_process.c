/* test_process.c — the runtime executor for real: hand-made plans run as root on the fixture
 * rootfs (fixtures/out/busybox-rootfs.tar, with the static /usr/bin/lb-init that reports what
 * the process sees).
 *
 * Needs root and the fixtures (`make fixtures`; FIXTURES=dir overrides where they are). Without
 * them every test skips with the reason; LB_TEST_MUST_WORK=1 turns that skip into a failure.
 *
 * Expected values come from the specs, not from layerbox: docker's default capability set
 * (0xa80425fb from the 14 capability numbers in <linux/capability.h>), the host's own /dev/null
 * for a masked file, IFF_UP|IFF_LOOPBACK for lo, the kernel's cgroup files read directly. Every
 * run checks that no mount under the test's temp dir appeared in the test process's mount table
 * (the container's mounts live and die in its own mount namespace). */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "runtime/cgroup.h"
#include "runtime/process.h"
#include "runtime/sys.h"

/* --- the shared rootfs, extracted once ----------------------------------------------------- */

static char *g_tmp;    /* temp dir: rootfs/ inside */
static char *g_rootfs; /* the extracted fixture rootfs */
static const char *g_skip_reason;

static char *find_fixture_tar(void)
{
    const char *env = getenv("FIXTURES");
    if (env && *env) {
        char *p = lb_path_join(env, "busybox-rootfs.tar");
        if (access(p, R_OK) == 0)
            return p;
        free(p);
        return NULL;
    }
    if (access("fixtures/out/busybox-rootfs.tar", R_OK) == 0)
        return lb_xstrdup("fixtures/out/busybox-rootfs.tar");
    /* build/tests/test_process → ../../fixtures/out */
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        char *p = lb_xasprintf("%s/../../fixtures/out/busybox-rootfs.tar", exe);
        if (access(p, R_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

static void remove_tmp(void)
{
    lb_unit_rmdir(g_tmp);
    g_tmp = NULL;
    free(g_rootfs);
    g_rootfs = NULL;
}

/* Skip (or fail under LB_TEST_MUST_WORK=1) unless we are root with the fixture extracted. */
static void need_rootfs(void)
{
    if (g_rootfs == NULL && g_skip_reason == NULL) {
        _cleanup_free_ char *tar = NULL;
        if (geteuid() != 0)
            g_skip_reason = "needs root";
        else if ((tar = find_fixture_tar()) == NULL)
            g_skip_reason =
                "needs fixtures/out/busybox-rootfs.tar (make fixtures, or FIXTURES=dir)";
        if (g_skip_reason == NULL) {
            g_tmp = lb_unit_mkdtemp();
            g_rootfs = lb_path_join(g_tmp, "rootfs");
            assert_int_equal(mkdir(g_rootfs, 0755), 0);
            _cleanup_free_ char *cmd =
                lb_xasprintf("tar -x -f '%s' -C '%s' --numeric-owner", tar, g_rootfs);
            if (system(cmd) != 0)
                fail_msg("cannot extract %s", tar);
            lb_unit_write(g_rootfs, "lb-marker", "inside the container\n", 21);
            lb_unit_write(g_rootfs, "notexec", "#!/bin/sh\n", 10);
            assert_int_equal(chmod(g_rootfs, 0755), 0);
            atexit(remove_tmp);
        }
    }
    if (g_skip_reason != NULL) {
        const char *must = getenv("LB_TEST_MUST_WORK");
        if (must && strcmp(must, "1") == 0)
            fail_msg("LB_TEST_MUST_WORK=1 but this test %s", g_skip_reason);
        print_message("skipped: %s\n", g_skip_reason);
        skip();
    }
}

/* --- plans, by hand ------------------------------------------------------------------------ */

static void add_mount(struct lb_run_plan *p, enum lb_mount_kind kind, const char *source,
                      const char *target, unsigned long flags, const char *data)
{
    p->mounts = lb_xrealloc(p->mounts, (p->n_mounts + 1) * sizeof(*p->mounts));
    struct lb_mount_spec *m = &p->mounts[p->n_mounts++];
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->source = source ? lb_xstrdup(source) : NULL;
    m->target = lb_xstrdup(target);
    m->flags = flags;
    m->data = data ? lb_xstrdup(data) : NULL;
    m->mode = 0755;
}

/* docker's default container: the namespaces, mounts, masked and read-only paths of its
 * default OCI spec (moby oci/defaults.go), root, the default capabilities. */
static void plan_docker_default(struct lb_run_plan *p, const char *const *argv)
{
    memset(p, 0, sizeof(*p));
    for (; *argv; argv++)
        lb_strv_push(&p->argv, *argv);
    lb_strv_push(&p->env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    lb_strv_push(&p->env, "HOME=/root");
    p->cwd = lb_xstrdup("/");
    p->hostname = lb_xstrdup("lbtest-host");
    p->caps = LB_CAPS_DOCKER_DEFAULT;
    p->clone_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    p->rootfs = lb_xstrdup(g_rootfs);
    add_mount(p, LB_MOUNT_PROC, NULL, "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    add_mount(p, LB_MOUNT_TMPFS, NULL, "/dev", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    add_mount(p, LB_MOUNT_DEVPTS, NULL, "/dev/pts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620,gid=5");
    add_mount(p, LB_MOUNT_TMPFS, NULL, "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=1777,size=65536k");
    add_mount(p, LB_MOUNT_MQUEUE, NULL, "/dev/mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    add_mount(p, LB_MOUNT_SYSFS, NULL, "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
    static const char *const devices[] = {"/dev/null",   "/dev/zero",    "/dev/full",
                                          "/dev/random", "/dev/urandom", "/dev/tty"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(devices); i++)
        add_mount(p, LB_MOUNT_DEVICE, devices[i], devices[i], 0, NULL);
    static const char *const masked[] = {"/proc/asound",
                                         "/proc/acpi",
                                         "/proc/kcore",
                                         "/proc/keys",
                                         "/proc/latency_stats",
                                         "/proc/timer_list",
                                         "/proc/timer_stats",
                                         "/proc/sched_debug",
                                         "/proc/scsi",
                                         "/sys/firmware",
                                         "/sys/devices/virtual/powercap"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(masked); i++)
        lb_strv_push(&p->masked_paths, masked[i]);
    static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                     "/proc/sysrq-trigger"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(ro); i++)
        lb_strv_push(&p->readonly_paths, ro[i]);
}

static void plan_free(struct lb_run_plan *p)
{
    lb_strv_free(p->argv);
    lb_strv_free(p->env);
    free(p->cwd);
    free(p->groups);
    free(p->hostname);
    free(p->rootfs);
    for (size_t i = 0; i < p->n_mounts; i++) {
        free(p->mounts[i].source);
        free(p->mounts[i].target);
        free(p->mounts[i].data);
    }
    free(p->mounts);
    lb_strv_free(p->masked_paths);
    lb_strv_free(p->readonly_paths);
    free(p->cgroup_name);
    memset(p, 0, sizeof(*p));
}

/* --- running one ------------------------------------------------------------------------- */

struct run {
    bool started;
    int exit_code;
    int exec_errno;
    char *out;
    char *errout;
    struct lb_error *err;
};

static char *read_all(int fd)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        lb_strbuf_add(&sb, buf, (size_t)n);
    }
    return lb_strbuf_detach(&sb);
}

/* The lines of the test process's mount table that mention our temp dir: the only mounts a
 * leak of ours could add (other tests on this machine may mount elsewhere meanwhile). */
static char *mountinfo(void)
{
    char *text = NULL;
    if (lb_sys_read_file("/proc/self/mountinfo", 1 << 22, &text) < 0)
        fail_msg("cannot read mountinfo: %s", strerror(errno));
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    for (char *line = text; *line;) {
        char *eol = strchrnul(line, '\n');
        size_t len = (size_t)(eol - line);
        _cleanup_free_ char *copy = lb_xstrndup(line, len);
        if (strstr(copy, g_tmp) != NULL) {
            lb_strbuf_add(&sb, copy, len);
            lb_strbuf_addc(&sb, '\n');
        }
        line = *eol ? eol + 1 : eol;
    }
    free(text);
    return lb_strbuf_detach(&sb);
}

/* Start plan with stdout/stderr into pipes (stdin from /dev/null unless given), read both to
 * the end, wait. The test process's mount table must not change. */
static void run_plan(const struct lb_run_plan *plan, int stdin_fd, struct run *r)
{
    memset(r, 0, sizeof(*r));
    _cleanup_free_ char *before = mountinfo();
    int out[2], errp[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    assert_int_equal(pipe2(errp, O_CLOEXEC), 0);
    _cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct lb_process_opts opts = LB_PROCESS_OPTS_INIT;
    opts.stdin_fd = stdin_fd >= 0 ? stdin_fd : devnull;
    opts.stdout_fd = out[1];
    opts.stderr_fd = errp[1];
    struct lb_process proc;
    int rc = lb_process_start(&proc, plan, &opts, &r->err);
    close(out[1]);
    close(errp[1]);
    r->exec_errno = proc.exec_errno;
    if (rc == 0) {
        r->started = true;
        r->out = read_all(out[0]);
        r->errout = read_all(errp[0]);
        struct lb_error *err = NULL;
        if (lb_process_wait(proc.pid, &r->exit_code, &err) < 0)
            fail_msg("wait: %s", err->msg);
        if (lb_cgroup_destroy(&proc.cgroup, &err) < 0)
            fail_msg("cgroup destroy: %s", err->msg);
    }
    lb_process_release(&proc);
    close(out[0]);
    close(errp[0]);
    _cleanup_free_ char *after = mountinfo();
    assert_string_equal(before, after);
}

static void run_release(struct run *r)
{
    free(r->out);
    free(r->errout);
    lb_error_free(r->err);
}

/* Run argv in plan and require exit 0 with exactly `expected` on stdout. */
static void expect_output(struct lb_run_plan *plan, const char *expected)
{
    struct run r;
    run_plan(plan, -1, &r);
    if (!r.started)
        fail_msg("start failed: %s", r.err->msg);
    if (r.exit_code != 0 || strcmp(r.out, expected) != 0)
        fail_msg("'%s' exited %d with stdout '%s' (stderr '%s'), expected '%s'", plan->argv[1],
                 r.exit_code, r.out, r.errout, expected);
    run_release(&r);
}

static void set_argv(struct lb_run_plan *p, const char *const *argv)
{
    lb_strv_free(p->argv);
    p->argv = NULL;
    for (; *argv; argv++)
        lb_strv_push(&p->argv, *argv);
}

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* --- tests ------------------------------------------------------------------------------- */

static void test_process__runs_as_pid_1_with_the_plans_hostname(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "hostname"));
    expect_output(&p, "lbtest-host\n");
    set_argv(&p, ARGV("lb-init", "pid"));
    expect_output(&p, "1\n");
    plan_free(&p);
}

static uint64_t docker_default_caps_by_hand(void)
{
    static const int caps[] = {CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
                               CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
                               CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
                               CAP_KILL,    CAP_AUDIT_WRITE};
    uint64_t m = 0;
    for (size_t i = 0; i < LB_ARRAY_SIZE(caps); i++)
        m |= UINT64_C(1) << caps[i];
    return m;
}

static void test_process__root_gets_dockers_default_caps_in_every_set(void **state)
{
    (void)state;
    need_rootfs();
    assert_int_equal(docker_default_caps_by_hand(), LB_CAPS_DOCKER_DEFAULT);
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "caps"));
    expect_output(&p, "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n");
    set_argv(&p, ARGV("lb-init", "status", "CapPrm"));
    expect_output(&p, "CapPrm:\t00000000a80425fb\n");
    set_argv(&p, ARGV("lb-init", "status", "CapInh"));
    expect_output(&p, "CapInh:\t0000000000000000\n");
    set_argv(&p, ARGV("lb-init", "status", "CapAmb"));
    expect_output(&p, "CapAmb:\t0000000000000000\n");
    set_argv(&p, ARGV("lb-init", "status", "NoNewPrivs"));
    expect_output(&p, "NoNewPrivs:\t0\n");
    plan_free(&p);
}

static void test_process__runs_as_the_plans_user_and_groups_without_caps(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "id"));
    p.uid = 1000;
    p.gid = 1001;
    p.n_groups = 3;
    p.groups = lb_xmalloc(3 * sizeof(gid_t));
    p.groups[0] = 1001;
    p.groups[1] = 10;
    p.groups[2] = 20;
    p.no_new_privs = true;
    /* the kernel keeps supplementary groups sorted (getgroups returns them in order) */
    expect_output(&p, "uid=1000 gid=1001 groups=10,20,1001\n");
    /* docker: a non-root user keeps the bounding set but no effective capability */
    set_argv(&p, ARGV("lb-init", "caps"));
    expect_output(&p, "CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n");
    set_argv(&p, ARGV("lb-init", "status", "NoNewPrivs"));
    expect_output(&p, "NoNewPrivs:\t1\n");
    plan_free(&p);
}

static void test_process__starts_in_the_plans_cwd_and_makes_it_when_missing(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "cwd"));
    free(p.cwd);
    p.cwd = lb_xstrdup("/home/lbuser");
    expect_output(&p, "/home/lbuser\n");
    free(p.cwd);
    p.cwd = lb_xstrdup("/made/by/layerbox");
    expect_output(&p, "/made/by/layerbox\n");
    struct stat st;
    _cleanup_free_ char *made = lb_path_join(g_rootfs, "made/by/layerbox");
    assert_int_equal(stat(made, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    plan_free(&p);
}

static void test_process__closes_every_inherited_fd_above_2(void **state)
{
    (void)state;
    need_rootfs();
    /* fds without O_CLOEXEC, as a careless caller would leave them */
    int leak1 = open("/dev/null", O_RDONLY);
    int leak2 = dup(leak1);
    assert_true(leak1 > 2 && leak2 > 2);
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "fds"));
    expect_output(&p, "0\n1\n2\n");
    close(leak1);
    close(leak2);
    plan_free(&p);
}

static void test_process__mounts_proc_and_masks_and_protects_its_paths(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "mounts"));
    struct run r;
    run_plan(&p, -1, &r);
    assert_true(r.started);
    assert_int_equal(r.exit_code, 0);
    if (strstr(r.out, "proc /proc proc ") == NULL ||
        strstr(r.out, "devpts /dev/pts devpts") == NULL ||
        strstr(r.out, "sysfs /sys sysfs ro,") == NULL)
        fail_msg("missing /proc, /dev/pts or a read-only /sys in:\n%s", r.out);

    /* a masked directory is an empty read-only tmpfs */
    struct stat acpi;
    if (stat("/proc/acpi", &acpi) == 0 && strstr(r.out, "tmpfs /proc/acpi tmpfs ro") == NULL)
        fail_msg("/proc/acpi is not masked by a read-only tmpfs:\n%s", r.out);
    run_release(&r);

    /* a masked file (/proc/keys; /proc/kcore where the kernel has it) is the host's /dev/null:
     * same type, mode and owner */
    struct stat null;
    assert_int_equal(stat("/dev/null", &null), 0);
    assert_true(S_ISCHR(null.st_mode));
    _cleanup_free_ char *want =
        lb_xasprintf("type=char mode=%04o uid=%u gid=%u size=0\n", (unsigned)(null.st_mode & 07777),
                     (unsigned)null.st_uid, (unsigned)null.st_gid);
    static const char *const files[] = {"/proc/keys", "/proc/kcore"};
    int checked = 0;
    for (size_t i = 0; i < LB_ARRAY_SIZE(files); i++) {
        struct stat host;
        if (stat(files[i], &host) < 0)
            continue;
        assert_true(S_ISREG(host.st_mode)); /* on the host it is a file */
        set_argv(&p, ARGV("lb-init", "stat", files[i]));
        expect_output(&p, want);
        checked++;
    }
    assert_true(checked > 0);

    /* a read-only path refuses writes, a writable sibling does not */
    set_argv(&p, ARGV("lb-init", "write", "/proc/sys/kernel/hostname", "nope"));
    run_plan(&p, -1, &r);
    assert_true(r.started);
    assert_int_equal(r.exit_code, 1);
    if (strstr(r.errout, "Read-only file system") == NULL)
        fail_msg("expected EROFS, stderr: %s", r.errout);
    run_release(&r);

    /* the /dev symlinks */
    set_argv(&p, ARGV("lb-init", "stat", "/dev/fd"));
    run_plan(&p, -1, &r);
    assert_true(r.started);
    if (strncmp(r.out, "type=symlink", 12) != 0)
        fail_msg("/dev/fd: %s %s", r.out, r.errout);
    run_release(&r);
    plan_free(&p);
}

static void test_process__root_is_the_plans_rootfs_not_the_hosts(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "cat", "/lb-marker"));
    expect_output(&p, "inside the container\n");

    /* the host's temp dir (which holds the rootfs) is not reachable */
    set_argv(&p, ARGV("lb-init", "stat", g_tmp));
    struct run r;
    run_plan(&p, -1, &r);
    assert_true(r.started);
    assert_int_equal(r.exit_code, 1);
    run_release(&r);

    /* a write lands in the rootfs directory, as the host sees it */
    set_argv(&p, ARGV("lb-init", "write", "/tmp/written", "hello"));
    expect_output(&p, "");
    _cleanup_free_ char *written = lb_path_join(g_rootfs, "tmp/written");
    char *text = NULL;
    size_t len = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_read_file_at(AT_FDCWD, written, 100, &text, &len, &err), 0);
    assert_string_equal(text, "hello\n");
    free(text);
    unlink(written);

    /* --read-only: the same write fails */
    p.readonly_rootfs = true;
    run_plan(&p, -1, &r);
    assert_true(r.started);
    assert_int_equal(r.exit_code, 1);
    if (strstr(r.errout, "Read-only file system") == NULL)
        fail_msg("expected EROFS, stderr: %s", r.errout);
    run_release(&r);
    assert_false(lb_path_exists_at(AT_FDCWD, written));
    plan_free(&p);
}

static void test_process__exit_codes_propagate_and_a_signal_is_128_plus_n(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "exit", "7"));
    struct run r;
    run_plan(&p, -1, &r);
    assert_true(r.started);
    assert_int_equal(r.exit_code, 7);
    run_release(&r);

    set_argv(&p, ARGV("lb-init", "sleep", "30"));
    struct lb_process proc;
    struct lb_error *err = NULL;
    struct lb_process_opts opts = LB_PROCESS_OPTS_INIT;
    assert_int_equal(lb_process_start(&proc, &p, &opts, &err), 0);
    assert_true(lb_process_is_running(proc.pid, proc.start_time));
    assert_false(lb_process_is_running(proc.pid, proc.start_time + 1));
    unsigned long long again = 0;
    assert_int_equal(lb_process_start_time(proc.pid, &again, &err), 0);
    assert_true(again == proc.start_time);
    assert_int_equal(kill(proc.pid, SIGKILL), 0);
    int code = 0;
    assert_int_equal(lb_process_wait(proc.pid, &code, &err), 0);
    assert_int_equal(code, 137);
    assert_false(lb_process_is_running(proc.pid, proc.start_time));
    lb_process_release(&proc);
    plan_free(&p);
}

static void expect_exec_failure(struct lb_run_plan *p, int exec_errno, int exit_code,
                                const char *msg)
{
    struct run r;
    run_plan(p, -1, &r);
    if (r.started)
        fail_msg("'%s' started (exit %d, stderr %s)", p->argv[0], r.exit_code, r.errout);
    assert_int_equal(r.exec_errno, exec_errno);
    assert_int_equal(lb_process_exit_code_for(r.exec_errno), exit_code);
    assert_error_contains(r.err, msg);
    run_release(&r);
}

static void test_process__exec_failures_come_back_through_the_pipe(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("no-such-command"));
    expect_exec_failure(&p, ENOENT, 127,
                        "exec: \"no-such-command\": executable file not found in $PATH");
    set_argv(&p, ARGV("/no/such/file"));
    expect_exec_failure(&p, ENOENT, 127, "no such file or directory");
    set_argv(&p, ARGV("/notexec"));
    expect_exec_failure(&p, EACCES, 126, "exec: \"/notexec\": permission denied");
    set_argv(&p, ARGV("/etc"));
    expect_exec_failure(&p, EACCES, 126, "permission denied");

    /* the lookup uses the plan's PATH, not ours (which has /usr/bin) */
    set_argv(&p, ARGV("lb-init", "exit", "0"));
    free(p.env[0]);
    p.env[0] = lb_xstrdup("PATH=/sbin:/nowhere");
    expect_exec_failure(&p, ENOENT, 127, "executable file not found in $PATH");
    free(p.env[0]);
    p.env[0] = lb_xstrdup("PATH=/nowhere:/usr/bin");
    expect_output(&p, "");
    plan_free(&p);
}

static void test_process__a_failing_setup_step_is_reported_with_its_errno(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "exit", "0"));
    add_mount(&p, LB_MOUNT_BIND, "/no/such/volume", "/data", 0, NULL);
    struct run r;
    run_plan(&p, -1, &r);
    assert_false(r.started);
    assert_int_equal(r.exec_errno, 0);
    assert_int_equal(lb_process_exit_code_for(r.exec_errno), 125);
    assert_int_equal(r.err->code, ENOENT);
    assert_error_contains(r.err, "'/no/such/volume'");
    run_release(&r);

    /* an image whose /proc is a symlink is refused */
    _cleanup_free_ char *bad = lb_path_join(g_tmp, "badroot");
    _cleanup_free_ char *cmd = lb_xasprintf("cp -a '%s' '%s' && rmdir '%s/proc' && "
                                            "ln -s /etc '%s/proc'",
                                            g_rootfs, bad, bad, bad);
    assert_int_equal(system(cmd), 0);
    free(p.rootfs);
    p.rootfs = lb_xstrdup(bad);
    run_plan(&p, -1, &r);
    assert_false(r.started);
    assert_error_contains(r.err, "'/proc' is or goes through a symlink");
    run_release(&r);
    plan_free(&p);
}

static void test_process__a_volume_is_bound_and_can_be_read_only(void **state)
{
    (void)state;
    need_rootfs();
    _cleanup_free_ char *vol = lb_path_join(g_tmp, "volume");
    lb_unit_write(vol, "data.txt", "from the host\n", 14);
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "cat", "/mnt/vol/data.txt"));
    add_mount(&p, LB_MOUNT_BIND, vol, "/mnt/vol", MS_RDONLY, NULL);
    expect_output(&p, "from the host\n");
    set_argv(&p, ARGV("lb-init", "write", "/mnt/vol/new", "x"));
    struct run r;
    run_plan(&p, -1, &r);
    assert_int_equal(r.exit_code, 1);
    if (strstr(r.errout, "Read-only file system") == NULL)
        fail_msg("expected EROFS, stderr: %s", r.errout);
    run_release(&r);
    plan_free(&p);
}

static char *read_text(const char *dir, const char *file)
{
    _cleanup_free_ char *path = lb_path_join(dir, file);
    char *text = NULL;
    if (lb_sys_read_file(path, 1 << 16, &text) < 0)
        fail_msg("cannot read '%s': %s", path, strerror(errno));
    return text;
}

static void test_process__limits_are_written_to_the_cgroup_and_removed_after(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "cat", "-"));
    p.memory_bytes = 64 << 20;
    p.pids_limit = 32;
    p.cpu_quota_us = 50000;
    p.cpu_period_us = 100000;
    p.cgroup_name = lb_xasprintf("layerbox-unit-%ld", (long)getpid());

    int in[2], out[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    struct lb_process_opts opts = LB_PROCESS_OPTS_INIT;
    opts.stdin_fd = in[0];
    opts.stdout_fd = out[1];
    struct lb_process proc;
    struct lb_error *err = NULL;
    if (lb_process_start(&proc, &p, &opts, &err) < 0)
        fail_msg("start: %s", err->msg);
    close(in[0]);
    close(out[1]);
    assert_non_null(proc.cgroup.dirs);

    /* the process waits on stdin: its groups can be read while it runs */
    char pid[32];
    snprintf(pid, sizeof(pid), "%ld\n", (long)proc.pid);
    bool mem = false, pids = false, cpu = false;
    for (char **d = proc.cgroup.dirs; *d; d++) {
        assert_true(strstr(*d, p.cgroup_name) != NULL);
        _cleanup_free_ char *procs = read_text(*d, "cgroup.procs");
        assert_string_equal(procs, pid);
        _cleanup_free_ char *mpath = lb_path_join(*d, "memory.limit_in_bytes");
        _cleanup_free_ char *mpath2 = lb_path_join(*d, "memory.max");
        if (lb_path_exists_at(AT_FDCWD, mpath) || lb_path_exists_at(AT_FDCWD, mpath2)) {
            _cleanup_free_ char *v = read_text(
                *d, proc.cgroup.version == LB_CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes");
            assert_string_equal(v, "67108864\n");
            mem = true;
        }
        _cleanup_free_ char *ppath = lb_path_join(*d, "pids.max");
        if (lb_path_exists_at(AT_FDCWD, ppath)) {
            _cleanup_free_ char *v = read_text(*d, "pids.max");
            assert_string_equal(v, "32\n");
            pids = true;
        }
        _cleanup_free_ char *cpath = lb_path_join(*d, "cpu.cfs_quota_us");
        _cleanup_free_ char *cpath2 = lb_path_join(*d, "cpu.max");
        if (proc.cgroup.version == LB_CGROUP_V2 && lb_path_exists_at(AT_FDCWD, cpath2)) {
            _cleanup_free_ char *v = read_text(*d, "cpu.max");
            assert_string_equal(v, "50000 100000\n");
            cpu = true;
        } else if (lb_path_exists_at(AT_FDCWD, cpath)) {
            _cleanup_free_ char *v = read_text(*d, "cpu.cfs_quota_us");
            assert_string_equal(v, "50000\n");
            _cleanup_free_ char *v2 = read_text(*d, "cpu.cfs_period_us");
            assert_string_equal(v2, "100000\n");
            cpu = true;
        }
    }
    assert_true(mem && pids && cpu);
    /* the kernel agrees: the process's own view names our group in each hierarchy */
    _cleanup_free_ char *proc_dir = lb_xasprintf("/proc/%ld", (long)proc.pid);
    _cleanup_free_ char *cg = read_text(proc_dir, "cgroup");
    assert_non_null(strstr(cg, p.cgroup_name));

    assert_int_equal(write(in[1], "bye\n", 4), 4);
    close(in[1]);
    _cleanup_free_ char *text = read_all(out[0]);
    close(out[0]);
    assert_string_equal(text, "bye\n");
    int code = -1;
    assert_int_equal(lb_process_wait(proc.pid, &code, &err), 0);
    assert_int_equal(code, 0);

    char **dirs = NULL;
    for (char **d = proc.cgroup.dirs; *d; d++)
        lb_strv_push(&dirs, *d);
    if (lb_cgroup_destroy(&proc.cgroup, &err) < 0)
        fail_msg("destroy: %s", err->msg);
    assert_null(proc.cgroup.dirs);
    for (char **d = dirs; *d; d++)
        if (lb_path_exists_at(AT_FDCWD, *d))
            fail_msg("cgroup '%s' left behind", *d);
    lb_strv_free(dirs);
    lb_process_release(&proc);
    plan_free(&p);
}

static void test_process__network_none_has_only_lo_and_it_is_up(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "cat", "/sys/class/net/lo/flags"));
    p.clone_flags |= CLONE_NEWNET;
    char flags[16];
    snprintf(flags, sizeof(flags), "0x%x\n", IFF_UP | IFF_LOOPBACK);
    expect_output(&p, flags);
    set_argv(&p, ARGV("lb-init", "ls", "/sys/class/net"));
    expect_output(&p, "lo\n");

    /* /proc/net/dev: two header lines, then one line per interface */
    set_argv(&p, ARGV("lb-init", "cat", "/proc/net/dev"));
    struct run r;
    run_plan(&p, -1, &r);
    assert_int_equal(r.exit_code, 0);
    int lines = 0;
    for (const char *c = r.out; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 3);
    assert_non_null(strstr(r.out, "lo:"));
    run_release(&r);
    plan_free(&p);
}

static bool catches(pid_t pid, int sig)
{
    _cleanup_free_ char *dir = lb_xasprintf("/proc/%ld", (long)pid);
    _cleanup_free_ char *status = read_text(dir, "status");
    const char *line = strstr(status, "SigCgt:");
    if (line == NULL)
        return false;
    unsigned long long mask = strtoull(line + 7, NULL, 16);
    return (mask >> (sig - 1)) & 1;
}

static void test_process__forwards_signals_to_the_container(void **state)
{
    (void)state;
    need_rootfs();
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "trap", "20"));
    int out[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    struct lb_process_opts opts = LB_PROCESS_OPTS_INIT;
    opts.stdout_fd = out[1];
    struct lb_process proc;
    struct lb_error *err = NULL;
    assert_int_equal(lb_process_start(&proc, &p, &opts, &err), 0);
    close(out[1]);
    /* wait until lb-init has its SIGTERM handler (pid 1 ignores signals it does not catch) */
    for (int i = 0; i < 500 && !catches(proc.pid, SIGTERM); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(catches(proc.pid, SIGTERM));
    assert_int_equal(lb_process_forward_signals(proc.pid, &err), 0);
    assert_int_equal(kill(getpid(), SIGTERM), 0); /* we survive: it is forwarded */
    int code = -1;
    assert_int_equal(lb_process_wait(proc.pid, &code, &err), 0);
    lb_process_forward_signals_stop();
    _cleanup_free_ char *text = read_all(out[0]);
    close(out[0]);
    assert_string_equal(text, "caught SIGTERM\n");
    assert_int_equal(code, 0);
    lb_process_release(&proc);
    plan_free(&p);
}

static void test_process__a_tty_plan_gets_the_terminal_on_its_stdio(void **state)
{
    (void)state;
    need_rootfs();
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    assert_true(slave >= 0);
    int errp[2];
    assert_int_equal(pipe2(errp, O_CLOEXEC), 0);
    struct lb_run_plan p;
    plan_docker_default(&p, ARGV("lb-init", "tty"));
    p.tty = true;
    struct lb_process_opts opts = LB_PROCESS_OPTS_INIT;
    opts.stdin_fd = slave;
    opts.stdout_fd = slave;
    opts.stderr_fd = errp[1];
    struct lb_process proc;
    struct lb_error *err = NULL;
    if (lb_process_start(&proc, &p, &opts, &err) < 0)
        fail_msg("start: %s", err->msg); /* TIOCSCTTY would fail here */
    close(errp[1]);
    int code = -1;
    assert_int_equal(lb_process_wait(proc.pid, &code, &err), 0);
    assert_int_equal(code, 0);
    close(slave);
    /* the terminal turns "\n" into "\r\n" (onlcr); at the end the master reads EIO */
    _cleanup_free_ char *text = read_all(master);
    assert_string_equal(text, "0 tty\r\n1 tty\r\n2 notty\r\n");
    close(master);
    close(errp[0]);
    lb_process_release(&proc);
    plan_free(&p);
}

LB_UNIT_MAIN(cmocka_unit_test(test_process__runs_as_pid_1_with_the_plans_hostname),
             cmocka_unit_test(test_process__root_gets_dockers_default_caps_in_every_set),
             cmocka_unit_test(test_process__runs_as_the_plans_user_and_groups_without_caps),
             cmocka_unit_test(test_process__starts_in_the_plans_cwd_and_makes_it_when_missing),
             cmocka_unit_test(test_process__closes_every_inherited_fd_above_2),
             cmocka_unit_test(test_process__mounts_proc_and_masks_and_protects_its_paths),
             cmocka_unit_test(test_process__root_is_the_plans_rootfs_not_the_hosts),
             cmocka_unit_test(test_process__exit_codes_propagate_and_a_signal_is_128_plus_n),
             cmocka_unit_test(test_process__exec_failures_come_back_through_the_pipe),
             cmocka_unit_test(test_process__a_failing_setup_step_is_reported_with_its_errno),
             cmocka_unit_test(test_process__a_volume_is_bound_and_can_be_read_only),
             cmocka_unit_test(test_process__limits_are_written_to_the_cgroup_and_removed_after),
             cmocka_unit_test(test_process__network_none_has_only_lo_and_it_is_up),
             cmocka_unit_test(test_process__forwards_signals_to_the_container),
             cmocka_unit_test(test_process__a_tty_plan_gets_the_terminal_on_its_stdio))
