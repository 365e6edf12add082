/* load.c — `load`: images from a docker-archive, an OCI archive or an OCI layout directory.
 *
 * The concept: an image archive is just the store's blobs in a tar, plus a table of contents
 * (manifest.json for docker, index.json for OCI). Loading is "trust nothing, then rename":
 *   1. one streaming pass over the tar: every file is written to ROOT/tmp while being hashed,
 *      so nothing is ever held in memory and every digest is known at the end of the pass;
 *   2. the table of contents is parsed and every path, size, digest and DiffID is checked
 *      against the staged files (a DiffID is the sha256 of the *uncompressed* layer);
 *   3. only then, under the store lock, the staged files are renamed into blobs/sha256/ and the
 *      names are written to index.json. Any error before that leaves the store untouched; an
 *      error while publishing removes what was published.
 * The formats: docker's legacy layout (manifest.json, <id>.json, <id>/layer.tar, symlinks for
 * shared layers; also what `podman save` writes), docker 25+ (manifest.json whose paths point
 * into an OCI layout in the same tar) and OCI (index.json → manifest → config and layers).
 *
 * Sits on staging.c (step 1), archive.c (layer scanning, publish with undo), image/store (names),
 * image/reference and layer/chainid. Interface: lb_archive_load
 */
#include "image/archive.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"
#include "image/archive_internal.h"
#include "image/image.h"
#include "image/reference.h"
#include "layer/chainid.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INDEX_DEPTH 4

struct pending_layer {
    struct lb_staged *blob;
    struct lb_digest diff_id;
    int64_t unpacked_size;
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

/* Is the blob a tar, what is its DiffID and unpacked size (cached: a layer shared by several
 * images is read once), and does the DiffID match the config's? */
static int check_layer(struct loader *l, struct lb_staged *blob, const struct lb_digest *want,
                       size_t i, size_t n, const char *path, struct pending_layer *out,
                       struct lb_error **err)
{
    _cleanup_free_ char *what = lb_xasprintf("layer %zu of %zu ('%s')", i + 1, n, path);
    char s1[20], s2[20], hs[32];
    if (!blob->scanned) {
        _cleanup_close_ int fd =
            openat(l->g.store->root_fd, blob->w.tmp_relpath, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return lb_error_set(err, errno, "cannot open staged %s", what);
        enum lb_compression c = LB_COMP_NONE;
        if (lb_compression_sniff(fd, &c, err) < 0)
            return lb_error_wrap(err, "reading staged %s", what);
        if (lb_layer_media_type(c) == NULL)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "%s uses a compression layerbox does not store (only plain, "
                                 "gzip and zstd layers)",
                                 what);
        if (lb_layer_scan(fd, c != LB_COMP_NONE, NULL, NULL, what, &blob->scan, err) < 0)
            return -1;
        if (c == LB_COMP_NONE) {
            blob->scan.diff_id = blob->w.digest;
            blob->scan.tar_size = blob->w.size;
            lb_explain("layer",
                       "%s is a plain tar: its DiffID is its blob digest %s…; %lld "
                       "entries, %s of files (headers read, data skipped)",
                       what, lb_short_digest(s1, &blob->w.digest), (long long)blob->scan.files,
                       lb_human_size(hs, sizeof(hs), (double)blob->scan.unpacked_size));
        } else {
            lb_explain("layer",
                       "%s is %s-compressed (blob %s…): decompressed while hashing, "
                       "DiffID %s…; %lld entries, %s of files",
                       what, lb_compression_name(blob->scan.compression),
                       lb_short_digest(s1, &blob->w.digest),
                       lb_short_digest(s2, &blob->scan.diff_id), (long long)blob->scan.files,
                       lb_human_size(hs, sizeof(hs), (double)blob->scan.unpacked_size));
        }
        blob->scanned = true;
    }
    if (lb_layer_media_type(blob->scan.compression) == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "%s uses a compression layerbox does not store (only plain, gzip "
                             "and zstd layers)",
                             what);
    if (!lb_digest_equal(&blob->scan.diff_id, want))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "%s: its DiffID (sha256 of the uncompressed tar) is %s, but the "
                             "image config's rootfs.diff_ids[%zu] says %s",
                             what, blob->scan.diff_id.str, i, want->str);
    lb_explain("layer", "%s: DiffID matches rootfs.diff_ids[%zu]", what, i);
    out->blob = blob;
    out->diff_id = *want;
    out->unpacked_size = blob->scan.unpacked_size;
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
        if (ls == NULL || check_blob_name(l, ls, path, err) < 0 ||
            check_layer(l, ls, &diff_ids[i], i, n, path, &p->layers[i], err) < 0) {
            pending_free(p);
            return -1;
        }
        lb_manifest_add_layer(manifest, lb_layer_media_type(ls->scan.compression), &ls->w.digest,
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
        if (ls == NULL || check_layer(l, ls, &diff_ids[i], i, n, path, &p->layers[i], err) < 0) {
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

static int publish_blobs(struct loader *l, struct lb_publish *pub, struct lb_error **err)
{
    for (size_t k = 0; k < l->np; k++) {
        struct pending *p = l->p[k];
        find_existing(l, p);
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
        struct lb_digest chain = {{0}};
        for (size_t i = 0; i < p->n_layers; i++) {
            struct lb_digest next;
            lb_chain_id_next(&next, i == 0 ? NULL : &chain, &p->layers[i].diff_id);
            if (lb_publish_layer(pub, &next, i == 0 ? NULL : &chain, &p->layers[i].diff_id,
                                 p->layers[i].unpacked_size, err) < 0)
                return -1;
            chain = next;
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
    if (lb_store_lock(l->g.store, err) < 0)
        return -1;
    lb_explain("store", "everything verified; took the store lock: publishing = renaming the "
                        "staged files into images/blobs/sha256/<digest>");
    struct lb_publish pub = {.store = l->g.store};
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
