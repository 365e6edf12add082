/* cp.c — `layerbox cp [-a] [-L] CONTAINER:SRC DEST|-` and `layerbox cp [-a] [-L] SRC|-
 * CONTAINER:DEST`: copy files between a container (running or stopped) and the host, with
 * docker's rules; "-" is a tar stream on stdout / stdin. Every container path is resolved inside
 * the container's root (container/cp.h says how), so the container cannot point the copy at a
 * host file. Prints nothing, as docker does.
 *
 * Sits on: container/cp.h (lb_cp).
 * Interface: lb_cmd_cp
 */
#include "cli/cli.h"
#include "container/cp.h"

#include <unistd.h>

static const char cp_usage[] =
    "Usage:  layerbox cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"
    "        layerbox cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n"
    "\n"
    "Copy files/folders between a container and the local filesystem. Use '-' as the source to\n"
    "read a tar archive from stdin and extract it to a directory in the container, or as the\n"
    "destination to stream a tar archive of a container source to stdout. Container paths are\n"
    "resolved inside the container's root: its symlinks can never lead to a host file.\n"
    "\n"
    "Options:\n"
    "  -a, --archive       Archive mode (copy all uid/gid information)\n"
    "  -L, --follow-link   Always follow symbol link in SRC_PATH\n"
    "  -h, --help          Print this help\n";

int lb_cmd_cp(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool archive = false, follow = false;
    const struct lb_cli_opt opts[] = {
        {.name = "archive", .shortname = 'a', .flag = &archive},
        {.name = "follow-link", .shortname = 'L', .flag = &follow},
        {0},
    };
    int r = lb_cli_options(argc, argv, cp_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 2, 2, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_cp_opts o = {.archive = archive, .follow_link = follow};
    return lb_cp(s, argv[optind], argv[optind + 1], &o, STDIN_FILENO, STDOUT_FILENO, err) < 0 ? -1
                                                                                              : 0;
}
