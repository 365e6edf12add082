/* run.c — `layerbox run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create + start in the foreground.
 * The container's stdin, stdout and stderr are ours (stdin only with -i: else /dev/null), the
 * signals we get are forwarded to it, and our exit code is its own: 125 when layerbox itself
 * fails, 126 when the command cannot be executed, 127 when it is not found (docker's codes).
 * --rm removes the container once it has exited.
 *
 * Sits on: container/lifecycle.h (create, start_foreground, remove), cli/create.c's parser.
 * Interface: lb_cmd_run
 */
#include "cli/cli.h"
#include "core/util.h"

#include <stdio.h>

static const char run_usage[] =
    "Usage:  layerbox run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
    "\n"
    "Create and run a new container from an image, in the foreground: its output is ours and\n"
    "layerbox exits with its exit code (125: layerbox failed, 126: the command cannot be\n"
    "executed, 127: it was not found).\n"
    "\n"
    "Options:\n" LB_CLI_CREATE_OPTIONS_USAGE;

int lb_cmd_run(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    cli->fail_code = 125;
    struct lb_cli_create c;
    int r = lb_cli_create_parse(&c, argc, argv, run_usage, err);
    if (r <= 0) {
        lb_cli_create_release(&c);
        return r;
    }
    struct lb_store *s = NULL;
    int rc = -1;
    struct lb_container *ct = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        goto out;
    struct lb_create_request req = lb_cli_create_request(&c);
    ct = lb_lifecycle_create(s, &req, err);
    if (ct == NULL)
        goto out;
    fflush(stdout); /* nothing of ours may come after the container's output */
    int code = 125;
    if (lb_lifecycle_start_foreground(s, ct, NULL, &code, err) < 0)
        cli->fail_code = code;
    else
        rc = code;
    if (c.auto_remove) {
        struct lb_error *e = NULL;
        if (lb_lifecycle_remove(s, ct->id, true, NULL, &e) < 0) {
            if (rc >= 0) /* the container's code stands; say why it is still there */
                lb_cli_keep_last(&e, NULL);
            else
                lb_cli_keep_last(err, e);
        }
    }
out:
    lb_container_free(ct);
    lb_cli_create_release(&c);
    return rc;
}
