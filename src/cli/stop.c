/* stop.c — `layerbox stop [-t N] [-s SIG] CONTAINER...`: send each container its stop signal
 * (--stop-signal, default SIGTERM), wait up to N seconds (default: its --stop-timeout, else 10)
 * for it to end, then SIGKILL it (exit code 137). A container that is not running is left as it
 * is and printed, as docker does. Each one stopped is printed as given; exit 1 if any failed.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_stop).
 * Interface: lb_cmd_stop
 */
#include "cli/cli.h"

#include <stdio.h>

static const char stop_usage[] =
    "Usage:  layerbox stop [OPTIONS] CONTAINER [CONTAINER...]\n"
    "\n"
    "Stop one or more running containers: the stop signal, then SIGKILL after the timeout.\n"
    "\n"
    "Options:\n"
    "  -t, --time int      Seconds to wait before killing the container\n"
    "  -h, --help          Print this help\n";

static int stop_one(struct lb_store *s, const char *arg, void *data, struct lb_error **err)
{
    return lb_lifecycle_stop(s, arg, *(int *)data, err);
}

int lb_cmd_stop(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *time = NULL;
    const struct lb_cli_opt opts[] = {
        {"time", 't', .value = &time}, {"timeout", 0, .value = &time}, {0}};
    int r = lb_cli_options(argc, argv, stop_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, -1, err) < 0)
        return -1;
    int timeout = -1;
    if (lb_cli_parse_timeout(argv[0], time, &timeout, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    return lb_cli_each_container(s, argc, argv, stop_one, &timeout, err);
}
