/* restart.c — `layerbox restart [-t N] CONTAINER...`: stop each container as `stop` does (its
 * stop signal, SIGKILL after N seconds) when it runs, then start it detached as `start` does.
 * A created or exited container is just started. Each one restarted is printed as given; exit 1
 * if any failed.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_stop, lb_lifecycle_start_detached).
 * Interface: lb_cmd_restart
 */
#include "cli/cli.h"
#include "container/state.h"

#include <stdio.h>

static const char restart_usage[] =
    "Usage:  layerbox restart [OPTIONS] CONTAINER [CONTAINER...]\n"
    "\n"
    "Restart one or more containers: stop them (if running), then start them detached.\n"
    "\n"
    "Options:\n"
    "  -t, --time int      Seconds to wait before killing the container\n"
    "  -h, --help          Print this help\n";

static int restart_one(struct lb_store *s, const char *arg, void *data, struct lb_error **err)
{
    if (lb_lifecycle_stop(s, arg, *(int *)data, err) < 0)
        return -1;
    struct lb_container *c = lb_container_resolve(s, arg, err);
    if (c == NULL)
        return -1;
    int code = 125, rc = -1;
    struct lb_transition t;
    if (lb_container_check(s, c, err) == 0 &&
        lb_state_transition(&t, c->state.status, LB_EVENT_START, c->name, err) == 0)
        rc = t.step == LB_STEP_NONE ? 0 /* started meanwhile by someone else */
                                    : lb_lifecycle_start_detached(s, c, &code, err);
    lb_container_free(c);
    return rc;
}

int lb_cmd_restart(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *time = NULL;
    const struct lb_cli_opt opts[] = {
        {"time", 't', .value = &time}, {"timeout", 0, .value = &time}, {0}};
    int r = lb_cli_options(argc, argv, restart_usage, opts, err);
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
    return lb_cli_each_container(s, argc, argv, restart_one, &timeout, err);
}
