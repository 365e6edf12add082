/* test_runtime.c — the runtime executor without root: the sys.c funnel's hook, the exit-code
 * mapping, cgroup paths and files in a fake cgroup tree, the capability dance and the rootfs
 * mount sequence as recorded calls (faked, so nothing is mounted), process bookkeeping.
 *
 * The real thing (clone, mounts, pivot_root, cgroups) runs as root in test_process.c. Expected
 * values here are written by hand from the rules: docker's capability numbers, the cgroup v1/v2
 * file names, the order the kernel needs (bounding set before setuid, keep-caps around it). */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/process.h"
#include "runtime/rootfs.h"
#include "runtime/sys.h"

/* --- a recording hook ---------------------------------------------------------------------- */

struct call {
    enum lb_sys_op op;
    char *path;
    char *source;
    char *fstype;
    char *data;
    unsigned long flags;
    long long num;
    uint64_t caps[3];
    gid_t groups[16];
    size_t n_groups;
};

struct rec {
    struct call calls[256];
    size_t n;
    const char *rootfs;     /* /proc/self/fd/N paths under it are recorded relative to it */
    bool pass;              /* run the real calls (default: fake success) */
    bool cgroupfs_rmdir;    /* rmdir removes the control files too, as in a cgroup fs */
    int fail_op;            /* -1: none */
    const char *fail_match; /* only calls whose path or fstype contains this */
    int fail_errno;
    int fail_times; /* how many times (0 = always) */
    int failed;     /* how many times so far */
};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    r->fail_op = -1;
}

static void rec_release(struct rec *r)
{
    lb_sys_set_hook(NULL, NULL);
    for (size_t i = 0; i < r->n; i++) {
        free(r->calls[i].path);
        free(r->calls[i].source);
        free(r->calls[i].fstype);
        free(r->calls[i].data);
    }
    r->n = 0;
}

/* "/proc/self/fd/7" → what it points to, relative to the rootfs ("/proc") when inside it. */
static char *readable_path(const struct rec *r, const char *p)
{
    if (p == NULL)
        return NULL;
    char buf[4096];
    if (lb_str_has_prefix(p, "/proc/self/fd/")) {
        ssize_t n = readlink(p, buf, sizeof(buf) - 1);
        if (n > 0) {
            buf[n] = '\0';
            p = buf;
        }
    }
    size_t rl = r->rootfs ? strlen(r->rootfs) : 0;
    if (p == buf && rl && strncmp(p, r->rootfs, rl) == 0 && (p[rl] == '/' || p[rl] == '\0'))
        return lb_xstrdup(p[rl] ? p + rl : "/");
    return lb_xstrdup(p);
}

static int record(const struct lb_sys_call *c, void *data)
{
    struct rec *r = data;
    if (r->n >= LB_ARRAY_SIZE(r->calls))
        fail_msg("too many calls");
    struct call *k = &r->calls[r->n++];
    k->op = c->op;
    k->path = readable_path(r, c->path);
    k->source = readable_path(r, c->source);
    k->fstype = c->fstype ? lb_xstrdup(c->fstype) : NULL;
    k->data = c->data ? lb_xstrdup(c->data) : NULL;
    k->flags = c->flags;
    k->num = c->num;
    memcpy(k->caps, c->caps, sizeof(k->caps));
    k->n_groups = c->n_groups < 16 ? c->n_groups : 16;
    if (c->groups)
        memcpy(k->groups, c->groups, k->n_groups * sizeof(gid_t));

    if ((int)c->op == r->fail_op &&
        (r->fail_match == NULL || (k->path && strstr(k->path, r->fail_match)) ||
         (k->fstype && strstr(k->fstype, r->fail_match)))) {
        if (r->fail_times == 0 || r->failed < r->fail_times) {
            r->failed++;
            errno = r->fail_errno;
            return -1;
        }
    }
    if (c->op == LB_SYS_CGROUP_RMDIR && r->cgroupfs_rmdir) {
        struct lb_error *e = NULL;
        int rc = lb_rm_tree_at(AT_FDCWD, c->path, &e);
        lb_error_free(e);
        return rc;
    }
    return r->pass ? LB_SYS_PASS : 0;
}

static size_t count_op(const struct rec *r, enum lb_sys_op op)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->calls[i].op == op;
    return n;
}

static char *slurp(const char *path)
{
    char *text = NULL;
    if (lb_sys_read_file(path, 1 << 20, &text) < 0)
        fail_msg("cannot read '%s': %s", path, strerror(errno));
    return text;
}

static char *slurp2(const char *dir, const char *file)
{
    _cleanup_free_ char *p = lb_path_join(dir, file);
    return slurp(p);
}

/* --- sys.c ---------------------------------------------------------------------------------- */

static void test_runtime__sys_hook_sees_calls_and_can_fake_fail_or_pass_them(void **state)
{
    (void)state;
    struct rec r;
    rec_init(&r);
    lb_sys_set_hook(record, &r);

    /* faked: succeeds without touching anything */
    assert_int_equal(lb_sys_mount("src", "/no/such/target", "tmpfs", MS_NOSUID, "size=1k"), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.calls[0].op, LB_SYS_MOUNT);
    assert_string_equal(r.calls[0].source, "src");
    assert_string_equal(r.calls[0].path, "/no/such/target");
    assert_string_equal(r.calls[0].fstype, "tmpfs");
    assert_string_equal(r.calls[0].data, "size=1k");
    assert_int_equal(r.calls[0].flags, MS_NOSUID);

    /* failed by the hook, with its errno */
    r.fail_op = LB_SYS_SETHOSTNAME;
    r.fail_errno = EROFS;
    errno = 0;
    assert_int_equal(lb_sys_sethostname("x"), -1);
    assert_int_equal(errno, EROFS);
    assert_string_equal(r.calls[1].path, "x");

    /* passed to the kernel: the real errno comes back */
    r.pass = true;
    assert_int_equal(lb_sys_umount2("/no/such/target/for/layerbox", 0), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(r.calls[2].op, LB_SYS_UMOUNT2);

    /* clone can be failed but not faked */
    r.pass = false;
    r.fail_op = LB_SYS_CLONE;
    r.fail_errno = EAGAIN;
    assert_int_equal(lb_sys_clone(CLONE_NEWNS), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(r.calls[3].flags, CLONE_NEWNS);

    /* the other wrappers record their arguments */
    r.fail_op = -1;
    gid_t g[2] = {10, 20};
    assert_int_equal(lb_sys_setgroups(2, g), 0);
    assert_int_equal(lb_sys_setresuid(1234), 0);
    assert_int_equal(lb_sys_capset(1, 2, 4), 0);
    assert_int_equal(lb_sys_setns(42, CLONE_NEWNET), 0);
    assert_int_equal(lb_sys_unshare(CLONE_NEWUTS), 0);
    assert_int_equal(lb_sys_pivot_root("new", "old"), 0);
    assert_int_equal(lb_sys_link_up("lo"), 0);
    struct call *c = &r.calls[4];
    assert_int_equal(c[0].n_groups, 2);
    assert_int_equal(c[0].groups[1], 20);
    assert_int_equal(c[1].num, 1234);
    assert_true(c[2].caps[0] == 1 && c[2].caps[1] == 2 && c[2].caps[2] == 4);
    assert_int_equal(c[3].num, 42);
    assert_int_equal(c[3].flags, CLONE_NEWNET);
    assert_int_equal(c[4].flags, CLONE_NEWUTS);
    assert_string_equal(c[5].path, "new");
    assert_string_equal(c[5].source, "old");
    assert_string_equal(c[6].path, "lo");
    assert_string_equal(lb_sys_op_name(LB_SYS_PIVOT_ROOT), "pivot_root");
    assert_string_equal(lb_sys_op_name(LB_SYS_CGROUP_WRITE), "cgroup_write");
    rec_release(&r);

    /* no hook: the real call (unprivileged-safe: a missing mount point) */
    assert_int_equal(lb_sys_umount2("/no/such/target/for/layerbox", 0), -1);
    assert_int_equal(errno, ENOENT);
}

static void test_runtime__sys_cgroup_write_replaces_the_file_in_one_write(void **state)
{
    (void)state;
    char *dir = lb_unit_mkdtemp();
    _cleanup_free_ char *f = lb_path_join(dir, "pids.max");
    assert_int_equal(lb_sys_cgroup_write(f, "12345"), 0);
    assert_int_equal(lb_sys_cgroup_write(f, "7"), 0);
    _cleanup_free_ char *text = slurp(f);
    assert_string_equal(text, "7");
    /* a symlink is never followed */
    _cleanup_free_ char *link = lb_path_join(dir, "link");
    assert_int_equal(symlink(f, link), 0);
    assert_int_equal(lb_sys_cgroup_write(link, "9"), -1);
    assert_int_equal(errno, ELOOP);
    _cleanup_free_ char *missing = lb_path_join(dir, "no/such/file");
    assert_int_equal(lb_sys_cgroup_write(missing, "1"), -1);
    assert_int_equal(errno, ENOENT);
    lb_unit_rmdir(dir);
}

static void test_runtime__sys_read_file_reads_kernel_files_of_size_0(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat("/proc/self/status", &st), 0);
    assert_int_equal(st.st_size, 0); /* why lb_read_file_at cannot be used */
    char *text = NULL;
    assert_int_equal(lb_sys_read_file("/proc/self/status", 1 << 20, &text), 0);
    assert_non_null(strstr(text, "\nCapBnd:"));
    free(text);
    assert_int_equal(lb_sys_read_file("/proc/self/status", 10, &text), -1);
    assert_int_equal(errno, EFBIG);
    assert_null(text);
    assert_int_equal(lb_sys_read_file("/no/such/file", 10, &text), -1);
    assert_int_equal(errno, ENOENT);
}

/* --- exit codes ---------------------------------------------------------------------------- */

static void test_runtime__exit_code_is_127_not_found_126_not_executable_else_125(void **state)
{
    (void)state;
    assert_int_equal(lb_process_exit_code_for(ENOENT), 127);
    assert_int_equal(lb_process_exit_code_for(EACCES), 126);
    assert_int_equal(lb_process_exit_code_for(ENOEXEC), 126);
    assert_int_equal(lb_process_exit_code_for(0), 125);
    assert_int_equal(lb_process_exit_code_for(EPERM), 125);
    assert_int_equal(lb_process_exit_code_for(ENOMEM), 125);
    assert_int_equal(lb_process_exit_code_for(E2BIG), 125);
}

/* --- cgroups in a fake tree ---------------------------------------------------------------- */

/* This machine's /proc/self/cgroup shape: v1 controllers, an empty v2 line. */
static const char hybrid_self[] = "9:name=systemd:/\n"
                                  "8:pids:/\n"
                                  "4:memory:/process_api/abc\n"
                                  "2:cpuacct:/\n"
                                  "1:cpu:/\n"
                                  "0::/\n";

static void mkdirs(const char *root, const char *rel)
{
    _cleanup_free_ char *p = lb_path_join(root, rel);
    struct lb_error *e = NULL;
    if (lb_mkdir_p(p, 0755, &e) < 0)
        fail_msg("%s", e->msg);
}

static void limits(struct lb_run_plan *p, const char *name, int64_t mem, int64_t pids,
                   int64_t quota)
{
    memset(p, 0, sizeof(*p));
    p->cgroup_name = (char *)name;
    p->memory_bytes = mem;
    p->pids_limit = pids;
    p->cpu_quota_us = quota;
    p->cpu_period_us = quota ? 100000 : 0;
}

static void test_runtime__cgroup_v1_groups_nest_under_our_own_and_hold_the_limits(void **state)
{
    (void)state;
    char *root = lb_unit_mkdtemp();
    mkdirs(root, "memory/process_api/abc");
    mkdirs(root, "pids");
    mkdirs(root, "cpu");
    struct rec r;
    rec_init(&r);
    r.pass = true;
    r.cgroupfs_rmdir = true;
    lb_sys_set_hook(record, &r);

    struct lb_run_plan p;
    limits(&p, "layerbox-t1", 64 << 20, 50, 25000);
    struct lb_cgroup cg;
    struct lb_error *err = NULL;
    if (lb_cgroup_create(&cg, root, hybrid_self, &p, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(cg.version, LB_CGROUP_V1);
    assert_int_equal(lb_strv_len(cg.dirs), 3);
    _cleanup_free_ char *mem = lb_xasprintf("%s/memory/process_api/abc/layerbox-t1", root);
    _cleanup_free_ char *pids = lb_xasprintf("%s/pids/layerbox-t1", root);
    _cleanup_free_ char *cpu = lb_xasprintf("%s/cpu/layerbox-t1", root);
    assert_string_equal(cg.dirs[0], mem);
    assert_string_equal(cg.dirs[1], pids);
    assert_string_equal(cg.dirs[2], cpu);

    _cleanup_free_ char *v1 = slurp2(mem, "memory.limit_in_bytes");
    assert_string_equal(v1, "67108864");
    _cleanup_free_ char *v2 = slurp2(pids, "pids.max");
    assert_string_equal(v2, "50");
    _cleanup_free_ char *v3 = slurp2(cpu, "cpu.cfs_quota_us");
    assert_string_equal(v3, "25000");
    _cleanup_free_ char *v4 = slurp2(cpu, "cpu.cfs_period_us");
    assert_string_equal(v4, "100000");
    assert_int_equal(count_op(&r, LB_SYS_CGROUP_MKDIR), 3);

    assert_int_equal(lb_cgroup_add_pid(&cg, 4242, &err), 0);
    for (char **d = cg.dirs; *d; d++) {
        _cleanup_free_ char *procs = slurp2(*d, "cgroup.procs");
        assert_string_equal(procs, "4242");
    }

    assert_int_equal(lb_cgroup_destroy(&cg, &err), 0);
    assert_null(cg.dirs);
    assert_int_equal(cg.version, LB_CGROUP_NONE);
    assert_false(lb_path_exists_at(AT_FDCWD, mem));
    assert_false(lb_path_exists_at(AT_FDCWD, pids));
    assert_false(lb_path_exists_at(AT_FDCWD, cpu));
    _cleanup_free_ char *own = lb_xasprintf("%s/memory/process_api/abc", root);
    assert_true(lb_path_exists_at(AT_FDCWD, own)); /* ours stays */
    rec_release(&r);
    lb_unit_rmdir(root);
}

static void test_runtime__cgroup_only_needed_controllers_and_none_without_limits(void **state)
{
    (void)state;
    char *root = lb_unit_mkdtemp();
    mkdirs(root, "memory/process_api/abc");
    mkdirs(root, "pids");
    /* cpu and cpuacct mounted together, without a "cpu" symlink */
    mkdirs(root, "cpu,cpuacct");
    const char *self = "8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/lb\n";
    mkdirs(root, "cpu,cpuacct/lb");
    struct rec r;
    rec_init(&r);
    r.pass = true;
    r.cgroupfs_rmdir = true;
    lb_sys_set_hook(record, &r);
    struct lb_error *err = NULL;
    struct lb_cgroup cg;
    struct lb_run_plan p;

    limits(&p, "layerbox-none", 0, 0, 0);
    assert_int_equal(lb_cgroup_create(&cg, root, self, &p, &err), 0);
    assert_int_equal(cg.version, LB_CGROUP_NONE);
    assert_null(cg.dirs);
    assert_int_equal(r.n, 0); /* nothing made, nothing written */
    assert_int_equal(lb_cgroup_add_pid(&cg, 1, &err), 0);
    assert_int_equal(lb_cgroup_destroy(&cg, &err), 0);

    limits(&p, "layerbox-cpu", 0, 0, 150000);
    assert_int_equal(lb_cgroup_create(&cg, root, self, &p, &err), 0);
    assert_int_equal(lb_strv_len(cg.dirs), 1);
    _cleanup_free_ char *cpu = lb_xasprintf("%s/cpu,cpuacct/lb/layerbox-cpu", root);
    assert_string_equal(cg.dirs[0], cpu);
    _cleanup_free_ char *q = slurp2(cpu, "cpu.cfs_quota_us");
    assert_string_equal(q, "150000");
    assert_int_equal(lb_cgroup_destroy(&cg, &err), 0);
    rec_release(&r);
    lb_unit_rmdir(root);
}

static void test_runtime__cgroup_v2_when_its_root_lists_the_controllers(void **state)
{
    (void)state;
    char *root = lb_unit_mkdtemp();
    lb_unit_write(root, "cgroup.controllers", "cpuset cpu io memory pids\n", 26);
    lb_unit_write(root, "cgroup.subtree_control", "cpu\n", 4);
    struct rec r;
    rec_init(&r);
    r.pass = true;
    r.cgroupfs_rmdir = true;
    lb_sys_set_hook(record, &r);
    struct lb_run_plan p;
    limits(&p, "layerbox-v2", 1 << 30, 7, 50000);
    struct lb_cgroup cg;
    struct lb_error *err = NULL;
    if (lb_cgroup_create(&cg, root, "0::/user.slice/session-1.scope\n", &p, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(cg.version, LB_CGROUP_V2);
    assert_int_equal(lb_strv_len(cg.dirs), 1);
    _cleanup_free_ char *dir = lb_path_join(root, "layerbox-v2");
    assert_string_equal(cg.dirs[0], dir);
    /* only the controllers not enabled yet, in one write */
    _cleanup_free_ char *sub = slurp2(root, "cgroup.subtree_control");
    assert_string_equal(sub, "+memory +pids");
    _cleanup_free_ char *m = slurp2(dir, "memory.max");
    assert_string_equal(m, "1073741824");
    _cleanup_free_ char *pm = slurp2(dir, "pids.max");
    assert_string_equal(pm, "7");
    _cleanup_free_ char *c = slurp2(dir, "cpu.max");
    assert_string_equal(c, "50000 100000");
    assert_int_equal(lb_cgroup_add_pid(&cg, 99, &err), 0);
    _cleanup_free_ char *procs = slurp2(dir, "cgroup.procs");
    assert_string_equal(procs, "99");
    assert_int_equal(lb_cgroup_destroy(&cg, &err), 0);
    assert_false(lb_path_exists_at(AT_FDCWD, dir));
    rec_release(&r);

    /* a v2 root without the memory controller (this machine's hybrid case): v1, which is
     * missing here too → a clear error naming the controller */
    lb_unit_write(root, "cgroup.controllers", "\n", 1);
    err = NULL;
    assert_int_equal(lb_cgroup_create(&cg, root, "0::/\n", &p, &err), -1);
    assert_error_contains(err, "the memory cgroup controller is not available");
    assert_int_equal(cg.version, LB_CGROUP_NONE);
    assert_null(cg.dirs);
    lb_unit_rmdir(root);
}

static void test_runtime__cgroup_failures_leave_nothing_behind(void **state)
{
    (void)state;
    char *root = lb_unit_mkdtemp();
    mkdirs(root, "memory/process_api/abc");
    mkdirs(root, "pids");
    mkdirs(root, "cpu");
    struct rec r;
    rec_init(&r);
    r.pass = true;
    r.cgroupfs_rmdir = true;
    lb_sys_set_hook(record, &r);
    struct lb_run_plan p;
    struct lb_cgroup cg;
    struct lb_error *err = NULL;
    _cleanup_free_ char *mem = lb_xasprintf("%s/memory/process_api/abc/layerbox-f", root);

    /* the kernel refuses a limit: the memory group made first is removed again */
    limits(&p, "layerbox-f", 64 << 20, 50, 0);
    r.fail_op = LB_SYS_CGROUP_WRITE;
    r.fail_match = "pids.max";
    r.fail_errno = EINVAL;
    assert_int_equal(lb_cgroup_create(&cg, root, hybrid_self, &p, &err), -1);
    assert_int_equal(err->code, EINVAL);
    assert_error_contains(err, "pids.max");
    assert_null(cg.dirs);
    assert_false(lb_path_exists_at(AT_FDCWD, mem));
    assert_int_equal(count_op(&r, LB_SYS_CGROUP_RMDIR), 2);

    /* mkdir refused */
    r.fail_op = LB_SYS_CGROUP_MKDIR;
    r.fail_match = NULL;
    r.fail_errno = EACCES;
    assert_int_equal(lb_cgroup_create(&cg, root, hybrid_self, &p, &err), -1);
    assert_int_equal(err->code, EACCES);
    assert_error_contains(err, "cannot create cgroup");
    r.fail_op = -1;

    /* our own group does not exist where /proc/self/cgroup says */
    assert_int_equal(lb_cgroup_create(&cg, root, "4:memory:/gone\n", &p, &err), -1);
    assert_error_contains(err, "cannot find our own memory cgroup");

    /* a name that is a path */
    limits(&p, "../escape", 1 << 20, 0, 0);
    assert_int_equal(lb_cgroup_create(&cg, root, hybrid_self, &p, &err), -1);
    assert_error_contains(err, "bad cgroup name '../escape'");
    limits(&p, NULL, 1 << 20, 0, 0);
    assert_int_equal(lb_cgroup_create(&cg, root, hybrid_self, &p, &err), -1);
    assert_error_contains(err, "bad cgroup name");
    rec_release(&r);
    lb_unit_rmdir(root);
}

static void test_runtime__cgroup_destroy_kills_what_is_left_and_retries(void **state)
{
    (void)state;
    char *root = lb_unit_mkdtemp();
    mkdirs(root, "pids");
    struct rec r;
    rec_init(&r);
    r.pass = true;
    r.cgroupfs_rmdir = true;
    lb_sys_set_hook(record, &r);
    struct lb_run_plan p;
    limits(&p, "layerbox-busy", 0, 10, 0);
    struct lb_cgroup cg;
    struct lb_error *err = NULL;
    assert_int_equal(lb_cgroup_create(&cg, root, "8:pids:/\n", &p, &err), 0);

    /* a process still in the group: rmdir says EBUSY until it is gone */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pause();
        _exit(0);
    }
    assert_int_equal(lb_cgroup_add_pid(&cg, child, &err), 0);
    r.fail_op = LB_SYS_CGROUP_RMDIR;
    r.fail_errno = EBUSY;
    r.fail_times = 2;
    _cleanup_free_ char *dir = lb_xstrdup(cg.dirs[0]);
    assert_int_equal(lb_cgroup_destroy(&cg, &err), 0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_false(lb_path_exists_at(AT_FDCWD, dir));
    assert_int_equal(count_op(&r, LB_SYS_CGROUP_RMDIR), 3);

    /* a group that will not go: the error, and the path kept for a retry */
    assert_int_equal(lb_cgroup_create(&cg, root, "8:pids:/\n", &p, &err), 0);
    r.fail_op = LB_SYS_CGROUP_RMDIR;
    r.fail_errno = EPERM;
    r.fail_times = 0;
    assert_int_equal(lb_cgroup_destroy(&cg, &err), -1);
    assert_error_contains(err, "cannot remove cgroup");
    assert_int_equal(lb_strv_len(cg.dirs), 1);
    r.fail_op = -1;
    assert_int_equal(lb_cgroup_destroy(&cg, &err), 0);
    assert_null(cg.dirs);
    rec_release(&r);
    lb_unit_rmdir(root);
}

/* --- capabilities -------------------------------------------------------------------------- */

static uint64_t status_field(const char *field)
{
    _cleanup_free_ char *status = slurp("/proc/self/status");
    char key[32];
    snprintf(key, sizeof(key), "\n%s:", field);
    const char *line = strstr(status, key);
    assert_non_null(line);
    unsigned long long v = 0;
    assert_int_equal(sscanf(line + strlen(key), " %llx", &v), 1);
    return (uint64_t)v;
}

static int last_cap_by_hand(void)
{
    _cleanup_free_ char *t = slurp("/proc/sys/kernel/cap_last_cap");
    return atoi(t);
}

static void test_runtime__caps_masks_cover_the_kernels_capabilities(void **state)
{
    (void)state;
    assert_true(lb_caps_all(40) == UINT64_C(0x1ffffffffff));
    assert_true(lb_caps_all(0) == 1);
    assert_true(lb_caps_all(63) == UINT64_MAX);
    assert_int_equal(lb_caps_last_cap(), last_cap_by_hand());
    assert_true(lb_caps_bounding(lb_caps_last_cap()) == status_field("CapBnd"));
    /* drop = what is there and not kept, within the known range */
    assert_true(lb_caps_to_drop(0x5, 0xf, 3) == 0xa);
    assert_true(lb_caps_to_drop(0x0, UINT64_MAX, 3) == 0xf);
    assert_true(lb_caps_to_drop(0xf, 0x3, 3) == 0x0);

    uint64_t v = 0;
    struct lb_error *err = NULL;
    const char *status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\n";
    assert_int_equal(lb_caps_from_status(status, "CapEff", &v, &err), 0);
    assert_true(v == LB_CAPS_DOCKER_DEFAULT);
    assert_int_equal(lb_caps_from_status(status, "CapInh", &v, &err), 0);
    assert_true(v == 0);
    assert_int_equal(lb_caps_from_status(status, "CapBnd", &v, &err), -1);
    assert_error_contains(err, "no 'CapBnd' line");
    assert_int_equal(lb_caps_from_status("CapEff:\tzz\n", "CapEff", &v, &err), -1);
    assert_error_contains(err, "bad 'CapEff' line");
}

static void test_runtime__caps_dance_drops_bounding_first_then_user_then_capset(void **state)
{
    (void)state;
    struct rec r;
    rec_init(&r);
    lb_sys_set_hook(record, &r); /* everything faked: this process keeps its powers */
    struct lb_run_plan p;
    memset(&p, 0, sizeof(p));
    p.uid = 1000;
    p.gid = 1001;
    gid_t groups[] = {1001, 27};
    p.groups = groups;
    p.n_groups = 2;
    p.caps = LB_CAPS_DOCKER_DEFAULT;
    p.no_new_privs = true;
    struct lb_error *err = NULL;
    if (lb_caps_apply(&p, &err) < 0)
        fail_msg("%s", err->msg);

    int last = last_cap_by_hand();
    uint64_t all = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
    uint64_t expect_drop = status_field("CapBnd") & ~LB_CAPS_DOCKER_DEFAULT & all;
    size_t i = 0;
    uint64_t dropped = 0;
    int prev = -1;
    for (; i < r.n && r.calls[i].op == LB_SYS_CAPBSET_DROP; i++) {
        assert_true(r.calls[i].num > prev); /* each once, in order */
        prev = (int)r.calls[i].num;
        dropped |= UINT64_C(1) << r.calls[i].num;
    }
    if (dropped != expect_drop)
        fail_msg("dropped %016" PRIx64 ", expected %016" PRIx64, dropped, expect_drop);
    assert_false(dropped & (UINT64_C(1) << CAP_SETPCAP)); /* docker keeps it */
    assert_true(dropped & (UINT64_C(1) << CAP_SYS_ADMIN));

    static const enum lb_sys_op order[] = {
        LB_SYS_SET_KEEPCAPS, LB_SYS_SETGROUPS,     LB_SYS_SETRESGID,    LB_SYS_SETRESUID,
        LB_SYS_CAPSET,       LB_SYS_AMBIENT_CLEAR, LB_SYS_SET_KEEPCAPS, LB_SYS_NO_NEW_PRIVS};
    assert_int_equal(r.n - i, LB_ARRAY_SIZE(order));
    for (size_t k = 0; k < LB_ARRAY_SIZE(order); k++)
        if (r.calls[i + k].op != order[k])
            fail_msg("call %zu is %s, expected %s", k, lb_sys_op_name(r.calls[i + k].op),
                     lb_sys_op_name(order[k]));
    struct call *c = &r.calls[i];
    assert_int_equal(c[0].num, 1);
    assert_int_equal(c[1].n_groups, 2);
    assert_int_equal(c[1].groups[0], 1001);
    assert_int_equal(c[1].groups[1], 27);
    assert_int_equal(c[2].num, 1001);
    assert_int_equal(c[3].num, 1000);
    assert_true(c[4].caps[0] == LB_CAPS_DOCKER_DEFAULT); /* permitted */
    assert_true(c[4].caps[1] == LB_CAPS_DOCKER_DEFAULT); /* effective */
    assert_true(c[4].caps[2] == 0);                      /* inheritable */
    assert_int_equal(c[6].num, 0);
    rec_release(&r);

    /* without no_new_privs, no prctl for it; caps beyond the kernel's are not asked for */
    rec_init(&r);
    lb_sys_set_hook(record, &r);
    p.no_new_privs = false;
    p.caps = UINT64_MAX;
    assert_int_equal(lb_caps_apply(&p, &err), 0);
    assert_int_equal(count_op(&r, LB_SYS_NO_NEW_PRIVS), 0);
    assert_int_equal(count_op(&r, LB_SYS_CAPBSET_DROP), 0);
    for (size_t k = 0; k < r.n; k++)
        if (r.calls[k].op == LB_SYS_CAPSET)
            assert_true(r.calls[k].caps[0] == all);
    rec_release(&r);
}

static void test_runtime__caps_dance_stops_at_the_first_failure(void **state)
{
    (void)state;
    struct rec r;
    rec_init(&r);
    r.fail_op = LB_SYS_SETRESUID;
    r.fail_errno = EPERM;
    lb_sys_set_hook(record, &r);
    struct lb_run_plan p;
    memset(&p, 0, sizeof(p));
    p.uid = 1000;
    p.caps = LB_CAPS_DOCKER_DEFAULT;
    struct lb_error *err = NULL;
    assert_int_equal(lb_caps_apply(&p, &err), -1);
    assert_int_equal(err->code, EPERM);
    assert_error_contains(err, "cannot set uid 1000");
    assert_int_equal(count_op(&r, LB_SYS_CAPSET), 0);
    rec_release(&r);

    rec_init(&r);
    r.fail_op = LB_SYS_CAPBSET_DROP;
    r.fail_errno = EPERM;
    lb_sys_set_hook(record, &r);
    if (lb_caps_to_drop(p.caps, lb_caps_bounding(lb_caps_last_cap()), lb_caps_last_cap()) != 0) {
        assert_int_equal(lb_caps_apply(&p, &err), -1);
        assert_error_contains(err, "from the bounding set");
        assert_int_equal(count_op(&r, LB_SYS_SETRESUID), 0);
    }
    rec_release(&r);

    /* a kernel without ambient capabilities (EINVAL) is fine */
    rec_init(&r);
    r.fail_op = LB_SYS_AMBIENT_CLEAR;
    r.fail_errno = EINVAL;
    lb_sys_set_hook(record, &r);
    assert_int_equal(lb_caps_apply(&p, &err), 0);
    rec_release(&r);
}

/* --- rootfs, recorded ---------------------------------------------------------------------- */

struct rootfs_fx {
    char *tmp;
    char *root;
    char *vol;
    int cwd;
};

/* Every rootfs test fakes its mounts with the hook. As a safety net for a test that forgets
 * (or a bug that bypasses the hook), root moves this test process into a private mount
 * namespace of its own first: no real mount could then reach the machine's table. */
static void private_mount_namespace(void)
{
    static bool done;
    if (done || geteuid() != 0)
        return;
    if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
        fail_msg("cannot make a private mount namespace: %s", strerror(errno));
    done = true;
}

static void rootfs_fx_init(struct rootfs_fx *f)
{
    private_mount_namespace();
    f->tmp = lb_unit_mkdtemp();
    f->root = lb_path_join(f->tmp, "root");
    f->vol = lb_path_join(f->tmp, "vol");
    mkdirs(f->root, "proc/acpi");
    mkdirs(f->root, "proc/sys");
    mkdirs(f->root, "run");
    mkdirs(f->root, "dev");
    mkdirs(f->root, "var");
    mkdirs(f->tmp, "vol");
    lb_unit_write(f->root, "proc/keys", "", 0);
    _cleanup_free_ char *varrun = lb_path_join(f->root, "var/run");
    assert_int_equal(symlink("../run", varrun), 0);
    _cleanup_free_ char *evil = lb_path_join(f->root, "evil");
    assert_int_equal(symlink("../../../../../..", evil), 0);
    f->cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->cwd >= 0);
}

static void rootfs_fx_release(struct rootfs_fx *f)
{
    assert_int_equal(fchdir(f->cwd), 0); /* setup chdir'ed into the rootfs for real */
    close(f->cwd);
    lb_unit_rmdir(f->tmp);
    free(f->root);
    free(f->vol);
}

static void add_mount(struct lb_run_plan *p, enum lb_mount_kind kind, const char *source,
                      const char *target, unsigned long flags, const char *data)
{
    p->mounts = lb_xrealloc(p->mounts, (p->n_mounts + 1) * sizeof(*p->mounts));
    struct lb_mount_spec *m = &p->mounts[p->n_mounts++];
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->source = (char *)source;
    m->target = (char *)target;
    m->flags = flags;
    m->data = (char *)data;
}

static void rootfs_plan(struct lb_run_plan *p, const struct rootfs_fx *f)
{
    memset(p, 0, sizeof(*p));
    p->rootfs = f->root;
    p->cwd = (char *)"/work/dir";
    p->readonly_rootfs = true;
    add_mount(p, LB_MOUNT_PROC, NULL, "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    add_mount(p, LB_MOUNT_TMPFS, NULL, "/dev", MS_NOSUID, "mode=755");
    add_mount(p, LB_MOUNT_DEVPTS, NULL, "/dev/pts", 0, NULL);
    add_mount(p, LB_MOUNT_SYSFS, NULL, "/sys", MS_NOSUID, NULL);
    add_mount(p, LB_MOUNT_DEVICE, "/dev/null", "/dev/null", 0, NULL);
    add_mount(p, LB_MOUNT_BIND, f->vol, "/var/run/vol", MS_RDONLY, NULL);
    add_mount(p, LB_MOUNT_BIND, f->vol, "/evil/x", 0, NULL);
    static char *masked[] = {"/proc/keys", "/proc/acpi", "/proc/missing", NULL};
    static char *ro[] = {"/proc/sys", "/proc/nothere/either", NULL};
    p->masked_paths = masked;
    p->readonly_paths = ro;
}

static void expect_mount(const struct call *c, const char *source, const char *target,
                         const char *fstype, unsigned long flags, const char *data)
{
    if (c->op != LB_SYS_MOUNT)
        fail_msg("expected mount on '%s', got %s '%s'", target, lb_sys_op_name(c->op),
                 c->path ? c->path : "");
    if (source == NULL ? c->source != NULL : (c->source == NULL || strcmp(source, c->source)))
        fail_msg("mount on '%s': source '%s', expected '%s'", target, c->source, source);
    if (strcmp(c->path, target) != 0)
        fail_msg("mount target '%s', expected '%s'", c->path, target);
    if (fstype == NULL ? c->fstype != NULL : (c->fstype == NULL || strcmp(fstype, c->fstype)))
        fail_msg("mount on '%s': type '%s', expected '%s'", target, c->fstype, fstype);
    if ((c->flags & flags) != flags)
        fail_msg("mount on '%s': flags %#lx lack %#lx", target, c->flags, flags);
    if (data == NULL ? c->data != NULL : (c->data == NULL || strcmp(data, c->data)))
        fail_msg("mount on '%s': data '%s', expected '%s'", target, c->data, data);
}

static char *link_of(const char *dir, const char *name)
{
    _cleanup_free_ char *p = lb_path_join(dir, name);
    char buf[256];
    ssize_t n = readlink(p, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return lb_xstrdup(buf);
}

static void rootfs_sequence(bool hand_walk)
{
    if (hand_walk)
        setenv("LB_SAFEPATH_NO_OPENAT2", "1", 1);
    struct rootfs_fx f;
    rootfs_fx_init(&f);
    struct rec r;
    rec_init(&r);
    r.rootfs = f.root;
    lb_sys_set_hook(record, &r);
    struct lb_run_plan p;
    rootfs_plan(&p, &f);
    struct lb_error *err = NULL;
    if (lb_rootfs_setup(&p, &err) < 0)
        fail_msg("%s", err->msg);

    const unsigned long NSD = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    struct call *c = r.calls;
    size_t i = 0;
    assert_true(r.n >= 17);
    expect_mount(&c[i++], NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    assert_true(c[0].flags == (MS_REC | MS_PRIVATE));
    expect_mount(&c[i++], f.root, f.root, NULL, MS_BIND | MS_REC, NULL);
    expect_mount(&c[i++], "proc", "/proc", "proc", NSD, NULL);
    expect_mount(&c[i++], "tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755");
    expect_mount(&c[i++], "devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666,mode=0620");
    expect_mount(&c[i++], "sysfs", "/sys", "sysfs", MS_NOSUID | MS_RDONLY, NULL);
    expect_mount(&c[i++], "/dev/null", "/dev/null", NULL, MS_BIND, NULL);
    /* a volume through the image's symlink var/run → ../run, resolved inside the root */
    expect_mount(&c[i++], f.vol, "/run/vol", NULL, MS_BIND, NULL);
    expect_mount(&c[i++], NULL, "/run/vol", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
    /* a symlink pointing far above the root stops at the root */
    expect_mount(&c[i++], f.vol, "/x", NULL, MS_BIND, NULL);
    expect_mount(&c[i++], "/proc/sys", "/proc/sys", NULL, MS_BIND | MS_REC, NULL);
    expect_mount(&c[i++], NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
    expect_mount(&c[i++], "/dev/null", "/proc/keys", NULL, MS_BIND, NULL);
    expect_mount(&c[i++], "tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, NULL);
    assert_int_equal(c[i].op, LB_SYS_PIVOT_ROOT);
    assert_string_equal(c[i].path, ".");
    assert_string_equal(c[i].source, ".");
    i++;
    assert_int_equal(c[i].op, LB_SYS_UMOUNT2);
    assert_string_equal(c[i].path, ".");
    assert_int_equal(c[i].flags, MNT_DETACH);
    i++;
    expect_mount(&c[i++], NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
    assert_int_equal(i, r.n);

    /* what was made inside the rootfs, and nothing outside it */
    struct stat st;
    _cleanup_free_ char *pts = lb_path_join(f.root, "dev/pts");
    assert_int_equal(lstat(pts, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    _cleanup_free_ char *null = lb_path_join(f.root, "dev/null");
    assert_int_equal(lstat(null, &st), 0);
    assert_true(S_ISREG(st.st_mode)); /* a file to bind the device onto */
    _cleanup_free_ char *vol = lb_path_join(f.root, "run/vol");
    assert_int_equal(lstat(vol, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    _cleanup_free_ char *x = lb_path_join(f.root, "x");
    assert_int_equal(lstat(x, &st), 0);
    _cleanup_free_ char *outside = lb_path_join(f.tmp, "x");
    assert_false(lb_path_exists_at(AT_FDCWD, outside));
    assert_false(lb_path_exists_at(AT_FDCWD, "/x"));
    _cleanup_free_ char *work = lb_path_join(f.root, "work/dir");
    assert_int_equal(lstat(work, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    _cleanup_free_ char *dev = lb_path_join(f.root, "dev");
    static const char *const links[][2] = {{"fd", "/proc/self/fd"},
                                           {"stdin", "/proc/self/fd/0"},
                                           {"stdout", "/proc/self/fd/1"},
                                           {"stderr", "/proc/self/fd/2"},
                                           {"ptmx", "pts/ptmx"}};
    for (size_t k = 0; k < LB_ARRAY_SIZE(links); k++) {
        _cleanup_free_ char *t = link_of(dev, links[k][0]);
        if (t == NULL || strcmp(t, links[k][1]) != 0)
            fail_msg("/dev/%s → '%s', expected '%s'", links[k][0], t, links[k][1]);
    }
    _cleanup_free_ char *core = link_of(dev, "core");
    if (access("/proc/kcore", F_OK) == 0)
        assert_string_equal(core, "/proc/kcore");
    else
        assert_null(core);

    rec_release(&r);
    free(p.mounts);
    rootfs_fx_release(&f);
    unsetenv("LB_SAFEPATH_NO_OPENAT2");
}

static void test_runtime__rootfs_mounts_in_order_inside_the_root_then_pivots(void **state)
{
    (void)state;
    rootfs_sequence(false);
}

static void test_runtime__rootfs_hand_walk_resolves_like_openat2(void **state)
{
    (void)state;
    rootfs_sequence(true);
}

static void rootfs_refuses_symlinked_proc(bool hand_walk)
{
    if (hand_walk)
        setenv("LB_SAFEPATH_NO_OPENAT2", "1", 1);
    struct rootfs_fx f;
    rootfs_fx_init(&f);
    _cleanup_free_ char *proc = lb_path_join(f.root, "proc");
    _cleanup_free_ char *cmd = lb_xasprintf("rm -rf '%s'", proc);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(symlink("/etc", proc), 0);
    struct rec r;
    rec_init(&r);
    r.rootfs = f.root;
    lb_sys_set_hook(record, &r);
    struct lb_run_plan p;
    rootfs_plan(&p, &f);
    struct lb_error *err = NULL;
    assert_int_equal(lb_rootfs_setup(&p, &err), -1);
    assert_error_contains(err, "'/proc' is or goes through a symlink in the image (refused)");
    assert_int_equal(r.n, 2); /* private, bind of the root; nothing mounted on the link */
    assert_int_equal(count_op(&r, LB_SYS_PIVOT_ROOT), 0);

    /* a symlink in the middle of a system path too */
    assert_int_equal(unlink(proc), 0);
    mkdirs(f.root, "real");
    assert_int_equal(symlink("real", proc), 0);
    rec_release(&r);
    rec_init(&r);
    lb_sys_set_hook(record, &r);
    free(p.mounts);
    memset(&p, 0, sizeof(p));
    p.rootfs = f.root;
    add_mount(&p, LB_MOUNT_TMPFS, NULL, "/proc/sub", 0, NULL);
    assert_int_equal(lb_rootfs_setup(&p, &err), -1);
    assert_error_contains(err, "'/proc/sub' is or goes through a symlink");
    rec_release(&r);
    free(p.mounts);
    rootfs_fx_release(&f);
    unsetenv("LB_SAFEPATH_NO_OPENAT2");
}

static void test_runtime__rootfs_refuses_an_image_whose_proc_is_a_symlink(void **state)
{
    (void)state;
    rootfs_refuses_symlinked_proc(false);
    rootfs_refuses_symlinked_proc(true);
}

static void test_runtime__rootfs_reports_the_failing_mount(void **state)
{
    (void)state;
    struct rootfs_fx f;
    rootfs_fx_init(&f);
    struct rec r;
    rec_init(&r);
    r.rootfs = f.root;
    r.fail_op = LB_SYS_MOUNT;
    r.fail_match = "proc";
    r.fail_errno = EPERM;
    lb_sys_set_hook(record, &r);
    struct lb_run_plan p;
    rootfs_plan(&p, &f);
    struct lb_error *err = NULL;
    assert_int_equal(lb_rootfs_setup(&p, &err), -1);
    assert_int_equal(err->code, EPERM);
    assert_error_contains(err, "cannot mount proc on '/proc'");
    rec_release(&r);

    /* pivot_root refused */
    rec_init(&r);
    r.rootfs = f.root;
    r.fail_op = LB_SYS_PIVOT_ROOT;
    r.fail_errno = EINVAL;
    lb_sys_set_hook(record, &r);
    assert_int_equal(lb_rootfs_setup(&p, &err), -1);
    assert_error_contains(err, "cannot pivot_root");
    assert_int_equal(count_op(&r, LB_SYS_UMOUNT2), 0);
    rec_release(&r);

    /* a bind source that does not exist */
    free(p.mounts);
    memset(&p, 0, sizeof(p));
    p.rootfs = f.root;
    add_mount(&p, LB_MOUNT_BIND, "/no/such/source", "/data", 0, NULL);
    rec_init(&r);
    lb_sys_set_hook(record, &r);
    assert_int_equal(lb_rootfs_setup(&p, &err), -1);
    assert_int_equal(err->code, ENOENT);
    assert_error_contains(err, "'/no/such/source'");
    rec_release(&r);

    /* targets and the root must be absolute; '..' in a target is refused */
    rec_init(&r);
    lb_sys_set_hook(record, &r);
    p.mounts[0].source = f.vol;
    p.mounts[0].target = (char *)"data";
    assert_int_equal(lb_rootfs_setup(&p, &err), -1);
    assert_error_contains(err, "is not absolute");
    p.mounts[0].target = (char *)"/a/../../b";
    assert_int_equal(lb_rootfs_setup(&p, &err), -1);
    assert_error_contains(err, "mount target '/a/../../b'");
    p.rootfs = (char *)"relative/root";
    assert_int_equal(lb_rootfs_setup(&p, &err), -1);
    assert_error_contains(err, "is not absolute");
    rec_release(&r);
    free(p.mounts);
    rootfs_fx_release(&f);
}

static void test_runtime__rootfs_binds_the_hosts_sys_when_sysfs_is_refused(void **state)
{
    (void)state;
    struct rootfs_fx f;
    rootfs_fx_init(&f);
    struct rec r;
    rec_init(&r);
    r.rootfs = f.root;
    r.fail_op = LB_SYS_MOUNT;
    r.fail_match = "sysfs";
    r.fail_errno = EPERM;
    lb_sys_set_hook(record, &r);
    struct lb_run_plan p;
    memset(&p, 0, sizeof(p));
    p.rootfs = f.root;
    add_mount(&p, LB_MOUNT_SYSFS, NULL, "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    struct lb_error *err = NULL;
    if (lb_rootfs_setup(&p, &err) < 0)
        fail_msg("%s", err->msg);
    /* private, root bind, sysfs (refused), bind of /sys without MS_REC, ro remount, pivot... */
    assert_true(r.n >= 5);
    expect_mount(&r.calls[2], "sysfs", "/sys", "sysfs", MS_RDONLY, NULL);
    expect_mount(&r.calls[3], "/sys", "/sys", NULL, MS_BIND, NULL);
    assert_false(r.calls[3].flags & MS_REC); /* no rw cgroup submounts come along */
    expect_mount(&r.calls[4], NULL, "/sys", NULL,
                 MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    /* no /dev mount in this plan: no /dev symlinks written into the image */
    _cleanup_free_ char *dev = lb_path_join(f.root, "dev");
    _cleanup_free_ char *fd = link_of(dev, "fd");
    assert_null(fd);
    rec_release(&r);
    free(p.mounts);
    rootfs_fx_release(&f);
}

/* --- process bookkeeping without root ------------------------------------------------------- */

static void test_runtime__process_start_refuses_bad_plans_and_cleans_up_a_failed_clone(void **state)
{
    (void)state;
    struct lb_run_plan p;
    memset(&p, 0, sizeof(p));
    struct lb_process proc;
    struct lb_error *err = NULL;
    assert_int_equal(lb_process_start(&proc, &p, NULL, &err), -1);
    assert_error_contains(err, "no command specified");
    char *argv[] = {"true", NULL};
    p.argv = argv;
    p.clone_flags = CLONE_NEWPID;
    assert_int_equal(lb_process_start(&proc, &p, NULL, &err), -1);
    assert_error_contains(err, "no mount namespace");

    /* clone fails after the cgroups were made: they are removed again */
    char *root = lb_unit_mkdtemp();
    mkdirs(root, "pids");
    struct rec r;
    rec_init(&r);
    r.pass = true;
    r.cgroupfs_rmdir = true;
    r.fail_op = LB_SYS_CLONE;
    r.fail_errno = EAGAIN;
    lb_sys_set_hook(record, &r);
    p.clone_flags = CLONE_NEWNS | CLONE_NEWPID;
    p.pids_limit = 5;
    p.cgroup_name = (char *)"layerbox-clonefail";
    struct lb_process_opts opts = LB_PROCESS_OPTS_INIT;
    opts.cgroup_root = root;
    opts.self_cgroup = "8:pids:/\n";
    assert_int_equal(lb_process_start(&proc, &p, &opts, &err), -1);
    assert_int_equal(err->code, EAGAIN);
    assert_error_contains(err, "cannot create the container's process (clone)");
    assert_int_equal(proc.pid, -1);
    assert_int_equal(proc.exec_errno, 0);
    assert_null(proc.cgroup.dirs);
    _cleanup_free_ char *dir = lb_path_join(root, "pids/layerbox-clonefail");
    assert_false(lb_path_exists_at(AT_FDCWD, dir));
    assert_int_equal(count_op(&r, LB_SYS_CGROUP_MKDIR), 1);
    assert_int_equal(count_op(&r, LB_SYS_CGROUP_RMDIR), 1);
    struct call *clone = NULL;
    for (size_t k = 0; k < r.n; k++)
        if (r.calls[k].op == LB_SYS_CLONE)
            clone = &r.calls[k];
    assert_non_null(clone);
    assert_int_equal(clone->flags, CLONE_NEWNS | CLONE_NEWPID);
    rec_release(&r);
    lb_process_release(&proc);
    lb_unit_rmdir(root);
}

/* Children that exec or die of a signal: under valgrind a child that simply exits would have
 * its status replaced by valgrind's error exit code. */
static pid_t spawn_sh(const char *script)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    return pid;
}

static void test_runtime__wait_gives_the_status_or_128_plus_the_signal(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    int code = -1;
    pid_t a = spawn_sh("exit 3");
    assert_int_equal(lb_process_wait(a, &code, &err), 0);
    assert_int_equal(code, 3);
    pid_t b = spawn_sh("kill -TERM $$; sleep 5");
    assert_int_equal(lb_process_wait(b, &code, &err), 0);
    assert_int_equal(code, 128 + SIGTERM);
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            pause();
    }
    assert_int_equal(kill(c, SIGKILL), 0);
    assert_int_equal(lb_process_wait(c, &code, &err), 0);
    assert_int_equal(code, 137);
    assert_int_equal(lb_process_wait(b, &code, &err), -1); /* already reaped */
    assert_int_equal(err->code, ECHILD);
    lb_error_clear(&err);
}

static void test_runtime__start_time_names_one_process_and_zombies_are_not_running(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    unsigned long long t = 0;
    assert_int_equal(lb_process_start_time(getpid(), &t, &err), 0);
    /* field 22 by hand: our comm has no space or parenthesis */
    _cleanup_free_ char *stat = slurp("/proc/self/stat");
    unsigned long long by_hand = 0;
    int n = sscanf(stat,
                   "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d "
                   "%*d %*d %*d %*d %*d %llu",
                   &by_hand);
    assert_int_equal(n, 1);
    assert_true(t == by_hand);
    assert_true(lb_process_is_running(getpid(), t));
    assert_false(lb_process_is_running(getpid(), t + 1));
    assert_false(lb_process_is_running(0, t));
    assert_int_equal(lb_process_start_time(999999999, &t, &err), -1);
    assert_error_contains(err, "/proc/999999999/stat");

    pid_t z = fork();
    if (z == 0)
        _exit(0);
    unsigned long long zt = 0;
    (void)lb_process_start_time(z, &zt, &err);
    lb_error_clear(&err);
    /* wait (without reaping) until it is a zombie */
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    assert_int_equal(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT), 0);
    assert_false(lb_process_is_running(z, zt));
    int code = -1;
    assert_int_equal(lb_process_wait(z, &code, &err), 0);
}

static void test_runtime__forwarded_signals_reach_the_target_and_stop_restores(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    assert_int_equal(lb_process_forward_signals(0, &err), -1);
    assert_error_contains(err, "cannot forward signals to pid 0");

    /* the target dies of SIGUSR1 (default action) when, and only when, it is forwarded */
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    assert_int_equal(sigprocmask(SIG_BLOCK, &usr1, &old), 0);
    pid_t child = fork();
    if (child == 0) {
        signal(SIGUSR1, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        for (;;)
            pause();
    }
    assert_int_equal(lb_process_forward_signals(child, &err), 0);
    assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
    assert_int_equal(kill(getpid(), SIGUSR1), 0); /* would kill us without the forwarder */
    int code = -1;
    assert_int_equal(lb_process_wait(child, &code, &err), 0);
    assert_int_equal(code, 128 + SIGUSR1);
    lb_process_forward_signals_stop();
    struct sigaction sa;
    assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
    lb_process_forward_signals_stop(); /* twice is harmless */
}

LB_UNIT_MAIN(
    cmocka_unit_test(test_runtime__sys_hook_sees_calls_and_can_fake_fail_or_pass_them),
    cmocka_unit_test(test_runtime__sys_cgroup_write_replaces_the_file_in_one_write),
    cmocka_unit_test(test_runtime__sys_read_file_reads_kernel_files_of_size_0),
    cmocka_unit_test(test_runtime__exit_code_is_127_not_found_126_not_executable_else_125),
    cmocka_unit_test(test_runtime__cgroup_v1_groups_nest_under_our_own_and_hold_the_limits),
    cmocka_unit_test(test_runtime__cgroup_only_needed_controllers_and_none_without_limits),
    cmocka_unit_test(test_runtime__cgroup_v2_when_its_root_lists_the_controllers),
    cmocka_unit_test(test_runtime__cgroup_failures_leave_nothing_behind),
    cmocka_unit_test(test_runtime__cgroup_destroy_kills_what_is_left_and_retries),
    cmocka_unit_test(test_runtime__caps_masks_cover_the_kernels_capabilities),
    cmocka_unit_test(test_runtime__caps_dance_drops_bounding_first_then_user_then_capset),
    cmocka_unit_test(test_runtime__caps_dance_stops_at_the_first_failure),
    cmocka_unit_test(test_runtime__rootfs_mounts_in_order_inside_the_root_then_pivots),
    cmocka_unit_test(test_runtime__rootfs_hand_walk_resolves_like_openat2),
    cmocka_unit_test(test_runtime__rootfs_refuses_an_image_whose_proc_is_a_symlink),
    cmocka_unit_test(test_runtime__rootfs_reports_the_failing_mount),
    cmocka_unit_test(test_runtime__rootfs_binds_the_hosts_sys_when_sysfs_is_refused),
    cmocka_unit_test(test_runtime__process_start_refuses_bad_plans_and_cleans_up_a_failed_clone),
    cmocka_unit_test(test_runtime__wait_gives_the_status_or_128_plus_the_signal),
    cmocka_unit_test(test_runtime__start_time_names_one_process_and_zombies_are_not_running),
    cmocka_unit_test(test_runtime__forwarded_signals_reach_the_target_and_stop_restores))
