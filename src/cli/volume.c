/* volume.c — `layerbox volume create|ls|inspect|rm|prune`: the directories that outlive
 * containers (container/volumes.h), with docker's flags, columns and messages.
 *
 *   create [NAME] [--label k=v]...   prints the name; an existing NAME is success (as docker)
 *   ls [-q] [--format]               DRIVER  VOLUME NAME, sorted by name
 *   inspect VOLUME... [-f FORMAT]    docker's JSON array, or the template once per volume
 *   rm [-f] VOLUME...                refused while a container uses it; -f: a missing one is fine
 *   prune [-a] [-f]                  removes unused anonymous volumes, with -a every unused one
 *                                    (docker ≥ 23). It asks first, as docker does, when stdin is
 *                                    a terminal; otherwise it needs -f.
 *
 * Sits on: container/volumes.h, cli/output.h.
 * Interface: lb_cmd_volume
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "container/volumes.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char volume_usage[] =
    "Usage:  layerbox volume COMMAND\n"
    "\n"
    "Manage volumes: directories under ROOT/volumes that containers mount (-v NAME:/path,\n"
    "-v /path) and that outlive them.\n"
    "\n"
    "Commands:\n"
    "  create      Create a volume\n"
    "  inspect     Display detailed information on one or more volumes\n"
    "  ls          List volumes\n"
    "  prune       Remove unused anonymous volumes (-a: all unused volumes)\n"
    "  rm          Remove one or more volumes\n"
    "\n"
    "Run 'layerbox volume COMMAND --help' for more information on a command.\n";

static const char create_usage[] =
    "Usage:  layerbox volume create [OPTIONS] [VOLUME]\n"
    "\n"
    "Create a volume and print its name. Without VOLUME the name is 64 random hex characters.\n"
    "Creating a volume that exists already is not an error: it is left as it is.\n"
    "\n"
    "Options:\n"
    "  -d, --driver string   Volume driver name (only \"local\")\n"
    "      --label list      Set metadata for a volume (KEY=VALUE or KEY)\n"
    "  -h, --help            Print this help\n";

static const char ls_usage[] =
    "Usage:  layerbox volume ls [OPTIONS]\n"
    "\n"
    "List volumes.\n"
    "\n"
    "Options:\n" LB_OUT_FORMAT_USAGE
    "                        Fields: .Driver .Name .Labels .Mountpoint .Scope .Anonymous\n"
    "  -q, --quiet           Only display volume names\n"
    "  -h, --help            Print this help\n";

static const char inspect_usage[] =
    "Usage:  layerbox volume inspect [OPTIONS] VOLUME [VOLUME...]\n"
    "\n"
    "Display detailed information on one or more volumes, as a JSON array.\n"
    "\n"
    "Options:\n"
    "  -f, --format string   Format the output using the given Go template, once per volume\n"
    "  -h, --help            Print this help\n";

static const char rm_usage[] =
    "Usage:  layerbox volume rm [OPTIONS] VOLUME [VOLUME...]\n"
    "\n"
    "Remove one or more volumes and their files. A volume a container uses is not removed.\n"
    "\n"
    "Options:\n"
    "  -f, --force   Do not fail on a volume that does not exist\n"
    "  -h, --help    Print this help\n";

static const char prune_usage[] =
    "Usage:  layerbox volume prune [OPTIONS]\n"
    "\n"
    "Remove the anonymous volumes no container uses (as docker 23 and later). With -a, remove\n"
    "every volume no container uses, named ones too. Asks for confirmation when stdin is a\n"
    "terminal; otherwise -f is required.\n"
    "\n"
    "Options:\n"
    "  -a, --all     Remove all unused volumes, not just anonymous ones\n"
    "  -f, --force   Do not prompt for confirmation\n"
    "  -h, --help    Print this help\n";

#define VOLUME_TABLE "table {{.Driver}}\\t{{.Name}}"
#define VOLUME_QUIET "{{.Name}}"

/* --- create ----------------------------------------------------------------------------------- */

static int cmd_create(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *driver = NULL;
    _cleanup_strv_ char **labels = NULL;
    const struct lb_cli_opt opts[] = {
        {"driver", 'd', .value = &driver}, {"label", 0, .list = &labels}, {0}};
    int r = lb_cli_options(argc, argv, create_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 0, 1, err) < 0)
        return -1;
    if (driver && strcmp(driver, "local") != 0)
        return lb_error_set(err, 0, "volume driver '%s' is not supported: only 'local' is", driver);
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_volume *v =
        lb_volume_create(s, optind < argc ? argv[optind] : NULL, labels, NULL, err);
    if (v == NULL)
        return -1;
    printf("%s\n", v->name);
    lb_volume_free(v);
    return 0;
}

/* --- ls --------------------------------------------------------------------------------------- */

/* docker's {{.Labels}}: "k=v,k2=v2" in key order. */
static char *labels_string(const json_t *labels)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    if (labels == NULL)
        return lb_strbuf_detach(&sb);
    const char **keys = lb_xmalloc((json_object_size(labels) + 1) * sizeof(*keys));
    size_t n = 0;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)labels, k, val) keys[n++] = k;
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of labels */
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(labels, keys[i]));
        lb_strbuf_addf(&sb, "%s%s=%s", i ? "," : "", keys[i], v ? v : "");
    }
    free(keys);
    return lb_strbuf_detach(&sb);
}

static json_t *ls_record(const struct lb_volume *v)
{
    _cleanup_free_ char *labels = labels_string(v->labels);
    return lb_out_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Anonymous",
                       v->anonymous ? "true" : "false", "Driver", "local", "Labels", labels,
                       "Mountpoint", v->mountpoint, "Name", v->name, "Scope", "local");
}

static int cmd_ls(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool quiet = false;
    const char *format = NULL;
    const struct lb_cli_opt opts[] = {
        {"quiet", 'q', .flag = &quiet}, {"format", 0, .value = &format}, {0}};
    int r = lb_cli_options(argc, argv, ls_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 0, 0, err) < 0)
        return -1;
    struct lb_out out;
    if (lb_out_init(&out, format, quiet ? VOLUME_QUIET : VOLUME_TABLE, 0, err) < 0) {
        lb_out_release(&out);
        return -1;
    }
    int rc = -1;
    struct lb_volume **v = NULL;
    size_t n = 0;
    struct lb_store *s = NULL;
    _cleanup_json_ json_t *header = lb_out_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s}", "Anonymous", "ANONYMOUS", "Driver", "DRIVER", "Labels",
        "LABELS", "Mountpoint", "MOUNTPOINT", "Name", "VOLUME NAME", "Scope", "SCOPE");
    if (lb_cli_store(cli, &s, err) < 0 || lb_volume_list(s, &v, &n, err) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        _cleanup_json_ json_t *rec = ls_record(v[i]);
        if (lb_out_row(&out, rec, err) < 0)
            goto out;
    }
    rc = lb_out_flush(&out, header, err);
out:
    lb_volume_list_free(v, n);
    lb_out_release(&out);
    return rc;
}

/* --- inspect ---------------------------------------------------------------------------------- */

static int cmd_inspect(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *format = NULL;
    const struct lb_cli_opt opts[] = {{"format", 'f', .value = &format}, {0}};
    int r = lb_cli_options(argc, argv, inspect_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, -1, err) < 0)
        return -1;
    bool templated = format != NULL && *format != '\0';
    struct lb_out out = {0};
    if (templated && lb_out_init(&out, format, NULL, LB_OUT_NO_TABLE, err) < 0) {
        lb_out_release(&out);
        return -1;
    }
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0) {
        lb_out_release(&out);
        return -1;
    }
    _cleanup_json_ json_t *all = json_array();
    struct lb_error *last = NULL;
    for (int i = optind; i < argc; i++) {
        struct lb_error *e = NULL;
        struct lb_volume *v = lb_volume_load(s, argv[i], &e);
        if (v == NULL) {
            lb_cli_keep_last(&last, e);
            continue;
        }
        json_t *j = lb_volume_inspect_json(v);
        lb_volume_free(v);
        if (templated && lb_out_row(&out, j, &e) < 0) {
            json_decref(j);
            lb_cli_keep_last(&last, e);
            break;
        }
        json_array_append_new(all, j);
    }
    if (templated) {
        struct lb_error *e = NULL;
        if (lb_out_flush(&out, NULL, &e) < 0)
            lb_cli_keep_last(&last, e);
        lb_out_release(&out);
    } else {
        _cleanup_free_ char *text = lb_json_dump_pretty(all);
        printf("%s\n", text);
    }
    if (last != NULL) {
        *err = last;
        return -1;
    }
    return 0;
}

/* --- rm --------------------------------------------------------------------------------------- */

static int cmd_rm(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool force = false;
    const struct lb_cli_opt opts[] = {{"force", 'f', .flag = &force}, {0}};
    int r = lb_cli_options(argc, argv, rm_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, -1, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_error *last = NULL;
    for (int i = optind; i < argc; i++) {
        struct lb_error *e = NULL;
        if (lb_volume_remove(s, argv[i], force, &e) < 0) {
            lb_cli_keep_last(&last, e);
            continue;
        }
        printf("%s\n", argv[i]);
    }
    if (last != NULL) {
        *err = last;
        return -1;
    }
    return 0;
}

/* --- prune ------------------------------------------------------------------------------------ */

/* docker's command.PromptForConfirmation: y or Y goes on. */
static bool confirm(bool all)
{
    printf("WARNING! This will remove %s local volumes not used by at least one container.\n"
           "Are you sure you want to continue? [y/N] ",
           all ? "all" : "anonymous");
    fflush(stdout);
    char line[64];
    if (fgets(line, sizeof(line), stdin) == NULL)
        return false;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0;
}

static int cmd_prune(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool all = false, force = false;
    const struct lb_cli_opt opts[] = {
        {"all", 'a', .flag = &all}, {"force", 'f', .flag = &force}, {0}};
    int r = lb_cli_options(argc, argv, prune_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 0, 0, err) < 0)
        return -1;
    if (!force) {
        if (!isatty(STDIN_FILENO))
            return lb_cli_usage_error(err, argv[0],
                                      "stdin is not a terminal to confirm the prune: use -f");
        if (!confirm(all))
            return lb_error_set(err, 0, "volume prune has been cancelled");
    }
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    _cleanup_strv_ char **removed = NULL;
    int64_t bytes = 0;
    int rc = lb_volume_prune(s, all, &removed, &bytes, err);
    if (removed && removed[0]) {
        printf("Deleted Volumes:\n");
        for (size_t i = 0; removed[i]; i++)
            printf("%s\n", removed[i]);
        printf("\n");
    }
    char size[32];
    if (rc == 0)
        printf("Total reclaimed space: %s\n", lb_human_size(size, sizeof(size), (double)bytes));
    return rc;
}

/* --- dispatch --------------------------------------------------------------------------------- */

int lb_cmd_volume(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    static const struct {
        const char *name;
        const char *full; /* argv[0] of the subcommand, so its errors say "layerbox volume x" */
        lb_cmd_fn fn;
    } subs[] = {
        {"create", "volume create", cmd_create},
        {"ls", "volume ls", cmd_ls},
        {"list", "volume ls", cmd_ls},
        {"inspect", "volume inspect", cmd_inspect},
        {"rm", "volume rm", cmd_rm},
        {"remove", "volume rm", cmd_rm},
        {"prune", "volume prune", cmd_prune},
    };
    if (argc < 2)
        return lb_cli_usage_error(
            err, argv[0], "\"volume\" requires a command: create, inspect, ls, prune or rm");
    if (argv[1][0] == '-') {
        /* An option before the subcommand: only --help, with the usual errors for the rest. */
        char *opt_argv[] = {argv[0], argv[1], NULL};
        int r = lb_cli_options(2, opt_argv, volume_usage, NULL, err);
        if (r <= 0)
            return r;
    }
    for (size_t i = 0; i < LB_ARRAY_SIZE(subs); i++) {
        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        _cleanup_free_ char **sub_argv = lb_xmalloc((size_t)argc * sizeof(*sub_argv));
        sub_argv[0] = (char *)subs[i].full;
        for (int k = 2; k < argc; k++)
            sub_argv[k - 1] = argv[k];
        sub_argv[argc - 1] = NULL;
        optind = 0; /* the subcommand parses its own options */
        return subs[i].fn(cli, argc - 1, sub_argv, err);
    }
    return lb_cli_usage_error(err, argv[0], "unknown command '%s' for 'layerbox volume'", argv[1]);
}
