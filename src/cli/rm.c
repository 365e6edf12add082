/* rm.c — `layerbox rm [-f] [-v] CONTAINER...`: remove containers, their writable layers and
 * everything the runtime left for them (mount, cgroups). A running container is refused
 * unless -f, which kills it first. Every argument is tried; each one removed is printed as
 * given, as docker does, and the command fails (exit 1) if any failed.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_remove, lb_lifecycle_remove_with_volumes).
 * Interface: lb_cmd_rm
 */
#include "cli/cli.h"

#include <stdio.h>

static const char rm_usage[] =
    "Usage:  layerbox rm [OPTIONS] CONTAINER [CONTAINER...]\n"
    "\n"
    "Remove one or more containers and their writable layers.\n"
    "\n"
    "Options:\n"
    "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
    "  -v, --volumes   Remove anonymous volumes associated with the container\n"
    "  -h, --help      Print this help\n";

struct rm_flags {
    bool force;
    bool volumes;
};

static int rm_one(struct lb_store *s, const char *arg, void *data, struct lb_error **err)
{
    const struct rm_flags *f = data;
    return f->volumes ? lb_lifecycle_remove_with_volumes(s, arg, f->force, NULL, err)
                      : lb_lifecycle_remove(s, arg, f->force, NULL, err);
}

int lb_cmd_rm(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool force = false, volumes = false;
    const struct lb_cli_opt opts[] = {
        {"force", 'f', .flag = &force}, {"volumes", 'v', .flag = &volumes}, {0}};
    int r = lb_cli_options(argc, argv, rm_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, -1, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct rm_flags f = {.force = force, .volumes = volumes};
    return lb_cli_each_container(s, argc, argv, rm_one, &f, err);
}
