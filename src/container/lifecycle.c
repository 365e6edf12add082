/* lifecycle.c — a container's life as the commands drive it: an image plus a writable layer
 * (create), plus an isolated process (start), and back to nothing (remove).
 *
 * create writes the record and makes the directories; start mounts the image's layers under the
 * container's diff/ (overlay), turns the image config and the options into a plan
 * (runtime/plan.h), starts the process (runtime/process.h) and records it running; when the
 * process ends, the exit is recorded and the root unmounted. Each step asks the state machine
 * first, under the store lock, so two commands racing on one container cannot both act.
 * The rest of lifecycle.h lives beside this file: detached.c (the start under a monitor),
 * stop.c (stop, kill, wait), inspect.c (docker's inspect object), root.c (the root and its
 * mount); lifecycle_internal.h is what they share.
 *
 * Sits on: container/container.h (records, liveness), container/state.h, container/volumes.h,
 *          image/store.h, root.c (mount/umount), runtime/plan.h, runtime/process.h,
 *          runtime/cgroup.h, container/monitor.h (the foreground's log).
 * Interface: lb_lifecycle_create, lb_lifecycle_start_foreground, lb_lifecycle_remove,
 *            lb_lifecycle_remove_with_volumes, lb_lifecycle_register, lb_lifecycle_argv
 *            (lifecycle_internal.h: lb_lifecycle_record_rel, lb_lifecycle_refresh_locked,
 *            lb_lifecycle_start_locked, lb_lifecycle_finish)
 */
#include "container/lifecycle_internal.h"
#include "container/monitor.h"
#include "container/volumes.h"

#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"
#include "layer/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CGROUPS_FILE "cgroups.json"

/* --- argv: docker's merge of Entrypoint, Cmd and the options ----------------------------- */

static int config_strv(const json_t *config, const char *key, char ***out, struct lb_error **err)
{
    *out = NULL;
    json_t *v = config ? json_object_get(config, key) : NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    size_t i;
    json_t *e;
    if (!json_is_array(v))
        goto bad;
    json_array_foreach(v, i, e) if (!json_is_string(e)) goto bad;
    *out = lb_json_to_strv(v);
    return 0;
bad:
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "image config: '%s' is not a list of strings",
                         key);
}

int lb_lifecycle_argv(char ***argv_out, const json_t *image_config, const struct lb_run_opts *opts,
                      struct lb_error **err)
{
    static const struct lb_run_opts defaults = {0};
    const struct lb_run_opts *o = opts ? opts : &defaults;
    *argv_out = NULL;
    _cleanup_strv_ char **entry = NULL;
    _cleanup_strv_ char **cmd = NULL;
    bool user_cmd = o->cmd && o->cmd[0];
    if (o->entrypoint) {
        if (o->entrypoint[0])
            lb_strv_push(&entry, o->entrypoint);
    } else {
        if (config_strv(image_config, "Entrypoint", &entry, err) < 0)
            return -1;
        if (!user_cmd && config_strv(image_config, "Cmd", &cmd, err) < 0)
            return -1;
    }
    if (entry && entry[0] && entry[0][0] == '\0' && entry[1] == NULL) {
        lb_strv_free(entry);
        entry = NULL;
    }
    char **argv = lb_xmalloc(sizeof(char *));
    for (size_t i = 0; entry && entry[i]; i++)
        lb_strv_push(&argv, entry[i]);
    if (user_cmd)
        for (size_t i = 0; o->cmd[i]; i++)
            lb_strv_push(&argv, o->cmd[i]);
    for (size_t i = 0; cmd && cmd[i]; i++)
        lb_strv_push(&argv, cmd[i]);
    if (argv[0] == NULL) {
        lb_strv_free(argv);
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "no command specified");
    }
    *argv_out = argv;
    return 0;
}

char *lb_lifecycle_record_rel(const char *id, const char *file)
{
    return lb_xasprintf("containers/%s/%s", id, file);
}

/* --- cgroups.json: the groups of the running process -------------------------------------- */

static int cgroups_save(struct lb_store *s, const char *id, const struct lb_cgroup *cg,
                        struct lb_error **err)
{
    if (cg->version == LB_CGROUP_NONE)
        return 0;
    _cleanup_json_ json_t *j =
        json_pack("{s:i, s:o}", "Version", (int)cg->version, "Dirs", lb_json_from_strv(cg->dirs));
    _cleanup_free_ char *rel = lb_lifecycle_record_rel(id, CGROUPS_FILE);
    return lb_json_write_at(s->root_fd, rel, j, err);
}

/* Remove the groups cgroups.json names, then the file. */
static int cgroups_destroy(struct lb_store *s, const char *id, struct lb_error **err)
{
    _cleanup_free_ char *rel = lb_lifecycle_record_rel(id, CGROUPS_FILE);
    if (!lb_path_exists_at(s->root_fd, rel))
        return 0;
    _cleanup_json_ json_t *j = lb_json_load_at(s->root_fd, rel, err);
    if (j == NULL)
        return -1;
    struct lb_cgroup cg = {.version = (enum lb_cgroup_version)lb_json_int(j, "Version", 0),
                           .dirs = lb_json_to_strv(lb_json_arr(j, "Dirs"))};
    if (cg.dirs == NULL || cg.version == LB_CGROUP_NONE) {
        lb_cgroup_release(&cg);
    } else if (lb_cgroup_destroy(&cg, err) < 0) {
        lb_cgroup_release(&cg);
        return -1;
    }
    if (unlinkat(s->root_fd, rel, 0) < 0 && errno != ENOENT)
        return lb_error_set(err, errno, "cannot remove '%s'", rel);
    return 0;
}

/* --- create ------------------------------------------------------------------------------- */

static int make_dirs(struct lb_store *s, const char *id, struct lb_error **err)
{
    static const char *const dirs[] = {"diff", "work", "rootfs"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(dirs); i++) {
        _cleanup_free_ char *rel = lb_lifecycle_record_rel(id, dirs[i]);
        if (mkdirat(s->root_fd, rel, 0755) < 0 && errno != EEXIST)
            return lb_error_set(err, errno, "cannot create '%s/%s'", s->root, rel);
    }
    return 0;
}

/* --- volumes: -v specs ------------------------------------------------------------------ */

/* Remove the volumes named in v (best effort: they were made for a container that failed). */
static void volumes_undo(struct lb_store *s, char **v)
{
    for (size_t i = 0; v && v[i]; i++) {
        struct lb_error *e = NULL;
        lb_volume_remove(s, v[i], true, &e);
        lb_error_free(e);
    }
}

/* Check the -v specs and make their volumes, before the record: every spec is parsed, no two may
 * share a mount point, and every bind source is checked before any volume is made, so a bad spec
 * leaves nothing behind.
 * *recorded gets the specs the record keeps: as given, but an anonymous one as "<name>:/ctr[:ro]"
 * (its volume's name, so that start mounts the same volume and rm -v finds it). *made gets the
 * volumes this call created (to undo on a later failure). */
static int volumes_prepare(struct lb_store *s, char *const *specs, char ***recorded, char ***made,
                           struct lb_error **err)
{
    *recorded = NULL;
    *made = NULL;
    size_t n = 0;
    while (specs && specs[n])
        n++;
    if (n == 0)
        return 0;
    struct lb_volume_spec *parsed = lb_xmalloc(n * sizeof(*parsed));
    for (size_t i = 0; i < n; i++)
        parsed[i] = (struct lb_volume_spec){0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = lb_volume_spec_parse(&parsed[i], specs[i], err);
    if (rc == 0)
        rc = lb_volume_specs_check_unique(parsed, n, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (parsed[i].kind != LB_VOLUME_BIND)
            continue;
        struct lb_mount_spec m = {0};
        rc = lb_volume_spec_mount(s, &parsed[i], &m, NULL, err);
        free(m.source);
        free(m.target);
        free(m.data);
    }
    char **rec = lb_xmalloc(sizeof(char *));
    char **mk = lb_xmalloc(sizeof(char *));
    rec[0] = mk[0] = NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (parsed[i].kind == LB_VOLUME_BIND) {
            lb_strv_push(&rec, specs[i]);
            continue;
        }
        bool existed = false;
        if (parsed[i].kind == LB_VOLUME_NAMED) {
            struct lb_volume *v = lb_volume_load(s, parsed[i].source, NULL);
            existed = v != NULL;
            lb_volume_free(v);
        }
        struct lb_mount_spec m = {0};
        _cleanup_free_ char *name = NULL;
        rc = lb_volume_spec_mount(s, &parsed[i], &m, &name, err);
        free(m.source);
        free(m.target);
        free(m.data);
        if (rc < 0)
            break;
        if (!existed)
            lb_strv_push(&mk, name);
        if (parsed[i].kind == LB_VOLUME_ANONYMOUS) {
            _cleanup_free_ char *r =
                lb_xasprintf("%s:%s%s", name, parsed[i].target, parsed[i].readonly ? ":ro" : "");
            lb_strv_push(&rec, r);
        } else {
            lb_strv_push(&rec, specs[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        lb_volume_spec_release(&parsed[i]);
    free(parsed);
    if (rc < 0) {
        volumes_undo(s, mk);
        lb_strv_free(mk);
        lb_strv_free(rec);
        return -1;
    }
    *recorded = rec;
    *made = mk;
    return 0;
}

/* Append the record's -v specs to the plan's mounts, as bind mounts (after the defaults). */
static int plan_add_volumes(struct lb_store *s, struct lb_run_plan *plan, char *const *specs,
                            struct lb_error **err)
{
    for (size_t i = 0; specs && specs[i]; i++) {
        struct lb_volume_spec v = {0};
        struct lb_mount_spec m = {0};
        int rc = lb_volume_spec_parse(&v, specs[i], err);
        if (rc == 0)
            rc = lb_volume_spec_mount(s, &v, &m, NULL, err);
        lb_volume_spec_release(&v);
        if (rc < 0)
            return lb_error_wrap(err, "volume '%s'", specs[i]);
        plan->mounts = lb_xrealloc(plan->mounts, (plan->n_mounts + 1) * sizeof(*plan->mounts));
        plan->mounts[plan->n_mounts++] = m;
        lb_explain("container", "volume %s: bind %s on %s%s", specs[i], m.source, m.target,
                   (m.flags & MS_RDONLY) ? " (read-only)" : "");
    }
    return 0;
}

/* The volume seam: the ID of a container whose -v specs name volume, or NULL. */
static char *volume_user(void *data, const char *volume)
{
    struct lb_store *s = data;
    struct lb_container **v = NULL;
    size_t n = 0;
    struct lb_error *e = NULL;
    if (lb_container_list(s, &v, &n, &e) < 0) {
        lb_error_free(e);
        return NULL;
    }
    char *user = NULL;
    for (size_t i = 0; i < n && user == NULL; i++) {
        for (size_t j = 0; v[i]->volumes && v[i]->volumes[j] && user == NULL; j++) {
            struct lb_volume_spec sp = {0};
            if (lb_volume_spec_parse(&sp, v[i]->volumes[j], &e) == 0 &&
                sp.kind == LB_VOLUME_NAMED && strcmp(sp.source, volume) == 0)
                user = lb_xstrdup(v[i]->id);
            lb_error_clear(&e);
            lb_volume_spec_release(&sp);
        }
    }
    lb_container_list_free(v, n);
    return user;
}

struct lb_container *lb_lifecycle_create(struct lb_store *s, const struct lb_create_request *req,
                                         struct lb_error **err)
{
    struct lb_image *img = lb_store_resolve(s, req->image, err);
    if (img == NULL)
        return NULL;
    struct lb_container *c = NULL;
    _cleanup_strv_ char **argv = NULL;
    _cleanup_strv_ char **volumes = NULL;
    _cleanup_strv_ char **made = NULL;
    if (lb_lifecycle_argv(&argv, lb_json_obj(img->config, "config"), req->opts, err) < 0 ||
        volumes_prepare(s, req->volumes, &volumes, &made, err) < 0)
        goto out;
    struct lb_container_spec spec = {.name = req->name,
                                     .image_id = &img->id,
                                     .image = req->image,
                                     .path = argv[0],
                                     .args = argv + 1,
                                     .opts = req->opts,
                                     .auto_remove = req->auto_remove,
                                     .stop_signal = req->stop_signal,
                                     .stop_timeout = req->stop_timeout,
                                     .volumes = volumes};
    if (lb_store_lock(s, err) < 0)
        goto out;
    c = lb_container_create(s, &spec, err);
    if (c != NULL) {
        int rc = make_dirs(s, c->id, err);
        struct lb_lifecycle_rootfs r = {0};
        if (rc == 0 && (rc = lb_lifecycle_rootfs_open(&r, s, c->id, &img->id, true, err)) == 0) {
            if (lb_lifecycle_driver_is_vfs(
                    r.driver)) /* the copy is the container's writable layer */
                rc = lb_lifecycle_rootfs_mount(s, &r, err);
            lb_lifecycle_rootfs_release(&r);
        }
        if (rc < 0) {
            struct lb_error *e = NULL;
            if (r.driver == NULL ||
                lb_lifecycle_rootfs_open(&r, s, c->id, &img->id, false, &e) == 0) {
                if (r.driver)
                    lb_lifecycle_rootfs_umount(s, &r, &e);
                lb_lifecycle_rootfs_release(&r);
            }
            lb_error_clear(&e);
            lb_container_remove(s, c->id, &e);
            lb_error_free(e);
            lb_container_free(c);
            c = NULL;
        }
    }
    lb_store_unlock(s);
out:
    if (c == NULL)
        volumes_undo(s, made);
    lb_image_free(img);
    return c;
}

/* --- start: what the foreground and the monitor (detached.c) share ------------------------ */

int lb_lifecycle_refresh_locked(struct lb_store *s, struct lb_container *c, struct lb_error **err)
{
    struct lb_container *now = lb_container_load(s, c->id, err);
    if (now == NULL)
        return -1;
    c->state = now->state;
    lb_container_free(now);
    return 0;
}

int lb_lifecycle_start_locked(struct lb_store *s, struct lb_container *c,
                              struct lb_lifecycle_rootfs *r, const struct lb_process_opts *popts,
                              struct lb_process *proc, struct lb_error **err)
{
    struct lb_transition t;
    if (lb_lifecycle_refresh_locked(s, c, err) < 0 || lb_container_check(s, c, err) < 0 ||
        lb_state_transition(&t, c->state.status, LB_EVENT_START, c->name, err) < 0)
        return -1;
    struct lb_container_state before = c->state;
    if (t.step == LB_STEP_NONE)
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0, "container '%s' is already running",
                             c->name);
    if (make_dirs(s, c->id, err) < 0 ||
        lb_lifecycle_rootfs_open(r, s, c->id, &c->image_id, true, err) < 0)
        return -1;
    r->volatile_upper = c->auto_remove; /* disposable: no sync of its writable layer */
    if (lb_lifecycle_rootfs_mount(s, r, err) < 0)
        return -1;
    lb_explain("container", "root of %.12s mounted by %s at %s", c->id, r->driver->name, r->target);

    struct lb_run_plan plan = {0};
    _cleanup_close_ int rootfs_fd = open(r->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfs_fd < 0)
        return lb_error_set(err, errno, "cannot open '%s'", r->target);
    int rc = lb_plan_build(&plan, lb_json_obj(r->img->config, "config"), &c->opts, rootfs_fd,
                           r->target, c->id, err);
    if (rc == 0)
        rc = plan_add_volumes(s, &plan, c->volumes, err);
    if (rc == 0)
        rc = lb_process_start(proc, &plan, popts, err);
    lb_plan_release(&plan);
    if (rc < 0)
        return -1;
    if (cgroups_save(s, c->id, &proc->cgroup, err) < 0)
        goto kill;
    c->state.status = LB_STATE_RUNNING;
    c->state.pid = proc->pid;
    c->state.pid_start = proc->start_time;
    c->state.exit_code = 0;
    c->state.started = lb_time_now();
    c->state.finished = (struct lb_time){0};
    c->state.oom_killed = false;
    c->state.monitor_pid = getpid();
    if (lb_container_save_state(s, c, err) < 0)
        goto kill;
    return 0;
kill:
    c->state = before;
    kill(proc->pid, SIGKILL);
    {
        int code = 0;
        struct lb_error *e = NULL;
        lb_process_wait(proc->pid, &code, &e);
        lb_cgroup_destroy(&proc->cgroup, &e);
        lb_error_free(e);
        lb_process_release(proc);
    }
    return -1;
}

void lb_lifecycle_finish(struct lb_store *s, struct lb_container *c, struct lb_lifecycle_rootfs *r,
                         struct lb_process *proc, bool started, int code, struct lb_error **err)
{
    struct lb_error *e = NULL;
    if (lb_store_lock(s, &e) < 0)
        goto out;
    if (started) {
        if (lb_container_record_exit(s, c, proc->pid, proc->start_time, code, false, &e) < 0 &&
            e->kind == LB_EKIND_NOT_FOUND)
            lb_error_clear(&e); /* removed meanwhile (rm -f): nothing left to record */
    } else {
        c->state.exit_code = code;
        if (lb_container_save_state(s, c, &e) < 0 && e->kind == LB_EKIND_NOT_FOUND)
            lb_error_clear(&e);
    }
    if (started && proc->cgroup.dirs) {
        struct lb_error *ce = NULL;
        lb_cgroup_destroy(&proc->cgroup, &ce);
        if (e == NULL)
            e = ce;
        else
            lb_error_free(ce);
    }
    if (started && e == NULL)
        cgroups_destroy(s, c->id, &e);
    if (r->driver && !lb_lifecycle_driver_is_vfs(r->driver) && e == NULL)
        lb_lifecycle_rootfs_umount(s, r, &e);
    lb_store_unlock(s);
out:
    if (e != NULL) {
        if (err && *err == NULL)
            *err = e;
        else
            lb_error_free(e);
    }
}

/* --- start in the foreground ------------------------------------------------------------- */

/* The foreground's capture (not with --rm: the log would be removed with the container at once,
 * so the copy through layerbox would only cost time; not with -t: the terminal is the
 * container's, as its controlling tty). The container's stdout and stderr are pipes; layerbox
 * copies them to where they would have gone and into container.log (lb_log_tee). */
struct capture {
    int out[2], err[2]; /* [0] ours to read, [1] the container's */
    int log_fd;
};

static void capture_close(struct capture *cap)
{
    int *fds[] = {&cap->out[0], &cap->out[1], &cap->err[0], &cap->err[1], &cap->log_fd};
    for (size_t i = 0; i < LB_ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

static int capture_open(struct lb_store *s, const struct lb_container *c, struct capture *cap,
                        struct lb_error **err)
{
    *cap = (struct capture){{-1, -1}, {-1, -1}, -1};
    _cleanup_free_ char *logrel = lb_lifecycle_record_rel(c->id, LB_LOG_FILE);
    if (pipe2(cap->out, O_CLOEXEC) < 0 || pipe2(cap->err, O_CLOEXEC) < 0) {
        capture_close(cap);
        return lb_error_set(err, errno, "cannot make the container's output pipes");
    }
    cap->log_fd = openat(s->root_fd, logrel, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (cap->log_fd < 0) {
        int e = errno;
        capture_close(cap);
        return lb_error_set(err, e, "cannot open '%s/%s'", s->root, logrel);
    }
    return 0;
}

/* Copy until both pipes reach end of file (the container's processes are all gone, or closed
 * them). SIGPIPE ignored meanwhile: a reader of our stdout that goes away (`| head -1`) must not
 * kill layerbox while the container runs; the copy to it stops, the log goes on. */
static void capture_pump(struct capture *cap, int copy_out, int copy_err)
{
    struct sigaction ign = {0}, old = {0};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);
    struct lb_error *e = NULL;
    if (lb_log_tee(cap->out[0], cap->err[0], cap->log_fd, copy_out, copy_err, &e) < 0)
        lb_explain("container", "container log: %s", e->msg);
    lb_error_free(e);
    sigaction(SIGPIPE, &old, NULL);
}

int lb_lifecycle_start_foreground(struct lb_store *s, struct lb_container *c,
                                  const struct lb_process_opts *popts, int *exit_code,
                                  struct lb_error **err)
{
    *exit_code = 125;
    struct lb_process_opts po = LB_PROCESS_OPTS_INIT;
    if (popts)
        po = *popts;
    _cleanup_close_ int devnull = -1;
    if (!c->opts.interactive && po.stdin_fd < 0) {
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0)
            return lb_error_set(err, errno, "cannot open '/dev/null'");
        po.stdin_fd = devnull;
    }
    bool capturing = !c->auto_remove && !c->opts.tty;
    struct capture cap = {{-1, -1}, {-1, -1}, -1};
    int copy_out = po.stdout_fd >= 0 ? po.stdout_fd : STDOUT_FILENO;
    int copy_err = po.stderr_fd >= 0 ? po.stderr_fd : STDERR_FILENO;
    if (capturing) {
        if (capture_open(s, c, &cap, err) < 0)
            return -1;
        po.stdout_fd = cap.out[1];
        po.stderr_fd = cap.err[1];
    }
    struct lb_lifecycle_rootfs r = {0};
    struct lb_process proc = {0};
    if (lb_store_lock(s, err) < 0) {
        capture_close(&cap);
        return -1;
    }
    int rc = lb_lifecycle_start_locked(s, c, &r, &po, &proc, err);
    lb_store_unlock(s);
    if (capturing) { /* the container has its copies (or is gone): ours would hide the EOF */
        close(cap.out[1]);
        close(cap.err[1]);
        cap.out[1] = cap.err[1] = -1;
    }
    if (rc < 0) {
        capture_close(&cap);
        bool ran_plan = r.img != NULL;
        *exit_code = lb_process_exit_code_for(proc.exec_errno);
        if (ran_plan) /* it got as far as the root: record the failure, undo the mount */
            lb_lifecycle_finish(s, c, &r, &proc, false, *exit_code, NULL);
        lb_lifecycle_rootfs_release(&r);
        return -1;
    }
    lb_explain("container", "%.12s running as pid %d%s", c->id, (int)proc.pid,
               capturing ? ", its output copied to container.log" : "");

    struct lb_error *fe = NULL;
    if (lb_process_forward_signals(proc.pid, &fe) < 0)
        lb_error_clear(&fe); /* not fatal: the container still runs and is waited for */
    if (capturing)
        capture_pump(&cap, copy_out, copy_err);
    capture_close(&cap);
    int code = 0;
    rc = lb_process_wait(proc.pid, &code, err);
    lb_process_forward_signals_stop();
    if (rc < 0)
        code = -1;
    lb_lifecycle_finish(s, c, &r, &proc, true, code, err);
    lb_process_release(&proc);
    lb_lifecycle_rootfs_release(&r);
    if (rc < 0)
        return -1;
    *exit_code = code;
    lb_explain("container", "%.12s exited with code %d", c->id, code);
    return 0;
}

/* --- remove ------------------------------------------------------------------------------- */

/* SIGKILL pid and wait until it is gone (it is not our child: poll), up to 10 s. */
static int kill_and_wait(const struct lb_container *c, struct lb_error **err)
{
    pid_t pid = c->state.pid;
    if (pid <= 0 || !lb_process_is_running(pid, c->state.pid_start))
        return 0;
    if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
        return lb_error_set(err, errno, "cannot kill container '%s'", c->name);
    for (int i = 0; i < 1000; i++) {
        if (!lb_process_is_running(pid, c->state.pid_start))
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return lb_error_set(err, ETIMEDOUT, "container '%s' did not die after SIGKILL", c->name);
}

static int remove_locked(struct lb_store *s, const char *arg, bool force, char *id,
                         struct lb_error **err)
{
    if (lb_container_resolve_id(s, arg, id, err) < 0)
        return -1;
    struct lb_error *e = NULL;
    struct lb_container *c = lb_container_load(s, id, &e);
    if (c == NULL && !force) {
        *err = e;
        return -1;
    }
    lb_error_clear(&e);
    int rc = -1;
    struct lb_lifecycle_rootfs r = {0};
    if (c != NULL) {
        struct lb_transition t;
        if (lb_container_check(s, c, err) < 0 ||
            lb_state_transition(&t, c->state.status,
                                force ? LB_EVENT_REMOVE_FORCE : LB_EVENT_REMOVE, c->name, err) < 0)
            goto out;
        if (t.step == LB_STEP_KILL_REMOVE && kill_and_wait(c, err) < 0)
            goto out;
    }
    /* Unmounting needs the target only (overlay: umount; vfs: empty the copy): no image. */
    static const struct lb_digest none = {0};
    if (cgroups_destroy(s, id, err) < 0 ||
        lb_lifecycle_rootfs_open(&r, s, id, &none, false, err) < 0 ||
        lb_lifecycle_rootfs_umount(s, &r, err) < 0 || lb_container_remove(s, id, err) < 0)
        goto out;
    lb_explain("container", "removed %.12s", id);
    rc = 0;
out:
    lb_lifecycle_rootfs_release(&r);
    lb_container_free(c);
    return rc;
}

int lb_lifecycle_remove(struct lb_store *s, const char *arg, bool force,
                        char id_out[LB_CONTAINER_ID_LEN + 1], struct lb_error **err)
{
    char id[LB_CONTAINER_ID_LEN + 1] = "";
    if (lb_store_lock(s, err) < 0)
        return -1;
    int rc = remove_locked(s, arg, force, id, err);
    lb_store_unlock(s);
    if (rc == 0 && id_out)
        memcpy(id_out, id, sizeof(id));
    return rc;
}

int lb_lifecycle_remove_with_volumes(struct lb_store *s, const char *arg, bool force,
                                     char id_out[LB_CONTAINER_ID_LEN + 1], struct lb_error **err)
{
    char id[LB_CONTAINER_ID_LEN + 1] = "";
    if (lb_store_lock(s, err) < 0)
        return -1;
    struct lb_container *c = NULL;
    if (lb_container_resolve_id(s, arg, id, NULL) == 0)
        c = lb_container_load(s, id, NULL);
    int rc = remove_locked(s, arg, force, id, err);
    for (size_t i = 0; rc == 0 && c && c->volumes && c->volumes[i]; i++) {
        struct lb_volume_spec sp = {0};
        struct lb_error *e = NULL;
        if (lb_volume_spec_parse(&sp, c->volumes[i], &e) == 0 && sp.kind == LB_VOLUME_NAMED) {
            struct lb_volume *v = lb_volume_load(s, sp.source, &e);
            if (v != NULL && v->anonymous && lb_volume_remove(s, v->name, true, &e) < 0 &&
                e->kind != LB_EKIND_CONFLICT) /* still used by another container: kept */
                rc = -1;
            if (v != NULL && rc == 0)
                lb_explain("container", "%s volume %s", v->anonymous ? "removed" : "kept", v->name);
            lb_volume_free(v);
        }
        lb_volume_spec_release(&sp);
        if (rc < 0)
            *err = e;
        else
            lb_error_free(e);
    }
    lb_store_unlock(s);
    lb_container_free(c);
    if (rc == 0 && id_out)
        memcpy(id_out, id, sizeof(id));
    return rc;
}

void lb_lifecycle_register(struct lb_store *s)
{
    lb_store_set_image_user_check(s, lb_container_image_user, s);
    lb_volume_set_user_check(volume_user, s);
}
