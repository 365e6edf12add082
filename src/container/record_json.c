/* record_json.c — a container record written down: config.json (with the run options as its
 * "Options" object) and state.json, to JSON and back.
 *
 * The concept: the files are read by later versions and may be damaged by a crash or a hand, so
 * reading is strict and says where it failed: an absent key is the default, a key of another type
 * an LB_EKIND_INVALID error naming the key; config.json's "Id" must be its directory's name.
 * Sits on core/json, core/human (times), container/names (the name) and container/state.
 *
 * Interface: lb_container_opts_to_json, lb_container_opts_from_json, lb_container_opts_release
 *            (container_internal.h: lb_container_config_to_json, lb_container_state_to_json,
 *            lb_container_state_from_json, lb_container_record_from_json)
 */
#include "container/container_internal.h"
#include "container/names.h"
#include "core/cleanup.h"
#include "core/json.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* --- run options <-> JSON ---------------------------------------------------------------- */

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new(o, key, json_string(v));
}

static void set_strv(json_t *o, const char *key, char *const *v)
{
    if (v != NULL)
        json_object_set_new(o, key, lb_json_from_strv(v));
}

json_t *lb_container_opts_to_json(const struct lb_run_opts *opts)
{
    static const struct lb_run_opts defaults = {0};
    if (opts == NULL)
        opts = &defaults;
    json_t *o = json_object();
    set_strv(o, "Cmd", opts->cmd);
    set_str(o, "Entrypoint", opts->entrypoint);
    set_strv(o, "Env", opts->env);
    set_strv(o, "EnvFiles", opts->env_files);
    set_str(o, "WorkingDir", opts->workdir);
    set_str(o, "User", opts->user);
    set_str(o, "Hostname", opts->hostname);
    json_object_set_new(o, "ReadOnly", json_boolean(opts->read_only));
    json_object_set_new(o, "Network", json_string(opts->network == LB_NET_NONE ? "none" : "host"));
    json_object_set_new(o, "Memory", json_integer(opts->memory_bytes));
    json_object_set_new(o, "PidsLimit", json_integer(opts->pids_limit));
    json_object_set_new(o, "Cpus", json_real(opts->cpus));
    set_strv(o, "CapAdd", opts->cap_add);
    set_strv(o, "CapDrop", opts->cap_drop);
    json_object_set_new(o, "NoNewPrivileges", json_boolean(opts->no_new_privileges));
    json_object_set_new(o, "Tty", json_boolean(opts->tty));
    json_object_set_new(o, "Interactive", json_boolean(opts->interactive));
    return o;
}

/* Typed getters: an absent key (or null) is the default, a key of another type an error. */
static int get_str(const json_t *o, const char *key, char **out, struct lb_error **err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is not a string", key);
    *out = lb_xstrdup(json_string_value(v));
    return 0;
}

static int get_strv(const json_t *o, const char *key, char ***out, struct lb_error **err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    *out = lb_json_to_strv(v);
    if (*out == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is not an array of strings", key);
    return 0;
}

static int get_bool(const json_t *o, const char *key, bool *out, struct lb_error **err)
{
    json_t *v = json_object_get(o, key);
    *out = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is not a boolean", key);
    *out = json_is_true(v);
    return 0;
}

static int get_int(const json_t *o, const char *key, int64_t def, int64_t min, int64_t *out,
                   struct lb_error **err)
{
    json_t *v = json_object_get(o, key);
    *out = def;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s' is not an integer >= %lld", key,
                             (long long)min);
    *out = json_integer_value(v);
    return 0;
}

static int get_time(const json_t *o, const char *key, struct lb_time *out, struct lb_error **err)
{
    _cleanup_free_ char *s = NULL;
    *out = (struct lb_time){0, 0};
    if (get_str(o, key, &s, err) < 0)
        return -1;
    if (s != NULL && lb_time_parse(out, s, err) < 0)
        return lb_error_wrap(err, "'%s'", key);
    return 0;
}

static void set_time(json_t *o, const char *key, struct lb_time t)
{
    if (t.sec == 0 && t.nsec == 0)
        return;
    char buf[48];
    json_object_set_new(o, key, json_string(lb_time_format(buf, sizeof(buf), t)));
}

int lb_container_opts_from_json(struct lb_run_opts *out, const json_t *j, struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    if (j == NULL)
        return 0;
    if (!json_is_object(j))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'Options' is not an object");
    char *entrypoint = NULL, *workdir = NULL, *user = NULL, *hostname = NULL, *network = NULL;
    int64_t mem = 0, pids = 0;
    int ret = -1;
    if (get_strv(j, "Cmd", &out->cmd, err) < 0 || get_str(j, "Entrypoint", &entrypoint, err) < 0 ||
        get_strv(j, "Env", &out->env, err) < 0 ||
        get_strv(j, "EnvFiles", &out->env_files, err) < 0 ||
        get_str(j, "WorkingDir", &workdir, err) < 0 || get_str(j, "User", &user, err) < 0 ||
        get_str(j, "Hostname", &hostname, err) < 0 ||
        get_bool(j, "ReadOnly", &out->read_only, err) < 0 ||
        get_str(j, "Network", &network, err) < 0 || get_int(j, "Memory", 0, 0, &mem, err) < 0 ||
        get_int(j, "PidsLimit", 0, -1, &pids, err) < 0 ||
        get_strv(j, "CapAdd", &out->cap_add, err) < 0 ||
        get_strv(j, "CapDrop", &out->cap_drop, err) < 0 ||
        get_bool(j, "NoNewPrivileges", &out->no_new_privileges, err) < 0 ||
        get_bool(j, "Tty", &out->tty, err) < 0 ||
        get_bool(j, "Interactive", &out->interactive, err) < 0)
        goto out;
    json_t *cpus = json_object_get(j, "Cpus");
    if (cpus != NULL && !json_is_number(cpus)) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "'Cpus' is not a number");
        goto out;
    }
    out->cpus = cpus ? json_number_value(cpus) : 0;
    if (network == NULL || strcmp(network, "host") == 0) {
        out->network = LB_NET_HOST;
    } else if (strcmp(network, "none") == 0) {
        out->network = LB_NET_NONE;
    } else {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "unknown network mode '%s'", network);
        goto out;
    }
    out->memory_bytes = mem;
    out->pids_limit = pids;
    ret = 0;
out:
    /* owned by out from here on, also on error (released below) */
    out->entrypoint = entrypoint;
    out->workdir = workdir;
    out->user = user;
    out->hostname = hostname;
    free(network);
    if (ret < 0)
        lb_container_opts_release(out);
    return ret;
}

void lb_container_opts_release(struct lb_run_opts *opts)
{
    if (opts == NULL)
        return;
    lb_strv_free(opts->cmd);
    lb_strv_free(opts->env);
    lb_strv_free(opts->env_files);
    lb_strv_free(opts->cap_add);
    lb_strv_free(opts->cap_drop);
    /* the const members point to strings lb_container_opts_from_json allocated */
    free((char *)opts->entrypoint);
    free((char *)opts->workdir);
    free((char *)opts->user);
    free((char *)opts->hostname);
    memset(opts, 0, sizeof(*opts));
}

/* --- config.json and state.json ------------------------------------------------------------- */

json_t *lb_container_config_to_json(const char *id, const char *name, const struct lb_time *created,
                                    const struct lb_container_spec *spec)
{
    json_t *o = json_object();
    json_object_set_new(o, "Id", json_string(id));
    json_object_set_new(o, "Name", json_string(name));
    json_object_set_new(o, "Image", json_string(spec->image_id->str));
    set_str(o, "ImageName", spec->image);
    set_time(o, "Created", *created);
    set_str(o, "Path", spec->path);
    json_object_set_new(o, "Args", lb_json_from_strv(spec->args));
    json_object_set_new(o, "Options", lb_container_opts_to_json(spec->opts));
    json_object_set_new(o, "AutoRemove", json_boolean(spec->auto_remove));
    set_str(o, "StopSignal", spec->stop_signal);
    json_object_set_new(o, "StopTimeout",
                        json_integer(spec->stop_timeout < 0 ? -1 : spec->stop_timeout));
    set_strv(o, "Volumes", spec->volumes);
    return o;
}

/* Fill c's config part from config.json; id is the directory's name, which "Id" must equal. */
static int config_from_json(struct lb_container *c, const char *id, const json_t *j,
                            struct lb_error **err)
{
    if (!json_is_object(j))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "not an object");
    const char *jid = lb_json_str(j, "Id");
    if (jid == NULL || strcmp(jid, id) != 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'Id' is not '%s'", id);
    memcpy(c->id, id, LB_CONTAINER_ID_LEN + 1);
    const char *image = lb_json_str(j, "Image");
    if (image == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'Image' is missing");
    if (lb_digest_parse(&c->image_id, image, err) < 0)
        return lb_error_wrap(err, "'Image'");
    int64_t timeout = -1;
    if (get_str(j, "Name", &c->name, err) < 0 || get_str(j, "ImageName", &c->image, err) < 0 ||
        get_time(j, "Created", &c->created, err) < 0 || get_str(j, "Path", &c->path, err) < 0 ||
        get_strv(j, "Args", &c->args, err) < 0 ||
        get_bool(j, "AutoRemove", &c->auto_remove, err) < 0 ||
        get_str(j, "StopSignal", &c->stop_signal, err) < 0 ||
        get_int(j, "StopTimeout", -1, -1, &timeout, err) < 0 ||
        get_strv(j, "Volumes", &c->volumes, err) < 0 ||
        lb_container_opts_from_json(&c->opts, json_object_get(j, "Options"), err) < 0)
        return -1;
    if (c->name == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'Name' is missing");
    if (lb_names_validate(c->name, err) < 0)
        return lb_error_wrap(err, "'Name'");
    if (c->args == NULL)
        c->args = lb_xmalloc(sizeof(char *));
    c->stop_timeout = timeout > 1000000 ? 1000000 : (int)timeout;
    return 0;
}

json_t *lb_container_state_to_json(const struct lb_container_state *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "Status", json_string(lb_state_to_string(st->status)));
    json_object_set_new(o, "Pid", json_integer(st->pid));
    json_object_set_new(o, "PidStartTime", json_integer((json_int_t)st->pid_start));
    json_object_set_new(o, "ExitCode", json_integer(st->exit_code));
    set_time(o, "StartedAt", st->started);
    set_time(o, "FinishedAt", st->finished);
    json_object_set_new(o, "OOMKilled", json_boolean(st->oom_killed));
    json_object_set_new(o, "MonitorPid", json_integer(st->monitor_pid));
    return o;
}

int lb_container_state_from_json(struct lb_container_state *st, const json_t *j,
                                 struct lb_error **err)
{
    if (!json_is_object(j))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "not an object");
    const char *status = lb_json_str(j, "Status");
    if (status == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "'Status' is missing");
    if (lb_state_from_string(&st->status, status, err) < 0)
        return -1;
    int64_t pid, start, code, monitor;
    if (get_int(j, "Pid", 0, 0, &pid, err) < 0 ||
        get_int(j, "PidStartTime", 0, 0, &start, err) < 0 ||
        get_int(j, "ExitCode", 0, -1, &code, err) < 0 ||
        get_int(j, "MonitorPid", 0, 0, &monitor, err) < 0 ||
        get_time(j, "StartedAt", &st->started, err) < 0 ||
        get_time(j, "FinishedAt", &st->finished, err) < 0 ||
        get_bool(j, "OOMKilled", &st->oom_killed, err) < 0)
        return -1;
    if (pid > INT32_MAX || monitor > INT32_MAX || code > 255)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "'Pid', 'MonitorPid' or 'ExitCode' is "
                             "out of range");
    st->pid = (pid_t)pid;
    st->pid_start = (uint64_t)start;
    st->exit_code = (int)code;
    st->monitor_pid = (pid_t)monitor;
    return 0;
}

/* --- a record from its two files ----------------------------------------------------------- */

struct lb_container *lb_container_record_from_json(const char *id, const json_t *config,
                                                   const json_t *state, struct lb_error **err)
{
    struct lb_container *c = lb_xmalloc(sizeof(*c));
    c->stop_timeout = -1;
    if (config_from_json(c, id, config, err) < 0) {
        lb_error_wrap(err, "corrupt config.json of container '%.12s'", id);
        lb_container_free(c);
        return NULL;
    }
    if (lb_container_state_from_json(&c->state, state, err) < 0) {
        lb_error_wrap(err, "corrupt state.json of container '%.12s'", id);
        lb_container_free(c);
        return NULL;
    }
    return c;
}
