/* diff.c — `layerbox diff CONTAINER`: the files and directories a container added (A), changed
 * (C) or deleted (D) against its image, one "K /path" line each, by docker's rules (see
 * layer/changes.h), sorted by path. Running and stopped containers alike: the root is opened with
 * lb_lifecycle_root_open (a stopped overlay container is mounted for the duration, under the
 * store lock), overlay compares the writable layer with the image's layers, vfs the container's
 * copy with them.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_root_open/_release), layer/changes.h.
 * Interface: lb_cmd_diff
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "layer/changes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static const char diff_usage[] =
    "Usage:  layerbox diff CONTAINER\n"
    "\n"
    "Inspect changes to files or directories on a container's filesystem:\n"
    "A added, C changed, D deleted, against the container's image.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

static int changes_of(struct lb_container_root *r, const struct lb_container *c,
                      struct lb_change **v, size_t *n, struct lb_error **err)
{
    if (r->upper == NULL) {
        if (r->n_layers == 0)
            return lb_error_setk(err, LB_EKIND_NOT_FOUND, 0,
                                 "the image of container '%s' is gone: there is nothing to "
                                 "compare its file system with",
                                 c->name);
        return lb_changes_vfs(r->fd, r->layer_fds, r->n_layers, v, n, err);
    }
    _cleanup_close_ int up = open(r->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (up < 0)
        return lb_error_set(err, errno, "cannot open '%s'", r->upper);
    return lb_changes_overlay(up, r->layer_fds, r->n_layers, v, n, err);
}

int lb_cmd_diff(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    int r = lb_cli_options(argc, argv, diff_usage, NULL, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, 1, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_container *c = lb_container_resolve(s, argv[optind], err);
    if (c == NULL)
        return -1;
    struct lb_container_root root;
    struct lb_change *v = NULL;
    size_t n = 0;
    int rc = lb_lifecycle_root_open(s, c, &root, err);
    if (rc == 0) {
        rc = changes_of(&root, c, &v, &n, err);
        struct lb_error *uerr = NULL;
        if (lb_lifecycle_root_release(&root, rc < 0 ? NULL : &uerr) < 0 && rc == 0) {
            *err = uerr;
            rc = -1;
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        printf("%c %s\n", v[i].kind, v[i].path);
    lb_changes_free(v, n);
    lb_container_free(c);
    if (rc == 0 && fflush(stdout) != 0)
        rc = lb_error_set(err, errno, "cannot write to standard output");
    return rc;
}
