/* cgroup.c — a container's resource limits as directories and files under /sys/fs/cgroup.
 *
 * The choice between v2 and v1 is made per container from what the machine offers (cgroup.h
 * explains the two layouts). The groups are made before the container's process exists; the
 * parent writes the child's pid into them before letting it run (process.c), so not even the
 * first instruction of the container runs outside its limits.
 *
 * Sits on: sys.h (mkdir, rmdir, writes), core/fs.h (reading control files).
 * Interface: lb_cgroup_create, lb_cgroup_add_pid, lb_cgroup_destroy, lb_cgroup_release,
 *            lb_cgroup_freezer_create, lb_cgroup_freezer_add, lb_cgroup_freeze, lb_cgroup_thaw,
 *            lb_cgroup_freezer_destroy
 */
#include "runtime/cgroup.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "runtime/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONTROL_FILE_MAX (1 << 20)

/* A limit and the controller that enforces it. */
struct need {
    const char *controller;
    const char *what; /* for messages */
};

static size_t needed_controllers(const struct lb_run_plan *plan, struct need out[3])
{
    size_t n = 0;
    if (plan->memory_bytes > 0)
        out[n++] = (struct need){"memory", "the memory limit"};
    if (plan->pids_limit > 0)
        out[n++] = (struct need){"pids", "the pids limit"};
    if (plan->cpu_quota_us > 0)
        out[n++] = (struct need){"cpu", "the cpu limit"};
    return n;
}

/* Is `word` one of the words of the list (separated by spaces, newlines or commas)? */
static bool has_word(const char *list, const char *word)
{
    size_t wlen = strlen(word);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " \t\n,");
        if (n == wlen && strncmp(p, word, n) == 0)
            return true;
        p += n;
        if (*p)
            p++;
    }
    return false;
}

/* Find the /proc/self/cgroup line "ID:CONTROLLERS:PATH" whose CONTROLLERS has `controller`
 * (or, for controller "", the v2 line "0::PATH"). *ctrls and *path are allocated. */
static bool self_line(const char *self, const char *controller, char **ctrls, char **path)
{
    for (const char *line = self; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        _cleanup_free_ char *copy = lb_xstrndup(line, len);
        char *c1 = strchr(copy, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 != NULL) {
            *c1 = '\0';
            *c2 = '\0';
            const char *list = c1 + 1;
            bool match = controller[0] == '\0' ? (strcmp(copy, "0") == 0 && list[0] == '\0')
                                               : has_word(list, controller);
            if (match && c2[1] == '/') {
                *ctrls = lb_xstrdup(list);
                *path = lb_xstrdup(c2 + 1);
                return true;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "a/" + "/b/" → "a/b", tolerating a path of "/" */
static char *join3(const char *a, const char *b, const char *c)
{
    _cleanup_free_ char *ab = lb_path_join(a, b);
    return lb_path_join(ab, c);
}

static int write_limit(const char *dir, const char *file, const char *value, struct lb_error **err)
{
    _cleanup_free_ char *path = lb_path_join(dir, file);
    if (lb_sys_cgroup_write(path, value) < 0)
        return lb_error_set(err, errno, "cannot write '%s' to '%s'", value, path);
    lb_explain("cgroup", "%s = %s", path, value);
    return 0;
}

static int make_group(char ***dirs, const char *dir, struct lb_error **err)
{
    if (lb_strv_contains(*dirs, dir))
        return 0; /* two controllers mounted together share one directory */
    if (lb_sys_cgroup_mkdir(dir, 0755) < 0 && errno != EEXIST)
        return lb_error_set(err, errno, "cannot create cgroup '%s'", dir);
    lb_strv_push(dirs, dir);
    return 0;
}

/* The limit file(s) of one controller. v1 and v2 name them differently. */
static int write_limits(const char *dir, const char *controller, bool v2,
                        const struct lb_run_plan *plan, struct lb_error **err)
{
    char value[64];
    if (strcmp(controller, "memory") == 0) {
        snprintf(value, sizeof(value), "%" PRId64, plan->memory_bytes);
        return write_limit(dir, v2 ? "memory.max" : "memory.limit_in_bytes", value, err);
    }
    if (strcmp(controller, "pids") == 0) {
        snprintf(value, sizeof(value), "%" PRId64, plan->pids_limit);
        return write_limit(dir, "pids.max", value, err);
    }
    int64_t period = plan->cpu_period_us > 0 ? plan->cpu_period_us : 100000;
    if (v2) {
        snprintf(value, sizeof(value), "%" PRId64 " %" PRId64, plan->cpu_quota_us, period);
        return write_limit(dir, "cpu.max", value, err);
    }
    snprintf(value, sizeof(value), "%" PRId64, period);
    if (write_limit(dir, "cpu.cfs_period_us", value, err) < 0)
        return -1;
    snprintf(value, sizeof(value), "%" PRId64, plan->cpu_quota_us);
    return write_limit(dir, "cpu.cfs_quota_us", value, err);
}

static int create_v2(struct lb_cgroup *cg, const char *root, const struct need *need, size_t n,
                     const struct lb_run_plan *plan, struct lb_error **err)
{
    _cleanup_free_ char *subtree_path = lb_path_join(root, "cgroup.subtree_control");
    _cleanup_free_ char *subtree = NULL;
    /* unreadable: write them all, the kernel ignores repeats */
    (void)lb_sys_read_file(subtree_path, CONTROL_FILE_MAX, &subtree);
    struct lb_strbuf enable = LB_STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (subtree == NULL || !has_word(subtree, need[i].controller))
            lb_strbuf_addf(&enable, "%s+%s", enable.len ? " " : "", need[i].controller);
    }
    if (enable.len > 0 && lb_sys_cgroup_write(subtree_path, enable.buf) < 0) {
        int e = errno;
        int rc = lb_error_set(err, e, "cannot enable '%s' in '%s'", enable.buf, subtree_path);
        lb_strbuf_release(&enable);
        return rc;
    }
    lb_strbuf_release(&enable);

    _cleanup_free_ char *dir = lb_path_join(root, plan->cgroup_name);
    if (make_group(&cg->dirs, dir, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (write_limits(dir, need[i].controller, true, plan, err) < 0)
            return -1;
    return 0;
}

static int create_v1(struct lb_cgroup *cg, const char *root, const char *self,
                     const struct need *need, size_t n, const struct lb_run_plan *plan,
                     struct lb_error **err)
{
    for (size_t i = 0; i < n; i++) {
        const char *ctrl = need[i].controller;
        _cleanup_free_ char *ctrls = NULL;
        _cleanup_free_ char *ours = NULL;
        if (!self_line(self, ctrl, &ctrls, &ours))
            return lb_error_set(err, 0, "the %s cgroup controller is not available (needed by %s)",
                                ctrl, need[i].what);
        /* ROOT/cpu, or ROOT/cpu,cpuacct where no "cpu" symlink points to it. */
        _cleanup_free_ char *mnt = lb_path_join(root, ctrl);
        if (!is_dir(mnt)) {
            free(mnt);
            mnt = lb_path_join(root, ctrls);
        }
        if (!is_dir(mnt))
            return lb_error_set(err, 0,
                                "the %s cgroup controller is not mounted at '%s' (needed by %s)",
                                ctrl, root, need[i].what);
        _cleanup_free_ char *parent = lb_path_join(mnt, ours);
        if (!is_dir(parent))
            return lb_error_set(err, ENOENT, "cannot find our own %s cgroup '%s'", ctrl, parent);
        _cleanup_free_ char *dir = join3(mnt, ours, plan->cgroup_name);
        if (make_group(&cg->dirs, dir, err) < 0)
            return -1;
        if (write_limits(dir, ctrl, false, plan, err) < 0)
            return -1;
    }
    return 0;
}

int lb_cgroup_create(struct lb_cgroup *cg, const char *root, const char *self_cgroup,
                     const struct lb_run_plan *plan, struct lb_error **err)
{
    cg->version = LB_CGROUP_NONE;
    cg->dirs = NULL;
    struct need need[3];
    size_t n = needed_controllers(plan, need);
    if (n == 0)
        return 0;
    if (plan->cgroup_name == NULL || plan->cgroup_name[0] == '\0' ||
        strchr(plan->cgroup_name, '/') != NULL || strcmp(plan->cgroup_name, ".") == 0 ||
        strcmp(plan->cgroup_name, "..") == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "bad cgroup name '%s'",
                             plan->cgroup_name ? plan->cgroup_name : "(none)");
    if (root == NULL)
        root = LB_CGROUP_ROOT;

    _cleanup_free_ char *self_buf = NULL;
    if (self_cgroup == NULL) {
        if (lb_sys_read_file("/proc/self/cgroup", CONTROL_FILE_MAX, &self_buf) < 0)
            return lb_error_set(err, errno, "cannot read '/proc/self/cgroup'");
        self_cgroup = self_buf;
    }

    /* v2 when its tree can do everything asked, else v1. */
    _cleanup_free_ char *controllers_path = lb_path_join(root, "cgroup.controllers");
    _cleanup_free_ char *controllers = NULL;
    bool v2 = false;
    if (lb_sys_read_file(controllers_path, CONTROL_FILE_MAX, &controllers) == 0) {
        v2 = true;
        for (size_t i = 0; i < n; i++)
            v2 = v2 && has_word(controllers, need[i].controller);
    }

    cg->version = v2 ? LB_CGROUP_V2 : LB_CGROUP_V1;
    int rc = v2 ? create_v2(cg, root, need, n, plan, err)
                : create_v1(cg, root, self_cgroup, need, n, plan, err);
    if (rc < 0) {
        struct lb_error *cleanup_err = NULL;
        if (lb_cgroup_destroy(cg, &cleanup_err) < 0)
            lb_cgroup_release(cg);
        lb_error_free(cleanup_err);
        cg->version = LB_CGROUP_NONE;
        return -1;
    }
    lb_explain("cgroup", "limits in %s (cgroup v%d)", cg->dirs[0], (int)cg->version);
    return 0;
}

int lb_cgroup_add_pid(const struct lb_cgroup *cg, pid_t pid, struct lb_error **err)
{
    char value[32];
    snprintf(value, sizeof(value), "%ld", (long)pid);
    for (char **d = cg->dirs; d && *d; d++) {
        _cleanup_free_ char *path = lb_path_join(*d, "cgroup.procs");
        if (lb_sys_cgroup_write(path, value) < 0)
            return lb_error_set(err, errno, "cannot move process %ld into cgroup '%s'", (long)pid,
                                *d);
    }
    return 0;
}

/* SIGKILL every process listed in dir/cgroup.procs. */
static void kill_members(const char *dir)
{
    _cleanup_free_ char *path = lb_path_join(dir, "cgroup.procs");
    _cleanup_free_ char *procs = NULL;
    if (lb_sys_read_file(path, CONTROL_FILE_MAX, &procs) < 0)
        return;
    for (char *p = procs; *p;) {
        char *end = NULL;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0)
            kill((pid_t)pid, SIGKILL);
        p = end;
        while (*p == '\n' || *p == ' ')
            p++;
    }
}

static int remove_group(const char *dir, struct lb_error **err)
{
    for (int tries = 0;; tries++) {
        if (lb_sys_cgroup_rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || tries >= 100)
            return lb_error_set(err, errno, "cannot remove cgroup '%s'", dir);
        /* Still populated: its processes are killed, and die asynchronously. */
        kill_members(dir);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int lb_cgroup_destroy(struct lb_cgroup *cg, struct lb_error **err)
{
    char **left = NULL;
    int rc = 0;
    for (char **d = cg->dirs; d && *d; d++) {
        if (remove_group(*d, err) < 0) {
            lb_strv_push(&left, *d);
            rc = -1;
        }
    }
    lb_strv_free(cg->dirs);
    cg->dirs = left;
    if (left == NULL)
        cg->version = LB_CGROUP_NONE;
    return rc;
}

void lb_cgroup_release(struct lb_cgroup *cg)
{
    lb_strv_free(cg->dirs);
    cg->dirs = NULL;
    cg->version = LB_CGROUP_NONE;
}

/* --- the freezer ------------------------------------------------------------------------------ */

/* The group pid is in, in f's hierarchy, as an absolute path (NULL: the process is gone, or its
 * line is missing). */
static char *group_of(const struct lb_freezer *f, pid_t pid)
{
    char rel[64];
    snprintf(rel, sizeof(rel), "%ld/cgroup", (long)pid);
    _cleanup_free_ char *path = lb_path_join(f->proc, rel);
    _cleanup_free_ char *text = NULL;
    if (lb_sys_read_file(path, CONTROL_FILE_MAX, &text) < 0)
        return NULL;
    _cleanup_free_ char *ctrls = NULL;
    _cleanup_free_ char *group = NULL;
    if (!self_line(text, f->version == LB_CGROUP_V2 ? "" : "freezer", &ctrls, &group))
        return NULL;
    if (strcmp(group, "/") == 0)
        return lb_xstrdup(f->mount);
    return lb_path_join(f->mount, group);
}

static int move_pid(const char *dir, pid_t pid)
{
    char value[32];
    snprintf(value, sizeof(value), "%ld", (long)pid);
    _cleanup_free_ char *path = lb_path_join(dir, "cgroup.procs");
    return lb_sys_cgroup_write(path, value);
}

static bool valid_name(const char *name)
{
    return name && name[0] && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

int lb_cgroup_freezer_create(struct lb_freezer *f, const char *root, const char *proc,
                             const char *name, struct lb_error **err)
{
    *f = (struct lb_freezer){0};
    if (!valid_name(name))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "bad cgroup name '%s'", name ? name : "");
    if (root == NULL)
        root = LB_CGROUP_ROOT;
    _cleanup_free_ char *controllers = lb_path_join(root, "cgroup.controllers");
    _cleanup_free_ char *v1 = lb_path_join(root, "freezer");
    if (lb_path_exists_at(AT_FDCWD, controllers)) {
        _cleanup_free_ char *base = lb_xasprintf("layerbox-%s", name);
        f->version = LB_CGROUP_V2;
        f->mount = lb_xstrdup(root);
        f->dir = lb_path_join(root, base);
    } else if (is_dir(v1)) {
        _cleanup_free_ char *parent = lb_path_join(v1, "layerbox");
        if (lb_sys_cgroup_mkdir(parent, 0755) < 0 && errno != EEXIST)
            return lb_error_set(err, errno, "cannot create cgroup '%s'", parent);
        f->version = LB_CGROUP_V1;
        f->mount = lb_xstrdup(v1);
        f->dir = lb_path_join(parent, name);
    } else {
        return lb_error_set(err, 0, "the cgroup freezer is not available in '%s'", root);
    }
    f->proc = lb_xstrdup(proc ? proc : "/proc");
    if (lb_sys_cgroup_mkdir(f->dir, 0755) == 0) {
        f->made = true;
    } else if (errno != EEXIST) {
        int e = errno;
        lb_error_set(err, e, "cannot create cgroup '%s'", f->dir);
        lb_cgroup_freezer_destroy(f, NULL);
        return -1;
    } else {
        /* v1: ours, left by a commit that crashed; v2: the container's own limit group */
        f->made = f->version == LB_CGROUP_V1;
    }
    lb_explain("cgroup", "freezer group %s (cgroup v%d)", f->dir, (int)f->version);
    return 0;
}

int lb_cgroup_freezer_add(struct lb_freezer *f, const pid_t *pids, size_t n, size_t *added,
                          struct lb_error **err)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *from = group_of(f, pids[i]);
        if (from == NULL || strcmp(from, f->dir) == 0)
            continue; /* gone, or in it already */
        if (move_pid(f->dir, pids[i]) < 0) {
            if (errno == ESRCH)
                continue;
            if (added)
                *added = count;
            return lb_error_set(err, errno, "cannot move process %ld into cgroup '%s'",
                                (long)pids[i], f->dir);
        }
        f->pids = lb_xrealloc(f->pids, (f->n + 1) * sizeof(pid_t));
        f->from = lb_xrealloc(f->from, (f->n + 2) * sizeof(char *));
        f->pids[f->n] = pids[i];
        f->from[f->n] = lb_steal_pointer(&from);
        f->from[++f->n] = NULL;
        count++;
    }
    if (added)
        *added = count;
    return 0;
}

/* Is the group frozen now? v1: freezer.state reads FROZEN; v2: cgroup.events has "frozen 1". */
static bool is_frozen(const struct lb_freezer *f)
{
    bool v2 = f->version == LB_CGROUP_V2;
    _cleanup_free_ char *path = lb_path_join(f->dir, v2 ? "cgroup.events" : "freezer.state");
    _cleanup_free_ char *text = NULL;
    if (lb_sys_read_file(path, CONTROL_FILE_MAX, &text) < 0)
        return false;
    if (!v2)
        return strncmp(text, "FROZEN", 6) == 0;
    for (char *line = text; line && *line;) {
        if (strncmp(line, "frozen ", 7) == 0)
            return line[7] == '1';
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return false;
}

static int write_state(const struct lb_freezer *f, bool freeze, struct lb_error **err)
{
    bool v2 = f->version == LB_CGROUP_V2;
    const char *value = v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
    return write_limit(f->dir, v2 ? "cgroup.freeze" : "freezer.state", value, err);
}

int lb_cgroup_freeze(struct lb_freezer *f, int timeout_ms, struct lb_error **err)
{
    if (f->version == LB_CGROUP_NONE)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "no freezer group to freeze");
    if (timeout_ms < 0)
        timeout_ms = 10000;
    f->frozen = true;
    for (int waited = 0;; waited++) {
        /* v1 may stay FREEZING while a task is busy in the kernel: asking again retries it */
        if (waited % 50 == 0 && write_state(f, true, err) < 0)
            return -1;
        if (is_frozen(f))
            return 0;
        if (waited >= timeout_ms)
            return lb_error_set(err, ETIMEDOUT, "the processes in cgroup '%s' did not freeze",
                                f->dir);
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int lb_cgroup_thaw(struct lb_freezer *f, struct lb_error **err)
{
    if (!f->frozen)
        return 0;
    if (write_state(f, false, err) < 0)
        return -1;
    f->frozen = false;
    return 0;
}

/* The pids listed in dir/cgroup.procs (NULL-free vector; *n may be 0). */
static pid_t *members(const char *dir, size_t *n)
{
    *n = 0;
    _cleanup_free_ char *path = lb_path_join(dir, "cgroup.procs");
    _cleanup_free_ char *procs = NULL;
    if (lb_sys_read_file(path, CONTROL_FILE_MAX, &procs) < 0)
        return NULL;
    pid_t *v = NULL;
    for (char *p = procs; *p;) {
        char *end = NULL;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0) {
            v = lb_xrealloc(v, (*n + 1) * sizeof(pid_t));
            v[(*n)++] = (pid_t)pid;
        }
        p = end;
        while (*p == '\n' || *p == ' ')
            p++;
    }
    return v;
}

/* Move the processes still in the group out of it: each to where it came from, a stranger (a
 * child forked inside) to the first one's group. */
static int move_back(struct lb_freezer *f, struct lb_error **err)
{
    int rc = 0;
    const char *home = f->n > 0 ? f->from[0] : f->mount;
    size_t n = 0;
    _cleanup_free_ pid_t *in = members(f->dir, &n);
    for (size_t i = 0; i < n; i++) {
        const char *to = home;
        for (size_t k = 0; k < f->n; k++)
            if (f->pids[k] == in[i])
                to = f->from[k];
        if (move_pid(to, in[i]) < 0 && errno != ESRCH && rc == 0)
            rc = lb_error_set(err, errno, "cannot move process %ld back into cgroup '%s'",
                              (long)in[i], to);
    }
    return rc;
}

int lb_cgroup_freezer_destroy(struct lb_freezer *f, struct lb_error **err)
{
    int rc = 0;
    if (f->version != LB_CGROUP_NONE && f->dir != NULL) {
        struct lb_error *e = NULL;
        if (lb_cgroup_thaw(f, &e) < 0 && rc == 0) {
            rc = -1;
            if (err)
                *err = lb_steal_pointer(&e);
        }
        lb_error_free(e);
        e = NULL;
        if (f->made) {
            for (int tries = 0;; tries++) {
                if (move_back(f, &e) < 0 && tries == 0 && rc == 0 && err) {
                    rc = -1;
                    *err = lb_steal_pointer(&e);
                }
                lb_error_free(e);
                e = NULL;
                if (lb_sys_cgroup_rmdir(f->dir) == 0 || errno == ENOENT)
                    break;
                if (errno != EBUSY || tries >= 100) {
                    if (rc == 0) {
                        rc = -1;
                        if (err)
                            lb_error_set(err, errno, "cannot remove cgroup '%s'", f->dir);
                    }
                    break;
                }
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }
    free(f->dir);
    free(f->mount);
    free(f->proc);
    free(f->pids);
    lb_strv_free(f->from);
    *f = (struct lb_freezer){0};
    return rc;
}
