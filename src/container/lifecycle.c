/* lifecycle.c — a container's life as the commands drive it: an image plus a writable layer
 * (create), plus an isolated process (start), and back to nothing (remove).
 *
 * create writes the record and makes the directories; start mounts the image's layers under the
 * container's diff/ (overlay), turns the image config and the options into a plan
 * (runtime/plan.h), starts the process (runtime/process.h) and records it running; when the
 * process ends, the exit is recorded and the root unmounted. Each step asks the state machine
 * first, under the store lock, so two commands racing on one container cannot both act.
 *
 * Sits on: container/container.h (records, liveness), container/state.h, image/store.h,
 *          layer/driver.h (mount/umount), runtime/plan.h, runtime/process.h, runtime/cgroup.h.
 * Interface: lb_lifecycle_create, lb_lifecycle_start_foreground, lb_lifecycle_start_detached,
 *            lb_lifecycle_stop, lb_lifecycle_kill, lb_lifecycle_wait, lb_lifecycle_remove,
 *            lb_lifecycle_register, lb_lifecycle_argv, lb_lifecycle_inspect_json
 */
#include "container/lifecycle.h"
#include "container/monitor.h"
#include "container/volumes.h"

#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"
#include "layer/driver.h"
#include "layer/layers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
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

/* --- the container's root: its layers and where they are mounted -------------------------- */

struct rootfs {
    const struct lb_driver *driver;
    struct lb_image *img;     /* NULL when the image cannot be loaded (then no layers) */
    struct lb_digest *chains; /* TOP FIRST */
    char *upper, *work, *target;
};

static void rootfs_release(struct rootfs *r)
{
    lb_image_free(r->img);
    free(r->chains);
    free(r->upper);
    free(r->work);
    free(r->target);
    *r = (struct rootfs){0};
}

static struct lb_mount_request rootfs_request(const struct lb_store *s, const struct rootfs *r)
{
    return (struct lb_mount_request){.root_fd = s->root_fd,
                                     .root = s->root,
                                     .layers = r->chains,
                                     .n_layers = r->img ? r->img->n_layers : 0,
                                     .upper = r->upper,
                                     .work = r->work,
                                     .target = r->target};
}

/* need_image: fail when the image cannot be loaded (start); else go on without layers (remove,
 * inspect). */
static int rootfs_open(struct rootfs *r, struct lb_store *s, const char *id,
                       const struct lb_digest *image_id, bool need_image, struct lb_error **err)
{
    *r = (struct rootfs){0};
    if (lb_store_driver(s, &r->driver, err) < 0)
        return -1;
    struct lb_error *e = NULL;
    if (image_id->str[0] != '\0')
        r->img = lb_store_resolve(s, image_id->str, &e);
    else
        lb_error_set(&e, 0, "no image recorded");
    if (r->img == NULL) {
        if (need_image) {
            *err = e;
            return lb_error_wrap(err, "the image of container '%.12s'", id);
        }
        lb_error_free(e);
    } else {
        size_t n = r->img->n_layers;
        r->chains = lb_xmalloc((n + 1) * sizeof(*r->chains));
        for (size_t i = 0; i < n; i++)
            r->chains[i] = r->img->layers[n - 1 - i].chain_id;
    }
    r->upper = lb_xasprintf("%s/containers/%s/diff", s->root, id);
    r->work = lb_xasprintf("%s/containers/%s/work", s->root, id);
    r->target = lb_xasprintf("%s/containers/%s/rootfs", s->root, id);
    return 0;
}

static bool driver_is_vfs(const struct lb_driver *d)
{
    return strcmp(d->name, "vfs") == 0;
}

static int rootfs_mount(struct lb_store *s, struct rootfs *r, struct lb_error **err)
{
    bool mounted = false;
    if (lb_driver_is_mounted(r->driver, r->target, &mounted, err) < 0)
        return -1;
    if (mounted) /* vfs: the copy made by create; overlay: left by a crash, reuse it */
        return 0;
    struct lb_mount_request req = rootfs_request(s, r);
    if (r->driver->mount(&req, err) < 0)
        return lb_error_wrap(err, "mounting the root of the container");
    return 0;
}

static int rootfs_umount(struct lb_store *s, struct rootfs *r, struct lb_error **err)
{
    bool mounted = false;
    if (lb_driver_is_mounted(r->driver, r->target, &mounted, err) < 0)
        return -1;
    if (!mounted)
        return 0;
    struct lb_mount_request req = rootfs_request(s, r);
    return r->driver->umount(&req, err);
}

/* --- the root seen from outside: export, cp, diff, commit ---------------------------------- */

int lb_lifecycle_root_open(struct lb_store *s, struct lb_container *c,
                           struct lb_container_root *out, struct lb_error **err)
{
    *out = (struct lb_container_root){.fd = -1, .store_ = s};
    if (lb_store_lock(s, err) < 0)
        return -1;
    out->locked_ = true;
    struct rootfs r;
    int rc = -1;
    if (lb_container_check(s, c, err) < 0 ||
        rootfs_open(&r, s, c->id, &c->image_id, false, err) < 0)
        goto fail;
    bool vfs = driver_is_vfs(r.driver);
    if (r.img == NULL && !vfs) {
        lb_error_setk(err, LB_EKIND_NOT_FOUND, 0,
                      "the image of container '%s' is gone: its layers cannot be mounted", c->name);
        goto fail_r;
    }
    out->running = c->state.status == LB_STATE_RUNNING;
    if (!out->running && !vfs) {
        bool mounted = false;
        if (lb_driver_is_mounted(r.driver, r.target, &mounted, err) < 0)
            goto fail_r;
        if (!mounted) {
            if (rootfs_mount(s, &r, err) < 0)
                goto fail_r;
            out->mounted_ = true;
            lb_explain("container", "mounted the root of stopped container %.12s for this command",
                       c->id);
        }
    }
    out->fd = open(r.target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (out->fd < 0) {
        lb_error_set(err, errno, "cannot open '%s'", r.target);
        goto fail_r;
    }
    out->path = lb_steal_pointer(&r.target);
    if (!vfs)
        out->upper = lb_steal_pointer(&r.upper);
    if (r.img != NULL) {
        out->layer_fds = lb_xmalloc((r.img->n_layers + 1) * sizeof(int));
        for (size_t i = 0; i < r.img->n_layers; i++) {
            _cleanup_free_ char *rel = lb_xasprintf("layers/%s/diff", r.chains[i].str + 7);
            int fd = openat(s->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                lb_error_set(err, errno, "cannot open '%s/%s'", s->root, rel);
                goto fail_r;
            }
            out->layer_fds[out->n_layers++] = fd;
        }
    }
    /* A running container's mount is its own: nobody else mounts it, and rm -f waits for the
     * lock only to remove it; keep the lock only while we hold a mount of our own. */
    if (out->running) {
        lb_store_unlock(s);
        out->locked_ = false;
    }
    rootfs_release(&r);
    return 0;
fail_r:
    if (out->mounted_) {
        struct lb_error *ue = NULL;
        rootfs_umount(s, &r, &ue);
        lb_error_free(ue);
        out->mounted_ = false;
    }
    rootfs_release(&r);
fail:
    lb_lifecycle_root_release(out, NULL);
    return rc;
}

int lb_lifecycle_root_release(struct lb_container_root *r, struct lb_error **err)
{
    int rc = 0;
    if (r->fd >= 0)
        close(r->fd);
    for (size_t i = 0; i < r->n_layers; i++)
        close(r->layer_fds[i]);
    free(r->layer_fds);
    if (r->mounted_) {
        const struct lb_driver *d = NULL;
        if (lb_store_driver(r->store_, &d, err) < 0 ||
            d->umount(&(struct lb_mount_request){.root_fd = r->store_->root_fd,
                                                 .root = r->store_->root,
                                                 .target = r->path},
                      err) < 0)
            rc = -1;
    }
    if (r->locked_)
        lb_store_unlock(r->store_);
    free(r->path);
    free(r->upper);
    *r = (struct lb_container_root){.fd = -1};
    return rc;
}

/* --- cgroups.json: the groups of the running process -------------------------------------- */

static char *record_rel(const char *id, const char *file)
{
    return lb_xasprintf("containers/%s/%s", id, file);
}

static int cgroups_save(struct lb_store *s, const char *id, const struct lb_cgroup *cg,
                        struct lb_error **err)
{
    if (cg->version == LB_CGROUP_NONE)
        return 0;
    _cleanup_json_ json_t *j =
        json_pack("{s:i, s:o}", "Version", (int)cg->version, "Dirs", lb_json_from_strv(cg->dirs));
    _cleanup_free_ char *rel = record_rel(id, CGROUPS_FILE);
    return lb_json_write_at(s->root_fd, rel, j, err);
}

/* Remove the groups cgroups.json names, then the file. */
static int cgroups_destroy(struct lb_store *s, const char *id, struct lb_error **err)
{
    _cleanup_free_ char *rel = record_rel(id, CGROUPS_FILE);
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
        _cleanup_free_ char *rel = record_rel(id, dirs[i]);
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
        struct rootfs r = {0};
        if (rc == 0 && (rc = rootfs_open(&r, s, c->id, &img->id, true, err)) == 0) {
            if (driver_is_vfs(r.driver)) /* the copy is the container's writable layer */
                rc = rootfs_mount(s, &r, err);
            rootfs_release(&r);
        }
        if (rc < 0) {
            struct lb_error *e = NULL;
            if (r.driver == NULL || rootfs_open(&r, s, c->id, &img->id, false, &e) == 0) {
                if (r.driver)
                    rootfs_umount(s, &r, &e);
                rootfs_release(&r);
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

/* --- start in the foreground ------------------------------------------------------------- */

/* Re-read c's record under the lock: another command may have changed it (a concurrent start
 * ran it) or removed it (rm -f) since c was loaded; then "no such container". */
static int refresh_locked(struct lb_store *s, struct lb_container *c, struct lb_error **err)
{
    struct lb_container *now = lb_container_load(s, c->id, err);
    if (now == NULL)
        return -1;
    c->state = now->state;
    lb_container_free(now);
    return 0;
}

/* Everything start needs between taking the lock and starting the process. */
static int start_locked(struct lb_store *s, struct lb_container *c, struct rootfs *r,
                        const struct lb_process_opts *popts, struct lb_process *proc,
                        struct lb_error **err)
{
    struct lb_transition t;
    if (refresh_locked(s, c, err) < 0 || lb_container_check(s, c, err) < 0 ||
        lb_state_transition(&t, c->state.status, LB_EVENT_START, c->name, err) < 0)
        return -1;
    struct lb_container_state before = c->state;
    if (t.step == LB_STEP_NONE)
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0, "container '%s' is already running",
                             c->name);
    if (make_dirs(s, c->id, err) < 0 || rootfs_open(r, s, c->id, &c->image_id, true, err) < 0 ||
        rootfs_mount(s, r, err) < 0)
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

/* After the process ended (or failed to start): record, clean up. Errors are collected in err
 * only when it is still empty. */
static void finish(struct lb_store *s, struct lb_container *c, struct rootfs *r,
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
    if (r->driver && !driver_is_vfs(r->driver) && e == NULL)
        rootfs_umount(s, r, &e);
    lb_store_unlock(s);
out:
    if (e != NULL) {
        if (err && *err == NULL)
            *err = e;
        else
            lb_error_free(e);
    }
}

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
    _cleanup_free_ char *logrel = record_rel(c->id, LB_LOG_FILE);
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
    struct rootfs r = {0};
    struct lb_process proc = {0};
    if (lb_store_lock(s, err) < 0) {
        capture_close(&cap);
        return -1;
    }
    int rc = start_locked(s, c, &r, &po, &proc, err);
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
            finish(s, c, &r, &proc, false, *exit_code, NULL);
        rootfs_release(&r);
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
    finish(s, c, &r, &proc, true, code, err);
    lb_process_release(&proc);
    rootfs_release(&r);
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
    struct rootfs r = {0};
    if (c != NULL) {
        struct lb_transition t;
        if (lb_container_check(s, c, err) < 0 ||
            lb_state_transition(&t, c->state.status,
                                force ? LB_EVENT_REMOVE_FORCE : LB_EVENT_REMOVE, c->name, err) < 0)
            goto out;
        if (t.step == LB_STEP_KILL_REMOVE && kill_and_wait(c, err) < 0)
            goto out;
    }
    static const struct lb_digest none = {0};
    if (cgroups_destroy(s, id, err) < 0 ||
        rootfs_open(&r, s, id, c ? &c->image_id : &none, false, err) < 0 ||
        rootfs_umount(s, &r, err) < 0 || lb_container_remove(s, id, err) < 0)
        goto out;
    lb_explain("container", "removed %.12s", id);
    rc = 0;
out:
    rootfs_release(&r);
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

/* --- start detached: the monitor ---------------------------------------------------------- */

/* What the monitor tells the CLI: "S" when the container runs, else "E<code> <errno> <kind>
 * <message>". */
static void report(int fd, const char *msg, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, msg, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        msg += n;
        len -= (size_t)n;
    }
}

static void report_error(int fd, int code, const struct lb_error *e)
{
    _cleanup_free_ char *msg =
        lb_xasprintf("E%d %d %d %s", code, e ? e->code : 0, e ? e->kind : 0, e ? e->msg : "failed");
    report(fd, msg, strlen(msg));
}

/* Close every fd above 2 but the ones in keep (sorted, -1 ignored). */
static void close_fds_but(const int *keep, size_t n)
{
    unsigned next = 3;
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < (int)next)
            continue;
        if ((unsigned)keep[i] > next)
            close_range(next, (unsigned)keep[i] - 1, 0);
        next = (unsigned)keep[i] + 1;
    }
    close_range(next, ~0U, 0);
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The monitor's --explain narration: to the stderr of the layerbox that started it (explain_fd),
 * until the container runs (monitor_main then closes it, so the caller's stderr is not held
 * open for the container's lifetime). The monitor is a program of its own with no CLI above
 * it; this sink is its CLI's. */
static void explain_to_fd(const char *topic, const char *text, void *data)
{
    dprintf(*(int *)data, "[%s] %s\n", topic, text);
}

static void __attribute__((noreturn))
monitor_main(struct lb_store *s, struct lb_container *c, int status_fd)
{
    struct lb_error *e = NULL;
    static int explain_fd = -1;
    if (lb_explain_enabled()) {
        explain_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        lb_explain_set_sink(explain_fd >= 0 ? explain_to_fd : NULL, &explain_fd);
    }
    int keep[4] = {s->root_fd, status_fd, s->tmp_lock_fd, explain_fd};
    qsort(keep, 4, sizeof(int), cmp_int);
    close_fds_but(keep, 4);
    lb_explain("monitor",
               "pid %d watches container %.12s: its own session, subreaper of the "
               "container's process, holder of its output pipes",
               (int)getpid(), c->id);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (devnull > 2)
            close(devnull);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    _cleanup_free_ char *logrel = record_rel(c->id, LB_LOG_FILE);
    int log_fd = -1;
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        lb_error_set(&e, errno, "cannot make the container's output pipes");
        report_error(status_fd, 125, e);
        _exit(1);
    }
    struct lb_process_opts po = LB_PROCESS_OPTS_INIT;
    po.stdin_fd = 0;
    po.stdout_fd = outp[1];
    po.stderr_fd = errp[1];
    struct rootfs r = {0};
    struct lb_process proc = {0};
    /* The log is created under the lock, once the record is known to exist: created before,
     * it could land in a record that a concurrent rm -f is removing (its rmdir then fails and
     * the start goes on in a record without config.json, invisible to ps). */
    int rc = lb_store_lock(s, &e);
    if (rc == 0) {
        rc = refresh_locked(s, c, &e);
        if (rc == 0) {
            log_fd = openat(s->root_fd, logrel, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
            if (log_fd < 0)
                rc = lb_error_set(&e, errno, "cannot open '%s/%s'", s->root, logrel);
        }
        if (rc == 0)
            rc = start_locked(s, c, &r, &po, &proc, &e);
        lb_store_unlock(s);
    }
    close(outp[1]);
    close(errp[1]);
    if (rc < 0) {
        int code = lb_process_exit_code_for(proc.exec_errno);
        if (r.img != NULL)
            finish(s, c, &r, &proc, false, code, NULL);
        report_error(status_fd, code, e);
        _exit(1);
    }
    lb_explain("monitor",
               "the container's output goes to containers/%.12s…/" LB_LOG_FILE
               "; layerbox returns, the monitor stays",
               c->id);
    lb_explain_set_sink(NULL, NULL);
    if (explain_fd >= 0)
        close(explain_fd);
    report(status_fd, "S", 1);
    close(status_fd);

    struct lb_error *pe = NULL;
    lb_log_pump(outp[0], errp[0], log_fd, &pe);
    lb_error_free(pe);
    close(outp[0]);
    close(errp[0]);
    close(log_fd);
    int code = 0;
    struct lb_error *we = NULL;
    if (lb_process_wait(proc.pid, &code, &we) < 0)
        code = -1;
    lb_error_free(we);
    finish(s, c, &r, &proc, true, code, NULL);
    if (c->auto_remove) {
        struct lb_error *re = NULL;
        lb_lifecycle_remove_with_volumes(s, c->id, true, NULL, &re);
        lb_error_free(re);
    }
    _exit(0);
}

int lb_lifecycle_start_detached(struct lb_store *s, struct lb_container *c, int *exit_code,
                                struct lb_error **err)
{
    *exit_code = 125;
    int sp[2];
    if (pipe2(sp, O_CLOEXEC) < 0)
        return lb_error_set(err, errno, "cannot make a pipe");
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        close(sp[0]);
        close(sp[1]);
        return lb_error_set(err, errno, "cannot fork the container monitor");
    }
    if (child == 0) {
        close(sp[0]);
        setsid();
        pid_t m = fork();
        if (m != 0)
            _exit(m < 0 ? 1 : 0);
        monitor_main(s, c, sp[1]);
    }
    close(sp[1]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    struct lb_strbuf msg = LB_STRBUF_INIT;
    char buf[1024];
    for (;;) {
        ssize_t n = read(sp[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        lb_strbuf_add(&msg, buf, (size_t)n);
    }
    close(sp[0]);
    int rc = -1;
    if (msg.len > 0 && msg.buf[0] == 'S') {
        rc = 0;
        lb_explain("container", "%.12s started under its monitor", c->id);
        /* the monitor recorded the start: refresh ours */
        struct lb_container *now = lb_container_load(s, c->id, NULL);
        if (now) {
            c->state = now->state;
            lb_container_free(now);
        }
    } else if (msg.len > 0 && msg.buf[0] == 'E') {
        int code = 125, errnum = 0, kind = 0, off = 0;
        if (sscanf(msg.buf + 1, "%d %d %d %n", &code, &errnum, &kind, &off) >= 3 && off > 0) {
            *exit_code = code;
            lb_error_setk(err, kind, errnum, "%s", msg.buf + 1 + off);
        } else {
            lb_error_set(err, 0, "the container monitor failed");
        }
    } else {
        lb_error_set(err, 0, "the container monitor ended before starting the container");
    }
    lb_strbuf_release(&msg);
    return rc;
}

/* --- stop, kill, wait ------------------------------------------------------------------- */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Poll for pid (started at start) to be gone, up to ms milliseconds. True when gone. */
static bool wait_gone(pid_t pid, uint64_t start, long ms)
{
    for (long t = 0;; t += 10) {
        if (!lb_process_is_running(pid, start))
            return true;
        if (t >= ms)
            return false;
        sleep_ms(10);
    }
}

/* The process is gone: wait (up to 10 s) for its monitor to record the end; when the monitor is
 * gone too, the liveness check records it. c is refreshed. */
static int wait_recorded(struct lb_store *s, struct lb_container *c, struct lb_error **err)
{
    for (int i = 0; i < 1000; i++) {
        struct lb_container *now = lb_container_load(s, c->id, err);
        if (now == NULL)
            return -1;
        c->state = now->state;
        lb_container_free(now);
        if (c->state.status != LB_STATE_RUNNING && c->state.status != LB_STATE_PAUSED)
            return 0;
        pid_t m = c->state.monitor_pid;
        if (m <= 0 || m == getpid() || kill(m, 0) < 0)
            break;
        sleep_ms(10);
    }
    return lb_container_check(s, c, err) < 0 ? -1 : 0;
}

static int stop_signal_of(const struct lb_container *c, int *sig, struct lb_error **err)
{
    if (c->stop_signal == NULL || c->stop_signal[0] == '\0') {
        *sig = SIGTERM;
        return 0;
    }
    return lb_signal_parse(c->stop_signal, sig, err);
}

/* Resolve, load, check and ask the state machine, under the lock (held on success). */
static struct lb_container *load_for(struct lb_store *s, const char *arg, enum lb_event ev,
                                     struct lb_transition *t, struct lb_error **err)
{
    if (lb_store_lock(s, err) < 0)
        return NULL;
    struct lb_container *c = lb_container_resolve(s, arg, err);
    if (c == NULL || lb_container_check(s, c, err) < 0 ||
        lb_state_transition(t, c->state.status, ev, c->name, err) < 0) {
        lb_container_free(c);
        lb_store_unlock(s);
        return NULL;
    }
    return c;
}

int lb_lifecycle_stop(struct lb_store *s, const char *arg, int timeout, struct lb_error **err)
{
    struct lb_transition t;
    struct lb_container *c = load_for(s, arg, LB_EVENT_STOP, &t, err);
    if (c == NULL)
        return -1;
    int sig = SIGTERM;
    if (t.step == LB_STEP_NONE || stop_signal_of(c, &sig, err) < 0) {
        lb_store_unlock(s);
        int rc = t.step == LB_STEP_NONE ? 0 : -1;
        lb_container_free(c);
        return rc;
    }
    pid_t pid = c->state.pid;
    uint64_t start = c->state.pid_start;
    lb_explain("container", "stopping %.12s: signal %d to pid %d", c->id, sig, (int)pid);
    if (kill(pid, sig) < 0 && errno != ESRCH) {
        lb_error_set(err, errno, "cannot stop container '%s'", c->name);
        lb_store_unlock(s);
        lb_container_free(c);
        return -1;
    }
    lb_store_unlock(s);
    if (timeout < 0)
        timeout = c->stop_timeout >= 0 ? c->stop_timeout : 10;
    int rc = 0;
    if (!wait_gone(pid, start, (long)timeout * 1000)) {
        lb_explain("container", "%.12s still running after %d s: SIGKILL", c->id, timeout);
        if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
            rc = lb_error_set(err, errno, "cannot kill container '%s'", c->name);
        else if (!wait_gone(pid, start, 10000))
            rc = lb_error_set(err, ETIMEDOUT, "container '%s' did not die after SIGKILL", c->name);
    }
    if (rc == 0)
        rc = wait_recorded(s, c, err);
    lb_container_free(c);
    return rc;
}

int lb_lifecycle_kill(struct lb_store *s, const char *arg, int sig, struct lb_error **err)
{
    struct lb_transition t;
    struct lb_container *c = load_for(s, arg, LB_EVENT_KILL, &t, err);
    if (c == NULL)
        return -1;
    int rc = 0;
    if (t.step != LB_STEP_NONE) {
        lb_explain("container", "signal %d to %.12s (pid %d)", sig, c->id, (int)c->state.pid);
        if (kill(c->state.pid, sig) < 0 && errno != ESRCH)
            rc = lb_error_set(err, errno, "cannot kill container '%s'", c->name);
    }
    lb_store_unlock(s);
    lb_container_free(c);
    return rc;
}

int lb_lifecycle_wait(struct lb_store *s, const char *arg, int *exit_code, struct lb_error **err)
{
    struct lb_container *c = lb_container_resolve(s, arg, err);
    if (c == NULL)
        return -1;
    int rc = 0;
    for (;;) {
        if (lb_container_check(s, c, err) < 0) {
            rc = -1;
            break;
        }
        if (c->state.status != LB_STATE_RUNNING && c->state.status != LB_STATE_PAUSED)
            break;
        if (!lb_process_is_running(c->state.pid, c->state.pid_start)) {
            rc = wait_recorded(s, c, err);
            break;
        }
        sleep_ms(50);
        struct lb_container *now = lb_container_load(s, c->id, err);
        if (now == NULL) {
            rc = -1;
            break;
        }
        c->state = now->state;
        lb_container_free(now);
    }
    if (rc == 0)
        *exit_code = c->state.exit_code;
    lb_container_free(c);
    return rc;
}

/* --- inspect ------------------------------------------------------------------------------ */

/* docker prints never-set times as Go's zero time. */
static json_t *time_json(struct lb_time t)
{
    char buf[48];
    if (t.sec == 0 && t.nsec == 0)
        return json_string("0001-01-01T00:00:00Z");
    return json_string(lb_time_format(buf, sizeof(buf), t));
}

static json_t *strv_or_null(char *const *v)
{
    return v ? lb_json_from_strv(v) : json_null();
}

static size_t key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* The image's Env with the -e values over it (a "K" without '=' is left out: its value came
 * from the caller's environment when the plan was built). */
static json_t *merged_env(const json_t *config, char *const *env)
{
    _cleanup_strv_ char **out = lb_json_to_strv(lb_json_arr(config, "Env"));
    if (out == NULL)
        out = lb_xmalloc(sizeof(char *));
    for (size_t i = 0; env && env[i]; i++) {
        if (strchr(env[i], '=') == NULL)
            continue;
        size_t k = key_len(env[i]), j = 0;
        for (; out[j]; j++)
            if (key_len(out[j]) == k && strncmp(out[j], env[i], k) == 0)
                break;
        if (out[j]) {
            free(out[j]);
            out[j] = lb_xstrdup(env[i]);
        } else {
            lb_strv_push(&out, env[i]);
        }
    }
    return lb_json_from_strv(out);
}

static json_t *config_json(const struct lb_container *c, const json_t *img_config)
{
    const struct lb_run_opts *o = &c->opts;
    char host[LB_CONTAINER_SHORT_ID_LEN + 1];
    snprintf(host, sizeof(host), "%.12s", c->id);
    json_t *cmd, *entry;
    if (o->cmd && o->cmd[0])
        cmd = lb_json_from_strv(o->cmd);
    else if (o->entrypoint)
        cmd = json_null();
    else
        cmd = json_deep_copy(json_object_get(img_config, "Cmd"));
    if (o->entrypoint)
        entry = o->entrypoint[0] ? json_pack("[s]", o->entrypoint) : json_null();
    else
        entry = json_deep_copy(json_object_get(img_config, "Entrypoint"));
    const char *wd = o->workdir ? o->workdir : lb_json_str(img_config, "WorkingDir");
    const char *user = o->user ? o->user : lb_json_str(img_config, "User");
    json_t *labels = json_deep_copy(json_object_get(img_config, "Labels"));
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:s, s:o?, s:s, "
                     "s:o, s:o?, s:o}",
                     "Hostname", o->hostname ? o->hostname : host, "Domainname", "", "User",
                     user ? user : "", "AttachStdin", o->interactive, "AttachStdout", 1,
                     "AttachStderr", 1, "Tty", o->tty, "OpenStdin", o->interactive, "StdinOnce",
                     o->interactive, "Env", merged_env(img_config, o->env), "Cmd",
                     cmd ? cmd : json_null(), "Image", c->image ? c->image : c->image_id.str,
                     "Volumes", json_null(), "WorkingDir", wd ? wd : "", "Entrypoint",
                     entry ? entry : json_null(), "OnBuild", json_null(), "Labels",
                     labels ? labels : json_object());
}

static json_t *host_config_json(const struct lb_container *c)
{
    const struct lb_run_opts *o = &c->opts;
    json_t *secopt = o->no_new_privileges ? json_pack("[s]", "no-new-privileges") : json_null();
    return json_pack("{s:o, s:s, s:b, s:o, s:o, s:b, s:I, s:I, s:I, s:o}", "Binds",
                     strv_or_null(c->volumes), "NetworkMode",
                     o->network == LB_NET_NONE ? "none" : "host", "AutoRemove", c->auto_remove,
                     "CapAdd", strv_or_null(o->cap_add), "CapDrop", strv_or_null(o->cap_drop),
                     "ReadonlyRootfs", o->read_only, "Memory", (json_int_t)o->memory_bytes,
                     "NanoCpus", (json_int_t)(o->cpus * 1e9 + 0.5), "PidsLimit",
                     (json_int_t)o->pids_limit, "SecurityOpt", secopt);
}

json_t *lb_lifecycle_inspect_json(struct lb_store *s, const struct lb_container *c)
{
    struct rootfs r = {0};
    struct lb_error *e = NULL;
    const char *driver = "";
    struct lb_strbuf lower = {0};
    if (rootfs_open(&r, s, c->id, &c->image_id, false, &e) == 0) {
        driver = r.driver->name;
        for (size_t i = 0; r.img && i < r.img->n_layers; i++) {
            _cleanup_free_ char *rel = lb_layers_diff_relpath(&r.chains[i]);
            lb_strbuf_addf(&lower, "%s%s/%s", i ? ":" : "", s->root, rel);
        }
    }
    lb_error_free(e);
    _cleanup_free_ char *lowerdir = lb_strbuf_detach(&lower);
    _cleanup_free_ char *upper = lb_xasprintf("%s/containers/%s/diff", s->root, c->id);
    _cleanup_free_ char *work = lb_xasprintf("%s/containers/%s/work", s->root, c->id);
    _cleanup_free_ char *merged = lb_xasprintf("%s/containers/%s/rootfs", s->root, c->id);
    _cleanup_free_ char *name = lb_xasprintf("/%s", c->name);
    const json_t *img_config = r.img ? lb_json_obj(r.img->config, "config") : NULL;

    const struct lb_container_state *st = &c->state;
    bool live = st->status == LB_STATE_RUNNING || st->status == LB_STATE_PAUSED;
    json_t *state =
        json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:o, s:o}", "Status",
                  lb_state_to_string(st->status), "Running", live, "Paused",
                  st->status == LB_STATE_PAUSED, "Restarting", 0, "OOMKilled", st->oom_killed,
                  "Dead", 0, "Pid", live ? (int)st->pid : 0, "ExitCode", st->exit_code, "Error", "",
                  "StartedAt", time_json(st->started), "FinishedAt", time_json(st->finished));
    json_t *j =
        json_pack("{s:s, s:o, s:s, s:o, s:o, s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:{s:o, s:s}}",
                  "Id", c->id, "Created", time_json(c->created), "Path", c->path ? c->path : "",
                  "Args", lb_json_from_strv(c->args), "State", state, "Image", c->image_id.str,
                  "Name", name, "RestartCount", 0, "Driver", driver, "Platform", "linux",
                  "HostConfig", host_config_json(c), "Mounts", lb_volume_mounts_json(s, c->volumes),
                  "Config", config_json(c, img_config), "GraphDriver", "Data",
                  json_pack("{s:s, s:s, s:s, s:s}", "LowerDir", lowerdir ? lowerdir : "",
                            "MergedDir", merged, "UpperDir", upper, "WorkDir", work),
                  "Name", driver);
    rootfs_release(&r);
    if (j == NULL)
        lb_oom();
    return j;
}
