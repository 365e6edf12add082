/* archive.c — the pieces load, save and import share: what a blob is, unpacking a layer into
 * ROOT/tmp, building a manifest, and publishing into the store so that a failure can be undone.
 *
 * The concept: a layer is a tar, maybe compressed. Its DiffID is the sha256 of the *uncompressed*
 * tar (what the config's rootfs.diff_ids lists); its blob digest is the sha256 of the bytes as
 * stored (what the manifest lists). For a plain tar both are the same. Unpacking a layer
 * (layer/unpack.h) answers everything a loader must check in the same pass that writes its files:
 * is it really a tar (and a safe one), what are its two digests, how big are its files. The
 * files go to a staging directory in ROOT/tmp; publishing renames it to ROOT/layers/<ChainID>
 * only after everything is verified, and a layer that is already there is shared, not copied.
 *
 * Sits on image/store (blobs, the driver, staging), layer/unpack, layer/layers.
 * Interface: lb_archive_format_parse, lb_compression_name, lb_blob_sniff, lb_layer_media_type,
 *            lb_decompress_fd, lb_archive_unpack, lb_unpacked_release, lb_archive_sync,
 *            lb_manifest_new, lb_manifest_add_layer, lb_publish_writer, lb_publish_blob,
 *            lb_publish_layer, lb_publish_rollback, lb_publish_release, lb_host_goarch,
 *            lb_short_digest
 */
#include "image/archive.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/util.h"
#include "image/archive_internal.h"
#include "image/image.h"
#include "layer/driver.h"
#include "layer/layers.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

int lb_archive_format_parse(enum lb_archive_format *out, const char *s, struct lb_error **err)
{
    if (s && (strcmp(s, "docker-archive") == 0 || strcmp(s, "docker") == 0)) {
        *out = LB_ARCHIVE_DOCKER;
        return 0;
    }
    if (s && (strcmp(s, "oci-archive") == 0 || strcmp(s, "oci") == 0)) {
        *out = LB_ARCHIVE_OCI;
        return 0;
    }
    return lb_error_setk(err, LB_EKIND_USAGE, 0,
                         "unknown archive format '%s' (use docker-archive or oci-archive)",
                         s ? s : "");
}

const char *lb_host_goarch(void)
{
    static const struct {
        const char *machine, *goarch;
    } map[] = {
        {"x86_64", "amd64"},
        {"amd64", "amd64"},
        {"aarch64", "arm64"},
        {"arm64", "arm64"},
        {"armv7l", "arm"},
        {"armv6l", "arm"},
        {"armv5tel", "arm"},
        {"i386", "386"},
        {"i486", "386"},
        {"i586", "386"},
        {"i686", "386"},
        {"ppc64le", "ppc64le"},
        {"ppc64", "ppc64"},
        {"s390x", "s390x"},
        {"riscv64", "riscv64"},
        {"mips64", "mips64"},
        {"loongarch64", "loong64"},
    };
    static char machine[sizeof(((struct utsname *)0)->machine)];
    struct utsname u;
    if (uname(&u) < 0)
        return "amd64";
    for (size_t i = 0; i < LB_ARRAY_SIZE(map); i++)
        if (strcmp(u.machine, map[i].machine) == 0)
            return map[i].goarch;
    snprintf(machine, sizeof(machine), "%s", u.machine);
    return machine;
}

const char *lb_short_digest(char buf[20], const struct lb_digest *d)
{
    snprintf(buf, 20, "%.19s", d->str);
    return buf;
}

/* --- what a blob is ---------------------------------------------------------------------- */

/* Declared in layer/stream.h; defined here, with the other names the loaders print. */
const char *lb_compression_name(enum lb_compression c)
{
    switch (c) {
    case LB_COMP_GZIP:
        return "gzip";
    case LB_COMP_ZSTD:
        return "zstd";
    default:
        return "plain";
    }
}

int lb_blob_sniff(int fd, enum lb_compression *out, const char **unsupported, struct lb_error **err)
{
    unsigned char m[6] = {0};
    ssize_t n;
    do
        n = pread(fd, m, sizeof(m), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return lb_error_set(err, errno, "cannot read");
    *unsupported = NULL;
    *out = lb_compression_detect(m, (size_t)n);
    if (n >= 6 && memcmp(m,
                         "\xfd"
                         "7zXZ\0",
                         6) == 0)
        *unsupported = "xz";
    else if (n >= 3 && memcmp(m, "BZh", 3) == 0)
        *unsupported = "bzip2";
    else if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        *out = LB_COMP_GZIP; /* as the stream decides: a 2-3 byte gzip is a truncated one */
    return 0;
}

const char *lb_layer_media_type(enum lb_compression c)
{
    switch (c) {
    case LB_COMP_GZIP:
        return LB_MT_OCI_LAYER_GZIP;
    case LB_COMP_ZSTD:
        return LB_MT_OCI_LAYER_ZSTD;
    default:
        return LB_MT_OCI_LAYER;
    }
}

#define DECOMPRESS_BUF (256 * 1024)

int lb_decompress_fd(int fd, lb_layer_sink sink, void *sink_data, const char *what,
                     struct lb_error **err)
{
    struct lb_layer_stream_opts o = {.source = lb_source_fd, .source_data = &fd, .what = what};
    struct lb_layer_stream *st = lb_layer_stream_new(&o, err);
    if (st == NULL)
        return -1;
    unsigned char *buf = lb_xmalloc(DECOMPRESS_BUF);
    int rc = 0;
    ssize_t n;
    while ((n = lb_layer_stream_read(st, buf, DECOMPRESS_BUF, err)) > 0)
        if (sink(sink_data, buf, (size_t)n, err) < 0) {
            rc = -1;
            break;
        }
    struct lb_layer_stream_result r;
    if (n < 0 || (rc == 0 && lb_layer_stream_finish(st, &r, err) < 0))
        rc = -1;
    free(buf);
    lb_layer_stream_free(st);
    return rc;
}

/* --- unpacking ---------------------------------------------------------------------------- */

int lb_archive_unpack(struct lb_store *s, const struct lb_layer_stream_opts *opts,
                      struct lb_unpacked *out, struct lb_error **err)
{
    memset(out, 0, sizeof(*out));
    const struct lb_driver *d = NULL;
    if (lb_store_driver(s, &d, err) < 0)
        return -1;
    char *stage = NULL;
    int diff_fd = -1;
    if (lb_store_layer_stage(s, &stage, &diff_fd, err) < 0)
        return -1;
    struct lb_apply_opts ao = {.whiteouts = d->whiteouts, .privileged = geteuid() == 0};
    struct lb_error *ue = NULL;
    int rc = lb_layer_unpack(opts, diff_fd, &ao, &out->res, &ue);
    close(diff_fd);
    if (ue != NULL || rc < 0) { /* an error is a failure, whatever the return value said */
        if (ue == NULL)
            lb_error_set(&ue, EIO, "%s: cannot unpack", opts->what ? opts->what : "layer");
        if (err && *err == NULL)
            *err = lb_steal_pointer(&ue);
        lb_error_free(ue);
        rc = -1;
    }
    if (rc < 0) {
        struct lb_error *e = NULL;
        lb_rm_tree_at(s->root_fd, stage, &e);
        lb_error_free(e);
        free(stage);
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->stage = stage;
    out->format = d->whiteouts;
    s->skipped_devices += out->res.stats.skipped_devices;
    return 0;
}

void lb_unpacked_release(struct lb_store *s, struct lb_unpacked *u)
{
    if (u->stage != NULL) {
        struct lb_error *e = NULL;
        lb_rm_tree_at(s->root_fd, u->stage, &e);
        lb_error_free(e);
        free(u->stage);
        u->stage = NULL;
    }
}

int lb_archive_sync(struct lb_store *s, struct lb_error **err)
{
    if (syncfs(s->root_fd) < 0)
        return lb_error_set(err, errno, "cannot sync the file system of '%s'", s->root);
    lb_explain("layer", "synced the store's file system once (syncfs): the unpacked files are on "
                        "disk before any layer directory is renamed into layers/");
    return 0;
}

/* --- manifests --------------------------------------------------------------------------- */

json_t *lb_manifest_new(const struct lb_digest *config, int64_t config_size)
{
    json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[]}", "schemaVersion", 2, "mediaType",
                          LB_MT_OCI_MANIFEST, "config", "mediaType", LB_MT_OCI_CONFIG, "digest",
                          config->str, "size", (json_int_t)config_size, "layers");
    if (m == NULL)
        lb_oom();
    return m;
}

void lb_manifest_add_layer(json_t *manifest, const char *media_type, const struct lb_digest *d,
                           int64_t size)
{
    json_t *l = json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", d->str, "size",
                          (json_int_t)size);
    if (l == NULL)
        lb_oom();
    json_array_append_new(json_object_get(manifest, "layers"), l);
}

/* --- publishing with undo ---------------------------------------------------------------- */

int lb_publish_writer(struct lb_publish *p, struct lb_blob_writer *w, struct lb_error **err)
{
    bool existed = lb_store_has_blob(p->store, &w->digest);
    struct lb_digest d = w->digest;
    if (lb_blob_writer_publish(w, err) < 0)
        return -1;
    if (!existed) {
        _cleanup_free_ char *rel = lb_store_blob_relpath(&d);
        lb_strv_push(&p->created, rel);
    }
    return 0;
}

int lb_publish_blob(struct lb_publish *p, struct lb_digest *out, const void *data, size_t len,
                    struct lb_error **err)
{
    struct lb_digest d;
    lb_digest_buffer(&d, data, len);
    bool existed = lb_store_has_blob(p->store, &d);
    if (lb_store_blob_put(p->store, out, data, len, err) < 0)
        return -1;
    if (!existed) {
        _cleanup_free_ char *rel = lb_store_blob_relpath(&d);
        lb_strv_push(&p->created, rel);
    }
    return 0;
}

int lb_publish_layer(struct lb_publish *p, struct lb_unpacked *u, const struct lb_digest *chain,
                     const struct lb_digest *parent, const struct lb_digest *diff_id,
                     struct lb_error **err)
{
    int root_fd = p->store->root_fd;
    if (lb_layers_exists(root_fd, chain)) {
        char sc[20];
        if (u->stage != NULL)
            lb_explain("layer",
                       "%s… already unpacked as layers/%s: shared; the copy unpacked into %s is "
                       "dropped",
                       lb_short_digest(sc, diff_id), lb_digest_hex(chain), u->stage);
        lb_unpacked_release(p->store, u); /* the same files are there already */
        return 0;
    }
    if (u->stage == NULL)
        return lb_error_set(err, ENOENT,
                            "layer %s was removed from the store while this was running: "
                            "try again",
                            chain->str);
    if (!p->synced) {
        if (lb_archive_sync(p->store, err) < 0)
            return -1;
        p->synced = true;
    }
    if (!p->made_link_dir && !lb_path_exists_at(root_fd, "layers/l"))
        p->made_link_dir = true; /* lb_layers_publish makes it; undo removes it again */
    struct lb_layer_meta m = {.chain_id = *chain,
                              .diff_id = *diff_id,
                              .size = (int64_t)u->res.stats.regular_bytes,
                              .format = u->format};
    if (parent != NULL) {
        m.has_parent = true;
        m.parent = *parent;
    }
    bool shared = false;
    _cleanup_free_ char *stage = lb_steal_pointer(&u->stage); /* consumed either way */
    int rc = lb_layers_publish(root_fd, stage, &m, &shared, err);
    lb_layer_meta_release(&m);
    if (rc < 0)
        return -1;
    if (!shared) {
        p->layers = lb_xrealloc(p->layers, (p->n_layers + 1) * sizeof(*p->layers));
        p->layers[p->n_layers++] = *chain;
    }
    return 0;
}

void lb_publish_rollback(struct lb_publish *p)
{
    char sc[20];
    for (size_t i = p->n_layers; i-- > 0;) {
        struct lb_error *e = NULL;
        lb_layers_remove(p->store->root_fd, &p->layers[i], &e);
        lb_error_free(e);
        lb_explain("store", "rolled back layer %s…", lb_short_digest(sc, &p->layers[i]));
    }
    free(p->layers);
    p->layers = NULL;
    p->n_layers = 0;
    if (p->made_link_dir && unlinkat(p->store->root_fd, "layers/l", AT_REMOVEDIR) == 0)
        lb_explain("store", "rolled back layers/l");
    p->made_link_dir = false;
    size_t n = lb_strv_len(p->created);
    for (size_t i = n; i-- > 0;) {
        struct lb_error *e = NULL;
        lb_rm_tree_at(p->store->root_fd, p->created[i], &e);
        lb_error_free(e);
        lb_explain("store", "rolled back %s", p->created[i]);
    }
    lb_strv_free(p->created);
    p->created = NULL;
}

void lb_publish_release(struct lb_publish *p)
{
    lb_strv_free(p->created);
    p->created = NULL;
    free(p->layers);
    p->layers = NULL;
    p->n_layers = 0;
}
