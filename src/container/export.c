/* export.c — a container's merged root file system as one tar (`layerbox export`).
 *
 * The concept: export forgets the layers. What it writes is what a process in the container
 * sees at "/", so the walk reads the merged root — the overlay mount, or vfs's copy — never the
 * layers themselves. The tar writer is diff.c's: a tree compared with an empty tree is the whole
 * tree, written once with the same deterministic shape as a layer (sorted, hardlinks, xattrs), and
 * no whiteout can come out of it since nothing was deleted from nothing.
 *
 * Sits on: container/lifecycle.h (lb_lifecycle_root_open/_release: the root as an fd, a stopped
 * container mounted for the duration), layer/diff.h (lb_diff_trees).
 * Interface: lb_container_export
 */
#include "container/export.h"
#include "container/lifecycle.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "layer/diff.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* An empty directory that nobody else can put anything in: made in the store's tmp/, opened,
 * and removed at once (the fd still reads as an empty directory). */
static int empty_dir(struct lb_store *s, struct lb_error **err)
{
    _cleanup_free_ char *tmpl = lb_xasprintf("%s/tmp/export-XXXXXX", s->root);
    if (mkdtemp(tmpl) == NULL)
        return lb_error_set(err, errno, "cannot make a directory in '%s/tmp'", s->root);
    int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = errno;
    rmdir(tmpl);
    if (fd < 0)
        return lb_error_set(err, e, "cannot open '%s'", tmpl);
    return fd;
}

int lb_container_export(struct lb_store *s, struct lb_container *c, int out_fd,
                        struct lb_error **err)
{
    _cleanup_close_ int empty = empty_dir(s, err);
    if (empty < 0)
        return -1;
    struct lb_container_root r;
    if (lb_lifecycle_root_open(s, c, &r, err) < 0)
        return lb_error_wrap(err, "exporting container '%s'", c->name);
    struct lb_diff_stats st = {0};
    int rc = lb_diff_trees(empty, r.fd, out_fd, &st, err);
    if (rc < 0)
        lb_error_wrap(err, "exporting container '%s'", c->name);
    struct lb_error *uerr = NULL;
    if (lb_lifecycle_root_release(&r, rc < 0 ? NULL : &uerr) < 0 && rc == 0) {
        *err = uerr;
        rc = -1;
    }
    return rc;
}
