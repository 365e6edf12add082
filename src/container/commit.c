/* commit.c — from a container back to an image: its writable layer becomes one more layer.
 *
 * The concept: an image is a stack of read-only layers, a container adds one writable layer on
 * top. Committing does not copy the image: the new image's manifest lists the parent's layer
 * blobs unchanged (same digests, so the store, save and push share them) plus ONE new layer, the
 * changeset of the writable layer — added and changed files, `.wh.NAME` for deleted ones,
 * `.wh..wh..opq` for a directory replaced as a whole. Its cost follows the change, not the image.
 *
 * One pass: the diff (layer/diff.h) is written by a thread into a pipe; this thread reads the pipe
 * through the unpacker (image/archive_internal.h, as import does), which hashes the tar (its
 * DiffID, and its blob digest: it is stored uncompressed), tees it into a blob writer and
 * unpacks it into ROOT/tmp, so the new layer is ready to run when it is published as
 * layers/<ChainID>. A running container is frozen (runtime/cgroup.h's freezer) only while the
 * diff is read, and always thawed.
 *
 * Sits on: container/lifecycle.h (the container's root), layer/diff.h, layer/chainid.h,
 * image/store.h + archive_internal.h (unpack, publish with undo), image/config.h (-c),
 * runtime/cgroup.h + procs.h (freezing).
 * Interface: lb_container_commit, lb_commit_config, lb_commit_created_by
 */
#include "container/commit.h"
#include "container/lifecycle.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"
#include "image/archive_internal.h"
#include "image/config.h"
#include "image/image.h"
#include "image/reference.h"
#include "layer/chainid.h"
#include "layer/diff.h"
#include "layer/driver.h"
#include "layer/layers.h"
#include "runtime/cgroup.h"
#include "runtime/procs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* --- the config: a pure function ---------------------------------------------------------- */

static void set_or_remove(json_t *obj, const char *key, const char *value)
{
    if (value && value[0])
        json_object_set_new(obj, key, json_string(value));
    else
        json_object_del(obj, key);
}

static int add_diff_id(json_t *cfg, const struct lb_digest *diff_id, struct lb_error **err)
{
    json_t *rootfs = json_object_get(cfg, "rootfs");
    if (rootfs == NULL) {
        rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
        if (rootfs == NULL)
            lb_oom();
        json_object_set_new(cfg, "rootfs", rootfs);
    }
    json_t *ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_object(rootfs) || !json_is_array(ids))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "the parent image's config has no rootfs.diff_ids list");
    json_array_append_new(ids, json_string(diff_id->str));
    return 0;
}

/* Everything but the new DiffID. */
static json_t *config_base(const json_t *parent, const struct lb_commit_opts *o,
                           const struct lb_commit_facts *facts, struct lb_error **err)
{
    _cleanup_json_ json_t *cfg = parent ? json_deep_copy(parent) : json_object();
    if (cfg == NULL || !json_is_object(cfg)) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "the parent image's config is not an object");
        return NULL;
    }
    if (lb_config_apply_changes(cfg, o->changes, err) < 0)
        return NULL;
    set_or_remove(cfg, "author", o->author);
    set_or_remove(cfg, "comment", o->message);
    set_or_remove(cfg, "created", facts->created);
    set_or_remove(cfg, "container", facts->container_id);

    json_t *history = json_object_get(cfg, "history");
    if (history == NULL) {
        history = json_array();
        json_object_set_new(cfg, "history", history);
    }
    if (!json_is_array(history)) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "the parent image's config history is not a list");
        return NULL;
    }
    json_t *h = json_object();
    set_or_remove(h, "created", facts->created);
    set_or_remove(h, "created_by", facts->created_by);
    set_or_remove(h, "author", o->author);
    set_or_remove(h, "comment", o->message);
    json_array_append_new(history, h);
    return lb_steal_pointer(&cfg);
}

json_t *lb_commit_config(const json_t *parent, const struct lb_commit_opts *o,
                         const struct lb_commit_facts *facts, const struct lb_digest *diff_id,
                         struct lb_error **err)
{
    _cleanup_json_ json_t *cfg = config_base(parent, o, facts, err);
    if (cfg == NULL)
        return NULL;
    if (diff_id && add_diff_id(cfg, diff_id, err) < 0)
        return NULL;
    return lb_steal_pointer(&cfg);
}

char *lb_commit_created_by(const struct lb_container *c)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_adds(&sb, c->path ? c->path : "");
    for (char **a = c->args; a && *a; a++) {
        lb_strbuf_addc(&sb, ' ');
        lb_strbuf_adds(&sb, *a);
    }
    if (sb.buf == NULL)
        return lb_xstrdup("");
    return lb_strbuf_detach(&sb);
}

/* --- freezing a running container ---------------------------------------------------------- */

/* Move every process of the container into the freezer group until a listing finds no new one
 * (a process may fork while the others are moved), then freeze, and check once more. */
static int pause_container(struct lb_freezer *f, const struct lb_container *c,
                           struct lb_error **err)
{
    if (lb_cgroup_freezer_create(f, NULL, NULL, c->id, err) < 0)
        return -1;
    bool frozen = false;
    for (int round = 0; round < 100; round++) {
        pid_t *pids = NULL;
        size_t n = 0, added = 0;
        if (lb_procs_in_pidns(c->state.pid, &pids, &n, err) < 0)
            return lb_error_wrap(err, "the processes of container '%s'", c->name);
        int rc = lb_cgroup_freezer_add(f, pids, n, &added, err);
        free(pids);
        if (rc < 0)
            return -1;
        if (added == 0 && frozen) {
            lb_explain("commit", "froze %zu process(es) of container %.12s in %s", f->n, c->id,
                       f->dir);
            return 0;
        }
        if (added == 0 && lb_cgroup_freeze(f, -1, err) < 0)
            return -1;
        frozen = frozen || added == 0;
    }
    return lb_error_set(err, EAGAIN,
                        "the processes of container '%s' keep multiplying: "
                        "cannot freeze them (try --pause=false)",
                        c->name);
}

/* --- the diff, in a thread writing into a pipe -------------------------------------------- */

struct diff_job {
    int upper_fd; /* overlay: the writable layer; -1 with vfs */
    int old_fd;   /* vfs: the image's merged tree */
    int new_fd;   /* vfs: the container's tree */
    int out_fd;   /* the pipe's write end: closed by the thread */
    struct lb_diff_stats st;
    struct lb_error *err;
    int rc;
};

static void *diff_thread(void *data)
{
    struct diff_job *j = data;
    /* A reader that gave up closes the pipe: write() then fails with EPIPE instead of the
     * SIGPIPE killing us (a signal pending on a thread that ends is discarded). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (j->upper_fd >= 0)
        j->rc = lb_diff_overlay_upper(j->upper_fd, j->out_fd, &j->st, &j->err);
    else
        j->rc = lb_diff_trees(j->old_fd, j->new_fd, j->out_fd, &j->st, &j->err);
    close(j->out_fd);
    j->out_fd = -1;
    return NULL;
}

static int writer_sink(void *data, const void *buf, size_t len, struct lb_error **err)
{
    return lb_blob_writer_write(data, buf, len, err);
}

/* vfs keeps no lower/upper split: the image's layers are copied into a staging directory (the
 * old tree) to compare with the container's copy. The cost of vfs, as everywhere. */
struct vfs_base {
    char *stage; /* relative to root_fd */
    char *target;
    int fd;
    bool mounted;
};

static int vfs_base_open(struct lb_store *s, const struct lb_image *img, struct vfs_base *b,
                         struct lb_error **err)
{
    if (lb_store_layer_stage(s, &b->stage, &b->fd, err) < 0)
        return -1;
    b->target = lb_xasprintf("%s/%s/diff", s->root, b->stage);
    _cleanup_free_ struct lb_digest *chains = lb_xmalloc((img->n_layers + 1) * sizeof(*chains));
    for (size_t i = 0; i < img->n_layers; i++)
        chains[i] = img->layers[img->n_layers - 1 - i].chain_id;
    struct lb_mount_request req = {.root_fd = s->root_fd,
                                   .root = s->root,
                                   .layers = chains,
                                   .n_layers = img->n_layers,
                                   .target = b->target};
    if (lb_driver_vfs.mount(&req, err) < 0)
        return -1;
    b->mounted = true;
    return 0;
}

static void vfs_base_release(struct lb_store *s, struct vfs_base *b)
{
    if (b->fd >= 0)
        close(b->fd);
    if (b->stage) {
        struct lb_error *e = NULL;
        lb_rm_tree_at(s->root_fd, b->stage, &e);
        lb_error_free(e);
    }
    free(b->stage);
    free(b->target);
    *b = (struct vfs_base){.fd = -1};
}

/* Diff c's writable layer into w (hashed) and unpack it into u, freezing c meanwhile when asked. */
static int diff_and_unpack(struct lb_store *s, struct lb_container *c, const struct lb_image *img,
                           const struct lb_commit_opts *o, struct lb_blob_writer *w,
                           struct lb_unpacked *u, struct lb_error **err)
{
    struct lb_container_root root = {.fd = -1};
    struct lb_freezer f = {0};
    struct vfs_base vb = {.fd = -1};
    struct diff_job job = {.upper_fd = -1, .old_fd = -1, .new_fd = -1, .out_fd = -1};
    int p[2] = {-1, -1};
    int rc = -1;
    if (lb_lifecycle_root_open(s, c, &root, err) < 0)
        return -1;
    if (root.upper) {
        job.upper_fd = open(root.upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (job.upper_fd < 0) {
            lb_error_set(err, errno, "cannot open '%s'", root.upper);
            goto out;
        }
    } else {
        if (vfs_base_open(s, img, &vb, err) < 0)
            goto out;
        job.old_fd = vb.fd;
        job.new_fd = root.fd;
    }
    if (root.running && !o->no_pause && pause_container(&f, c, err) < 0) {
        lb_error_wrap(err, "pausing container '%s'", c->name);
        goto out;
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        lb_error_set(err, errno, "cannot make a pipe");
        goto out;
    }
    job.out_fd = p[1];
    p[1] = -1;
    pthread_t th;
    int perr = pthread_create(&th, NULL, diff_thread, &job);
    if (perr != 0) {
        close(job.out_fd);
        lb_error_set(err, perr, "cannot start a thread");
        goto out;
    }
    struct lb_layer_stream_opts so = {.source = lb_source_fd,
                                      .source_data = &p[0],
                                      .tee_uncompressed = writer_sink,
                                      .tee_uncompressed_data = w,
                                      .threaded = true,
                                      .what = "the container's changes"};
    struct lb_error *ue = NULL;
    int urc = lb_archive_unpack(s, &so, u, &ue);
    close(p[0]); /* a diff still writing gets EPIPE */
    p[0] = -1;
    pthread_join(th, NULL);
    if (job.rc < 0) {
        *err = lb_steal_pointer(&job.err);
        lb_error_wrap(err, "the changes of container '%s'", c->name);
    } else if (urc < 0) {
        *err = lb_steal_pointer(&ue);
    } else {
        rc = 0;
        lb_explain("commit",
                   "changeset of %.12s: %llu entries (%llu whiteouts, %llu opaque directories), "
                   "%llu bytes of file content",
                   c->id, (unsigned long long)job.st.entries, (unsigned long long)job.st.whiteouts,
                   (unsigned long long)job.st.opaques, (unsigned long long)job.st.bytes);
    }
    lb_error_free(ue);
    lb_error_free(job.err);
out:
    if (p[0] >= 0)
        close(p[0]);
    if (job.upper_fd >= 0)
        close(job.upper_fd);
    struct lb_error *fe = NULL;
    if (f.version != LB_CGROUP_NONE && lb_cgroup_freezer_destroy(&f, &fe) < 0 && rc == 0) {
        *err = lb_steal_pointer(&fe);
        rc = -1;
    }
    lb_error_free(fe);
    if (vb.mounted) {
        struct lb_mount_request req = {.root_fd = s->root_fd, .root = s->root, .target = vb.target};
        struct lb_error *ve = NULL;
        lb_driver_vfs.umount(&req, &ve);
        lb_error_free(ve);
    }
    vfs_base_release(s, &vb);
    struct lb_error *re = NULL;
    if (lb_lifecycle_root_release(&root, &re) < 0 && rc == 0) {
        *err = lb_steal_pointer(&re);
        rc = -1;
    }
    lb_error_free(re);
    if (rc < 0)
        lb_unpacked_release(s, u);
    return rc;
}

/* --- publishing -------------------------------------------------------------------------- */

static int parse_ref(const char *s, char ***names, struct lb_error **err)
{
    char *full = lb_reference_new_image_name(s, "commit", err);
    if (full == NULL)
        return -1;
    lb_strv_push(names, full);
    free(full);
    return 0;
}

/* The parent's layer descriptors as they are (annotations and all), then the new layer. */
static json_t *commit_manifest(const struct lb_image *img, const struct lb_digest *config,
                               int64_t config_size, const struct lb_digest *layer,
                               int64_t layer_size)
{
    json_t *m = lb_manifest_new(config, config_size);
    json_t *layers = json_object_get(m, "layers");
    json_t *old = lb_json_arr(img->manifest_json, "layers");
    size_t i;
    json_t *d;
    json_array_foreach(old, i, d) json_array_append_new(layers, json_deep_copy(d));
    lb_manifest_add_layer(m, LB_MT_OCI_LAYER, layer, layer_size);
    return m;
}

static int publish(struct lb_store *s, const struct lb_image *img, struct lb_blob_writer *w,
                   struct lb_unpacked *u, const char *config, const char *manifest, char **names,
                   struct lb_error **err)
{
    const struct lb_digest *diff_id = &u->res.stream.diff_id;
    const struct lb_digest *parent_chain =
        img->n_layers ? &img->layers[img->n_layers - 1].chain_id : NULL;
    struct lb_digest chain;
    lb_chain_id_next(&chain, parent_chain, diff_id);
    struct lb_publish pub = {.store = s};
    if (!lb_layers_exists(s->root_fd, &chain)) {
        if (lb_archive_sync(s, err) < 0)
            return -1;
        pub.synced = true;
    }
    if (lb_store_lock(s, err) < 0)
        return -1;
    struct lb_digest cd, md;
    int rc = 0;
    if (lb_publish_layer(&pub, u, &chain, parent_chain, diff_id, err) < 0 ||
        lb_publish_writer(&pub, w, err) < 0 ||
        lb_publish_blob(&pub, &cd, config, strlen(config), err) < 0 ||
        lb_publish_blob(&pub, &md, manifest, strlen(manifest), err) < 0 ||
        lb_store_add_image(s, &md, (int64_t)strlen(manifest), names, &img->id, err) < 0) {
        lb_publish_rollback(&pub);
        rc = -1;
    }
    lb_publish_release(&pub);
    lb_store_unlock(s);
    return rc;
}

int lb_container_commit(struct lb_store *s, struct lb_container *c, const struct lb_commit_opts *o,
                        struct lb_digest *image_id_out, struct lb_error **err)
{
    _cleanup_strv_ char **names = lb_xmalloc(sizeof(char *));
    if (o->ref && parse_ref(o->ref, &names, err) < 0)
        return -1;
    struct lb_error *ie = NULL;
    struct lb_image *img = lb_store_resolve(s, c->image_id.str, &ie);
    if (img == NULL) {
        lb_error_free(ie);
        return lb_error_setk(err, LB_EKIND_NOT_FOUND, 0,
                             "the image of container '%s' (%s) is gone: nothing to commit onto",
                             c->name, c->image_id.str);
    }
    char created[40];
    lb_time_format(created, sizeof(created), lb_time_now());
    _cleanup_free_ char *created_by = lb_commit_created_by(c);
    struct lb_commit_facts facts = {
        .container_id = c->id, .created_by = created_by, .created = created};
    /* Every -c change is checked before anything is written. */
    _cleanup_json_ json_t *cfg = config_base(img->config, o, &facts, err);
    if (cfg == NULL) {
        lb_image_free(img);
        return -1;
    }
    char sd[20];
    lb_explain("commit",
               "container %.12s on image %s…: the image's %zu layer(s) are kept as they are; "
               "the writable layer becomes layer %zu",
               c->id, lb_short_digest(sd, &img->id), img->n_layers, img->n_layers + 1);

    struct lb_blob_writer w = {.fd = -1};
    struct lb_unpacked u = {0};
    _cleanup_free_ char *config = NULL;
    _cleanup_json_ json_t *m = NULL;
    _cleanup_free_ char *manifest = NULL;
    int rc = -1;
    if (lb_blob_writer_begin(&w, s, err) < 0)
        goto out;
    if (diff_and_unpack(s, c, img, o, &w, &u, err) < 0)
        goto out;
    const struct lb_layer_stream_result *sr = &u.res.stream;
    if (lb_blob_writer_finish(&w, &sr->diff_id, (int64_t)sr->tar_size, err) < 0 ||
        add_diff_id(cfg, &sr->diff_id, err) < 0)
        goto out;
    config = lb_json_dump(cfg);
    struct lb_digest cd;
    lb_digest_buffer(&cd, config, strlen(config));
    m = commit_manifest(img, &cd, (int64_t)strlen(config), &sr->diff_id, (int64_t)sr->tar_size);
    manifest = lb_json_dump(m);
    lb_explain("layer",
               "new layer %s…: a plain tar of %llu bytes (its digest is its DiffID), unpacked "
               "into %s",
               lb_short_digest(sd, &sr->diff_id), (unsigned long long)sr->tar_size,
               u.stage ? u.stage : "ROOT/tmp");
    if (publish(s, img, &w, &u, config, manifest, names, err) < 0)
        goto out;
    lb_explain("commit", "config %zu bytes: its sha256 %s… is the new image ID; Parent = %s",
               strlen(config), lb_short_digest(sd, &cd), img->id.str);
    *image_id_out = cd;
    rc = 0;
out:
    lb_unpacked_release(s, &u);
    lb_blob_writer_abort(&w);
    lb_image_free(img);
    return rc;
}
