/* images.c — `layerbox images`: one row per name, so an image with two tags shows twice with the
 * same IMAGE ID, and an image nothing names shows as <none> <none>. Watching the same ID appear
 * under several names is the quickest way to see that a tag is a pointer, not a copy.
 *
 * docker's rules (cli/command/formatter/image.go and the daemon's image list):
 *   - newest first; SIZE is the sum of the layers' unpacked sizes; IDs cut to 12 hex characters
 *     unless --no-trunc (then "sha256:<64 hex>");
 *   - REPOSITORY[:TAG] and --filter reference=PATTERN keep the names matching the glob PATTERN
 *     (familiar "busybox:latest"/"busybox" or full "docker.io/library/busybox[:latest]"), and
 *     drop images with no matching name; several reference filters are or-ed;
 *   - --filter dangling=true keeps only images without a name, dangling=false only named ones;
 *   - without -a an untagged image that is the parent of another image (an intermediate image)
 *     is hidden;
 *   - -q prints the ID of every row (an image with two names prints its ID twice, like docker;
 *     `| sort -u` for a set).
 * DIGEST (--digests, {{.Digest}}) is the image's manifest digest, what docker shows with its
 * containerd image store: layerbox keeps every image as an OCI manifest, so it always has one.
 *
 * Sits on: image/store.h (list), image/reference.h (familiar names), cli/output.h.
 * Interface: lb_cmd_images
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"
#include "image/reference.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define IMAGES_TABLE "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}"
#define IMAGES_TABLE_DIGEST                                                                        \
    "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}"
#define IMAGES_QUIET "{{.ID}}"

static const char images_usage[] =
    "Usage:  layerbox images [OPTIONS] [REPOSITORY[:TAG]]\n"
    "\n"
    "List images: one row per name (REPOSITORY and TAG), <none> for an image without one.\n"
    "\n"
    "Options:\n"
    "  -a, --all             Show all images (default hides intermediate images)\n"
    "      --digests         Show digests (the manifest digest of each image)\n"
    "  -f, --filter filter   Filter output based on conditions provided:\n"
    "                        dangling=true|false, reference=PATTERN (glob)\n" LB_OUT_FORMAT_USAGE
    "                        fields: .ID .Repository .Tag .Digest .CreatedSince .CreatedAt\n"
    "                        .Size .Containers\n"
    "      --no-trunc        Don't truncate output\n"
    "  -q, --quiet           Only show image IDs\n"
    "  -h, --help            Print this help\n";

struct images_opts {
    bool all, quiet, no_trunc, digests;
    const char *format;
    char **patterns; /* reference filters (REPOSITORY[:TAG] is one too) */
    int dangling;    /* -1: no filter, 0: only named, 1: only unnamed */
};

static int add_filter(struct images_opts *o, const char *f, struct lb_error **err)
{
    const char *eq = strchr(f, '=');
    if (eq == NULL)
        return lb_cli_usage_error(err, "images", "bad format of filter (expected name=value)");
    size_t klen = (size_t)(eq - f);
    const char *val = eq + 1;
    if (klen == strlen("dangling") && strncmp(f, "dangling", klen) == 0) {
        int v = -1;
        if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
            v = 1;
        else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
            v = 0;
        if (v < 0 || (o->dangling >= 0 && o->dangling != v))
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid filter 'dangling=%s'", val);
        o->dangling = v;
        return 0;
    }
    if (klen == strlen("reference") && strncmp(f, "reference", klen) == 0) {
        lb_strv_push(&o->patterns, val);
        return 0;
    }
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid filter '%.*s'", (int)klen, f);
}

/* docker's reference.FamiliarMatch, widened to the full names layerbox stores. */
static bool name_matches(const char *full_ref, const struct lb_reference *ref, char *const *pats)
{
    _cleanup_free_ char *fam_str = lb_reference_familiar_string(ref);
    _cleanup_free_ char *fam_name = lb_reference_familiar_name(ref);
    _cleanup_free_ char *name = lb_reference_name(ref);
    for (size_t i = 0; pats[i]; i++) {
        const char *p = pats[i];
        if (fnmatch(p, fam_str, FNM_PATHNAME) == 0 || fnmatch(p, fam_name, FNM_PATHNAME) == 0 ||
            fnmatch(p, full_ref, FNM_PATHNAME) == 0 || fnmatch(p, name, FNM_PATHNAME) == 0)
            return true;
    }
    return false;
}

/* Is img the parent of another listed image? */
static bool is_parent(struct lb_image *img, struct lb_image **v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (v[k]->parent && strcmp(v[k]->parent, img->id.str) == 0)
            return true;
    return false;
}

/* Go's time.Time.String() in local time: "2024-01-01 00:00:00 +0000 UTC". */
static char *created_at(char *buf, size_t bufsz, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL || strftime(buf, bufsz, "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
        snprintf(buf, bufsz, "%lld", (long long)t);
    return buf;
}

static json_t *row_json(const struct images_opts *o, const struct lb_image *img, const char *repo,
                        const char *tag)
{
    char since[48], at[64], size[32];
    int64_t created = lb_image_created(img);
    char id[16];
    snprintf(id, sizeof(id), "%.12s", lb_digest_hex(&img->id));
    lb_human_size(size, sizeof(size), (double)img->size);
    /* Keys in sorted order: docker's --format json prints its fields as a sorted map. */
    return lb_out_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers",
                       "N/A", "CreatedAt", created ? created_at(at, sizeof(at), created) : "N/A",
                       "CreatedSince", lb_out_since(since, sizeof(since), created), "Digest",
                       img->manifest.str, "ID", o->no_trunc ? img->id.str : id, "Repository", repo,
                       "SharedSize", "N/A", "Size", size, "Tag", tag, "UniqueSize", "N/A",
                       "VirtualSize", size);
}

/* The rows of one image (none when the filters drop it). */
static int image_rows(const struct images_opts *o, struct lb_out *out, struct lb_image *img,
                      struct lb_error **err)
{
    size_t nnames = lb_strv_len(img->names);
    if ((o->dangling == 1 && nnames > 0) || (o->dangling == 0 && nnames == 0))
        return 0;
    if (nnames == 0) {
        if (o->patterns)
            return 0;
        _cleanup_json_ json_t *row = row_json(o, img, "<none>", "<none>");
        return lb_out_row(out, row, err);
    }
    for (size_t k = 0; k < nnames; k++) {
        struct lb_reference ref = {0};
        struct lb_error *e = NULL;
        if (lb_reference_parse(&ref, img->names[k], LB_REFERENCE_NO_DEFAULT_TAG, &e) < 0) {
            lb_error_free(e); /* a name the store should not hold: skip it, as docker does */
            continue;
        }
        int rc = 0;
        if (o->patterns == NULL || name_matches(img->names[k], &ref, o->patterns)) {
            _cleanup_free_ char *repo = lb_reference_familiar_name(&ref);
            _cleanup_json_ json_t *row = row_json(o, img, repo, ref.tag ? ref.tag : "<none>");
            rc = lb_out_row(out, row, err);
        }
        lb_reference_release(&ref);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static json_t *header_json(void)
{
    return lb_out_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "IMAGE ID",
                       "Repository", "REPOSITORY", "Tag", "TAG", "Digest", "DIGEST", "CreatedSince",
                       "CREATED", "CreatedAt", "CREATED AT", "Size", "SIZE", "VirtualSize", "SIZE",
                       "Containers", "CONTAINERS", "SharedSize", "SHARED SIZE", "UniqueSize",
                       "UNIQUE SIZE");
}

static int list(struct lb_cli *cli, struct images_opts *o, struct lb_error **err)
{
    /* The format first: a bad template fails before the store is read. */
    const char *deflt = o->quiet ? IMAGES_QUIET : o->digests ? IMAGES_TABLE_DIGEST : IMAGES_TABLE;
    const char *format = o->format;
    _cleanup_free_ char *widened = NULL;
    if (format && o->digests && lb_str_has_prefix(format, "table") &&
        strcmp(format, "table") != 0 && !lb_out_mentions(format, "Digest"))
        format = widened = lb_xasprintf("%s\\t{{.Digest}}", format);
    struct lb_out out;
    if (lb_out_init(&out, format, deflt, 0, err) < 0)
        return -1;

    int rc = -1;
    struct lb_image **v = NULL;
    size_t n = 0;
    struct lb_store *s = NULL;
    _cleanup_json_ json_t *header = header_json();
    if (lb_cli_store(cli, &s, err) < 0 || lb_store_list_images(s, &v, &n, err) < 0)
        goto out;
    for (size_t k = 0; k < n; k++) {
        if (!o->all && lb_strv_len(v[k]->names) == 0 && is_parent(v[k], v, n))
            continue;
        if (image_rows(o, &out, v[k], err) < 0)
            goto out;
    }
    rc = lb_out_flush(&out, header, err);
out:
    lb_image_list_free(v, n);
    lb_out_release(&out);
    return rc;
}

int lb_cmd_images(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    enum { OPT_NO_TRUNC = 256, OPT_DIGESTS, OPT_FORMAT };
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},
        {"quiet", no_argument, NULL, 'q'},
        {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
        {"digests", no_argument, NULL, OPT_DIGESTS},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"filter", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct images_opts o = {.dangling = -1};
    int c, rc = -1;
    while ((c = lb_cli_getopt(argc, argv, "aqf:h", longopts, err)) != -1) {
        switch (c) {
        case 'a':
            o.all = true;
            break;
        case 'q':
            o.quiet = true;
            break;
        case OPT_NO_TRUNC:
            o.no_trunc = true;
            break;
        case OPT_DIGESTS:
            o.digests = true;
            break;
        case OPT_FORMAT:
            o.format = optarg;
            break;
        case 'f':
            if (add_filter(&o, optarg, err) < 0)
                goto out;
            break;
        case 'h':
            lb_cli_usage(images_usage);
            rc = 0;
            goto out;
        default:
            goto out;
        }
    }
    if (lb_cli_nargs(argc, argv, 0, 1, err) < 0)
        goto out;
    if (optind < argc)
        lb_strv_push(&o.patterns, argv[optind]);
    rc = list(cli, &o, err);
out:
    lb_strv_free(o.patterns);
    return rc;
}
