/* ps.c — `layerbox ps`: the containers and their states, checked rather than trusted (each
 * running one is looked at with the liveness check before it is shown, so a process killed
 * behind layerbox's back shows as exited).
 *
 * docker's columns and rules (cli/command/formatter/container.go):
 *   CONTAINER ID   12 hex (--no-trunc: 64)
 *   IMAGE          as the user named it
 *   COMMAND        Path and Args joined, cut to 20 runes with "…" unless --no-trunc, quoted
 *   CREATED        "3 seconds ago"
 *   STATUS         "Created", "Up 3 seconds", "Up 3 seconds (Paused)", "Exited (0) 2 minutes ago"
 *   PORTS          empty (layerbox has no port publishing)
 *   NAMES          the name
 *   SIZE           with -s (or a --format naming .Size): "<writable layer> (virtual <writable +
 *                  image>)", container/size.h
 * Without -a only running (and paused) containers are listed. -f status=S and name=REGEXP
 * may be repeated: values of one key are or-ed, different keys and-ed.
 *
 * Sits on: container/container.h (list, check), container/size.h, cli/output.h.
 * Interface: lb_cmd_ps
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"
#include "container/names.h"
#include "container/size.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#define PS_TABLE                                                                                   \
    "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t"    \
    "{{.Names}}"
#define PS_TABLE_SIZE PS_TABLE "\\t{{.Size}}"
#define PS_QUIET      "{{.ID}}"

static const char ps_usage[] =
    "Usage:  layerbox ps [OPTIONS]\n"
    "\n"
    "List containers (running ones only, unless -a).\n"
    "\n"
    "Options:\n"
    "  -a, --all             Show all containers (default shows just running)\n"
    "  -f, --filter filter   Filter output based on conditions provided:\n"
    "                        status=created|running|paused|exited, "
    "name=REGEXP\n" LB_OUT_FORMAT_USAGE
    "                        fields: .ID .Image .Command .CreatedAt .RunningFor .Status .State\n"
    "                        .Ports .Names .Size\n"
    "      --no-trunc        Don't truncate output\n"
    "  -q, --quiet           Only display container IDs\n"
    "  -s, --size            Display total file sizes\n"
    "  -h, --help            Print this help\n";

struct ps_opts {
    bool all, quiet, no_trunc, size;
    const char *format;
    char **filters;
    char **status;  /* status= values */
    regex_t *names; /* name= values, compiled (docker: a regular expression) */
    size_t n_names;
};

static int parse_filters(struct ps_opts *o, struct lb_error **err)
{
    for (size_t i = 0; o->filters && o->filters[i]; i++) {
        const char *f = o->filters[i];
        const char *eq = strchr(f, '=');
        if (eq == NULL)
            return lb_cli_usage_error(err, "ps", "bad format of filter (expected name=value)");
        const char *val = eq + 1;
        size_t klen = (size_t)(eq - f);
        if (klen == 6 && strncmp(f, "status", 6) == 0) {
            enum lb_state st;
            struct lb_error *e = NULL;
            if (lb_state_from_string(&st, val, &e) < 0) {
                lb_error_free(e);
                return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                     "invalid filter 'status=%s': want created, running, paused "
                                     "or exited",
                                     val);
            }
            lb_strv_push(&o->status, val);
        } else if (klen == 4 && strncmp(f, "name", 4) == 0) {
            o->names = lb_xrealloc(o->names, (o->n_names + 1) * sizeof(*o->names));
            int rc = regcomp(&o->names[o->n_names], val, REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char msg[128];
                regerror(rc, &o->names[o->n_names], msg, sizeof(msg));
                return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid filter 'name=%s': %s", val,
                                     msg);
            }
            o->n_names++;
        } else {
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid filter '%.*s'", (int)klen, f);
        }
    }
    return 0;
}

static bool keep(const struct ps_opts *o, const struct lb_container *c)
{
    const char *st = lb_state_to_string(c->state.status);
    bool live = c->state.status == LB_STATE_RUNNING || c->state.status == LB_STATE_PAUSED;
    if (o->status) {
        if (!lb_strv_contains(o->status, st))
            return false;
    } else if (!o->all && !live) {
        return false;
    }
    if (o->n_names > 0) {
        /* docker matches the name with and without its leading '/': "^web$" and "^/web$" */
        _cleanup_free_ char *slashed = lb_xasprintf("/%s", c->name);
        bool any = false;
        for (size_t i = 0; i < o->n_names && !any; i++)
            any = regexec(&o->names[i], c->name, 0, NULL, 0) == 0 ||
                  regexec(&o->names[i], slashed, 0, NULL, 0) == 0;
        if (!any)
            return false;
    }
    return true;
}

/* strconv.Quote for the plain text a command is: '"' and '\' escaped, control bytes as \xNN. */
static char *go_quote(const char *s)
{
    struct lb_strbuf sb = {0};
    lb_strbuf_addc(&sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            lb_strbuf_addc(&sb, '\\');
            lb_strbuf_addc(&sb, (char)*p);
        } else if (*p == '\n') {
            lb_strbuf_adds(&sb, "\\n");
        } else if (*p == '\t') {
            lb_strbuf_adds(&sb, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            lb_strbuf_addf(&sb, "\\x%02x", *p);
        } else {
            lb_strbuf_addc(&sb, (char)*p);
        }
    }
    lb_strbuf_addc(&sb, '"');
    return lb_strbuf_detach(&sb);
}

static char *status_text(const struct lb_container *c, int64_t now)
{
    char d[48];
    const struct lb_container_state *st = &c->state;
    switch (st->status) {
    case LB_STATE_RUNNING:
        return lb_xasprintf("Up %s",
                            lb_human_duration(d, sizeof(d), (double)(now - st->started.sec)));
    case LB_STATE_PAUSED:
        return lb_xasprintf("Up %s (Paused)",
                            lb_human_duration(d, sizeof(d), (double)(now - st->started.sec)));
    case LB_STATE_EXITED:
        return lb_xasprintf("Exited (%d) %s ago", st->exit_code,
                            lb_human_duration(d, sizeof(d), (double)(now - st->finished.sec)));
    case LB_STATE_CREATED:
    default:
        return lb_xstrdup("Created");
    }
}

static json_t *row_json(struct lb_store *s, const struct ps_opts *o, const struct lb_container *c,
                        int64_t now, struct lb_error **err)
{
    struct lb_strbuf cmd = {0};
    lb_strbuf_adds(&cmd, c->path ? c->path : "");
    for (size_t i = 0; c->args && c->args[i]; i++) {
        lb_strbuf_addc(&cmd, ' ');
        lb_strbuf_adds(&cmd, c->args[i]);
    }
    _cleanup_free_ char *full = lb_strbuf_detach(&cmd);
    _cleanup_free_ char *cut =
        o->no_trunc ? lb_xstrdup(full ? full : "") : lb_out_ellipsis(full ? full : "", 20);
    _cleanup_free_ char *quoted = go_quote(cut);
    _cleanup_free_ char *status = status_text(c, now);
    char since[48], at[48], id[LB_CONTAINER_ID_LEN + 1];
    snprintf(id, sizeof(id), "%.*s", o->no_trunc ? LB_CONTAINER_ID_LEN : LB_CONTAINER_SHORT_ID_LEN,
             c->id);
    lb_time_format(at, sizeof(at), c->created);
    _cleanup_free_ char *size = NULL;
    if (o->size) {
        struct lb_container_size sz;
        if (lb_container_size(s, c, &sz, err) < 0)
            return NULL;
        size = lb_container_size_string(&sz);
    }
    return lb_out_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Command", quoted, "CreatedAt", at,
        "ID", id, "Image", c->image ? c->image : c->image_id.str, "Names", c->name, "Ports", "",
        "RunningFor", lb_out_since(since, sizeof(since), c->created.sec), "State",
        lb_state_to_string(c->state.status), "Status", status, "Size", size ? size : "");
}

static json_t *header_json(void)
{
    return lb_out_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CONTAINER ID",
                       "Image", "IMAGE", "Command", "COMMAND", "CreatedAt", "CREATED AT",
                       "RunningFor", "CREATED", "Status", "STATUS", "State", "STATE", "Ports",
                       "PORTS", "Names", "NAMES", "Size", "SIZE");
}

static int list(struct lb_cli *cli, struct ps_opts *o, struct lb_error **err)
{
    struct lb_out out;
    /* docker computes sizes for -s, and for a --format that shows them */
    o->size = !o->quiet && (o->size || lb_out_mentions(o->format, "Size"));
    if (lb_out_init(&out, o->format,
                    o->quiet  ? PS_QUIET
                    : o->size ? PS_TABLE_SIZE
                              : PS_TABLE,
                    0, err) < 0)
        return -1;
    int rc = -1;
    struct lb_container **v = NULL;
    size_t n = 0;
    struct lb_store *s = NULL;
    _cleanup_json_ json_t *header = header_json();
    if (lb_cli_store(cli, &s, err) < 0 || lb_container_list(s, &v, &n, err) < 0)
        goto out;
    int64_t now = lb_time_now().sec;
    for (size_t k = 0; k < n; k++) {
        if (lb_container_check(s, v[k], err) < 0)
            goto out;
        if (!keep(o, v[k]))
            continue;
        _cleanup_json_ json_t *row = row_json(s, o, v[k], now, err);
        if (row == NULL || lb_out_row(&out, row, err) < 0)
            goto out;
    }
    rc = lb_out_flush(&out, header, err);
out:
    lb_container_list_free(v, n);
    lb_out_release(&out);
    return rc;
}

int lb_cmd_ps(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    struct ps_opts o = {0};
    bool quiet = false;
    const struct lb_cli_opt opts[] = {{"all", 'a', .flag = &o.all},
                                      {"quiet", 'q', .flag = &quiet},
                                      {"no-trunc", 0, .flag = &o.no_trunc},
                                      {"format", 0, .value = &o.format},
                                      {"filter", 'f', .list = &o.filters},
                                      {"size", 's', .flag = &o.size},
                                      {0}};
    int rc = lb_cli_options(argc, argv, ps_usage, opts, err);
    if (rc > 0) {
        o.quiet = quiet;
        if (lb_cli_nargs(argc, argv, 0, 0, err) < 0 || parse_filters(&o, err) < 0)
            rc = -1;
        else
            rc = list(cli, &o, err);
    }
    lb_strv_free(o.filters);
    lb_strv_free(o.status);
    for (size_t i = 0; i < o.n_names; i++)
        regfree(&o.names[i]);
    free(o.names);
    return rc;
}
