/* kill.c — `layerbox kill [-s SIG] CONTAINER...`: send a signal (default SIGKILL) to each
 * container's process. A container that is not running is an error ("container 'x' is not
 * running"). Each one signalled is printed as given; exit 1 if any failed.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_kill), container/monitor.h (signal names).
 * Interface: lb_cmd_kill
 */
#include "cli/cli.h"
#include "container/monitor.h"

#include <signal.h>
#include <stdio.h>

static const char kill_usage[] =
    "Usage:  layerbox kill [OPTIONS] CONTAINER [CONTAINER...]\n"
    "\n"
    "Kill one or more running containers.\n"
    "\n"
    "Options:\n"
    "  -s, --signal string   Signal to send to the container (KILL, SIGTERM, 15...; default KILL)\n"
    "  -h, --help            Print this help\n";

static int kill_one(struct lb_store *s, const char *arg, void *data, struct lb_error **err)
{
    return lb_lifecycle_kill(s, arg, *(int *)data, err);
}

int lb_cmd_kill(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *signame = NULL;
    const struct lb_cli_opt opts[] = {{"signal", 's', .value = &signame}, {0}};
    int r = lb_cli_options(argc, argv, kill_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, -1, err) < 0)
        return -1;
    int sig = SIGKILL;
    if (signame != NULL && lb_signal_parse(signame, &sig, err) < 0) {
        cli->fail_code = 125;
        return -1;
    }
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    return lb_cli_each_container(s, argc, argv, kill_one, &sig, err);
}
