/* plan.c — a container's process as plain data: image config + command line → lb_run_plan.
 *
 * The concept (bubblewrap's SetupOp list): every decision docker's daemon makes before runc runs
 * — argv from Entrypoint and Cmd, the environment, the user, the capability set, the namespaces,
 * the mounts of /proc, /dev and /sys in their order, the masked paths, the cgroup limits — is
 * taken here, as data, so a unit test can check it without root. Nothing here mounts, clones or
 * writes to the kernel; the executor applies the plan. The rules are docker's (moby daemon/
 * commit.go merge, daemon/oci_linux.go, oci/defaults.go, oci/caps), each noted where it is
 * applied. Reads only: the image's /etc/passwd and /etc/group (user.c) and lstat of its /dev,
 * /proc and /sys through the rootfs fd.
 * Sits on: core, runtime/user. Used by: the container runtime (create, run, start).
 *
 * Interface: lb_plan_build, lb_plan_release, lb_cap_from_name
 */
#include "runtime/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"
#include "runtime/user.h"

#define DEFAULT_PATH     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define HOSTNAME_MAX     64
#define SHORT_ID_LEN     12
#define MEMORY_MIN       (6LL * 1024 * 1024) /* docker: "Minimum memory limit allowed is 6MB" */
#define MEMORY_MAX       (1LL << 62)
#define PIDS_MAX         4194304LL /* PID_MAX_LIMIT: the kernel refuses a larger pids.max */
#define CPU_PERIOD_US    100000LL
#define CPU_MIN_QUOTA_US 1000LL /* the kernel's minimum quota: 0.01 CPU */

/* ---- capabilities ---------------------------------------------------------------------- */

/* Indexed by the kernel's own numbers (linux/capability.h), so a name can never drift from its
 * bit. A kernel header with a newer capability fails the assertion below: add its name. */
static const char *const cap_names[] = {
    [CAP_CHOWN] = "CHOWN",
    [CAP_DAC_OVERRIDE] = "DAC_OVERRIDE",
    [CAP_DAC_READ_SEARCH] = "DAC_READ_SEARCH",
    [CAP_FOWNER] = "FOWNER",
    [CAP_FSETID] = "FSETID",
    [CAP_KILL] = "KILL",
    [CAP_SETGID] = "SETGID",
    [CAP_SETUID] = "SETUID",
    [CAP_SETPCAP] = "SETPCAP",
    [CAP_LINUX_IMMUTABLE] = "LINUX_IMMUTABLE",
    [CAP_NET_BIND_SERVICE] = "NET_BIND_SERVICE",
    [CAP_NET_BROADCAST] = "NET_BROADCAST",
    [CAP_NET_ADMIN] = "NET_ADMIN",
    [CAP_NET_RAW] = "NET_RAW",
    [CAP_IPC_LOCK] = "IPC_LOCK",
    [CAP_IPC_OWNER] = "IPC_OWNER",
    [CAP_SYS_MODULE] = "SYS_MODULE",
    [CAP_SYS_RAWIO] = "SYS_RAWIO",
    [CAP_SYS_CHROOT] = "SYS_CHROOT",
    [CAP_SYS_PTRACE] = "SYS_PTRACE",
    [CAP_SYS_PACCT] = "SYS_PACCT",
    [CAP_SYS_ADMIN] = "SYS_ADMIN",
    [CAP_SYS_BOOT] = "SYS_BOOT",
    [CAP_SYS_NICE] = "SYS_NICE",
    [CAP_SYS_RESOURCE] = "SYS_RESOURCE",
    [CAP_SYS_TIME] = "SYS_TIME",
    [CAP_SYS_TTY_CONFIG] = "SYS_TTY_CONFIG",
    [CAP_MKNOD] = "MKNOD",
    [CAP_LEASE] = "LEASE",
    [CAP_AUDIT_WRITE] = "AUDIT_WRITE",
    [CAP_AUDIT_CONTROL] = "AUDIT_CONTROL",
    [CAP_SETFCAP] = "SETFCAP",
    [CAP_MAC_OVERRIDE] = "MAC_OVERRIDE",
    [CAP_MAC_ADMIN] = "MAC_ADMIN",
    [CAP_SYSLOG] = "SYSLOG",
    [CAP_WAKE_ALARM] = "WAKE_ALARM",
    [CAP_BLOCK_SUSPEND] = "BLOCK_SUSPEND",
    [CAP_AUDIT_READ] = "AUDIT_READ",
    [CAP_PERFMON] = "PERFMON",
    [CAP_BPF] = "BPF",
    [CAP_CHECKPOINT_RESTORE] = "CHECKPOINT_RESTORE",
};
_Static_assert(LB_ARRAY_SIZE(cap_names) == CAP_LAST_CAP + 1,
               "linux/capability.h knows a capability that cap_names[] does not name");
_Static_assert(CAP_LAST_CAP < 64, "plan.caps is a 64-bit mask");

/* Every capability this build knows: what "ALL" means. (The executor intersects with the running
 * kernel's /proc/sys/kernel/cap_last_cap, as docker does.) */
#define CAPS_ALL ((CAP_LAST_CAP == 63) ? ~0ULL : ((1ULL << (CAP_LAST_CAP + 1)) - 1))

int lb_cap_from_name(const char *name, int *out, struct lb_error **err)
{
    const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
    for (size_t i = 0; i < LB_ARRAY_SIZE(cap_names); i++) {
        if (cap_names[i] && strcasecmp(bare, cap_names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    /* docker names the capability the way it normalised it: upper case, "CAP_" prefix */
    _cleanup_free_ char *shown = lb_xasprintf("CAP_%s", bare);
    for (char *p = shown; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return lb_error_setk(err, LB_EKIND_USAGE, 0, "unknown capability '%s'", shown);
}

/* One --cap-add or --cap-drop list: the mask of named caps, *all for "ALL" (any case). */
static int cap_list(char *const *names, uint64_t *mask, bool *all, struct lb_error **err)
{
    *mask = 0;
    *all = false;
    for (size_t i = 0; names && names[i]; i++) {
        if (strcasecmp(names[i], "ALL") == 0) {
            *all = true;
            continue;
        }
        int n = 0;
        if (lb_cap_from_name(names[i], &n, err) < 0)
            return -1;
        *mask |= 1ULL << n;
    }
    return 0;
}

/* docker's TweakCapabilities: --cap-add ALL keeps everything not dropped; else --cap-drop ALL
 * keeps only what is added; else drop from the default set, then add. */
static int plan_caps(struct lb_run_plan *plan, const struct lb_run_opts *o, struct lb_error **err)
{
    uint64_t add = 0, drop = 0;
    bool add_all = false, drop_all = false;
    if (cap_list(o->cap_drop, &drop, &drop_all, err) < 0 ||
        cap_list(o->cap_add, &add, &add_all, err) < 0)
        return -1;
    if (add_all)
        plan->caps = CAPS_ALL & ~drop;
    else if (drop_all)
        plan->caps = add;
    else
        plan->caps = (LB_CAPS_DOCKER_DEFAULT & ~drop) | add;
    return 0;
}

/* ---- argv ------------------------------------------------------------------------------- */

/* config[key]: absent or null → *out NULL; an array of strings → a copy; anything else is an
 * error naming the key. */
static int config_strv(const json_t *config, const char *key, char ***out, struct lb_error **err)
{
    *out = NULL;
    json_t *v = config ? json_object_get(config, key) : NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "image config: '%s' is not a list of strings", key);
    char **strv = lb_xmalloc(sizeof(char *));
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        if (!json_is_string(s)) {
            lb_strv_free(strv);
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "image config: '%s' is not a list of strings", key);
        }
        lb_strv_push(&strv, json_string_value(s));
    }
    *out = strv;
    return 0;
}

static int config_string(const json_t *config, const char *key, const char **out,
                         struct lb_error **err)
{
    *out = NULL;
    json_t *v = config ? json_object_get(config, key) : NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "image config: '%s' is not a string", key);
    *out = json_string_value(v);
    return 0;
}

/* docker (daemon/commit.go merge, then mergeAndVerifyConfig): any --entrypoint, even "", drops
 * the image's Cmd; arguments after IMAGE replace the Cmd; an entrypoint of [""] is none. */
static int plan_argv(struct lb_run_plan *plan, const json_t *config, const struct lb_run_opts *o,
                     struct lb_error **err)
{
    _cleanup_strv_ char **entry = NULL;
    _cleanup_strv_ char **cmd = NULL;
    bool user_cmd = o->cmd && o->cmd[0];
    if (o->entrypoint) {
        if (o->entrypoint[0])
            lb_strv_push(&entry, o->entrypoint);
    } else {
        if (config_strv(config, "Entrypoint", &entry, err) < 0)
            return -1;
        if (!user_cmd && config_strv(config, "Cmd", &cmd, err) < 0)
            return -1;
    }
    if (user_cmd)
        for (size_t i = 0; o->cmd[i]; i++)
            lb_strv_push(&cmd, o->cmd[i]);
    if (entry && entry[0] && entry[0][0] == '\0' && entry[1] == NULL) {
        lb_strv_free(entry);
        entry = NULL;
    }
    char **argv = lb_xmalloc(sizeof(char *));
    for (size_t i = 0; entry && entry[i]; i++)
        lb_strv_push(&argv, entry[i]);
    for (size_t i = 0; cmd && cmd[i]; i++)
        lb_strv_push(&argv, cmd[i]);
    plan->argv = argv;
    if (argv[0] == NULL)
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "no command specified");
    return 0;
}

/* ---- working directory, hostname, id ---------------------------------------------------- */

/* -w must be absolute (docker's message); an image's relative WorkingDir is taken from "/". */
static int plan_cwd(struct lb_run_plan *plan, const json_t *config, const struct lb_run_opts *o,
                    struct lb_error **err)
{
    if (o->workdir && o->workdir[0]) {
        if (o->workdir[0] != '/')
            return lb_error_setk(err, LB_EKIND_USAGE, 0,
                                 "the working directory '%s' is invalid, it needs to be an "
                                 "absolute path",
                                 o->workdir);
        plan->cwd = lb_path_clean_abs(o->workdir);
        return 0;
    }
    const char *wd = NULL;
    if (config_string(config, "WorkingDir", &wd, err) < 0)
        return -1;
    plan->cwd = lb_path_clean_abs(wd ? wd : "/");
    return 0;
}

/* RFC 1123: dot-separated labels of letters, digits and '-', none starting or ending with '-',
 * at most 63 characters each and 64 in all (HOST_NAME_MAX). */
static bool valid_hostname(const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > HOSTNAME_MAX)
        return false;
    for (const char *p = h; *p;) {
        const char *end = strchrnul(p, '.');
        size_t n = (size_t)(end - p);
        if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
            return false;
        for (size_t i = 0; i < n; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return false;
        }
        if (*end == '\0')
            break;
        p = end + 1;
        if (*p == '\0')
            return false; /* trailing dot */
    }
    return true;
}

/* The id names a cgroup directory and a default hostname: letters, digits, '_', '-', '.' only. */
static bool valid_id(const char *id)
{
    if (id == NULL || id[0] == '\0' || id[0] == '.' || strlen(id) > 128)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

static int plan_hostname(struct lb_run_plan *plan, const struct lb_run_opts *o, const char *id,
                         struct lb_error **err)
{
    char *h =
        o->hostname && o->hostname[0] ? lb_xstrdup(o->hostname) : lb_xstrndup(id, SHORT_ID_LEN);
    plan->hostname = h;
    if (!valid_hostname(h))
        return lb_error_setk(err, LB_EKIND_USAGE, 0,
                             "invalid hostname '%s': use letters, digits, '-' and '.', at most "
                             "%d characters",
                             h, HOSTNAME_MAX);
    return 0;
}

/* ---- environment ------------------------------------------------------------------------ */

static size_t env_key_len(const char *kv)
{
    return (size_t)(strchrnul(kv, '=') - kv);
}

static ssize_t env_find(char **env, const char *key, size_t klen)
{
    for (size_t i = 0; env && env[i]; i++)
        if (env_key_len(env[i]) == klen && strncmp(env[i], key, klen) == 0)
            return (ssize_t)i;
    return -1;
}

/* docker's ReplaceOrAppendEnvValues for one value: "K=V" replaces K in place or appends it;
 * "K" (no '=') removes K. */
static void env_apply(char ***env, const char *kv)
{
    size_t klen = env_key_len(kv);
    ssize_t i = env_find(*env, kv, klen);
    if (kv[klen] == '=') {
        if (i < 0) {
            lb_strv_push(env, kv);
        } else {
            free((*env)[i]);
            (*env)[i] = lb_xstrdup(kv);
        }
    } else if (i >= 0) {
        free((*env)[i]);
        memmove(&(*env)[i], &(*env)[i + 1], (lb_strv_len(*env) - (size_t)i) * sizeof(char *));
    }
}

/* docker: [PATH, HOSTNAME, TERM if tty], then the container's Env applied over them, where the
 * container's Env is the -e values followed by the image's values whose keys -e does not name
 * (daemon/commit.go merge). "-e K" takes K from our own environment; when K is unset there it
 * stays a bare "K", which removes K — also the image's K, as in docker. HOME comes last, from
 * the user's passwd entry (runc does this), only when no value set it. */
static int plan_env(struct lb_run_plan *plan, const json_t *config, const struct lb_run_opts *o,
                    const char *home, struct lb_error **err)
{
    _cleanup_strv_ char **image_env = NULL;
    if (config_strv(config, "Env", &image_env, err) < 0)
        return -1;
    _cleanup_strv_ char **merged = NULL;
    for (size_t i = 0; o->env && o->env[i]; i++) {
        const char *e = o->env[i];
        size_t klen = env_key_len(e);
        if (klen == 0)
            return lb_error_setk(err, LB_EKIND_USAGE, 0, "invalid environment variable: %s", e);
        const char *val = e[klen] == '=' ? NULL : getenv(e);
        if (val) {
            _cleanup_free_ char *kv = lb_xasprintf("%s=%s", e, val);
            lb_strv_push(&merged, kv);
        } else {
            lb_strv_push(&merged, e);
        }
    }
    for (size_t i = 0; image_env && image_env[i]; i++) {
        bool named = false;
        size_t klen = env_key_len(image_env[i]);
        for (size_t j = 0; o->env && o->env[j] && !named; j++)
            named = env_key_len(o->env[j]) == klen && strncmp(o->env[j], image_env[i], klen) == 0;
        if (!named)
            lb_strv_push(&merged, image_env[i]);
    }

    char **env = lb_xmalloc(sizeof(char *));
    lb_strv_push(&env, "PATH=" DEFAULT_PATH);
    _cleanup_free_ char *hn = lb_xasprintf("HOSTNAME=%s", plan->hostname);
    lb_strv_push(&env, hn);
    if (o->tty)
        lb_strv_push(&env, "TERM=xterm");
    for (size_t i = 0; merged && merged[i]; i++)
        env_apply(&env, merged[i]);
    if (env_find(env, "HOME", 4) < 0) {
        _cleanup_free_ char *h = lb_xasprintf("HOME=%s", home && home[0] ? home : "/");
        lb_strv_push(&env, h);
    }
    plan->env = env;
    return 0;
}

/* ---- user ------------------------------------------------------------------------------- */

static int plan_user(struct lb_run_plan *plan, const json_t *config, const struct lb_run_opts *o,
                     int rootfs_fd, struct lb_user *user, struct lb_error **err)
{
    const char *spec = o->user && o->user[0] ? o->user : NULL;
    if (spec == NULL && config_string(config, "User", &spec, err) < 0)
        return -1;
    if (lb_user_resolve(user, rootfs_fd, spec, err) < 0)
        return -1;
    plan->uid = user->uid;
    plan->gid = user->gid;
    plan->n_groups = user->n_groups;
    plan->groups = lb_steal_pointer(&user->groups);
    return 0;
}

/* ---- limits ----------------------------------------------------------------------------- */

static int plan_limits(struct lb_run_plan *plan, const struct lb_run_opts *o, struct lb_error **err)
{
    if (o->memory_bytes < 0)
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "invalid memory limit %lld: it is negative",
                             (long long)o->memory_bytes);
    if (o->memory_bytes > 0 && o->memory_bytes < MEMORY_MIN)
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "minimum memory limit allowed is 6MB");
    if (o->memory_bytes > MEMORY_MAX)
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "invalid memory limit %lld: too large",
                             (long long)o->memory_bytes);
    plan->memory_bytes = o->memory_bytes;

    /* docker documents -1 as "unlimited"; 0 means the same here */
    if (o->pids_limit < -1)
        return lb_error_setk(err, LB_EKIND_USAGE, 0,
                             "invalid pids limit %lld: use a positive number, or 0 or -1 for "
                             "unlimited",
                             (long long)o->pids_limit);
    if (o->pids_limit > PIDS_MAX)
        return lb_error_setk(err, LB_EKIND_USAGE, 0,
                             "invalid pids limit %lld: the kernel's maximum is %lld",
                             (long long)o->pids_limit, PIDS_MAX);
    plan->pids_limit = o->pids_limit > 0 ? o->pids_limit : 0;

    if (isnan(o->cpus) || o->cpus < 0)
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "invalid value for --cpus: %g", o->cpus);
    if (o->cpus > 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (ncpu < 1)
            ncpu = 1;
        /* checked before converting: an infinite or huge value must not reach the cast */
        if (o->cpus > (double)ncpu || o->cpus * (double)CPU_PERIOD_US + 0.5 < CPU_MIN_QUOTA_US)
            /* docker's message */
            return lb_error_setk(err, LB_EKIND_USAGE, 0,
                                 "range of CPUs is from 0.01 to %ld.00, as there are only %ld "
                                 "CPUs available",
                                 ncpu, ncpu);
        /* rounded, not truncated: 0.29 CPU is 29000 us although 0.29 * 100000 < 29000 */
        plan->cpu_quota_us = (int64_t)(o->cpus * (double)CPU_PERIOD_US + 0.5);
        plan->cpu_period_us = CPU_PERIOD_US;
    }
    return 0;
}

/* ---- the root file system --------------------------------------------------------------- */

/* /dev, /proc and /sys get mounts on them: if the image made one a symlink, the mount would land
 * wherever it points (the CVE-2019-19921 class), so refuse. A missing one is created later. */
static int refuse_special_symlinks(int rootfs_fd, struct lb_error **err)
{
    static const char *const names[] = {"dev", "proc", "sys"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(names); i++) {
        struct stat st;
        if (fstatat(rootfs_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            return lb_error_set(err, errno, "cannot stat /%s of the image", names[i]);
        }
        if (S_ISLNK(st.st_mode))
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "image has /%s as a symlink: refusing to mount over it", names[i]);
        if (!S_ISDIR(st.st_mode))
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "image has /%s that is not a directory: refusing to mount over "
                                 "it",
                                 names[i]);
    }
    return 0;
}

static void add_mount(struct lb_run_plan *plan, enum lb_mount_kind kind, const char *source,
                      const char *target, unsigned long flags, const char *data, mode_t mode)
{
    plan->mounts = lb_xrealloc(plan->mounts, (plan->n_mounts + 1) * sizeof(*plan->mounts));
    plan->mounts[plan->n_mounts++] = (struct lb_mount_spec){
        .kind = kind,
        .source = source ? lb_xstrdup(source) : NULL,
        .target = lb_xstrdup(target),
        .flags = flags,
        .data = data ? lb_xstrdup(data) : NULL,
        .mode = mode,
    };
}

/* moby's oci/defaults.go, in its order (less /sys/fs/cgroup: no cgroup namespace yet), with the
 * daemon's default shm size (64 MiB). The device nodes are binds of the host's nodes, not mknod:
 * that works without CAP_MKNOD (rootless, user namespaces) and gives the same node. */
static void plan_mounts(struct lb_run_plan *plan)
{
    const mode_t dir = S_IFDIR | 0755;
    add_mount(plan, LB_MOUNT_PROC, NULL, "/proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, dir);
    add_mount(plan, LB_MOUNT_TMPFS, NULL, "/dev", MS_NOSUID | MS_STRICTATIME,
              "mode=755,size=65536k", dir);
    add_mount(plan, LB_MOUNT_DEVPTS, NULL, "/dev/pts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620,gid=5", dir);
    add_mount(plan, LB_MOUNT_SYSFS, NULL, "/sys", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY,
              NULL, dir);
    add_mount(plan, LB_MOUNT_MQUEUE, NULL, "/dev/mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL,
              dir);
    add_mount(plan, LB_MOUNT_TMPFS, NULL, "/dev/shm", MS_NOSUID | MS_NOEXEC | MS_NODEV,
              "mode=1777,size=65536k", dir);
    static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(devices); i++) {
        _cleanup_free_ char *path = lb_xasprintf("/dev/%s", devices[i]);
        add_mount(plan, LB_MOUNT_DEVICE, path, path, 0, NULL, S_IFCHR | 0666);
    }
}

/* moby's defaultLinuxMaskedPaths and ReadonlyPaths (2025: with /proc/interrupts and each CPU's
 * thermal_throttle directory that exists on this host, GHSA-6fw5-f8r9-fgfm). */
static void plan_masked_paths(struct lb_run_plan *plan)
{
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
    static const char *const readonly[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    };
    plan->masked_paths = lb_xmalloc(sizeof(char *));
    for (size_t i = 0; i < LB_ARRAY_SIZE(masked); i++)
        lb_strv_push(&plan->masked_paths, masked[i]);
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    for (long cpu = 0; cpu < ncpu; cpu++) {
        _cleanup_free_ char *p =
            lb_xasprintf("/sys/devices/system/cpu/cpu%ld/thermal_throttle", cpu);
        struct stat st;
        if (stat(p, &st) == 0)
            lb_strv_push(&plan->masked_paths, p);
    }
    plan->readonly_paths = lb_xmalloc(sizeof(char *));
    for (size_t i = 0; i < LB_ARRAY_SIZE(readonly); i++)
        lb_strv_push(&plan->readonly_paths, readonly[i]);
}

/* ---- the whole plan --------------------------------------------------------------------- */

static int build(struct lb_run_plan *plan, const json_t *config, const struct lb_run_opts *o,
                 int rootfs_fd, const char *rootfs, const char *id, struct lb_error **err)
{
    if (!valid_id(id))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid container id '%s'", id ? id : "");
    if (rootfs == NULL || rootfs[0] != '/')
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "the root file system path '%s' is not absolute",
                             rootfs ? rootfs : "");
    if (rootfs_fd < 0)
        return lb_error_setk(err, LB_EKIND_INVALID, EBADF, "no root file system to plan in");
    if (config && !json_is_object(config))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "image config: 'config' is not an object");

    if (plan_hostname(plan, o, id, err) < 0 || plan_argv(plan, config, o, err) < 0 ||
        plan_cwd(plan, config, o, err) < 0 || plan_caps(plan, o, err) < 0 ||
        plan_limits(plan, o, err) < 0 || refuse_special_symlinks(rootfs_fd, err) < 0)
        return -1;

    struct lb_user user = {0};
    int r = plan_user(plan, config, o, rootfs_fd, &user, err);
    if (r == 0)
        r = plan_env(plan, config, o, user.home, err);
    lb_user_release(&user);
    if (r < 0)
        return -1;

    plan->tty = o->tty;
    plan->no_new_privs = o->no_new_privileges;
    plan->clone_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (o->network == LB_NET_NONE)
        plan->clone_flags |= CLONE_NEWNET;
    plan->rootfs = lb_xstrdup(rootfs);
    plan->readonly_rootfs = o->read_only;
    plan_mounts(plan);
    plan_masked_paths(plan);
    plan->cgroup_name = lb_xasprintf("layerbox-%s", id);
    return 0;
}

int lb_plan_build(struct lb_run_plan *plan, const json_t *image_config,
                  const struct lb_run_opts *opts, int rootfs_fd, const char *rootfs, const char *id,
                  struct lb_error **err)
{
    static const struct lb_run_opts no_opts;
    memset(plan, 0, sizeof(*plan));
    if (build(plan, image_config, opts ? opts : &no_opts, rootfs_fd, rootfs, id, err) < 0) {
        lb_plan_release(plan);
        return -1;
    }
    return 0;
}

void lb_plan_release(struct lb_run_plan *plan)
{
    lb_strv_free(plan->argv);
    lb_strv_free(plan->env);
    free(plan->cwd);
    free(plan->groups);
    free(plan->hostname);
    free(plan->rootfs);
    for (size_t i = 0; i < plan->n_mounts; i++) {
        free(plan->mounts[i].source);
        free(plan->mounts[i].target);
        free(plan->mounts[i].data);
    }
    free(plan->mounts);
    lb_strv_free(plan->masked_paths);
    lb_strv_free(plan->readonly_paths);
    free(plan->cgroup_name);
    memset(plan, 0, sizeof(*plan));
}
