/* import.c — `import`: a root file system tar becomes a one-layer image.
 *
 * The concept: an image needs three things — a layer (the tar), a config (what to run, and the
 * layer's DiffID in rootfs.diff_ids) and a manifest (config + layers, by digest). `import` makes
 * all three: the tar is decompressed if needed and stored *uncompressed*, so its blob digest is
 * its DiffID; the config is written from scratch (architecture, os, created, the -c changes, one
 * history entry); its sha256 is the new image ID. Unlike `load`, nothing is verified against a
 * promise — there is none — but the input must really be a tar, and a safe one: it is unpacked
 * into ROOT/tmp in the same pass that decompresses, hashes and stores it, and published as
 * layers/<DiffID> (a one-layer image's ChainID is its DiffID).
 *
 * Sits on image/store (staging writer, names), image/config (-c changes), archive.c (unpacking in
 * one pass, publishing with undo). Interface: lb_archive_import
 */
#include "image/archive.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"
#include "image/archive_internal.h"
#include "image/config.h"
#include "image/image.h"
#include "image/reference.h"
#include "layer/layers.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int writer_sink(void *data, const void *buf, size_t len, struct lb_error **err)
{
    return lb_blob_writer_write(data, buf, len, err);
}

/* The new image's config, docker's shape: architecture, comment, config, created, history, os,
 * and rootfs (added once the layer is read). The -c changes are applied first, so a bad change is
 * reported before any input is read. */
static json_t *import_config(const struct lb_import_opts *opts, struct lb_error **err)
{
    const char *source = opts->source ? opts->source : "-";
    char created[40];
    lb_time_format(created, sizeof(created), lb_time_now());
    _cleanup_free_ char *comment =
        opts->message ? lb_xstrdup(opts->message) : lb_xasprintf("Imported from %s", source);
    _cleanup_free_ char *created_by = lb_xasprintf("layerbox import %s", source);
    json_t *cfg =
        json_pack("{s:s, s:s, s:{}, s:s, s:[{s:s, s:s, s:s}], s:s}", "architecture",
                  lb_host_goarch(), "comment", comment, "config", "created", created, "history",
                  "created", created, "created_by", created_by, "comment", comment, "os", "linux");
    if (cfg == NULL)
        lb_oom();
    if (lb_config_apply_changes(cfg, opts->changes, err) < 0) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

static int parse_name(const char *s, char ***names, struct lb_error **err)
{
    char *full = lb_reference_new_image_name(s, "import", err);
    if (full == NULL)
        return -1;
    lb_strv_push(names, full);
    free(full);
    return 0;
}

static int publish(struct lb_store *s, struct lb_blob_writer *w, const char *config,
                   const char *manifest, struct lb_unpacked *u, char **names, struct lb_error **err)
{
    struct lb_publish pub = {.store = s};
    const struct lb_digest *diff_id = &u->res.stream.diff_id;
    if (!lb_layers_exists(s->root_fd, diff_id)) { /* else shared: nothing new to sync */
        if (lb_archive_sync(s, err) < 0)          /* before the lock, which others wait for */
            return -1;
        pub.synced = true;
    }
    if (lb_store_lock(s, err) < 0)
        return -1;
    struct lb_digest cd, md;
    int rc = 0;
    if (lb_publish_layer(&pub, u, diff_id, NULL, diff_id, err) < 0 ||
        lb_publish_writer(&pub, w, err) < 0 ||
        lb_publish_blob(&pub, &cd, config, strlen(config), err) < 0 ||
        lb_publish_blob(&pub, &md, manifest, strlen(manifest), err) < 0 ||
        lb_store_add_image(s, &md, (int64_t)strlen(manifest), names, NULL, err) < 0) {
        lb_publish_rollback(&pub);
        rc = -1;
    }
    lb_publish_release(&pub);
    lb_store_unlock(s);
    return rc;
}

int lb_archive_import(struct lb_store *s, int fd, const struct lb_import_opts *opts,
                      struct lb_digest *id, struct lb_error **err)
{
    _cleanup_strv_ char **names = lb_xmalloc(sizeof(char *));
    if (opts->ref && parse_name(opts->ref, &names, err) < 0)
        return -1;
    const char *source = opts->source ? opts->source : "-";
    _cleanup_free_ char *what =
        strcmp(source, "-") == 0 ? lb_xstrdup("standard input") : lb_xasprintf("'%s'", source);
    lb_explain("import",
               "reading %s: decompressing if needed, hashing the plain tar (its DiffID), "
               "staging it and unpacking its files into ROOT/tmp, all in one pass",
               what);

    _cleanup_json_ json_t *cfg = import_config(opts, err);
    if (cfg == NULL)
        return -1;

    struct lb_blob_writer w = {.fd = -1};
    if (lb_blob_writer_begin(&w, s, err) < 0)
        return -1;
    struct lb_layer_stream_opts so = {.source = lb_source_fd,
                                      .source_data = &fd,
                                      .tee_uncompressed = writer_sink,
                                      .tee_uncompressed_data = &w,
                                      .threaded = true,
                                      .what = what};
    struct lb_unpacked u = {0};
    int rc = lb_archive_unpack(s, &so, &u, err);
    const struct lb_layer_stream_result *sr = &u.res.stream;
    if (rc == 0 && sr->tar_size == 0) /* a 0-byte layer is valid; a 0-byte import is a mistake */
        rc = lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not a tar archive: it is empty", what);
    if (rc == 0)
        rc = lb_blob_writer_finish(&w, &sr->diff_id, (int64_t)sr->tar_size, err);
    if (rc < 0) {
        lb_unpacked_release(s, &u);
        lb_blob_writer_abort(&w);
        return -1;
    }
    char sd[20], hs[32];
    lb_explain("layer",
               "%s was %s: stored as a plain tar of %llu bytes whose digest is its DiffID %s…; "
               "unpacked into %s: %llu entries, %s in %llu files",
               what,
               sr->compression == LB_COMP_NONE   ? "a plain tar"
               : sr->compression == LB_COMP_GZIP ? "gzip-compressed"
                                                 : "zstd-compressed",
               (unsigned long long)sr->tar_size, lb_short_digest(sd, &sr->diff_id), u.stage,
               (unsigned long long)u.res.stats.entries,
               lb_human_size(hs, sizeof(hs), (double)u.res.stats.regular_bytes),
               (unsigned long long)u.res.stats.files);

    json_t *rootfs = json_pack("{s:s, s:[s]}", "type", "layers", "diff_ids", sr->diff_id.str);
    if (rootfs == NULL)
        lb_oom();
    json_object_set_new(cfg, "rootfs", rootfs);
    _cleanup_free_ char *config = lb_json_dump(cfg);
    struct lb_digest cd;
    lb_digest_buffer(&cd, config, strlen(config));
    _cleanup_json_ json_t *m = lb_manifest_new(&cd, (int64_t)strlen(config));
    lb_manifest_add_layer(m, LB_MT_OCI_LAYER, &sr->diff_id, (int64_t)sr->tar_size);
    _cleanup_free_ char *manifest = lb_json_dump(m);
    lb_explain("import", "wrote a config (%zu bytes): its sha256 %s… is the image ID",
               strlen(config), lb_short_digest(sd, &cd));

    rc = publish(s, &w, config, manifest, &u, names, err);
    lb_unpacked_release(s, &u);
    lb_blob_writer_abort(&w);
    if (rc < 0)
        return -1;
    *id = cd;
    return 0;
}
