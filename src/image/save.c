/* save.c — `save`: images out of the store as one tar that docker, podman and skopeo can load.
 *
 * The concept: the store already is an OCI image layout, so an OCI archive is its blobs plus an
 * index.json naming the images — written as stored, digests unchanged. A docker-archive is
 * docker 25's layout: the same OCI layout with a manifest.json beside it (Config, RepoTags,
 * Layers as paths into blobs/), and *uncompressed* layers, because docker's loader names a layer
 * by the digest of its file and that must be the DiffID. A gzip or zstd layer is therefore
 * decompressed while it is written: a first pass counts its bytes (a tar header needs the size
 * before the data) and checks that they hash to the DiffID, a second pass writes them. The config
 * blob is copied byte for byte, so every tool computes the same image ID.
 * The tar is deterministic: fixed entry order, mtime 0, owner 0:0, modes 0644/0755.
 *
 * Sits on layer/tar.h (the tar writer), image/store (blobs), image/reference and archive.c.
 * Interface: lb_archive_save
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
#include "layer/tar.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct saver {
    struct lb_store *s;
    enum lb_archive_format fmt;
    struct lb_tar_writer tar;
    struct lb_digest *written; /* blobs already in the archive: shared layers are written once */
    size_t n_written;
    json_t *index;  /* index.json's manifests list */
    json_t *docker; /* manifest.json (docker-archive) */
    json_t *repos;  /* repositories (docker-archive) */
    char *buf;      /* LB_ARCHIVE_BLOCK bytes */
};

/* One image to write and the names it gets in the archive. */
struct save_item {
    const struct lb_image *img;
    char **names; /* full references */
};

static int put_header(struct saver *sv, const char *name, mode_t type, int64_t size,
                      struct lb_error **err)
{
    struct lb_tar_header h = {
        .path = name,
        .mode = type | (type == S_IFDIR ? 0755 : 0644),
        .size = type == S_IFDIR ? 0 : size,
    };
    return lb_tar_write_header(&sv->tar, &h, err);
}

static int put_data(struct saver *sv, const void *data, size_t len, struct lb_error **err)
{
    return lb_tar_write_data(&sv->tar, data, len, err);
}

static int put_buffer(struct saver *sv, const char *name, const char *data, struct lb_error **err)
{
    size_t len = strlen(data);
    if (put_header(sv, name, S_IFREG, (int64_t)len, err) < 0 || put_data(sv, data, len, err) < 0)
        return -1;
    return 0;
}

static bool was_written(struct saver *sv, const struct lb_digest *d)
{
    for (size_t i = 0; i < sv->n_written; i++)
        if (lb_digest_equal(&sv->written[i], d))
            return true;
    return false;
}

static void mark_written(struct saver *sv, const struct lb_digest *d)
{
    sv->written = lb_xrealloc(sv->written, (sv->n_written + 1) * sizeof(*sv->written));
    sv->written[sv->n_written++] = *d;
}

static char *blob_name(const struct lb_digest *d)
{
    return lb_xasprintf("blobs/sha256/%s", lb_digest_hex(d));
}

/* Copy a stored blob as blobs/sha256/<hex>; *size gets its size. */
static int put_store_blob(struct saver *sv, const struct lb_digest *d, int64_t *size,
                          struct lb_error **err)
{
    _cleanup_close_ int fd = lb_store_blob_open(sv->s, d, err);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return lb_error_set(err, errno, "cannot stat blob %s", d->str);
    if (size)
        *size = (int64_t)st.st_size;
    if (was_written(sv, d))
        return 0;
    _cleanup_free_ char *name = blob_name(d);
    if (put_header(sv, name, S_IFREG, (int64_t)st.st_size, err) < 0)
        return -1;
    int64_t left = (int64_t)st.st_size;
    while (left > 0) {
        size_t want = left > LB_ARCHIVE_BLOCK ? LB_ARCHIVE_BLOCK : (size_t)left;
        ssize_t n = lb_read_full(fd, sv->buf, want, err);
        if (n < 0)
            return lb_error_wrap(err, "reading blob %s", d->str);
        if (n == 0)
            return lb_error_set(err, 0, "blob %s shrank while it was being saved", d->str);
        if (put_data(sv, sv->buf, (size_t)n, err) < 0)
            return -1;
        left -= n;
    }
    mark_written(sv, d);
    char sd[20];
    lb_explain("save", "wrote %s (%lld bytes, %s…)", name, (long long)st.st_size,
               lb_short_digest(sd, d));
    return 0;
}

/* Pass 1 of a compressed layer: count and hash what it decompresses to. */
struct count_sink {
    struct lb_sha256 hash;
    int64_t bytes;
};

static int count_sink(void *data, const void *buf, size_t len, struct lb_error **err)
{
    (void)err;
    struct count_sink *c = data;
    lb_sha256_update(&c->hash, buf, len);
    c->bytes += (int64_t)len;
    return 0;
}

/* Pass 2: write the decompressed bytes, never more than the header promised. */
struct tar_sink {
    struct saver *sv;
    const char *name;
    int64_t left;
};

static int tar_sink(void *data, const void *buf, size_t len, struct lb_error **err)
{
    struct tar_sink *t = data;
    if ((int64_t)len > t->left)
        return lb_error_set(err, 0, "%s changed while it was being saved", t->name);
    t->left -= (int64_t)len;
    return put_data(t->sv, buf, len, err);
}

/* A layer as docker wants it: an uncompressed tar named by its DiffID. *size gets its size. */
static int put_plain_layer(struct saver *sv, const struct lb_layer_info *l, int64_t *size,
                           struct lb_error **err)
{
    if (lb_digest_equal(&l->digest, &l->diff_id))
        return put_store_blob(sv, &l->digest, size, err); /* stored uncompressed already */
    char s1[20], s2[20], hs[32];
    _cleanup_free_ char *what = lb_xasprintf("layer %s", l->digest.str);
    _cleanup_close_ int fd = lb_store_blob_open(sv->s, &l->digest, err);
    if (fd < 0)
        return -1;
    struct count_sink c = {.bytes = 0};
    lb_sha256_init(&c.hash);
    if (lb_decompress_fd(fd, count_sink, &c, what, err) < 0) {
        lb_sha256_release(&c.hash);
        return -1;
    }
    struct lb_digest got;
    lb_sha256_final(&c.hash, &got);
    if (!lb_digest_equal(&got, &l->diff_id))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "%s decompresses to %s, not to its DiffID %s: the store is corrupt",
                             what, got.str, l->diff_id.str);
    *size = c.bytes;
    if (was_written(sv, &l->diff_id))
        return 0;
    lb_explain("save",
               "layer %s… is stored compressed; docker-archive wants plain tars: "
               "decompressed it once to count %s and check its DiffID %s…, now writing it",
               lb_short_digest(s1, &l->digest), lb_human_size(hs, sizeof(hs), (double)c.bytes),
               lb_short_digest(s2, &l->diff_id));
    if (lseek(fd, 0, SEEK_SET) < 0)
        return lb_error_set(err, errno, "cannot rewind %s", what);
    _cleanup_free_ char *name = blob_name(&l->diff_id);
    if (put_header(sv, name, S_IFREG, c.bytes, err) < 0)
        return -1;
    struct tar_sink t = {.sv = sv, .name = name, .left = c.bytes};
    if (lb_decompress_fd(fd, tar_sink, &t, what, err) < 0)
        return -1;
    if (t.left != 0)
        return lb_error_set(err, 0, "%s changed while it was being saved", what);
    mark_written(sv, &l->diff_id);
    return 0;
}

/* {"mediaType","digest","size"[,"annotations"]} for index.json. */
static json_t *index_desc(const char *mt, const struct lb_digest *d, int64_t size, const char *full)
{
    json_t *desc =
        json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", d->str, "size", (json_int_t)size);
    if (desc == NULL)
        lb_oom();
    if (full) {
        struct lb_reference ref = {0};
        struct lb_error *e = NULL;
        if (lb_reference_parse(&ref, full, 0, &e) == 0 && ref.tag) {
            json_t *ann = json_pack("{s:s, s:s}", "io.containerd.image.name", full,
                                    LB_ANNOT_REF_NAME, ref.tag);
            if (ann == NULL)
                lb_oom();
            json_object_set_new(desc, "annotations", ann);
        }
        lb_error_free(e);
        lb_reference_release(&ref);
    }
    return desc;
}

static void add_index_entries(struct saver *sv, const char *mt, const struct lb_digest *d,
                              int64_t size, char **names)
{
    for (size_t i = 0; names[i]; i++)
        json_array_append_new(sv->index, index_desc(mt, d, size, names[i]));
    if (names[0] == NULL)
        json_array_append_new(sv->index, index_desc(mt, d, size, NULL));
}

/* docker's manifest.json RepoTags and repositories entries for one image. */
static void add_docker_names(struct saver *sv, json_t *entry, char **names, const char *top)
{
    json_t *tags = json_array();
    for (size_t i = 0; names[i]; i++) {
        struct lb_reference ref = {0};
        struct lb_error *e = NULL;
        if (lb_reference_parse(&ref, names[i], 0, &e) == 0 && ref.tag) {
            _cleanup_free_ char *fs = lb_reference_familiar_string(&ref);
            _cleanup_free_ char *fn = lb_reference_familiar_name(&ref);
            json_array_append_new(tags, json_string(fs));
            json_t *repo = json_object_get(sv->repos, fn);
            if (repo == NULL) {
                repo = json_object();
                json_object_set_new(sv->repos, fn, repo);
            }
            if (top)
                json_object_set_new(repo, ref.tag, json_string(top));
        }
        lb_error_free(e);
        lb_reference_release(&ref);
    }
    if (json_array_size(tags) > 0)
        json_object_set_new(entry, "RepoTags", tags);
    else {
        json_decref(tags);
        json_object_set_new(entry, "RepoTags", json_null());
    }
}

static int save_docker_image(struct saver *sv, struct save_item *it, struct lb_error **err)
{
    const struct lb_image *img = it->img;
    int64_t config_size = 0;
    if (put_store_blob(sv, &img->id, &config_size, err) < 0)
        return -1;
    _cleanup_json_ json_t *manifest = lb_manifest_new(&img->id, config_size);
    json_t *entry = json_object();
    json_t *paths = json_array();
    json_t *sources = json_object();
    _cleanup_free_ char *cname = blob_name(&img->id);
    json_object_set_new(entry, "Config", json_string(cname));
    json_array_append_new(sv->docker, entry);
    for (size_t i = 0; i < img->n_layers; i++) {
        int64_t size = 0;
        if (put_plain_layer(sv, &img->layers[i], &size, err) < 0) {
            json_decref(paths);
            json_decref(sources);
            return -1;
        }
        const struct lb_digest *d = &img->layers[i].diff_id;
        lb_manifest_add_layer(manifest, LB_MT_OCI_LAYER, d, size);
        _cleanup_free_ char *lname = blob_name(d);
        json_array_append_new(paths, json_string(lname));
        json_t *src = json_pack("{s:s, s:I, s:s}", "mediaType", LB_MT_OCI_LAYER, "size",
                                (json_int_t)size, "digest", d->str);
        if (src == NULL)
            lb_oom();
        json_object_set_new(sources, d->str, src);
    }
    const char *top = img->n_layers ? lb_digest_hex(&img->layers[img->n_layers - 1].diff_id) : NULL;
    add_docker_names(sv, entry, it->names, top);
    json_object_set_new(entry, "Layers", paths);
    if (json_object_size(sources) > 0)
        json_object_set_new(entry, "LayerSources", sources);
    else
        json_decref(sources);

    _cleanup_free_ char *mjson = lb_json_dump(manifest);
    struct lb_digest md;
    lb_digest_buffer(&md, mjson, strlen(mjson));
    if (!was_written(sv, &md)) {
        _cleanup_free_ char *mname = blob_name(&md);
        if (put_buffer(sv, mname, mjson, err) < 0)
            return -1;
        mark_written(sv, &md);
    }
    char sd[20];
    lb_explain("save", "image %s…: wrote a manifest %s… listing the plain layers",
               lb_short_digest(sd, &img->id), md.str);
    add_index_entries(sv, LB_MT_OCI_MANIFEST, &md, (int64_t)strlen(mjson), it->names);
    return 0;
}

static int save_oci_image(struct saver *sv, struct save_item *it, struct lb_error **err)
{
    const struct lb_image *img = it->img;
    for (size_t i = 0; i < img->n_layers; i++)
        if (put_store_blob(sv, &img->layers[i].digest, NULL, err) < 0)
            return -1;
    int64_t msize = 0;
    if (put_store_blob(sv, &img->id, NULL, err) < 0 ||
        put_store_blob(sv, &img->manifest, &msize, err) < 0)
        return -1;
    const char *mt = lb_json_str(img->manifest_json, "mediaType");
    add_index_entries(sv, mt ? mt : LB_MT_OCI_MANIFEST, &img->manifest, msize, it->names);
    return 0;
}

/* The images, each once, with the names the user gave them. */
static struct save_item *group(struct lb_image *const *imgs, char *const *args, size_t n,
                               size_t *count)
{
    struct save_item *items = lb_xmalloc((n + 1) * sizeof(*items));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < k && !lb_digest_equal(&items[j].img->manifest, &imgs[i]->manifest))
            j++;
        if (j == k) {
            items[k].img = imgs[i];
            items[k].names = lb_xmalloc(sizeof(char *));
            k++;
        }
        struct lb_reference ref = {0};
        struct lb_error *e = NULL;
        if (args && args[i] && lb_reference_parse(&ref, args[i], 0, &e) == 0 &&
            ref.digest == NULL) {
            _cleanup_free_ char *full = lb_reference_string(&ref);
            if (lb_image_has_name(imgs[i], full) && !lb_strv_contains(items[j].names, full))
                lb_strv_push(&items[j].names, full);
        }
        lb_error_free(e);
        lb_reference_release(&ref);
    }
    *count = k;
    return items;
}

static int save_all(struct saver *sv, struct save_item *items, size_t n, struct lb_error **err)
{
    if (put_header(sv, "blobs/", S_IFDIR, 0, err) < 0 ||
        put_header(sv, "blobs/sha256/", S_IFDIR, 0, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int r = sv->fmt == LB_ARCHIVE_DOCKER ? save_docker_image(sv, &items[i], err)
                                             : save_oci_image(sv, &items[i], err);
        if (r < 0)
            return -1;
    }
    _cleanup_json_ json_t *index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
                                             LB_MT_OCI_INDEX, "manifests", sv->index);
    _cleanup_free_ char *index_s = lb_json_dump(index);
    if (put_buffer(sv, "index.json", index_s, err) < 0)
        return -1;
    if (sv->fmt == LB_ARCHIVE_DOCKER) {
        _cleanup_free_ char *m = lb_json_dump(sv->docker);
        if (put_buffer(sv, "manifest.json", m, err) < 0)
            return -1;
    }
    if (put_buffer(sv, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", err) < 0)
        return -1;
    if (sv->fmt == LB_ARCHIVE_DOCKER && json_object_size(sv->repos) > 0) {
        _cleanup_free_ char *r = lb_json_dump(sv->repos);
        if (put_buffer(sv, "repositories", r, err) < 0)
            return -1;
    }
    return 0;
}

int lb_archive_save(struct lb_store *s, struct lb_image *const *imgs, char *const *args, size_t n,
                    enum lb_archive_format format, int out_fd, struct lb_error **err)
{
    if (n == 0)
        return lb_error_setk(err, LB_EKIND_USAGE, 0, "no image to save");
    struct saver sv = {.s = s, .fmt = format};
    const char *what =
        format == LB_ARCHIVE_DOCKER ? "a docker-archive (docker 25 layout)" : "an OCI archive";
    if (lb_tar_writer_init(&sv.tar, out_fd, "archive", err) < 0) {
        lb_tar_writer_release(&sv.tar);
        return lb_error_wrap(err, "writing %s", what);
    }
    sv.index = json_array();
    sv.docker = json_array();
    sv.repos = json_object();
    sv.buf = lb_xmalloc(LB_ARCHIVE_BLOCK);
    size_t count = 0;
    struct save_item *items = group(imgs, args, n, &count);
    lb_explain("save", "writing %zu image%s as %s: blobs/sha256/<digest> files, then index.json%s",
               count, count == 1 ? "" : "s", what,
               format == LB_ARCHIVE_DOCKER ? ", manifest.json and repositories" : "");
    int rc = save_all(&sv, items, count, err);
    /* After a failure the tar stays unfinished: nothing tidy is appended to half an archive. */
    if (rc == 0)
        rc = lb_tar_finish(&sv.tar, err);
    lb_tar_writer_release(&sv.tar);
    for (size_t i = 0; i < count; i++)
        lb_strv_free(items[i].names);
    free(items);
    free(sv.written);
    free(sv.buf);
    json_decref(sv.index);
    json_decref(sv.docker);
    json_decref(sv.repos);
    return rc;
}
