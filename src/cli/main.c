/* main.c — the layerbox command: global options, the dispatch table, and the one place that turns
 * an error into a message and an exit code (git's builtin table, crun's src/crun.c).
 *
 * Exit codes follow docker: 0 success; 1 a command failed (no such image, bad archive); 125 the
 * engine itself failed or was used wrongly (unknown flag, missing argument); later, for run: 126
 * not executable, 127 not found, else the container's own code.
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct lb_command commands[] = {
    {"commit", lb_cmd_commit, "Create a new image from a container's changes"},
    {"cp", lb_cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"create", lb_cmd_create, "Create a new container"},
    {"diff", lb_cmd_diff, "Inspect changes to files or directories on a container's filesystem"},
    {"export", lb_cmd_export, "Export a container's filesystem as a tar archive"},
    {"history", lb_cmd_history, "Show the history of an image"},
    {"image", lb_cmd_image, "Mount and unmount an image's file system (image mount|umount)"},
    {"images", lb_cmd_images, "List images"},
    {"import", lb_cmd_import, "Import a root file system tar as a one-layer image"},
    {"info", lb_cmd_info, "Display store-wide information"},
    {"inspect", lb_cmd_inspect, "Display detailed information on containers or images"},
    {"layers", lb_cmd_layers, "Show the layer stack of an image and what each layer changes"},
    {"kill", lb_cmd_kill, "Kill one or more running containers"},
    {"load", lb_cmd_load, "Load images from a tar archive or an OCI layout"},
    {"logs", lb_cmd_logs, "Fetch the logs of a container"},
    {"ps", lb_cmd_ps, "List containers"},
    {"rename", lb_cmd_rename, "Rename a container"},
    {"restart", lb_cmd_restart, "Restart one or more containers"},
    {"rm", lb_cmd_rm, "Remove one or more containers"},
    {"rmi", lb_cmd_rmi, "Remove one or more images"},
    {"run", lb_cmd_run, "Create and run a new container from an image"},
    {"save", lb_cmd_save, "Save one or more images to a tar archive"},
    {"start", lb_cmd_start, "Start one or more stopped containers"},
    {"stop", lb_cmd_stop, "Stop one or more running containers"},
    {"tag", lb_cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"top", lb_cmd_top, "Display the running processes of a container"},
    {"version", lb_cmd_version, "Show the layerbox version"},
    {"volume", lb_cmd_volume, "Manage volumes (volume create|ls|inspect|rm|prune)"},
    {"wait", lb_cmd_wait, "Block until one or more containers stop, then print their exit codes"},
};

static const char main_usage[] =
    "Usage:  layerbox [OPTIONS] COMMAND [ARG...]\n"
    "\n"
    "A small daemonless container engine that teaches images and containers by being one.\n"
    "\n"
    "Options:\n"
    "      --root DIR              Store directory (default $LAYERBOX_ROOT, /var/lib/layerbox\n"
    "                              for root, ~/.local/share/layerbox otherwise)\n"
    "      --explain               Narrate each step and the concept it shows (on stderr)\n"
    "      --storage-driver NAME   Storage driver (overlay, vfs)\n"
    "  -v, --version               Print version information and quit\n"
    "  -h, --help                  Print this help\n"
    "\n"
    "Commands:\n";

static void print_main_usage(FILE *f)
{
    fputs(main_usage, f);
    for (size_t i = 0; i < LB_ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'layerbox COMMAND --help' for more information on a command.\n", f);
}

static void explain_to_stderr(const char *topic, const char *text, void *data)
{
    (void)data;
    fprintf(stderr, "[%s] %s\n", topic, text);
}

static int report(struct lb_cli *cli, struct lb_error *e)
{
    _cleanup_free_ char *msg = lb_error_string(e);
    fflush(stdout);
    fprintf(stderr, "layerbox: %s\n", msg);
    return e && e->kind == LB_EKIND_USAGE ? 125 : cli->fail_code;
}

static const struct lb_command *find_command(const char *name)
{
    for (size_t i = 0; i < LB_ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Global options come before the command name, as with docker and git. */
static int parse_global(struct lb_cli *cli, int argc, char **argv, int *idx, struct lb_error **err)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--root") == 0 || strcmp(a, "--storage-driver") == 0) {
            if (i + 1 >= argc)
                return lb_error_setk(err, LB_EKIND_USAGE, 0,
                                     "flag needs an argument: %s (see 'layerbox --help')", a);
            val = argv[++i];
        } else if (lb_str_has_prefix(a, "--root=") || lb_str_has_prefix(a, "--storage-driver=")) {
            val = strchr(a, '=') + 1;
        }
        if (lb_str_has_prefix(a, "--root")) {
            if (*val == '\0')
                return lb_error_setk(err, LB_EKIND_USAGE, 0, "--root needs a directory");
            free(cli->root);
            cli->root = lb_xstrdup(val);
        } else if (lb_str_has_prefix(a, "--storage-driver")) {
            cli->storage_driver = val;
        } else if (strcmp(a, "--explain") == 0) {
            cli->explain = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *idx = -1;
            return 0;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            *idx = -2;
            return 0;
        } else {
            return lb_error_setk(err, LB_EKIND_USAGE, 0, "unknown flag: %s (see 'layerbox --help')",
                                 a);
        }
    }
    *idx = i;
    return 0;
}

int main(int argc, char **argv)
{
    struct lb_cli cli = {.fail_code = 1};
    _cleanup_error_ struct lb_error *err = NULL;
    int idx = 0, rc;

    const char *env_explain = getenv("LAYERBOX_EXPLAIN");
    if (env_explain && *env_explain && strcmp(env_explain, "0") != 0)
        cli.explain = true;

    if (parse_global(&cli, argc, argv, &idx, &err) < 0) {
        rc = report(&cli, err);
        goto out;
    }
    if (idx == -1) {
        print_main_usage(stdout);
        rc = 0;
        goto out;
    }
    if (idx == -2) {
        char *vargv[] = {"version", NULL};
        rc = lb_cmd_version(&cli, 1, vargv, &err);
        goto out;
    }
    if (idx >= argc) {
        print_main_usage(stderr);
        rc = 125;
        goto out;
    }
    const struct lb_command *cmd = find_command(argv[idx]);
    if (cmd == NULL) {
        lb_error_setk(&err, LB_EKIND_USAGE, 0,
                      "'%s' is not a layerbox command (see 'layerbox --help')", argv[idx]);
        rc = report(&cli, err);
        goto out;
    }
    if (cli.root == NULL)
        cli.root = lb_store_default_root();
    if (cli.explain)
        lb_explain_set_sink(explain_to_stderr, NULL);

    optind = 0; /* reset getopt for the command's own options */
    rc = cmd->fn(&cli, argc - idx, argv + idx, &err);
    if (rc < 0)
        rc = report(&cli, err);
    if (cli.store_open && cli.store.skipped_devices > 0)
        lb_cli_warn("%llu device node%s in the layers %s not created: making device nodes needs "
                    "root",
                    (unsigned long long)cli.store.skipped_devices,
                    cli.store.skipped_devices == 1 ? "" : "s",
                    cli.store.skipped_devices == 1 ? "was" : "were");
out:
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "layerbox: cannot write output: %s\n", strerror(errno));
        rc = 1;
    }
    if (cli.store_open)
        lb_store_release(&cli.store);
    free(cli.root);
    return rc;
}
