/* inspect.c — docker's `inspect` object for a container: its record, its state, the options it
 * was created with (Config, HostConfig) and where its layers are (GraphDriver).
 *
 * Config is what docker shows: the image config with the options over it (Cmd, Entrypoint,
 * the merged Env, WorkingDir, User), not the plan that runs; HostConfig the options that are
 * not the image's (binds, network, limits, capabilities).
 *
 * Sits on: container/lifecycle_internal.h (the root: driver and layers), container/volumes.h
 *          (Mounts), container/state.h, layer/layers.h (layer paths), core/json.h, jansson.
 * Interface: lb_lifecycle_inspect_json
 */
#include "container/lifecycle_internal.h"
#include "container/volumes.h"

#include "core/cleanup.h"
#include "core/json.h"
#include "core/util.h"
#include "layer/layers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    struct lb_lifecycle_rootfs r = {0};
    struct lb_error *e = NULL;
    const char *driver = "";
    struct lb_strbuf lower = {0};
    if (lb_lifecycle_rootfs_open(&r, s, c->id, &c->image_id, false, &e) == 0) {
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
    lb_lifecycle_rootfs_release(&r);
    if (j == NULL)
        lb_oom();
    return j;
}
