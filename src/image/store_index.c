/* store_index.c — names and images: index.json of the OCI layout, and how an argument finds an
 * image.
 *
 * The concept: an image is its manifest (which names a config and an ordered list of layers);
 * a tag is just an entry in index.json pointing at a manifest, annotated with the name. Untagging
 * removes the pointer; deleting the last pointer deletes the image, and then every blob no other
 * image uses. The image ID shown to users is the digest of the config blob, as in docker.
 *
 * Interface: lb_store_list_images, lb_store_load_image, lb_store_resolve, lb_store_add_image,
 *            lb_store_tag, lb_store_untag, lb_store_delete_image
 */
#include "image/store.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"
#include "image/reference.h"
#include "layer/chainid.h"
#include "layer/driver.h"
#include "layer/layers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INDEX_PATH "images/index.json"

static json_t *index_load(struct lb_store *s, struct lb_error **err)
{
    json_t *idx = lb_json_load_at(s->root_fd, INDEX_PATH, err);
    if (idx == NULL)
        return NULL;
    if (!json_is_array(json_object_get(idx, "manifests"))) {
        json_decref(idx);
        lb_error_setk(err, LB_EKIND_INVALID, 0, "'%s/%s' has no \"manifests\" array", s->root,
                      INDEX_PATH);
        return NULL;
    }
    return idx;
}

static int index_save(struct lb_store *s, json_t *idx, struct lb_error **err)
{
    if (s->lock_fd < 0)
        return lb_error_set(err, 0, "internal error: index.json changed without the store lock");
    if (lb_json_write_at(s->root_fd, INDEX_PATH, idx, err) < 0)
        return lb_error_wrap(err, "updating the image index");
    return 0;
}

static const char *desc_ref(json_t *desc)
{
    return lb_json_str(lb_json_obj(desc, "annotations"), LB_ANNOT_REF_NAME);
}

static const char *desc_parent(json_t *desc)
{
    return lb_json_str(lb_json_obj(desc, "annotations"), LB_ANNOT_PARENT);
}

/* The descriptor's digest, validated before it is used to build a path. */
static int desc_digest(json_t *desc, struct lb_digest *out, struct lb_error **err)
{
    const char *d = lb_json_str(desc, "digest");
    if (d == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0, "index.json descriptor without a digest");
    return lb_digest_parse(out, d, err);
}

/* --- loading one image ------------------------------------------------------------------- */

static int load_layers(struct lb_store *s, struct lb_image *img, struct lb_error **err)
{
    json_t *layers = lb_json_arr(img->manifest_json, "layers");
    json_t *diff_ids = lb_json_arr(lb_json_obj(img->config, "rootfs"), "diff_ids");
    if (layers == NULL || diff_ids == NULL)
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "image %s: manifest has no layers array or "
                             "config no rootfs.diff_ids",
                             img->manifest.str);
    if (json_array_size(layers) != json_array_size(diff_ids))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "image %s: %zu layers but %zu diff_ids in the config",
                             img->manifest.str, json_array_size(layers), json_array_size(diff_ids));
    img->n_layers = json_array_size(layers);
    img->layers = lb_xmalloc((img->n_layers + 1) * sizeof(*img->layers));
    for (size_t i = 0; i < img->n_layers; i++) {
        struct lb_layer_info *l = &img->layers[i];
        json_t *desc = json_array_get(layers, i);
        const char *mt = lb_json_str(desc, "mediaType");
        l->media_type = lb_xstrdup(mt ? mt : LB_MT_OCI_LAYER);
        l->size = (int64_t)lb_json_int(desc, "size", -1);
        const char *dd = json_string_value(json_array_get(diff_ids, i));
        if (desc_digest(desc, &l->digest, err) < 0 || dd == NULL ||
            lb_digest_parse(&l->diff_id, dd, err) < 0)
            return lb_error_setk(err, LB_EKIND_INVALID, 0, "image %s: invalid layer %zu",
                                 img->manifest.str, i);
        lb_chain_id_next(&l->chain_id, i == 0 ? NULL : &img->layers[i - 1].chain_id, &l->diff_id);
        l->unpacked_size = lb_store_layer_size(s, &l->chain_id);
        img->size += l->unpacked_size >= 0 ? l->unpacked_size : (l->size > 0 ? l->size : 0);
    }
    return 0;
}

struct lb_image *lb_store_load_image(struct lb_store *s, const struct lb_digest *manifest,
                                     struct lb_error **err)
{
    _cleanup_free_ char *mbuf = NULL, *cbuf = NULL;
    size_t mlen = 0, clen = 0;
    struct lb_image *img = lb_xmalloc(sizeof(*img));
    img->manifest = *manifest;
    img->names = lb_xmalloc(sizeof(char *));

    if (lb_store_blob_read(s, manifest, LB_JSON_MAX_SIZE, &mbuf, &mlen, err) < 0)
        goto fail;
    img->manifest_size = (int64_t)mlen;
    img->manifest_json = lb_json_parse(mbuf, mlen, "manifest", err);
    if (img->manifest_json == NULL)
        goto fail;
    const char *mt = lb_json_str(img->manifest_json, "mediaType");
    if (mt && strcmp(mt, LB_MT_OCI_MANIFEST) != 0 && strcmp(mt, LB_MT_DOCKER_MANIFEST) != 0) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "unsupported manifest media type '%s'", mt);
        goto fail;
    }
    json_t *cdesc = lb_json_obj(img->manifest_json, "config");
    if (cdesc == NULL || desc_digest(cdesc, &img->id, err) < 0) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "manifest has no valid config descriptor");
        goto fail;
    }
    if (lb_store_blob_read(s, &img->id, LB_JSON_MAX_SIZE, &cbuf, &clen, err) < 0)
        goto fail;
    img->config = lb_json_parse(cbuf, clen, "image config", err);
    if (img->config == NULL || load_layers(s, img, err) < 0)
        goto fail;
    return img;
fail:
    lb_error_wrap(err, "loading image %s", manifest->str);
    lb_image_free(img);
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fill names and parent of img from the index descriptors pointing at its manifest. */
static void fill_names(struct lb_image *img, json_t *idx)
{
    size_t i;
    json_t *desc;
    json_array_foreach(json_object_get(idx, "manifests"), i, desc)
    {
        const char *d = lb_json_str(desc, "digest");
        if (d == NULL || strcmp(d, img->manifest.str) != 0)
            continue;
        const char *ref = desc_ref(desc);
        if (ref && !lb_strv_contains(img->names, ref))
            lb_strv_push(&img->names, ref);
        const char *parent = desc_parent(desc);
        if (parent && img->parent == NULL)
            img->parent = lb_xstrdup(parent);
    }
    qsort(img->names, lb_strv_len(img->names), sizeof(char *), cmp_str);
}

static int cmp_newest_first(const void *a, const void *b)
{
    const struct lb_image *x = *(struct lb_image *const *)a, *y = *(struct lb_image *const *)b;
    int64_t cx = lb_image_created(x), cy = lb_image_created(y);
    if (cx != cy)
        return cx > cy ? -1 : 1;
    return strcmp(x->id.str, y->id.str);
}

static int list_from_index(struct lb_store *s, json_t *idx, struct lb_image ***out, size_t *n,
                           struct lb_error **err)
{
    struct lb_image **v = NULL;
    size_t count = 0, i;
    json_t *desc;
    json_array_foreach(json_object_get(idx, "manifests"), i, desc)
    {
        struct lb_digest d;
        if (desc_digest(desc, &d, err) < 0) {
            lb_image_list_free(v, count);
            return lb_error_wrap(err, "reading '%s/%s'", s->root, INDEX_PATH);
        }
        bool seen = false;
        for (size_t k = 0; k < count && !seen; k++)
            seen = lb_digest_equal(&v[k]->manifest, &d);
        if (seen)
            continue;
        struct lb_image *img = lb_store_load_image(s, &d, err);
        if (img == NULL) {
            lb_image_list_free(v, count);
            return -1;
        }
        fill_names(img, idx);
        v = lb_xrealloc(v, (count + 1) * sizeof(*v));
        v[count++] = img;
    }
    if (count > 1)
        qsort(v, count, sizeof(*v), cmp_newest_first);
    *out = v;
    *n = count;
    return 0;
}

int lb_store_list_images(struct lb_store *s, struct lb_image ***out, size_t *n,
                         struct lb_error **err)
{
    _cleanup_json_ json_t *idx = index_load(s, err);
    if (idx == NULL)
        return -1;
    return list_from_index(s, idx, out, n, err);
}

/* --- resolution -------------------------------------------------------------------------- */

static struct lb_image *take(struct lb_image **v, size_t n, size_t k)
{
    struct lb_image *img = v[k];
    v[k] = NULL;
    lb_image_list_free(v, n);
    return img;
}

struct lb_image *lb_store_resolve(struct lb_store *s, const char *arg, struct lb_error **err)
{
    struct lb_image **v = NULL;
    size_t n = 0;
    if (arg == NULL || *arg == '\0') {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid reference format: empty image name");
        return NULL;
    }
    if (lb_store_list_images(s, &v, &n, err) < 0)
        return NULL;

    /* 1. A full ID, with or without "sha256:". */
    const char *hex = lb_str_has_prefix(arg, "sha256:") ? arg + 7 : arg;
    size_t hlen = strlen(hex);
    bool is_hex = hlen > 0 && hlen <= LB_DIGEST_HEX_LEN && lb_is_lower_hex(hex, hlen);
    if (is_hex && hlen == LB_DIGEST_HEX_LEN) {
        for (size_t k = 0; k < n; k++)
            if (strcmp(lb_digest_hex(&v[k]->id), hex) == 0)
                return take(v, n, k);
    }

    /* 2. A name: "busybox" means docker.io/library/busybox:latest. */
    struct lb_reference ref = {0};
    struct lb_error *ref_err = NULL;
    if (hex == arg && lb_reference_parse(&ref, arg, 0, &ref_err) == 0) {
        _cleanup_free_ char *name = lb_reference_name(&ref);
        _cleanup_free_ char *full = ref.tag ? lb_xasprintf("%s:%s", name, ref.tag) : NULL;
        for (size_t k = 0; k < n; k++) {
            bool match;
            if (ref.digest)
                match = strcmp(v[k]->manifest.str, ref.digest) == 0 &&
                        (full == NULL || lb_image_has_name(v[k], full));
            else
                match = lb_image_has_name(v[k], full);
            if (match) {
                lb_reference_release(&ref);
                lb_error_free(ref_err);
                return take(v, n, k);
            }
        }
        lb_reference_release(&ref);
    }

    /* 3. A unique prefix of an ID. */
    if (is_hex && hlen < LB_DIGEST_HEX_LEN) {
        size_t found = n, matches = 0;
        struct lb_strbuf cands = LB_STRBUF_INIT;
        for (size_t k = 0; k < n; k++) {
            if (strncmp(lb_digest_hex(&v[k]->id), hex, hlen) != 0)
                continue;
            lb_strbuf_addf(&cands, "%s%.12s", matches ? ", " : "", lb_digest_hex(&v[k]->id));
            found = k;
            matches++;
        }
        if (matches == 1) {
            lb_strbuf_release(&cands);
            lb_error_free(ref_err);
            return take(v, n, found);
        }
        if (matches > 1) {
            lb_error_setk(err, LB_EKIND_INVALID, 0,
                          "image ID prefix '%s' is ambiguous: it matches %s", arg, cands.buf);
            lb_strbuf_release(&cands);
            lb_error_free(ref_err);
            lb_image_list_free(v, n);
            return NULL;
        }
        lb_strbuf_release(&cands);
    }
    lb_image_list_free(v, n);
    if (ref_err != NULL && !is_hex) {
        *err = ref_err; /* not a name, not an ID: say why the name is invalid */
        return NULL;
    }
    lb_error_free(ref_err);
    lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "no such image: '%s'", arg);
    return NULL;
}

/* --- changing names ---------------------------------------------------------------------- */

static size_t count_descs(json_t *arr, const char *digest)
{
    size_t i, n = 0;
    json_t *desc;
    json_array_foreach(arr, i, desc)
    {
        const char *d = lb_json_str(desc, "digest");
        if (d && strcmp(d, digest) == 0)
            n++;
    }
    return n;
}

/* Take `ref` away from whatever manifest has it: drop that descriptor when the manifest keeps
 * another, otherwise leave the descriptor without a name (the image becomes dangling). */
static void index_drop_ref(json_t *arr, const char *ref)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *desc = json_array_get(arr, i);
        const char *r = desc_ref(desc);
        if (r == NULL || strcmp(r, ref) != 0)
            continue;
        const char *d = lb_json_str(desc, "digest");
        if (d && count_descs(arr, d) > 1) {
            json_array_remove(arr, i);
            i--;
        } else {
            json_object_del(lb_json_obj(desc, "annotations"), LB_ANNOT_REF_NAME);
        }
    }
}

static json_t *new_desc(const char *media_type, const struct lb_digest *d, int64_t size,
                        const char *ref, const char *parent)
{
    json_t *ann = json_object();
    if (ref)
        json_object_set_new(ann, LB_ANNOT_REF_NAME, json_string(ref));
    if (parent)
        json_object_set_new(ann, LB_ANNOT_PARENT, json_string(parent));
    json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", d->str, "size",
                             (json_int_t)size);
    if (desc == NULL)
        lb_oom();
    if (json_object_size(ann) > 0)
        json_object_set_new(desc, "annotations", ann);
    else
        json_decref(ann);
    return desc;
}

static int index_point(struct lb_store *s, json_t *idx, const struct lb_digest *manifest,
                       const char *media_type, int64_t size, char *const *names, const char *parent,
                       struct lb_error **err)
{
    json_t *arr = json_object_get(idx, "manifests");
    for (size_t k = 0; names && names[k]; k++)
        index_drop_ref(arr, names[k]);
    /* Drop this manifest's unnamed descriptors; one is re-added below if it has no name left.
     * Their parent annotation carries over when the caller gives none. */
    _cleanup_free_ char *kept_parent = parent ? lb_xstrdup(parent) : NULL;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *desc = json_array_get(arr, i);
        const char *d = lb_json_str(desc, "digest");
        if (d && strcmp(d, manifest->str) == 0 && desc_ref(desc) == NULL) {
            if (kept_parent == NULL && desc_parent(desc))
                kept_parent = lb_xstrdup(desc_parent(desc));
            json_array_remove(arr, i);
            i--;
        }
    }
    parent = kept_parent;
    for (size_t k = 0; names && names[k]; k++)
        json_array_append_new(arr, new_desc(media_type, manifest, size, names[k], parent));
    if (count_descs(arr, manifest->str) == 0)
        json_array_append_new(arr, new_desc(media_type, manifest, size, NULL, parent));
    return index_save(s, idx, err);
}

int lb_store_add_image(struct lb_store *s, const struct lb_digest *manifest, int64_t manifest_size,
                       char *const *names, const struct lb_digest *parent, struct lb_error **err)
{
    _cleanup_json_ json_t *idx = index_load(s, err);
    if (idx == NULL)
        return -1;
    struct lb_image *img = lb_store_load_image(s, manifest, err);
    if (img == NULL)
        return -1;
    const char *mt = lb_json_str(img->manifest_json, "mediaType");
    int r = index_point(s, idx, manifest, mt ? mt : LB_MT_OCI_MANIFEST, manifest_size, names,
                        parent ? parent->str : NULL, err);
    if (r == 0)
        lb_explain("store", "image %.19s… (manifest %.19s…) recorded in images/index.json",
                   img->id.str, manifest->str);
    lb_image_free(img);
    return r;
}

int lb_store_tag(struct lb_store *s, const struct lb_image *img, const char *full_ref,
                 struct lb_error **err)
{
    _cleanup_json_ json_t *idx = index_load(s, err);
    if (idx == NULL)
        return -1;
    const char *mt = lb_json_str(img->manifest_json, "mediaType");
    char *names[] = {(char *)full_ref, NULL};
    if (index_point(s, idx, &img->manifest, mt ? mt : LB_MT_OCI_MANIFEST, img->manifest_size, names,
                    img->parent, err) < 0)
        return -1;
    lb_explain("store", "tag %s now points at manifest %s", full_ref, img->manifest.str);
    return 0;
}

int lb_store_untag(struct lb_store *s, const char *full_ref, struct lb_error **err)
{
    _cleanup_json_ json_t *idx = index_load(s, err);
    if (idx == NULL)
        return -1;
    json_t *arr = json_object_get(idx, "manifests");
    const char *digest = NULL;
    size_t i;
    json_t *desc;
    json_array_foreach(arr, i, desc)
    {
        const char *r = desc_ref(desc);
        if (r && strcmp(r, full_ref) == 0)
            digest = lb_json_str(desc, "digest");
    }
    if (digest == NULL)
        return lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "no such image: '%s'", full_ref);
    _cleanup_free_ char *d = lb_xstrdup(digest);
    index_drop_ref(arr, full_ref);
    if (index_save(s, idx, err) < 0)
        return -1;
    size_t named = 0;
    json_array_foreach(arr, i, desc)
    {
        const char *dd = lb_json_str(desc, "digest");
        if (dd && strcmp(dd, d) == 0 && desc_ref(desc) != NULL)
            named++;
    }
    lb_explain("store", "removed tag %s from images/index.json", full_ref);
    return named > 0 ? 1 : 0;
}

/* --- deleting ---------------------------------------------------------------------------- */

static bool digest_in(const struct lb_digest *d, struct lb_digest *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lb_digest_equal(d, &set[i]))
            return true;
    return false;
}

static void remove_blob(struct lb_store *s, const struct lb_digest *d)
{
    _cleanup_free_ char *rel = lb_store_blob_relpath(d);
    if (unlinkat(s->root_fd, rel, 0) == 0)
        lb_explain("store", "deleted blob %s (no image uses it any more)", d->str);
}

/* The image is already gone from index.json, so a layer that cannot be removed (mounted) is
 * kept and said so in the narration, as a blob that cannot be unlinked is. */
static void remove_layer(struct lb_store *s, const struct lb_digest *chain)
{
    _cleanup_free_ char *rel = lb_xasprintf("layers/%s", lb_digest_hex(chain));
    if (!lb_path_exists_at(s->root_fd, rel))
        return;
    struct lb_error *e = NULL;
    if (lb_layers_remove(s->root_fd, chain, &e) == 0) {
        lb_explain("layer", "deleted layer %s and its short link (no image uses it any more)", rel);
    } else {
        _cleanup_free_ char *msg = lb_error_string(e);
        lb_explain("layer", "kept layer %s: %s", rel, msg);
    }
    lb_error_free(e);
}

int lb_store_delete_image(struct lb_store *s, const struct lb_image *img, struct lb_error **err)
{
    /* A mounted image (`image mount`) keeps its layers busy: refuse, whatever -f says. */
    unsigned long mounts = 0;
    if (lb_image_mount_count(s->root_fd, &img->id, &mounts, err) < 0)
        return -1;
    if (mounts > 0) {
        _cleanup_free_ char *rel = lb_image_mount_relpath(&img->id);
        return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                             "image %.12s is mounted at %s/%s/merged: run 'layerbox image umount "
                             "%.12s' first",
                             lb_digest_hex(&img->id), s->root, rel, lb_digest_hex(&img->id));
    }
    _cleanup_json_ json_t *idx = index_load(s, err);
    if (idx == NULL)
        return -1;
    json_t *arr = json_object_get(idx, "manifests");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *d = lb_json_str(json_array_get(arr, i), "digest");
        if (d && strcmp(d, img->manifest.str) == 0) {
            json_array_remove(arr, i);
            i--;
        }
    }
    if (index_save(s, idx, err) < 0)
        return -1;

    /* What do the remaining images still use? */
    struct lb_image **rest = NULL;
    size_t n = 0;
    if (list_from_index(s, idx, &rest, &n, err) < 0)
        return lb_error_wrap(err, "image deleted, but its blobs were kept");
    struct lb_digest *used = NULL, *chains = NULL;
    size_t nused = 0, nchains = 0;
    for (size_t k = 0; k < n; k++) {
        used = lb_xrealloc(used, (nused + 2 + rest[k]->n_layers) * sizeof(*used));
        chains = lb_xrealloc(chains, (nchains + rest[k]->n_layers + 1) * sizeof(*chains));
        used[nused++] = rest[k]->manifest;
        used[nused++] = rest[k]->id;
        for (size_t l = 0; l < rest[k]->n_layers; l++) {
            used[nused++] = rest[k]->layers[l].digest;
            chains[nchains++] = rest[k]->layers[l].chain_id;
        }
    }
    lb_image_list_free(rest, n);

    if (!digest_in(&img->manifest, used, nused))
        remove_blob(s, &img->manifest);
    if (!digest_in(&img->id, used, nused))
        remove_blob(s, &img->id);
    for (size_t l = 0; l < img->n_layers; l++) {
        if (!digest_in(&img->layers[l].digest, used, nused))
            remove_blob(s, &img->layers[l].digest);
        if (!digest_in(&img->layers[l].chain_id, chains, nchains))
            remove_layer(s, &img->layers[l].chain_id);
    }
    free(used);
    free(chains);
    return lb_fsync_dir_at(s->root_fd, "images/blobs/sha256", err);
}
