/* load.c — `load`: images from a docker-archive, an OCI archive or an OCI layout directory.
 *
 * The concept: an image archive is just the store's blobs in a tar, plus a table of contents
 * (manifest.json for docker, index.json for OCI). Loading is "trust nothing, then rename":
 *   1. one streaming pass over the tar: every file is written to ROOT/tmp while being hashed,
 *      and every file that looks like a layer is unpacked into ROOT/tmp/layer-XXXX on the way,
 *      so nothing is ever held in memory, a layer is read once, and every digest is known at the
 *      end of the pass (blobs the store has already are not read at all);
 *   2. the table of contents is parsed and every path, size, digest and DiffID is checked
 *      against the staged files (a DiffID is the sha256 of the *uncompressed* layer); each layer
 *      gets its ChainID (the layer together with everything below it), and a ChainID the store
 *      has unpacked already is shared, not unpacked again;
 *   3. only then, under the store lock, the unpacked layers are renamed into layers/<ChainID>,
 *      the staged files into blobs/sha256/, and the names are written to index.json. Any error
 *      before that leaves the store untouched; an error while publishing removes what was
 *      published.
 * The formats: docker's legacy layout (manifest.json, <id>.json, <id>/layer.tar, symlinks for
 * shared layers; also what `podman save` writes), docker 25+ (manifest.json whose paths point
 * into an OCI layout in the same tar) and OCI (index.json → manifest → config and layers).
 *
 * Sits on staging.c (step 1), archive.c (unpacking, publish with undo), image/store (names),
 * image/reference, layer/chainid and layer/layers. Interface: lb_archive_load
 */
#include "image/archive.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"
#include "image/archive_internal.h"
#include "image/image.h"
#include "image/reference.h"
#include "layer/chainid.h"
#include "layer/layers.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INDEX_DEPTH 4

/* A layer of this load, by ChainID: one for every image of the archive that has it. */
struct chain_layer {
    struct lb_digest chain;
    struct lb_digest diff_id;
    bool has_parent;
    struct lb_digest parent; /* the ChainID below */
    struct lb_unpacked u;    /* its files; u.stage NULL when the store has the layer already */
};

struct pending_layer {
    struct lb_staged *blob;
    struct lb_digest diff_id;
    struct chain_layer *layer;
};

/* A blob the store has, and its DiffID as an image of the store has it. */
struct known_layer {
    struct lb_digest blob, diff_id;
};

/* One image, verified and ready to publish. */
struct pending {
    struct lb_digest id; /* the config's digest */
    struct lb_staged *config;
    struct lb_staged *manifest_blob; /* OCI: the archive's own manifest */
    char *manifest_json;             /* docker archives: the OCI manifest we generate */
    struct lb_digest manifest;
    int64_t manifest_size;
    struct pending_layer *layers;
    size_t n_layers;
    char **names; /* full references, NULL-terminated */
    bool exists;  /* the store has this image ID already (maybe under another manifest) */
};

struct loader {
    struct lb_staging g; /* the archive's files, staged in ROOT/tmp */
    struct pending **p;  /* the images found, verified */
    size_t np;
    struct chain_layer **c; /* their layers, each ChainID once */
    size_t nc;
    struct known_layer *known; /* read from the store's images on first need */
    size_t nknown;
    bool known_read;
};

static void pending_free(struct pending *p)
{
    if (p == NULL)
        return;
    free(p->manifest_json);
    free(p->layers);
    lb_strv_free(p->names);
    free(p);
}

static void loader_release(struct loader *l)
{
    for (size_t i = 0; i < l->nc; i++) {
        lb_unpacked_release(l->g.store, &l->c[i]->u);
        free(l->c[i]);
    }
    free(l->c);
    free(l->known);
    lb_staging_release(&l->g);
    for (size_t i = 0; i < l->np; i++)
        pending_free(l->p[i]);
    free(l->p);
}

/* A path from manifest.json must name a file inside the archive: not absolute, no "..". */
static int check_archive_path(const char *path, const char *field, struct lb_error **err)
{
    if (path == NULL || *path == '\0')
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "manifest.json: %s path is empty", field);
    if (path[0] == '/')
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "manifest.json: %s path '%s' is absolute: paths must be relative to "
                             "the archive root",
                             field, path);
    for (const char *s = path; *s;) {
        size_t len = strcspn(s, "/");
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "manifest.json: %s path '%s' contains a '..' component: paths "
                                 "must stay inside the archive",
                                 field, path);
        s += len + (s[len] ? 1 : 0);
    }
    return 0;
}

/* --- verification ------------------------------------------------------------------------ */

/* docker 25 names its files blobs/sha256/<hex>: such a name is a promise about the content. */
static int check_blob_name(struct loader *l, struct lb_staged *st, const char *path,
                           struct lb_error **err)
{
    _cleanup_free_ char *norm = lb_archive_path_normalise(NULL, path, true);
    const char *hex = norm + strlen("blobs/sha256/");
    if (!lb_str_has_prefix(norm, "blobs/sha256/") || !lb_is_lower_hex(hex, LB_DIGEST_HEX_LEN))
        return 0;
    if (strcmp(hex, lb_digest_hex(&st->w.digest)) != 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "'%s' in %s does not match its name: its content hashes to %s", path,
                             l->g.what, st->w.digest.str);
    return 0;
}

/* rootfs.diff_ids of a config, which must list exactly n layers. Caller frees *out. */
static int config_diff_ids(json_t *cfg, size_t n, const char *what, struct lb_digest **out,
                           struct lb_error **err)
{
    if (!json_is_object(cfg))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a JSON object", what);
    json_t *ids = lb_json_arr(lb_json_obj(cfg, "rootfs"), "diff_ids");
    if (ids == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s has no rootfs.diff_ids list", what);
    if (json_array_size(ids) != n)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "%s lists %zu layer DiffIDs but the manifest has %zu layers", what,
                             json_array_size(ids), n);
    struct lb_digest *v = lb_xmalloc((n + 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(ids, i));
        if (s == NULL || lb_digest_parse(&v[i], s, err) < 0) {
            free(v);
            lb_error_setk(err, LB_EKIND_INVALID, 0, "not a string");
            return lb_error_wrap(err, "%s: rootfs.diff_ids[%zu]", what, i);
        }
    }
    *out = v;
    return 0;
}

/* The DiffID of a blob the store has, from an image of the store that has it as a layer (checked
 * when that image was loaded). */
static bool known_diff_id(struct loader *l, const struct lb_digest *blob, struct lb_digest *out)
{
    if (!l->known_read) {
        l->known_read = true;
        struct lb_image **v = NULL;
        size_t n = 0;
        struct lb_error *e = NULL;
        if (lb_store_list_images(l->g.store, &v, &n, &e) < 0) {
            lb_error_free(e); /* then the blob is read, which answers too */
            return false;
        }
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < v[i]->n_layers; k++) {
                l->known = lb_xrealloc(l->known, (l->nknown + 1) * sizeof(*l->known));
                l->known[l->nknown++] =
                    (struct known_layer){v[i]->layers[k].digest, v[i]->layers[k].diff_id};
            }
        lb_image_list_free(v, n);
    }
    for (size_t i = 0; i < l->nknown; i++)
        if (lb_digest_equal(&l->known[i].blob, blob)) {
            *out = l->known[i].diff_id;
            return true;
        }
    return false;
}

/* What the blob is as a layer: its compression and DiffID. Known from the pass when it was
 * unpacked there; for a blob of the store, from the store's images; else it is unpacked now. */
static int blob_as_layer(struct loader *l, struct lb_staged *blob, const char *what,
                         struct lb_error **err)
{
    if (blob->layer_known)
        return 0;
    if (blob->not_layer) {
        /* The pass named it by its path; name it as the image's layer now. */
        const char *msg = blob->not_layer->msg, *sep = ": ";
        size_t k = strlen(blob->name);
        if (strncmp(msg, blob->name, k) == 0 && strncmp(msg + k, ": ", 2) == 0) {
            msg += k + 2; /* "<name>: corrupt gzip data" */
        } else if (strncmp(msg, blob->name, k) == 0 && msg[k] == ' ') {
            msg += k + 1; /* "<name> expands beyond …": the sentence goes on after the name */
            sep = " ";
        }
        return lb_error_setk(err, blob->not_layer->kind, blob->not_layer->code, "%s%s%s", what, sep,
                             msg);
    }
    struct lb_digest d;
    if (blob->in_store && known_diff_id(l, &blob->w.digest, &d)) {
        _cleanup_close_ int fd = lb_staging_open(&l->g, blob, err);
        const char *other = NULL;
        if (fd < 0 || lb_blob_sniff(fd, &blob->compression, &other, err) < 0)
            return lb_error_wrap(err, "%s", what);
        blob->layer_known = true;
        blob->diff_id = d;
        char s1[20], s2[20];
        lb_explain("layer",
                   "%s: blob %s… is a layer of an image in the store already; its DiffID is %s… "
                   "(checked when that image was loaded), so it is not read again",
                   what, lb_short_digest(s1, &blob->w.digest), lb_short_digest(s2, &d));
        return 0;
    }
    return lb_staging_unpack(&l->g, blob, what, &blob->spare, err);
}

/* Is the blob a layer whose DiffID is the config's? Then find or make its ChainID's layer: in
 * this load already, in the store already (shared), or unpacked (in the pass, or now). */
static int check_layer(struct loader *l, struct lb_staged *blob, const struct lb_digest *want,
                       size_t i, size_t n, const char *path, const struct lb_digest *parent,
                       struct pending_layer *out, struct lb_error **err)
{
    _cleanup_free_ char *what = lb_xasprintf("layer %zu of %zu ('%s')", i + 1, n, path);
    char s1[20], s2[20];
    if (blob_as_layer(l, blob, what, err) < 0)
        return -1;
    if (!lb_digest_equal(&blob->diff_id, want))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "%s: its DiffID (sha256 of the uncompressed tar) is %s, but the "
                             "image config's rootfs.diff_ids[%zu] says %s",
                             what, blob->diff_id.str, i, want->str);
    if (blob->compression == LB_COMP_NONE)
        lb_explain("layer",
                   "%s is a plain tar: its DiffID is its blob digest %s…; DiffID matches "
                   "rootfs.diff_ids[%zu]",
                   what, lb_short_digest(s1, &blob->w.digest), i);
    else
        lb_explain("layer",
                   "%s is %s-compressed (blob %s…): its DiffID %s… is the sha256 of the "
                   "uncompressed tar; DiffID matches rootfs.diff_ids[%zu]",
                   what, lb_compression_name(blob->compression),
                   lb_short_digest(s1, &blob->w.digest), lb_short_digest(s2, want), i);
    out->blob = blob;
    out->diff_id = *want;

    struct lb_digest chain;
    lb_chain_id_next(&chain, parent, want);
    for (size_t k = 0; k < l->nc; k++)
        if (lb_digest_equal(&l->c[k]->chain, &chain)) {
            out->layer = l->c[k]; /* another image of this archive has the same layer */
            return 0;
        }
    struct chain_layer *c = lb_xmalloc(sizeof(*c));
    c->chain = chain;
    c->diff_id = *want;
    if (parent) {
        c->has_parent = true;
        c->parent = *parent;
    }
    if (lb_layers_exists(l->g.store->root_fd, &chain)) {
        lb_explain("layer", "%s… already unpacked as layers/%s: shared, nothing to unpack%s",
                   lb_short_digest(s1, want), lb_digest_hex(&chain),
                   blob->spare.stage ? " (the copy unpacked from the archive is dropped)" : "");
    } else if (blob->spare.stage) {
        c->u = blob->spare; /* the files unpacked in the pass */
        memset(&blob->spare, 0, sizeof(blob->spare));
    } else if (lb_staging_unpack(&l->g, blob, what, &c->u, err) < 0) {
        free(c);
        return -1;
    }
    if (c->u.stage)
        lb_explain("layer", "%s will be layers/%s, named by its ChainID (%s)", what,
                   lb_digest_hex(&chain),
                   i == 0 ? "a bottom layer's ChainID is its DiffID"
                          : "sha256 of the ChainID below, a space and its DiffID");
    l->c = lb_xrealloc(l->c, (l->nc + 1) * sizeof(*l->c));
    l->c[l->nc++] = c;
    out->layer = c;
    return 0;
}

static int add_name(char ***names, const char *tag, const char *where, struct lb_error **err)
{
    struct lb_reference ref = {0};
    if (lb_reference_parse(&ref, tag, 0, err) < 0)
        return lb_error_wrap(err, "%s: image name '%s'", where, tag);
    if (ref.digest) {
        lb_reference_release(&ref);
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "%s: image name '%s' has a digest; a name needs a tag", where, tag);
    }
    _cleanup_free_ char *full = lb_reference_string(&ref);
    lb_reference_release(&ref);
    if (!lb_strv_contains(*names, full))
        lb_strv_push(names, full);
    return 0;
}

/* Keep p, or merge its names into an earlier image with the same manifest. Takes p. */
static void add_pending(struct loader *l, struct pending *p)
{
    for (size_t i = 0; i < l->np; i++) {
        if (lb_digest_equal(&l->p[i]->manifest, &p->manifest)) {
            for (size_t k = 0; p->names && p->names[k]; k++)
                if (!lb_strv_contains(l->p[i]->names, p->names[k]))
                    lb_strv_push(&l->p[i]->names, p->names[k]);
            pending_free(p);
            return;
        }
    }
    l->p = lb_xrealloc(l->p, (l->np + 1) * sizeof(*l->p));
    l->p[l->np++] = p;
}

/* --- docker-archive ---------------------------------------------------------------------- */

static int docker_check_paths(json_t *m, struct lb_error **err)
{
    size_t i;
    json_t *e;
    json_array_foreach(m, i, e)
    {
        if (!json_is_object(e))
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "manifest.json: entry %zu is not an object", i);
        if (check_archive_path(lb_json_str(e, "Config"), "config", err) < 0)
            return -1;
        json_t *layers = lb_json_arr(e, "Layers");
        if (layers == NULL)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "manifest.json: entry %zu has no Layers list", i);
        size_t k;
        json_t *lp;
        json_array_foreach(layers, k, lp)
        {
            if (check_archive_path(json_string_value(lp), "layer", err) < 0)
                return -1;
        }
        json_t *tags = json_object_get(e, "RepoTags");
        _cleanup_strv_ char **tv = lb_json_to_strv(tags);
        if (tags && !json_is_null(tags) && tv == NULL)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "manifest.json: entry %zu: RepoTags is not a list of strings", i);
    }
    return 0;
}

static int docker_image(struct loader *l, json_t *e, size_t idx, struct lb_error **err)
{
    const char *cpath = lb_json_str(e, "Config");
    struct lb_staged *cs = lb_staging_require(&l->g, cpath, "config", err);
    if (cs == NULL || check_blob_name(l, cs, cpath, err) < 0)
        return -1;
    _cleanup_free_ char *cwhat = lb_xasprintf("image config '%s'", cpath);
    _cleanup_json_ json_t *cfg = lb_staging_read_json(&l->g, cs, cwhat, err);
    json_t *layers = lb_json_arr(e, "Layers");
    size_t n = json_array_size(layers);
    _cleanup_free_ struct lb_digest *diff_ids = NULL;
    if (cfg == NULL || config_diff_ids(cfg, n, cwhat, &diff_ids, err) < 0)
        return -1;
    char sd[20];
    lb_explain("load",
               "image %zu: config '%s' (%lld bytes) hashes to %s…: that digest is the "
               "image ID",
               idx + 1, cpath, (long long)cs->w.size, lb_short_digest(sd, &cs->w.digest));

    struct pending *p = lb_xmalloc(sizeof(*p));
    p->id = cs->w.digest;
    p->config = cs;
    p->n_layers = n;
    p->layers = lb_xmalloc((n + 1) * sizeof(*p->layers));
    p->names = lb_xmalloc(sizeof(char *));
    _cleanup_json_ json_t *manifest = lb_manifest_new(&cs->w.digest, cs->w.size);
    for (size_t i = 0; i < n; i++) {
        const char *path = json_string_value(json_array_get(layers, i));
        struct lb_staged *ls = lb_staging_require(&l->g, path, "layer", err);
        const struct lb_digest *parent = i > 0 ? &p->layers[i - 1].layer->chain : NULL;
        if (ls == NULL || check_blob_name(l, ls, path, err) < 0 ||
            check_layer(l, ls, &diff_ids[i], i, n, path, parent, &p->layers[i], err) < 0) {
            pending_free(p);
            return -1;
        }
        lb_manifest_add_layer(manifest, lb_layer_media_type(ls->compression), &ls->w.digest,
                              ls->w.size);
    }
    _cleanup_strv_ char **tags = lb_json_to_strv(json_object_get(e, "RepoTags"));
    for (size_t k = 0; tags && tags[k]; k++) {
        if (add_name(&p->names, tags[k], "manifest.json: RepoTags", err) < 0) {
            pending_free(p);
            return -1;
        }
    }
    /* docker archives carry no manifest blob: write the OCI manifest the store keeps */
    p->manifest_json = lb_json_dump(manifest);
    p->manifest_size = (int64_t)strlen(p->manifest_json);
    lb_digest_buffer(&p->manifest, p->manifest_json, strlen(p->manifest_json));
    lb_explain("load", "image %zu: generated an OCI manifest for it (%lld bytes, %s…)", idx + 1,
               (long long)p->manifest_size, lb_short_digest(sd, &p->manifest));
    add_pending(l, p);
    return 0;
}

static int load_docker(struct loader *l, struct lb_staged *mf, struct lb_error **err)
{
    _cleanup_json_ json_t *m = lb_staging_read_json(&l->g, mf, "manifest.json", err);
    if (m == NULL)
        return -1;
    if (!json_is_array(m))
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "manifest.json is not a list of images");
    if (json_array_size(m) == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "manifest.json lists no images");
    /* every path is checked before any is looked up */
    if (docker_check_paths(m, err) < 0)
        return -1;
    lb_explain("load", "format: docker-archive (manifest.json lists %zu image%s)",
               json_array_size(m), json_array_size(m) == 1 ? "" : "s");
    size_t i;
    json_t *e;
    json_array_foreach(m, i, e)
    {
        if (docker_image(l, e, i, err) < 0)
            return -1;
    }
    return 0;
}

/* --- OCI --------------------------------------------------------------------------------- */

/* The staged blob a descriptor points at, with its size and digest checked. */
static struct lb_staged *descriptor_blob(struct loader *l, json_t *desc, const char *where,
                                         struct lb_error **err)
{
    if (!json_is_object(desc)) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a descriptor object", where);
        return NULL;
    }
    struct lb_digest d;
    const char *ds = lb_json_str(desc, "digest");
    if (ds == NULL) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s has no digest", where);
        return NULL;
    }
    if (lb_digest_parse(&d, ds, err) < 0) {
        lb_error_wrap(err, "%s", where);
        return NULL;
    }
    json_int_t size = lb_json_int(desc, "size", -1);
    if (size < 0) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s has no valid size", where);
        return NULL;
    }
    _cleanup_free_ char *name = lb_xasprintf("blobs/sha256/%s", lb_digest_hex(&d));
    struct lb_staged *st = lb_staging_require(&l->g, name, "blob", err);
    if (st == NULL)
        return NULL;
    if (st->w.size != (int64_t)size) {
        lb_error_setk(err, LB_EKIND_INVALID, 0,
                      "%s: blob %s is %lld bytes in the archive but the descriptor says %lld",
                      where, d.str, (long long)st->w.size, (long long)size);
        return NULL;
    }
    if (!lb_digest_equal(&st->w.digest, &d)) {
        lb_error_setk(err, LB_EKIND_INVALID, 0,
                      "%s: blob %s does not match its digest: its content hashes to %s", where,
                      d.str, st->w.digest.str);
        return NULL;
    }
    char sd[20];
    lb_explain("load", "verified %s: blob %s… is %lld bytes and hashes to its name", where,
               lb_short_digest(sd, &d), (long long)size);
    return st;
}

static bool is_index_type(const char *mt)
{
    return mt && (strcmp(mt, LB_MT_OCI_INDEX) == 0 ||
                  strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

/* In a multi-platform index, the manifest for this machine (or the only one). */
static json_t *choose_platform(json_t *list, const char *where, struct lb_error **err)
{
    const char *arch = lb_host_goarch();
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        json_t *pf = lb_json_obj(d, "platform");
        const char *os = lb_json_str(pf, "os"), *a = lb_json_str(pf, "architecture");
        if (os && a && strcmp(os, "linux") == 0 && strcmp(a, arch) == 0)
            return d;
    }
    if (json_array_size(list) == 1)
        return json_array_get(list, 0);
    lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: no image for linux/%s among its %zu manifests",
                  where, arch, json_array_size(list));
    return NULL;
}

/* The names of an index.json entry: io.containerd.image.name, else a ref.name that is a full
 * reference (contains '/'); a bare "latest" names no repository, so the image stays untagged. */
static int oci_names(json_t *desc, char ***names, const char *where, struct lb_error **err)
{
    json_t *ann = lb_json_obj(desc, "annotations");
    const char *cname = lb_json_str(ann, "io.containerd.image.name");
    const char *rname = lb_json_str(ann, LB_ANNOT_REF_NAME);
    if (cname)
        return add_name(names, cname, where, err);
    if (rname && strchr(rname, '/')) {
        struct lb_error *e = NULL;
        if (add_name(names, rname, where, &e) < 0)
            lb_error_free(e); /* a ref.name is free text in OCI: not being a reference is fine */
    }
    return 0;
}

static int oci_image(struct loader *l, json_t *desc, char **names, const char *where, int depth,
                     struct lb_error **err)
{
    struct lb_staged *ms = descriptor_blob(l, desc, where, err);
    if (ms == NULL)
        return -1;
    _cleanup_free_ char *mwhat = lb_xasprintf("manifest %s", ms->w.digest.str);
    _cleanup_json_ json_t *man = lb_staging_read_json(&l->g, ms, mwhat, err);
    if (man == NULL)
        return -1;
    const char *mt = lb_json_str(desc, "mediaType");
    if (mt == NULL)
        mt = lb_json_str(man, "mediaType");
    if (is_index_type(mt) || (mt == NULL && lb_json_arr(man, "manifests"))) {
        if (depth >= MAX_INDEX_DEPTH)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: indexes nested too deeply", where);
        json_t *list = lb_json_arr(man, "manifests");
        if (list == NULL)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s has no manifests list", mwhat);
        json_t *pick = choose_platform(list, mwhat, err);
        if (pick == NULL)
            return -1;
        _cleanup_free_ char *w2 = lb_xasprintf("%s (in %s)", mwhat, where);
        return oci_image(l, pick, names, w2, depth + 1, err);
    }
    if (mt && strcmp(mt, LB_MT_OCI_MANIFEST) != 0 && strcmp(mt, LB_MT_DOCKER_MANIFEST) != 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s: unsupported media type '%s'", where,
                             mt);
    _cleanup_free_ char *cwhere = lb_xasprintf("%s: config", mwhat);
    struct lb_staged *cs = descriptor_blob(l, lb_json_obj(man, "config"), cwhere, err);
    if (cs == NULL)
        return -1;
    _cleanup_free_ char *cwhat = lb_xasprintf("image config %s", cs->w.digest.str);
    _cleanup_json_ json_t *cfg = lb_staging_read_json(&l->g, cs, cwhat, err);
    json_t *layers = lb_json_arr(man, "layers");
    if (cfg == NULL)
        return -1;
    if (layers == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "%s has no layers list", mwhat);
    size_t n = json_array_size(layers);
    _cleanup_free_ struct lb_digest *diff_ids = NULL;
    if (config_diff_ids(cfg, n, cwhat, &diff_ids, err) < 0)
        return -1;
    char sd[20];
    lb_explain("load", "%s: config %s… is the image ID; %zu layer%s", where,
               lb_short_digest(sd, &cs->w.digest), n, n == 1 ? "" : "s");

    struct pending *p = lb_xmalloc(sizeof(*p));
    p->id = cs->w.digest;
    p->config = cs;
    p->manifest_blob = ms;
    p->manifest = ms->w.digest;
    p->manifest_size = ms->w.size;
    p->n_layers = n;
    p->layers = lb_xmalloc((n + 1) * sizeof(*p->layers));
    p->names = lb_xmalloc(sizeof(char *));
    for (size_t k = 0; names && names[k]; k++)
        lb_strv_push(&p->names, names[k]);
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *lwhere = lb_xasprintf("%s: layers[%zu]", mwhat, i);
        struct lb_staged *ls = descriptor_blob(l, json_array_get(layers, i), lwhere, err);
        _cleanup_free_ char *path = ls ? lb_xstrdup(ls->name) : NULL;
        const struct lb_digest *parent = i > 0 ? &p->layers[i - 1].layer->chain : NULL;
        if (ls == NULL ||
            check_layer(l, ls, &diff_ids[i], i, n, path, parent, &p->layers[i], err) < 0) {
            pending_free(p);
            return -1;
        }
    }
    add_pending(l, p);
    return 0;
}

static int load_oci(struct loader *l, struct lb_staged *ix, struct lb_error **err)
{
    _cleanup_json_ json_t *idx = lb_staging_read_json(&l->g, ix, "index.json", err);
    if (idx == NULL)
        return -1;
    json_t *list = lb_json_arr(idx, "manifests");
    if (list == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "index.json has no manifests list");
    if (json_array_size(list) == 0)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "index.json lists no images");
    lb_explain("load", "format: OCI image layout (index.json lists %zu manifest%s)",
               json_array_size(list), json_array_size(list) == 1 ? "" : "s");
    size_t i;
    json_t *desc;
    json_array_foreach(list, i, desc)
    {
        _cleanup_free_ char *where = lb_xasprintf("index.json: manifests[%zu]", i);
        _cleanup_strv_ char **names = lb_xmalloc(sizeof(char *));
        if (oci_names(desc, &names, where, err) < 0 || oci_image(l, desc, names, where, 0, err) < 0)
            return -1;
    }
    return 0;
}

/* --- publishing -------------------------------------------------------------------------- */

static int publish_staged(struct lb_publish *pub, struct lb_staged *st, struct lb_error **err)
{
    if (st->published)
        return 0;
    if (st->in_store) {
        if (!lb_store_has_blob(pub->store, &st->w.digest))
            return lb_error_set(err, ENOENT,
                                "blob %s was removed from the store while this load was "
                                "running: load again",
                                st->w.digest.str);
        return 0;
    }
    if (lb_publish_writer(pub, &st->w, err) < 0)
        return -1;
    st->published = true;
    return 0;
}

/* The image ID is the image's identity: when the store has this ID already (loaded earlier from
 * another archive form, whose manifest differs), the names go to that image, as in docker. */
static void find_existing(struct loader *l, struct pending *p)
{
    struct lb_error *e = NULL;
    struct lb_image *old = lb_store_resolve(l->g.store, p->id.str, &e);
    lb_error_free(e);
    if (old == NULL)
        return;
    char s1[20], s2[20];
    if (!lb_digest_equal(&old->manifest, &p->manifest))
        lb_explain("store",
                   "image %s… is already in the store (manifest %s…): nothing to "
                   "publish, only its names are updated",
                   lb_short_digest(s1, &p->id), lb_short_digest(s2, &old->manifest));
    p->manifest = old->manifest;
    p->manifest_size = old->manifest_size;
    p->exists = true;
    lb_image_free(old);
}

/* The image's layers, bottom first: each one's parent is in the store before it. */
static int publish_layers(struct lb_publish *pub, struct pending *p, struct lb_error **err)
{
    for (size_t i = 0; i < p->n_layers; i++) {
        struct chain_layer *c = p->layers[i].layer;
        if (lb_publish_layer(pub, &c->u, &c->chain, c->has_parent ? &c->parent : NULL, &c->diff_id,
                             err) < 0)
            return -1;
    }
    return 0;
}

static int publish_blobs(struct loader *l, struct lb_publish *pub, struct lb_error **err)
{
    for (size_t k = 0; k < l->np; k++) {
        struct pending *p = l->p[k];
        find_existing(l, p);
        /* Even an image the store has gets its layers: a store written before layers were
         * unpacked has only records of them. */
        if (publish_layers(pub, p, err) < 0)
            return -1;
        if (p->exists)
            continue;
        for (size_t i = 0; i < p->n_layers; i++)
            if (publish_staged(pub, p->layers[i].blob, err) < 0)
                return -1;
        if (publish_staged(pub, p->config, err) < 0)
            return -1;
        if (p->manifest_blob) {
            if (publish_staged(pub, p->manifest_blob, err) < 0)
                return -1;
        } else {
            struct lb_digest d;
            if (lb_publish_blob(pub, &d, p->manifest_json, strlen(p->manifest_json), err) < 0)
                return -1;
        }
    }
    return 0;
}

static char *familiar(const char *full)
{
    struct lb_reference ref = {0};
    struct lb_error *e = NULL;
    if (lb_reference_parse(&ref, full, 0, &e) < 0) {
        lb_error_free(e);
        return lb_xstrdup(full);
    }
    char *s = lb_reference_familiar_string(&ref);
    lb_reference_release(&ref);
    return s;
}

/* Point the names at the images and say what happened, in docker's words. */
static int publish_names(struct loader *l, char ***lines, struct lb_error **err)
{
    for (size_t k = 0; k < l->np; k++) {
        struct pending *p = l->p[k];
        for (size_t i = 0; p->names[i]; i++) {
            struct lb_error *e = NULL;
            struct lb_image *old = lb_store_resolve(l->g.store, p->names[i], &e);
            lb_error_free(e);
            if (old && !lb_digest_equal(&old->id, &p->id)) {
                _cleanup_free_ char *f = familiar(p->names[i]);
                _cleanup_free_ char *line = lb_xasprintf(
                    "The image %s already exists, renaming the old one with ID %s to empty string",
                    f, old->id.str);
                lb_strv_push(lines, line);
            }
            lb_image_free(old);
        }
        if (lb_store_add_image(l->g.store, &p->manifest, p->manifest_size, p->names, NULL, err) < 0)
            return k == 0 ? -1 : -2; /* -2: earlier images are in; nothing to undo */
        for (size_t i = 0; p->names[i]; i++) {
            _cleanup_free_ char *f = familiar(p->names[i]);
            _cleanup_free_ char *line = lb_xasprintf("Loaded image: %s", f);
            lb_strv_push(lines, line);
        }
        if (p->names[0] == NULL) {
            _cleanup_free_ char *line = lb_xasprintf("Loaded image ID: %s", p->id.str);
            lb_strv_push(lines, line);
        }
    }
    return 0;
}

static int publish(struct loader *l, char ***loaded, struct lb_error **err)
{
    struct lb_publish pub = {.store = l->g.store};
    /* The files of the unpacked layers reach the disk before any rename makes one visible; done
     * before taking the lock, which other commands wait for. */
    for (size_t i = 0; i < l->nc && !pub.synced; i++)
        if (l->c[i]->u.stage != NULL) {
            if (lb_archive_sync(l->g.store, err) < 0)
                return -1;
            pub.synced = true;
        }
    if (lb_store_lock(l->g.store, err) < 0)
        return -1;
    lb_explain("store", "everything verified; took the store lock: publishing = renaming the "
                        "unpacked layers into layers/<ChainID> and the staged files into "
                        "images/blobs/sha256/<digest>");
    _cleanup_strv_ char **lines = lb_xmalloc(sizeof(char *));
    int rc = publish_blobs(l, &pub, err);
    if (rc == 0)
        rc = publish_names(l, &lines, err);
    if (rc == -1)
        lb_publish_rollback(&pub);
    lb_publish_release(&pub);
    lb_store_unlock(l->g.store);
    if (rc < 0)
        return -1;
    *loaded = lb_steal_pointer(&lines);
    return 0;
}

int lb_archive_load(struct lb_store *s, const char *path, char ***loaded, struct lb_error **err)
{
    struct loader l = {.g = {.store = s, .dirfd = -1}};
    _cleanup_close_ int fd = -1;
    int in = 0;
    *loaded = NULL;
    if (path && strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return lb_error_setk(err, errno == ENOENT ? LB_EKIND_NOT_FOUND : LB_EKIND_GENERIC,
                                 errno, "cannot open '%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
            return lb_error_set(err, errno, "cannot stat '%s'", path);
        l.g.what = lb_xasprintf("'%s'", path);
        if (S_ISDIR(st.st_mode))
            l.g.dirfd = fd;
        in = fd;
    } else {
        l.g.what = lb_xstrdup("standard input");
    }
    int rc = 0;
    if (l.g.dirfd >= 0)
        lb_explain("load", "%s is a directory: reading it as an OCI image layout", l.g.what);
    else
        rc = lb_staging_read_tar(&l.g, in, err);
    struct lb_staged *toc = NULL;
    if (rc == 0 && (toc = lb_staging_lookup(&l.g, "manifest.json", err)) != NULL)
        rc = load_docker(&l, toc, err);
    else if (rc == 0 && (err == NULL || *err == NULL) &&
             (toc = lb_staging_lookup(&l.g, "index.json", err)) != NULL)
        rc = load_oci(&l, toc, err);
    else if (rc == 0)
        rc = lb_error_setk(err, LB_EKIND_INVALID, 0,
                           "%s is not an image archive: it has neither manifest.json (docker) nor "
                           "index.json (OCI)",
                           l.g.what);
    if (rc == 0)
        rc = publish(&l, loaded, err);
    loader_release(&l);
    return rc;
}
