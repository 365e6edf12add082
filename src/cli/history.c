/* history.c — `layerbox history IMAGE`: the steps that made an image, newest first, read from
 * the config's "history" array. Each step either made a layer (its SIZE is that layer's unpacked
 * size) or only changed the config ("empty_layer": CMD, ENV, … : 0B). Only the top row has an
 * IMAGE ID: the steps below it were never images of their own in this store, so they show
 * <missing>, exactly as in docker — unless the image records a parent that is still here, whose
 * ID then shows on the next row (docker walks the same parent chain).
 *
 * docker's rules (daemon ImageHistory, cli formatter/history.go): the k-th non-empty step owns
 * the k-th layer (rootfs.diff_ids); more non-empty steps than layers is an error; CREATED BY has
 * tabs (and here newlines too) shown as spaces and is cut to 45 characters with "…" unless
 * --no-trunc; -H=false prints CREATED AT as RFC 3339 (UTC) and SIZE in bytes.
 *
 * Sits on: image/store.h (resolve), core/human.h, cli/output.h.
 * Interface: lb_cmd_history
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

#define HISTORY_TABLE                                                                              \
    "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}"
#define HISTORY_TABLE_NOT_HUMAN                                                                    \
    "table {{.ID}}\\t{{.CreatedAt}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}"
#define HISTORY_QUIET  "{{.ID}}"
#define CREATED_BY_MAX 45

static const char history_usage[] =
    "Usage:  layerbox history [OPTIONS] IMAGE\n"
    "\n"
    "Show the history of an image: the step behind each layer, newest first.\n"
    "\n"
    "Options:\n" LB_OUT_FORMAT_USAGE
    "                        fields: .ID .CreatedSince .CreatedAt .CreatedBy .Size .Comment\n"
    "  -H, --human[=true]    Print sizes and dates in human readable format (default true;\n"
    "                        -H=false prints bytes and RFC 3339 times)\n"
    "      --no-trunc        Don't truncate output\n"
    "  -q, --quiet           Only show image IDs\n"
    "  -h, --help            Print this help\n";

struct history_opts {
    bool human, no_trunc, quiet;
    const char *format;
};

/* Go's strconv.ParseBool, as pflag uses for -H=VALUE. */
static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Tabs and newlines as spaces, so one step stays on one row. */
static char *one_line(const char *s)
{
    char *r = lb_xstrdup(s ? s : "");
    for (char *p = r; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r')
            *p = ' ';
    return r;
}

static json_t *row_json(const struct history_opts *o, const char *id, const json_t *entry,
                        int64_t size)
{
    char since[48] = "N/A", at[48] = "N/A", sz[32] = "N/A";
    const char *created = lb_json_str(entry, "created");
    struct lb_time t;
    struct lb_error *e = NULL;
    if (created && lb_time_parse(&t, created, &e) == 0) {
        lb_time_format(at, sizeof(at), (struct lb_time){t.sec, 0});
        if (o->human)
            lb_out_since(since, sizeof(since), t.sec);
        else
            snprintf(since, sizeof(since), "%s", at);
    }
    lb_error_free(e);
    if (size >= 0) {
        if (o->human)
            lb_human_size(sz, sizeof(sz), (double)size);
        else
            snprintf(sz, sizeof(sz), "%lld", (long long)size);
    }
    _cleanup_free_ char *by = one_line(lb_json_str(entry, "created_by"));
    _cleanup_free_ char *by_cut = o->no_trunc ? NULL : lb_out_ellipsis(by, CREATED_BY_MAX);
    const char *comment = lb_json_str(entry, "comment");
    /* Keys in sorted order: docker's --format json prints its fields as a sorted map. */
    return lb_out_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment", comment ? comment : "",
                       "CreatedAt", at, "CreatedBy", by_cut ? by_cut : by, "CreatedSince", since,
                       "ID", id, "Size", sz);
}

/* The ID of the image at each depth of the parent chain, "<missing>" once it ends. */
struct id_walk {
    struct lb_store *store;
    const struct lb_image *cur; /* NULL once the chain has ended */
    struct lb_image *owned;     /* cur when it was loaded here */
    size_t depth;
};

static const char *id_next(struct id_walk *w, char *buf, size_t bufsz, bool no_trunc)
{
    if (w->depth++ > 0 && w->cur != NULL) {
        struct lb_image *parent = NULL;
        if (w->cur->parent) {
            struct lb_error *e = NULL;
            parent = lb_store_resolve(w->store, w->cur->parent, &e);
            lb_error_free(e);
        }
        lb_image_free(w->owned);
        w->owned = parent;
        w->cur = parent;
    }
    if (w->cur == NULL)
        return "<missing>";
    if (no_trunc)
        snprintf(buf, bufsz, "%s", w->cur->id.str);
    else
        snprintf(buf, bufsz, "%.12s", lb_digest_hex(&w->cur->id));
    return buf;
}

static int history(struct lb_cli *cli, const struct history_opts *o, const char *arg,
                   struct lb_error **err)
{
    const char *deflt = o->quiet   ? HISTORY_QUIET
                        : o->human ? HISTORY_TABLE
                                   : HISTORY_TABLE_NOT_HUMAN;
    struct lb_out out;
    if (lb_out_init(&out, o->format, deflt, 0, err) < 0)
        return -1;
    int rc = -1;
    struct lb_store *s = NULL;
    struct lb_image *img = NULL;
    int64_t *sizes = NULL;
    struct id_walk walk = {0};
    _cleanup_json_ json_t *header = lb_out_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE", "CreatedSince", "CREATED", "CreatedAt",
        "CREATED AT", "CreatedBy", "CREATED BY", "Size", "SIZE", "Comment", "COMMENT");
    if (lb_cli_store(cli, &s, err) < 0)
        goto out;
    img = lb_store_resolve(s, arg, err);
    if (img == NULL)
        goto out;

    /* Pair each step with its layer, oldest first, before printing newest first. */
    json_t *hist = lb_json_arr(img->config, "history");
    size_t n = json_array_size(hist), layer = 0;
    sizes = lb_xmalloc((n ? n : 1) * sizeof(*sizes));
    for (size_t i = 0; i < n; i++) {
        json_t *entry = json_array_get(hist, i);
        if (json_is_true(json_object_get(entry, "empty_layer"))) {
            sizes[i] = 0;
            continue;
        }
        if (layer >= img->n_layers) {
            lb_error_setk(err, LB_EKIND_INVALID, 0,
                          "image '%s': too many non-empty layers in History section", arg);
            goto out;
        }
        sizes[i] = img->layers[layer++].unpacked_size;
    }

    walk = (struct id_walk){.store = s, .cur = img};
    for (size_t i = n; i-- > 0;) {
        char idbuf[80];
        const char *id = id_next(&walk, idbuf, sizeof(idbuf), o->no_trunc);
        _cleanup_json_ json_t *row = row_json(o, id, json_array_get(hist, i), sizes[i]);
        if (lb_out_row(&out, row, err) < 0)
            goto out;
    }
    rc = lb_out_flush(&out, header, err);
out:
    lb_image_free(walk.owned);
    lb_image_free(img);
    free(sizes);
    lb_out_release(&out);
    return rc;
}

int lb_cmd_history(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    enum { OPT_NO_TRUNC = 256, OPT_FORMAT };
    static const struct option longopts[] = {
        {"human", optional_argument, NULL, 'H'}, {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
        {"quiet", no_argument, NULL, 'q'},       {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    struct history_opts o = {.human = true};
    int c;
    while ((c = lb_cli_getopt(argc, argv, "H::qh", longopts, err)) != -1) {
        switch (c) {
        case 'H': {
            const char *v = optarg ? optarg : "true";
            if (*v == '=')
                v++;
            if (parse_bool(v, &o.human) < 0)
                return lb_cli_usage_error(err, argv[0],
                                          "invalid argument \"%s\" for \"-H, --human\" flag", v);
            break;
        }
        case OPT_NO_TRUNC:
            o.no_trunc = true;
            break;
        case 'q':
            o.quiet = true;
            break;
        case OPT_FORMAT:
            o.format = optarg;
            break;
        case 'h':
            lb_cli_usage(history_usage);
            return 0;
        default:
            return -1;
        }
    }
    if (lb_cli_nargs(argc, argv, 1, 1, err) < 0)
        return -1;
    return history(cli, &o, argv[optind], err);
}
