/* export.c — `layerbox export [-o FILE] CONTAINER`: the container's file system, flattened
 * (image layers + writable layer, whiteouts applied), as one tar on standard output or in FILE.
 * `import` makes a one-layer image of it, with no history of the image it came from: the
 * difference with `save`, which keeps layers and history. FILE is written under a temporary
 * name next to it and renamed at the end, so a failed export leaves nothing behind (docker's
 * client does the same); as docker, a terminal on stdout is refused.
 *
 * Sits on: container/export.h (lb_container_export). Interface: lb_cmd_export
 */
#include "cli/cli.h"
#include "container/export.h"
#include "core/cleanup.h"
#include "core/util.h"

static const char export_usage[] =
    "Usage:  layerbox export [OPTIONS] CONTAINER\n"
    "\n"
    "Export a container's filesystem as a tar archive (streamed to STDOUT by default): the\n"
    "image's layers and the container's changes merged into one flat tree, without history.\n"
    "\n"
    "Options:\n"
    "  -o, --output string   Write to a file, instead of STDOUT\n"
    "  -h, --help            Print this help\n";

struct export_job {
    struct lb_store *store;
    struct lb_container *c;
};

static int write_export(int fd, void *data, struct lb_error **err)
{
    struct export_job *j = data;
    return lb_container_export(j->store, j->c, fd, err);
}

int lb_cmd_export(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *out = NULL;
    const struct lb_cli_opt opts[] = {{"output", 'o', .value = &out}, {0}};
    int r = lb_cli_options(argc, argv, export_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, 1, err) < 0)
        return -1;
    if (lb_cli_output_check(out, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_container *c = lb_container_resolve(s, argv[optind], err);
    if (c == NULL)
        return -1;
    struct export_job job = {s, c};
    int rc = lb_cli_output_write(out, write_export, &job, err);
    lb_container_free(c);
    return rc;
}
