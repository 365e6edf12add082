/* chainid.c — ChainIDs: the name of a layer together with every layer beneath it.
 *
 * The concept: a DiffID names one layer's changes; the same changes on a different base give a
 * different file system, so the store keys unpacked layers by ChainID, not DiffID.
 *
 * Interface: lb_chain_ids, lb_chain_id_next
 */
#include "layer/chainid.h"
#include "core/util.h"

#include <string.h>

void lb_chain_id_next(struct lb_digest *out, const struct lb_digest *parent,
                      const struct lb_digest *diff_id)
{
    if (parent == NULL) {
        *out = *diff_id;
        return;
    }
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_addf(&sb, "%s %s", parent->str, diff_id->str);
    lb_digest_buffer(out, sb.buf, sb.len);
    lb_strbuf_release(&sb);
}

void lb_chain_ids(struct lb_digest *out, const struct lb_digest *diff_ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lb_chain_id_next(&out[i], i == 0 ? NULL : &out[i - 1], &diff_ids[i]);
}
