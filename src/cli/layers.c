/* layers.c — `layerbox layers IMAGE`: the layer stack of an image, bottom layer first, one row per
 * layer, for students. Where `history` tells the step behind each layer, this shows what each
 * layer does to the union the container sees: its ChainID (the name of the layer together with
 * everything below it: the directory it is unpacked in), its DiffID, its size, and how many paths
 * it adds, changes and deletes (the whiteouts, named).
 *
 * The counts come from each layer's meta.json, computed when the layer was published
 * (layer/union.c). A layer that is not unpacked shows "-" and one warning line says so.
 *
 * Sits on: image/store.h (resolve), layer/layers.h (meta), layer/chainid.h, cli/output.h.
 * Interface: lb_cmd_layers
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/util.h"
#include "layer/chainid.h"
#include "layer/layers.h"

#include <stdio.h>
#include <string.h>

#define LAYERS_TABLE                                                                               \
    "table {{.Index}}\\t{{.ChainID}}\\t{{.DiffID}}\\t{{.Size}}\\t{{.Added}}\\t{{.Changed}}"        \
    "\\t{{.Deleted}}\\t{{.Whiteouts}}"
#define WHITEOUTS_MAX 40 /* runes of the WHITEOUTS cell unless --no-trunc */

static const char layers_usage[] =
    "Usage:  layerbox layers [OPTIONS] IMAGE\n"
    "\n"
    "Show the layer stack of an image, bottom layer first: each layer's chain ID, DiffID and\n"
    "size, and how many paths it adds, changes and deletes (with the deleted paths, its\n"
    "whiteouts).\n"
    "\n"
    "Options:\n" LB_OUT_FORMAT_USAGE
    "                        fields: .Index .ChainID .DiffID .Size .Added .Changed .Deleted\n"
    "                        .Whiteouts .Opaques\n"
    "      --no-trunc        Don't truncate output\n"
    "  -h, --help            Print this help\n";

struct layers_opts {
    bool no_trunc;
    const char *format;
};

static void id_text(char *buf, size_t bufsz, const struct lb_digest *d, bool no_trunc)
{
    if (no_trunc)
        snprintf(buf, bufsz, "%s", d->str);
    else
        snprintf(buf, bufsz, "%.12s", lb_digest_hex(d));
}

static void count_text(char *buf, size_t bufsz, const struct lb_layer_meta *m, uint64_t v)
{
    if (m == NULL)
        snprintf(buf, bufsz, "-");
    else
        snprintf(buf, bufsz, "%llu", (unsigned long long)v);
}

/* "/data/remove.txt, /etc/motd", with "…" for whiteouts beyond the ones meta.json lists. */
static char *whiteouts_text(const struct lb_layer_meta *m, bool no_trunc)
{
    if (m == NULL)
        return lb_xstrdup("-");
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, "");
    size_t listed = lb_strv_len(m->whiteouts);
    for (size_t i = 0; i < listed; i++)
        lb_strbuf_addf(&sb, "%s/%s", i ? ", " : "", m->whiteouts[i]);
    if (m->deleted > listed)
        lb_strbuf_adds(&sb, listed ? ", …" : "…");
    _cleanup_free_ char *s = lb_strbuf_detach(&sb);
    if (no_trunc)
        return lb_steal_pointer(&s);
    return lb_out_ellipsis(s, WHITEOUTS_MAX);
}

static json_t *row_json(const struct layers_opts *o, size_t index, const struct lb_digest *chain,
                        const struct lb_layer_info *info, const struct lb_layer_meta *m)
{
    char idx[24], cid[80], did[80], size[32] = "-";
    char added[24], changed[24], deleted[24], opaques[24];
    snprintf(idx, sizeof(idx), "%zu", index);
    id_text(cid, sizeof(cid), chain, o->no_trunc);
    id_text(did, sizeof(did), &info->diff_id, o->no_trunc);
    int64_t bytes = m ? m->size : info->unpacked_size;
    if (bytes >= 0)
        lb_human_size(size, sizeof(size), (double)bytes);
    count_text(added, sizeof(added), m, m ? m->added : 0);
    count_text(changed, sizeof(changed), m, m ? m->changed : 0);
    count_text(deleted, sizeof(deleted), m, m ? m->deleted : 0);
    count_text(opaques, sizeof(opaques), m, m ? m->opaques : 0);
    _cleanup_free_ char *wh = whiteouts_text(m, o->no_trunc);
    /* Keys in sorted order, as docker's --format json prints a sorted map. */
    return lb_out_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Added", added, "ChainID",
                       cid, "Changed", changed, "Deleted", deleted, "DiffID", did, "Index", idx,
                       "Opaques", opaques, "Size", size, "Whiteouts", wh);
}

static int layers(struct lb_cli *cli, const struct layers_opts *o, const char *arg,
                  struct lb_error **err)
{
    struct lb_out out;
    if (lb_out_init(&out, o->format, LAYERS_TABLE, 0, err) < 0) {
        lb_out_release(&out);
        return -1;
    }
    int rc = -1;
    struct lb_store *s = NULL;
    struct lb_image *img = NULL;
    _cleanup_json_ json_t *header = lb_out_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Index", "#", "ChainID", "CHAIN ID",
        "DiffID", "DIFF ID", "Size", "SIZE", "Added", "ADDED", "Changed", "CHANGED", "Deleted",
        "DELETED", "Whiteouts", "WHITEOUTS", "Opaques", "OPAQUES");
    if (lb_cli_store(cli, &s, err) < 0)
        goto out;
    img = lb_store_resolve(s, arg, err);
    if (img == NULL)
        goto out;

    size_t n = img->n_layers, missing = 0;
    for (size_t i = 0; i < n; i++) {
        const struct lb_digest *chain = &img->layers[i].chain_id;
        struct lb_layer_meta meta;
        bool unpacked = lb_layers_exists(s->root_fd, chain);
        if (unpacked && lb_layers_read_meta(s->root_fd, chain, &meta, err) < 0)
            goto out;
        if (!unpacked)
            missing++;
        _cleanup_json_ json_t *row =
            row_json(o, i + 1, chain, &img->layers[i], unpacked ? &meta : NULL);
        if (unpacked)
            lb_layer_meta_release(&meta);
        if (lb_out_row(&out, row, err) < 0)
            goto out;
    }
    if (missing > 0)
        lb_cli_warn("%zu of %zu layers of '%s' are not unpacked in this store: their counts show "
                    "as -",
                    missing, n, arg);
    rc = lb_out_flush(&out, header, err);
out:
    lb_image_free(img);
    lb_out_release(&out);
    return rc;
}

int lb_cmd_layers(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    struct layers_opts o = {0};
    const struct lb_cli_opt opts[] = {
        {"no-trunc", 0, .flag = &o.no_trunc}, {"format", 0, .value = &o.format}, {0}};
    int r = lb_cli_options(argc, argv, layers_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, 1, err) < 0)
        return -1;
    return layers(cli, &o, argv[optind], err);
}
