/* start.c — `layerbox start -a CONTAINER`: run a created (or exited) container again, in the
 * foreground, attached to our stdio as `run` does; the exit code is the container's.
 *
 * Detached start (without -a) needs the monitor process that supervises a container when no
 * CLI waits for it; layerbox does not have it yet, so -a is required.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_start_foreground).
 * Interface: lb_cmd_start
 */
#include "cli/cli.h"

#include <stdio.h>

static const char start_usage[] =
    "Usage:  layerbox start [OPTIONS] CONTAINER\n"
    "\n"
    "Start a stopped container in the foreground, attached to this terminal; exit with its\n"
    "exit code.\n"
    "\n"
    "Options:\n"
    "  -a, --attach        Attach STDOUT/STDERR and forward signals (required for now)\n"
    "  -i, --interactive   Attach the container's STDIN\n"
    "  -h, --help          Print this help\n";

int lb_cmd_start(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool attach = false, interactive = false;
    const struct lb_cli_opt opts[] = {{"attach", 'a', .flag = &attach},
                                      {"interactive", 'i', .flag = &interactive},
                                      {0}};
    int r = lb_cli_options(argc, argv, start_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, 1, err) < 0)
        return -1;
    if (!attach)
        return lb_cli_usage_error(err, argv[0],
                                  "start without -a (detached) needs the container monitor, which "
                                  "layerbox does not have yet: use start -a");
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_container *c = lb_container_resolve(s, argv[optind], err);
    if (c == NULL)
        return -1;
    if (interactive)
        c->opts.interactive = true;
    int code = 125;
    int rc = lb_lifecycle_start_foreground(s, c, NULL, &code, err);
    lb_container_free(c);
    if (rc < 0) {
        cli->fail_code = code;
        return -1;
    }
    return code;
}
