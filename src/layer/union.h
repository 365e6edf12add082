/* union.h — the union view of a stack of layer directories, as overlayfs would show it, computed
 * in user space: lookups through whiteouts and opaque directories, and the comparison of a new
 * layer with the layers below it. Used to check layers before publishing them, to count what
 * each layer adds, changes and deletes (`layers IMAGE`), and by the vfs driver. */
#ifndef LB_LAYER_UNION_H
#define LB_LAYER_UNION_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "layer/apply.h"

enum lb_union_kind {
    LB_UNION_ABSENT, /* not there, or whited out */
    LB_UNION_DIR,
    LB_UNION_SYMLINK,
    LB_UNION_OTHER, /* regular file, device, FIFO, socket */
};

/* Look `clean` (a lb_safepath_clean path; "" = the root) up in the stack fds[0..n-1], top first,
 * whose whiteouts are in format f. Never follows symlinks. */
enum lb_union_kind lb_union_lookup(const int *fds, size_t n, enum lb_whiteout_format f,
                                   const char *clean);

struct lb_union_diff {
    uint64_t added, changed, deleted, opaques;
    char **whiteouts; /* deleted paths (first LB_LAYER_MAX_WHITEOUT_NAMES), NULL-terminated */
};

/* Walk the layer `top` (format f) against the stack below it (lower fds, top first) and count:
 * a path absent below is added, present below is changed, a whiteout is deleted. A directory of
 * `top` whose path is a symlink in the union below is an LB_EKIND_INVALID error naming it.
 * out->whiteouts is allocated (free with lb_strv_free). */
int lb_union_compare(int top, const int *lower, size_t n, enum lb_whiteout_format f,
                     struct lb_union_diff *out, struct lb_error **err);

#endif
