/* chainid.h — naming a stack of layers (OCI image-spec "ChainID").
 *
 *   ChainID(L1) = DiffID(L1)
 *   ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))
 *
 * A layer's ChainID names it together with everything below it, so two images that share their
 * first n layers share the first n ChainIDs and the store unpacks those layers once. */
#ifndef LB_LAYER_CHAINID_H
#define LB_LAYER_CHAINID_H

#include <stddef.h>

#include "image/digest.h"

/* out[i] = ChainID of layers 0..i, for i < n. */
void lb_chain_ids(struct lb_digest *out, const struct lb_digest *diff_ids, size_t n);

/* ChainID of (parent, diff_id); parent NULL means diff_id is the bottom layer. */
void lb_chain_id_next(struct lb_digest *out, const struct lb_digest *parent,
                      const struct lb_digest *diff_id);

#endif
