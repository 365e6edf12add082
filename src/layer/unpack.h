/* unpack.h — one pass from a layer's compressed bytes to files on disk:
 * stream.h (read, hash both sides, decompress) → libarchive (tar headers) → apply.h (files). */
#ifndef LB_LAYER_UNPACK_H
#define LB_LAYER_UNPACK_H

#include "core/error.h"
#include "layer/apply.h"
#include "layer/stream.h"

struct lb_unpack_result {
    struct lb_layer_stream_result stream; /* compression, blob digest/size, DiffID, tar size */
    struct lb_apply_stats stats;
};

/* Unpack the layer read through `stream_opts` into dirfd (an empty staging directory). */
int lb_layer_unpack(const struct lb_layer_stream_opts *stream_opts, int dirfd,
                    const struct lb_apply_opts *apply_opts, struct lb_unpack_result *out,
                    struct lb_error **err);

#endif
