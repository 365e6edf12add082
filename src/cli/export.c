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

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char export_usage[] =
    "Usage:  layerbox export [OPTIONS] CONTAINER\n"
    "\n"
    "Export a container's filesystem as a tar archive (streamed to STDOUT by default): the\n"
    "image's layers and the container's changes merged into one flat tree, without history.\n"
    "\n"
    "Options:\n"
    "  -o, --output string   Write to a file, instead of STDOUT\n"
    "  -h, --help            Print this help\n";

/* "<dir>/.<base>.tmp-XXXXXX" next to path, mode 0666 & ~umask; *tmp gets its name. */
static int open_temp(const char *path, char **tmp, struct lb_error **err)
{
    _cleanup_free_ char *d = lb_xstrdup(path), *b = lb_xstrdup(path);
    char *t = lb_xasprintf("%s/.%s.tmp-XXXXXX", dirname(d), basename(b));
    int fd = mkostemp(t, O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        free(t);
        return lb_error_set(err, saved, "cannot write '%s'", path);
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    *tmp = t;
    return fd;
}

static int export_to_file(struct lb_store *s, struct lb_container *c, const char *out,
                          struct lb_error **err)
{
    _cleanup_free_ char *tmp = NULL;
    int fd = open_temp(out, &tmp, err);
    if (fd < 0)
        return -1;
    int rc = lb_container_export(s, c, fd, err);
    if (rc == 0 && fsync(fd) < 0)
        rc = lb_error_set(err, errno, "cannot write '%s'", out);
    if (close(fd) < 0 && rc == 0)
        rc = lb_error_set(err, errno, "cannot write '%s'", out);
    if (rc == 0 && rename(tmp, out) < 0)
        rc = lb_error_set(err, errno, "cannot write '%s'", out);
    if (rc < 0)
        unlink(tmp);
    return rc;
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
    if (out == NULL && isatty(STDOUT_FILENO))
        return lb_error_set(err, 0,
                            "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_container *c = lb_container_resolve(s, argv[optind], err);
    if (c == NULL)
        return -1;
    int rc;
    if (out) {
        rc = export_to_file(s, c, out, err);
    } else {
        fflush(stdout);
        rc = lb_container_export(s, c, STDOUT_FILENO, err);
    }
    lb_container_free(c);
    return rc;
}
