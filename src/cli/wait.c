/* wait.c — `layerbox wait CONTAINER...`: block until each container stops, then print its exit
 * code, one per line; exit 1 if any failed.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_wait).
 * Interface: lb_cmd_wait
 */
#include "cli/cli.h"

#include <stdio.h>

static const char wait_usage[] =
    "Usage:  layerbox wait CONTAINER [CONTAINER...]\n"
    "\n"
    "Block until one or more containers stop, then print their exit codes.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

int lb_cmd_wait(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    int r = lb_cli_options(argc, argv, wait_usage, NULL, err);
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
        int code = 0;
        if (lb_lifecycle_wait(s, argv[i], &code, &e) < 0) {
            lb_cli_keep_last(&last, e);
        } else {
            printf("%d\n", code);
            fflush(stdout);
        }
    }
    if (last == NULL)
        return 0;
    *err = last;
    return -1;
}
