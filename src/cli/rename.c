/* rename.c — `layerbox rename CONTAINER NEW_NAME`: give a container another name. The ID, the
 * writable layer and the state stay as they are; only the record's name changes, so a running
 * container can be renamed. Prints nothing, as docker does.
 *
 * Sits on: container/container.h (lb_container_resolve, lb_container_rename).
 * Interface: lb_cmd_rename
 */
#include "cli/cli.h"

static const char rename_usage[] = "Usage:  layerbox rename CONTAINER NEW_NAME\n"
                                   "\n"
                                   "Rename a container.\n"
                                   "\n"
                                   "Options:\n"
                                   "  -h, --help   Print this help\n";

int lb_cmd_rename(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    int r = lb_cli_options(argc, argv, rename_usage, NULL, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 2, 2, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0 || lb_store_lock(s, err) < 0)
        return -1;
    int rc = -1;
    struct lb_container *c = lb_container_resolve(s, argv[optind], err);
    if (c != NULL)
        rc = lb_container_rename(s, c, argv[optind + 1], err);
    lb_store_unlock(s);
    lb_container_free(c);
    return rc;
}
