/* test_archive.c — load, save and import against a temp store, with tiny archives built here
 * (libarchive's writer): every archive form, links, compression, name reporting, the layers
 * unpacked into layers/<ChainID>/diff (in the pass, again from a staged or stored blob, or shared),
 * and the error paths, each of which must leave the store byte-for-byte as it was.
 *
 * Expected digests are computed here with OpenSSL's SHA256() over bytes this file wrote itself,
 * and expected sizes are the lengths of the file contents it put in the layers. */
#include "unit.h"

#include "core/json.h"
#include "image/archive.h"
#include "image/image.h"
#include "image/store.h"
#include "layer/chainid.h"
#include "layer/driver.h"
#include "layer/layers.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* --- helpers: digests, blobs in memory ---------------------------------------------------- */

struct blob {
    unsigned char *data;
    size_t len;
};

static void blob_free(struct blob *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static void sha(char out[72], const void *data, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    int n = snprintf(out, 72, "sha256:");
    for (size_t i = 0; i < sizeof(md); i++)
        n += snprintf(out + n, 72 - (size_t)n, "%02x", md[i]);
}

static struct blob blob_str(const char *s)
{
    struct blob b = {(unsigned char *)lb_xstrdup(s), strlen(s)};
    return b;
}

enum filter { F_NONE, F_GZIP, F_ZSTD, F_XZ };

static void add_filter(struct archive *a, enum filter f)
{
    int r = ARCHIVE_OK;
    if (f == F_GZIP)
        r = archive_write_add_filter_gzip(a);
    else if (f == F_ZSTD)
        r = archive_write_add_filter_zstd(a);
    else if (f == F_XZ)
        r = archive_write_add_filter_xz(a);
    else
        r = archive_write_add_filter_none(a);
    if (r != ARCHIVE_OK)
        fail_msg("filter %d: %s", (int)f, archive_error_string(a));
}

/* An entry of a tar we build: a file (data), a directory, or a link. */
struct ent {
    const char *name;
    const struct blob *data; /* file content */
    const char *symlink;     /* symlink target */
    const char *hardlink;    /* hardlink target */
    bool dir;
};

static void write_entries(struct archive *a, const struct ent *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_mtime(ae, 0, 0);
        if (e[i].dir) {
            archive_entry_set_filetype(ae, AE_IFDIR);
            archive_entry_set_perm(ae, 0755);
        } else if (e[i].symlink) {
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_symlink(ae, e[i].symlink);
            archive_entry_set_perm(ae, 0777);
        } else if (e[i].hardlink) {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, e[i].hardlink);
            archive_entry_set_perm(ae, 0644);
        } else {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, 0644);
            archive_entry_set_size(ae, (la_int64_t)e[i].data->len);
        }
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (!e[i].dir && !e[i].symlink && !e[i].hardlink && e[i].data->len > 0)
            assert_int_equal(archive_write_data(a, e[i].data->data, e[i].data->len),
                             (la_ssize_t)e[i].data->len);
        archive_entry_free(ae);
    }
}

/* A tar of (name, content) pairs in memory, optionally compressed. */
static struct blob make_tar(enum filter f, const char *const *files)
{
    size_t cap = 1 << 20, used = 0;
    unsigned char *buf = lb_xmalloc(cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    add_filter(a, f);
    assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
    for (size_t i = 0; files[i]; i += 2) {
        struct blob c = {(unsigned char *)files[i + 1], strlen(files[i + 1])};
        struct ent e = {.name = files[i], .data = &c};
        write_entries(a, &e, 1);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    struct blob b = {buf, used};
    return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void write_tar_file(const char *path, enum filter f, const struct ent *e, size_t n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    add_filter(a, f);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    write_entries(a, e, n);
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/* --- the test image: two layers (plain and gzip) and a config ----------------------------- */

/* Layer 1: two files, 4 + 18 = 22 bytes. Layer 2: one file of 8 bytes. */
static const char *const layer1_files[] = {"etc/hostname", "box\n", "bin/tool",
                                           "#!/bin/sh\necho hi\n", NULL};
static const char *const layer2_files[] = {"etc/motd", "welcome\n", NULL};
#define LAYER1_SIZE 22
#define LAYER2_SIZE 8

struct image {
    struct blob plain[2];  /* the uncompressed layer tars */
    struct blob stored[2]; /* as put in the archive: layer 1 plain, layer 2 gzip */
    char diff[2][72];
    char digest[2][72];
    struct blob config;
    char id[72];
    struct blob manifest; /* OCI manifest for the stored layers */
    char manifest_digest[72];
};

static void image_make(struct image *im, enum filter f2, const char *label)
{
    memset(im, 0, sizeof(*im));
    im->plain[0] = make_tar(F_NONE, layer1_files);
    im->plain[1] = make_tar(F_NONE, layer2_files);
    im->stored[0] = make_tar(F_NONE, layer1_files);
    im->stored[1] = make_tar(f2, layer2_files);
    for (int i = 0; i < 2; i++) {
        sha(im->diff[i], im->plain[i].data, im->plain[i].len);
        sha(im->digest[i], im->stored[i].data, im->stored[i].len);
    }
    char *cfg = lb_xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":"
                             "[\"sh\"],\"Labels\":{\"l\":\"%s\"}},\"created\":"
                             "\"2024-01-01T00:00:00Z\",\"rootfs\":{\"type\":\"layers\","
                             "\"diff_ids\":[\"%s\",\"%s\"]}}",
                             label, im->diff[0], im->diff[1]);
    im->config = blob_str(cfg);
    free(cfg);
    sha(im->id, im->config.data, im->config.len);
    const char *mt2 = f2 == F_GZIP   ? LB_MT_OCI_LAYER_GZIP
                      : f2 == F_ZSTD ? LB_MT_OCI_LAYER_ZSTD
                                     : LB_MT_OCI_LAYER;
    char *m = lb_xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":"
        "\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
        "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
        LB_MT_OCI_MANIFEST, LB_MT_OCI_CONFIG, im->id, im->config.len, LB_MT_OCI_LAYER,
        im->digest[0], im->stored[0].len, mt2, im->digest[1], im->stored[1].len);
    im->manifest = blob_str(m);
    free(m);
    sha(im->manifest_digest, im->manifest.data, im->manifest.len);
}

static void image_free(struct image *im)
{
    for (int i = 0; i < 2; i++) {
        blob_free(&im->plain[i]);
        blob_free(&im->stored[i]);
    }
    blob_free(&im->config);
    blob_free(&im->manifest);
}

/* --- fixture: a store and a scratch directory --------------------------------------------- */

struct fx {
    char *dir;
    char *root;
    struct lb_store store;
    struct image im;
};

static int setup(void **state)
{
    struct fx *f = lb_xmalloc(sizeof(*f));
    f->dir = lb_unit_mkdtemp();
    f->root = lb_path_join(f->dir, "root");
    struct lb_error *err = NULL;
    if (lb_store_open(&f->store, f->root, &err) < 0)
        fail_msg("open: %s", err->msg);
    /* the lock file appears on first use, and ROOT/driver when a driver is first needed: make
     * both now so snapshots compare the rest. vfs: no mount, and whiteouts are plain files. */
    assert_int_equal(lb_store_lock(&f->store, &err), 0);
    lb_store_unlock(&f->store);
    f->store.requested_driver = "vfs";
    const struct lb_driver *d = NULL;
    if (lb_store_driver(&f->store, &d, &err) < 0)
        fail_msg("driver: %s", err->msg);
    assert_string_equal(d->name, "vfs");
    image_make(&f->im, F_GZIP, "one");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    lb_store_release(&f->store);
    image_free(&f->im);
    free(f->root);
    lb_unit_rmdir(f->dir);
    free(f);
    return 0;
}

static char *path_in(struct fx *f, const char *name)
{
    return lb_path_join(f->dir, name);
}

/* A listing of the store: path, type, mode, size and content digest, sorted. */
static struct lb_strbuf snap_buf;
static size_t snap_root_len;

static int snap_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    char h[72] = "-";
    if (type == FTW_F && S_ISREG(st->st_mode)) {
        FILE *fp = fopen(p, "rb");
        assert_non_null(fp);
        struct blob b = {lb_xmalloc((size_t)st->st_size + 1), (size_t)st->st_size};
        if (b.len)
            assert_int_equal(fread(b.data, 1, b.len, fp), b.len);
        fclose(fp);
        sha(h, b.data, b.len);
        blob_free(&b);
    }
    lb_strbuf_addf(&snap_buf, "%s %o %lld %s\n", p + snap_root_len, (unsigned)st->st_mode,
                   S_ISREG(st->st_mode) ? (long long)st->st_size : 0LL, h);
    return 0;
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *snapshot(struct fx *f)
{
    snap_buf = (struct lb_strbuf)LB_STRBUF_INIT;
    lb_strbuf_adds(&snap_buf, "");
    snap_root_len = strlen(f->root);
    assert_int_equal(nftw(f->root, snap_one, 16, FTW_PHYS), 0);
    /* sort the lines */
    char **lines = NULL;
    for (char *s = snap_buf.buf, *nl; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
        *nl = '\0';
        lb_strv_push(&lines, s);
    }
    size_t n = lb_strv_len(lines);
    qsort(lines, n, sizeof(char *), cmp_lines);
    struct lb_strbuf out = LB_STRBUF_INIT;
    lb_strbuf_adds(&out, "");
    for (size_t i = 0; i < n; i++)
        lb_strbuf_addf(&out, "%s\n", lines[i]);
    lb_strv_free(lines);
    lb_strbuf_release(&snap_buf);
    return lb_strbuf_detach(&out);
}

/* Load must fail with `needle` and leave the store exactly as it was. */
static void load_fails(struct fx *f, const char *path, const char *needle)
{
    char *before = snapshot(f);
    struct lb_error *err = NULL;
    char **lines = NULL;
    assert_int_equal(lb_archive_load(&f->store, path, &lines, &err), -1);
    assert_null(lines);
    assert_non_null(err);
    if (strchr(err->msg, '\n'))
        fail_msg("error has several lines: %s", err->msg);
    assert_error_contains(err, needle);
    char *after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static char **load_ok(struct fx *f, const char *path)
{
    struct lb_error *err = NULL;
    char **lines = NULL;
    if (lb_archive_load(&f->store, path, &lines, &err) < 0)
        fail_msg("load %s: %s", path ? path : "stdin", err->msg);
    assert_non_null(lines);
    return lines;
}

static struct lb_image *resolve(struct fx *f, const char *arg)
{
    struct lb_error *err = NULL;
    struct lb_image *img = lb_store_resolve(&f->store, arg, &err);
    if (img == NULL)
        fail_msg("resolve %s: %s", arg, err->msg);
    return img;
}

/* The chain IDs of im, computed here from the DiffIDs (OCI: ChainID(L1) = DiffID(L1),
 * ChainID(L2) = sha256(ChainID(L1) + " " + DiffID(L2))). */
static void chain_ids(const struct image *im, struct lb_digest chain[2])
{
    struct lb_error *err = NULL;
    assert_int_equal(lb_digest_parse(&chain[0], im->diff[0], &err), 0);
    char buf[200];
    snprintf(buf, sizeof(buf), "%s %s", im->diff[0], im->diff[1]);
    char c1[72];
    sha(c1, buf, strlen(buf));
    assert_int_equal(lb_digest_parse(&chain[1], c1, &err), 0);
}

/* Read root/rel into a string (caller frees); NULL when missing. */
static char *read_in(struct fx *f, const char *rel)
{
    char *path = lb_path_join(f->root, rel);
    char *buf = NULL;
    size_t len = 0;
    struct lb_error *err = NULL;
    if (lb_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, &err) < 0) {
        lb_error_free(err);
        buf = NULL;
    }
    free(path);
    return buf;
}

/* The layers are unpacked under their chain IDs: diff/ holds each layer's files (layer1_files,
 * layer2_files), meta.json the DiffID, the parent and the size of the file contents. */
static void assert_layers_unpacked(struct fx *f, const struct image *im)
{
    struct lb_digest chain[2];
    chain_ids(im, chain);
    const char *const *files[2] = {layer1_files, layer2_files};
    for (int i = 0; i < 2; i++) {
        assert_true(lb_layers_exists(f->store.root_fd, &chain[i]));
        for (size_t k = 0; files[i][k]; k += 2) {
            char *rel = lb_xasprintf("layers/%s/diff/%s", lb_digest_hex(&chain[i]), files[i][k]);
            char *got = read_in(f, rel);
            if (got == NULL)
                fail_msg("%s is missing", rel);
            assert_string_equal(got, files[i][k + 1]);
            free(got);
            free(rel);
        }
        struct lb_layer_meta m;
        struct lb_error *err = NULL;
        assert_int_equal(lb_layers_read_meta(f->store.root_fd, &chain[i], &m, &err), 0);
        assert_string_equal(m.diff_id.str, im->diff[i]);
        assert_int_equal(m.has_parent, i == 1);
        if (i == 1)
            assert_string_equal(m.parent.str, chain[0].str);
        assert_int_equal(m.size, i == 0 ? LAYER1_SIZE : LAYER2_SIZE);
        assert_int_equal(m.format, LB_WHITEOUT_FILES);
        lb_layer_meta_release(&m);
    }
    assert_int_equal(lb_store_layer_size(&f->store, &chain[0]), LAYER1_SIZE);
    assert_int_equal(lb_store_layer_size(&f->store, &chain[1]), LAYER2_SIZE);
}

/* Nothing is left in ROOT/tmp. */
static void assert_tmp_empty(struct fx *f)
{
    char *tmp = lb_path_join(f->root, "tmp");
    int n = 0;
    DIR *d = opendir(tmp);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        if (de->d_name[0] != '.') {
            fprintf(stderr, "left in tmp/: %s\n", de->d_name);
            n++;
        }
    closedir(d);
    assert_int_equal(n, 0);
    free(tmp);
}

/* --- archive builders --------------------------------------------------------------------- */

/* docker's legacy layout: <id>.json, <n>/layer.tar, manifest.json; manifest_json NULL = default. */
static char *docker_archive(struct fx *f, const char *name, enum filter outer,
                            const char *manifest_json)
{
    struct image *im = &f->im;
    char *cfgname = lb_xasprintf("%s.json", im->id + 7);
    char *def = lb_xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"example.com/a/b:1\",\"c\"],"
                             "\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]",
                             cfgname);
    struct blob m = blob_str(manifest_json ? manifest_json : def);
    struct blob version = blob_str("1.0");
    struct ent e[] = {
        {.name = "l1/", .dir = true},
        {.name = "l1/VERSION", .data = &version},
        {.name = "l1/layer.tar", .data = &im->stored[0]},
        {.name = "l2/layer.tar", .data = &im->stored[1]},
        {.name = cfgname, .data = &im->config},
        {.name = "manifest.json", .data = &m},
    };
    char *path = path_in(f, name);
    write_tar_file(path, outer, e, LB_ARRAY_SIZE(e));
    blob_free(&m);
    blob_free(&version);
    free(def);
    free(cfgname);
    return path;
}

/* An OCI archive (or, with dir, a layout directory) of f->im. index_json NULL = default. */
static char *oci_archive(struct fx *f, const char *name, const char *index_json)
{
    struct image *im = &f->im;
    char *def =
        lb_xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":"
                     "\"%s\",\"size\":%zu,\"annotations\":{\"io.containerd.image.name\":"
                     "\"docker.io/library/oci:2\",\"%s\":\"2\"}}]}",
                     LB_MT_OCI_MANIFEST, im->manifest_digest, im->manifest.len, LB_ANNOT_REF_NAME);
    struct blob idx = blob_str(index_json ? index_json : def);
    struct blob layout = blob_str("{\"imageLayoutVersion\":\"1.0.0\"}");
    char *n[4];
    n[0] = lb_xasprintf("blobs/sha256/%s", im->digest[0] + 7);
    n[1] = lb_xasprintf("blobs/sha256/%s", im->digest[1] + 7);
    n[2] = lb_xasprintf("blobs/sha256/%s", im->id + 7);
    n[3] = lb_xasprintf("blobs/sha256/%s", im->manifest_digest + 7);
    struct ent e[] = {
        {.name = "oci-layout", .data = &layout}, {.name = "index.json", .data = &idx},
        {.name = n[0], .data = &im->stored[0]},  {.name = n[1], .data = &im->stored[1]},
        {.name = n[2], .data = &im->config},     {.name = n[3], .data = &im->manifest},
    };
    char *path = path_in(f, name);
    write_tar_file(path, F_NONE, e, LB_ARRAY_SIZE(e));
    for (int i = 0; i < 4; i++)
        free(n[i]);
    blob_free(&idx);
    blob_free(&layout);
    free(def);
    return path;
}

/* --- load: the good forms ----------------------------------------------------------------- */

static void test_archive__load_docker_legacy_reports_tags_and_unpacks_layers(void **state)
{
    struct fx *f = *state;
    char *p = docker_archive(f, "d.tar", F_NONE, NULL);
    char **lines = load_ok(f, p);
    assert_int_equal(lb_strv_len(lines), 2);
    assert_string_equal(lines[0], "Loaded image: example.com/a/b:1");
    assert_string_equal(lines[1], "Loaded image: c:latest");
    struct lb_image *img = resolve(f, "c");
    assert_string_equal(img->id.str, f->im.id);
    assert_true(lb_image_has_name(img, "example.com/a/b:1"));
    assert_int_equal(img->n_layers, 2);
    /* the generated manifest lists the layers as stored: plain, then gzip */
    assert_string_equal(img->layers[0].media_type, LB_MT_OCI_LAYER);
    assert_string_equal(img->layers[1].media_type, LB_MT_OCI_LAYER_GZIP);
    assert_string_equal(img->layers[1].digest.str, f->im.digest[1]);
    assert_int_equal(img->layers[1].size, (int64_t)f->im.stored[1].len);
    assert_string_equal(lb_json_str(lb_json_obj(img->manifest_json, "config"), "mediaType"),
                        LB_MT_OCI_CONFIG);
    assert_layers_unpacked(f, &f->im);
    assert_tmp_empty(f);
    lb_image_free(img);
    lb_strv_free(lines);
    free(p);
}

static void test_archive__load_reads_gzip_and_zstd_outer_archives(void **state)
{
    struct fx *f = *state;
    char *p = docker_archive(f, "d.tar.gz", F_GZIP, NULL);
    char **lines = load_ok(f, p);
    assert_string_equal(lines[1], "Loaded image: c:latest");
    lb_strv_free(lines);
    free(p);
    p = docker_archive(f, "d.tar.zst", F_ZSTD, NULL);
    lines = load_ok(f, p);
    assert_string_equal(lines[0], "Loaded image: example.com/a/b:1");
    lb_strv_free(lines);
    free(p);
}

static void test_archive__load_follows_symlinks_and_hardlinks_inside_the_archive(void **state)
{
    struct fx *f = *state;
    struct image *im = &f->im;
    char *cfgname = lb_xasprintf("%s.json", im->id + 7);
    char *man = lb_xasprintf("[{\"Config\":\"./%s\",\"RepoTags\":null,\"Layers\":"
                             "[\"a/layer.tar\",\"b/c/layer.tar\"]}]",
                             cfgname);
    struct blob m = blob_str(man);
    struct ent e[] = {
        {.name = "real1.tar", .data = &im->stored[0]},
        {.name = "a/layer.tar", .symlink = "../real1.tar"},
        {.name = "x/real2.tar", .data = &im->stored[1]},
        {.name = "b/c/layer.tar", .hardlink = "./x/real2.tar"},
        {.name = cfgname, .data = &im->config},
        {.name = "./manifest.json", .data = &m},
    };
    char *p = path_in(f, "links.tar");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    char **lines = load_ok(f, p);
    assert_int_equal(lb_strv_len(lines), 1);
    char *want = lb_xasprintf("Loaded image ID: %s", im->id);
    assert_string_equal(lines[0], want);
    assert_layers_unpacked(f, im);
    free(want);
    lb_strv_free(lines);
    blob_free(&m);
    free(man);
    free(cfgname);
    free(p);
}

static void test_archive__load_later_entry_of_the_same_name_wins(void **state)
{
    struct fx *f = *state;
    struct image *im = &f->im;
    char *cfgname = lb_xasprintf("%s.json", im->id + 7);
    char *man = lb_xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"dup\"],\"Layers\":"
                             "[\"l1.tar\",\"l2.tar\"]}]",
                             cfgname);
    struct blob m = blob_str(man), junk = blob_str("not the layer");
    struct ent e[] = {
        {.name = "l1.tar", .data = &junk},       {.name = "l1.tar", .data = &im->stored[0]},
        {.name = "l2.tar", .symlink = "l1.tar"}, {.name = "l2.tar", .data = &im->stored[1]},
        {.name = cfgname, .data = &im->config},  {.name = "manifest.json", .data = &m},
    };
    char *p = path_in(f, "dup.tar");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    char **lines = load_ok(f, p);
    assert_string_equal(lines[0], "Loaded image: dup:latest");
    lb_strv_free(lines);
    blob_free(&m);
    blob_free(&junk);
    free(man);
    free(cfgname);
    free(p);
}

static void test_archive__load_oci_archive_keeps_the_manifest_and_its_name(void **state)
{
    struct fx *f = *state;
    char *p = oci_archive(f, "o.tar", NULL);
    char **lines = load_ok(f, p);
    assert_int_equal(lb_strv_len(lines), 1);
    assert_string_equal(lines[0], "Loaded image: oci:2");
    struct lb_image *img = resolve(f, "oci:2");
    assert_string_equal(img->id.str, f->im.id);
    assert_string_equal(img->manifest.str, f->im.manifest_digest);
    assert_layers_unpacked(f, &f->im);
    lb_image_free(img);
    lb_strv_free(lines);
    free(p);
}

static void test_archive__load_oci_names_follow_the_annotation_rules(void **state)
{
    struct fx *f = *state;
    const struct {
        const char *ann;
        const char *line; /* NULL: untagged */
    } cases[] = {
        {"\"org.opencontainers.image.ref.name\":\"latest\"", NULL},
        {"\"org.opencontainers.image.ref.name\":\"lb-interop:1\"", NULL},
        {"\"org.opencontainers.image.ref.name\":\"localhost/x:3\"", "Loaded image: localhost/x:3"},
        {"\"org.opencontainers.image.ref.name\":\"Not/A Ref\"", NULL},
        {"\"io.containerd.image.name\":\"quay.io/q/r:t\",\"org.opencontainers.image.ref.name\":"
         "\"t\"",
         "Loaded image: quay.io/q/r:t"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char *idx = lb_xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\","
                                 "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{%s}}]}",
                                 LB_MT_OCI_MANIFEST, f->im.manifest_digest, f->im.manifest.len,
                                 cases[i].ann);
        char *p = oci_archive(f, "names.tar", idx);
        char **lines = load_ok(f, p);
        char *untagged = lb_xasprintf("Loaded image ID: %s", f->im.id);
        assert_string_equal(lines[0], cases[i].line ? cases[i].line : untagged);
        free(untagged);
        lb_strv_free(lines);
        free(p);
        free(idx);
    }
}

static void test_archive__load_oci_layout_directory(void **state)
{
    struct fx *f = *state;
    char *tarp = oci_archive(f, "o.tar", NULL);
    char *dir = path_in(f, "layout");
    char *cmd = lb_xasprintf("mkdir -p '%s' && tar -xf '%s' -C '%s'", dir, tarp, dir);
    assert_int_equal(system(cmd), 0);
    char **lines = load_ok(f, dir);
    assert_string_equal(lines[0], "Loaded image: oci:2");
    assert_layers_unpacked(f, &f->im);
    lb_strv_free(lines);
    free(cmd);
    free(dir);
    free(tarp);
}

static void test_archive__load_oci_directory_refuses_symlinked_blobs(void **state)
{
    struct fx *f = *state;
    char *tarp = oci_archive(f, "o.tar", NULL);
    char *dir = path_in(f, "layout");
    char *cmd =
        lb_xasprintf("mkdir -p '%s' && tar -xf '%s' -C '%s' && cd '%s/blobs/sha256' && "
                     "mv %s /tmp/lb-unit-moved-%d && ln -s /tmp/lb-unit-moved-%d %s",
                     dir, tarp, dir, dir, f->im.id + 7, (int)getpid(), (int)getpid(), f->im.id + 7);
    assert_int_equal(system(cmd), 0);
    load_fails(f, dir, "is missing from");
    char *moved = lb_xasprintf("/tmp/lb-unit-moved-%d", (int)getpid());
    unlink(moved);
    free(moved);
    free(cmd);
    free(dir);
    free(tarp);
}

static void test_archive__load_reads_standard_input(void **state)
{
    struct fx *f = *state;
    char *p = docker_archive(f, "d.tar", F_GZIP, NULL);
    int saved = dup(0);
    int fd = open(p, O_RDONLY);
    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, 0), 0);
    close(fd);
    char **lines = load_ok(f, NULL);
    assert_string_equal(lines[1], "Loaded image: c:latest");
    lb_strv_free(lines);
    fd = open(p, O_RDONLY);
    dup2(fd, 0);
    close(fd);
    lines = load_ok(f, "-");
    lb_strv_free(lines);
    dup2(saved, 0);
    close(saved);
    free(p);
}

static void test_archive__load_picks_this_platform_from_a_nested_index(void **state)
{
    struct fx *f = *state;
    struct image *im = &f->im;
    /* index.json → image index blob → manifests for two platforms (the other one is bogus) */
#if defined(__x86_64__)
    const char *arch = "amd64";
#elif defined(__aarch64__)
    const char *arch = "arm64";
#else
    const char *arch = NULL;
    skip();
#endif
    char bogus[72];
    sha(bogus, "nothing", 7);
    char *inner = lb_xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
        "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1,\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"s390x\"}},"
        "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"%s\"}}]}",
        LB_MT_OCI_INDEX, LB_MT_OCI_MANIFEST, bogus, LB_MT_OCI_MANIFEST, im->manifest_digest,
        im->manifest.len, arch);
    struct blob ib = blob_str(inner);
    char idig[72];
    sha(idig, ib.data, ib.len);
    char *idx = lb_xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\","
                             "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{"
                             "\"io.containerd.image.name\":\"multi:1\"}}]}",
                             LB_MT_OCI_INDEX, idig, ib.len);
    struct blob xb = blob_str(idx);
    char *n[5];
    n[0] = lb_xasprintf("blobs/sha256/%s", im->digest[0] + 7);
    n[1] = lb_xasprintf("blobs/sha256/%s", im->digest[1] + 7);
    n[2] = lb_xasprintf("blobs/sha256/%s", im->id + 7);
    n[3] = lb_xasprintf("blobs/sha256/%s", im->manifest_digest + 7);
    n[4] = lb_xasprintf("blobs/sha256/%s", idig + 7);
    struct ent e[] = {
        {.name = n[0], .data = &im->stored[0]},
        {.name = n[1], .data = &im->stored[1]},
        {.name = n[2], .data = &im->config},
        {.name = n[3], .data = &im->manifest},
        {.name = n[4], .data = &ib},
        {.name = "index.json", .data = &xb},
    };
    char *p = path_in(f, "multi.tar");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    char **lines = load_ok(f, p);
    assert_string_equal(lines[0], "Loaded image: multi:1");
    lb_strv_free(lines);

    /* without a matching platform among several, it is an error */
    char *inner2 = lb_xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
        "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1,\"platform\":{\"os\":\"linux\","
        "\"architecture\":\"s390x\"}},{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1,"
        "\"platform\":{\"os\":\"windows\",\"architecture\":\"%s\"}}]}",
        LB_MT_OCI_INDEX, LB_MT_OCI_MANIFEST, bogus, LB_MT_OCI_MANIFEST, bogus, arch);
    struct blob ib2 = blob_str(inner2);
    char idig2[72];
    sha(idig2, ib2.data, ib2.len);
    char *idx2 = lb_xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\","
                              "\"digest\":\"%s\",\"size\":%zu}]}",
                              LB_MT_OCI_INDEX, idig2, ib2.len);
    struct blob xb2 = blob_str(idx2);
    char *n5 = lb_xasprintf("blobs/sha256/%s", idig2 + 7);
    struct ent e2[] = {{.name = n5, .data = &ib2}, {.name = "index.json", .data = &xb2}};
    write_tar_file(p, F_NONE, e2, LB_ARRAY_SIZE(e2));
    char *needle = lb_xasprintf("no image for linux/%s", arch);
    load_fails(f, p, needle);

    /* indexes nested deeper than a few levels are refused, not followed */
    char prev[72];
    snprintf(prev, sizeof(prev), "%s", im->manifest_digest);
    size_t prev_len = im->manifest.len;
    const char *prev_mt = LB_MT_OCI_MANIFEST;
    struct blob chain[6];
    struct ent e3[8];
    char *names3[6];
    for (int i = 0; i < 6; i++) {
        char *t = lb_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{"
                               "\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
                               LB_MT_OCI_INDEX, prev_mt, prev, prev_len);
        chain[i] = blob_str(t);
        free(t);
        sha(prev, chain[i].data, chain[i].len);
        prev_len = chain[i].len;
        prev_mt = LB_MT_OCI_INDEX;
        names3[i] = lb_xasprintf("blobs/sha256/%s", prev + 7);
        e3[i] = (struct ent){.name = names3[i], .data = &chain[i]};
    }
    char *idx3 = lb_xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\","
                              "\"digest\":\"%s\",\"size\":%zu}]}",
                              LB_MT_OCI_INDEX, prev, prev_len);
    struct blob xb3 = blob_str(idx3);
    e3[6] = (struct ent){.name = "index.json", .data = &xb3};
    write_tar_file(p, F_NONE, e3, 7);
    load_fails(f, p, "indexes nested too deeply");
    for (int i = 0; i < 6; i++) {
        blob_free(&chain[i]);
        free(names3[i]);
    }
    blob_free(&xb3);
    free(idx3);

    free(needle);
    free(p);
    for (int i = 0; i < 5; i++)
        free(n[i]);
    free(n5);
    blob_free(&ib);
    blob_free(&xb);
    blob_free(&ib2);
    blob_free(&xb2);
    free(inner);
    free(idx);
    free(inner2);
    free(idx2);
}

static void test_archive__load_moves_a_name_and_says_so_like_docker(void **state)
{
    struct fx *f = *state;
    char *p = docker_archive(f, "d.tar", F_NONE, NULL);
    lb_strv_free(load_ok(f, p));
    char *old_id = lb_xstrdup(f->im.id);
    image_free(&f->im);
    image_make(&f->im, F_ZSTD, "two"); /* another config: another image ID */
    free(p);
    p = docker_archive(f, "d2.tar", F_NONE, NULL);
    char **lines = load_ok(f, p);
    char *want = lb_xasprintf("The image c:latest already exists, renaming the old one with ID "
                              "%s to empty string",
                              old_id);
    assert_true(lb_strv_contains(lines, want));
    assert_true(lb_strv_contains(lines, "Loaded image: c:latest"));
    struct lb_image *img = resolve(f, "c");
    assert_string_equal(img->id.str, f->im.id);
    assert_string_equal(img->layers[1].media_type, LB_MT_OCI_LAYER_ZSTD);
    lb_image_free(img);
    free(want);
    free(old_id);
    lb_strv_free(lines);
    free(p);
}

static void test_archive__loading_the_same_image_in_another_form_reuses_it(void **state)
{
    struct fx *f = *state;
    char *p = docker_archive(f, "d.tar", F_NONE, NULL);
    lb_strv_free(load_ok(f, p));
    free(p);
    p = oci_archive(f, "o.tar", NULL);
    lb_strv_free(load_ok(f, p));
    /* one image (one ID) with all three names, not two images with the same ID */
    struct lb_image **v = NULL;
    size_t n = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_store_list_images(&f->store, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(lb_image_has_name(v[0], "docker.io/library/oci:2"));
    assert_true(lb_image_has_name(v[0], "docker.io/library/c:latest"));
    lb_image_list_free(v, n);
    /* and loading it again changes nothing */
    char *before = snapshot(f);
    lb_strv_free(load_ok(f, p));
    char *after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(p);
}

/* --- load: errors, each leaving the store untouched --------------------------------------- */

static void test_archive__load_rejects_what_is_not_a_tar(void **state)
{
    struct fx *f = *state;
    char *p = path_in(f, "x.bin");
    write_file(p, "\x01\x02 definitely not a tar archive, just some bytes", 48);
    load_fails(f, p, "is not a tar archive");
    write_file(p, "", 0);
    load_fails(f, p, "is empty");
    struct blob z = make_tar(F_GZIP, layer2_files); /* a tar, but no manifest nor index */
    write_file(p, z.data, z.len);
    load_fails(f, p, "neither manifest.json (docker) nor index.json (OCI)");
    blob_free(&z);
    /* truncated in the middle of an entry */
    free(p);
    p = docker_archive(f, "t.tar", F_NONE, NULL);
    assert_int_equal(truncate(p, 2100), 0); /* inside l1/layer.tar's data */
    load_fails(f, p, "Truncated");
    free(p);
    p = docker_archive(f, "t2.tar", F_NONE, NULL);
    assert_int_equal(truncate(p, 700), 0); /* inside the second header */
    load_fails(f, p, "is not a valid tar archive");
    free(p);
    load_fails(f, "/nonexistent/archive.tar", "cannot open '/nonexistent/archive.tar'");
}

static void test_archive__load_rejects_paths_that_leave_the_archive(void **state)
{
    struct fx *f = *state;
    char *cfgname = lb_xasprintf("%s.json", f->im.id + 7);
    const struct {
        const char *config;
        const char *layer;
        const char *needle;
    } cases[] = {
        {cfgname, "/etc/passwd", "layer path '/etc/passwd' is absolute"},
        {cfgname, "l1/../../etc/passwd", "layer path 'l1/../../etc/passwd' contains a '..'"},
        {"../x.json", "l1/layer.tar", "config path '../x.json' contains a '..'"},
        {"/x.json", "l1/layer.tar", "config path '/x.json' is absolute"},
        {"", "l1/layer.tar", "config path is empty"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char *m = lb_xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"t\"],\"Layers\":"
                               "[\"l1/layer.tar\",\"%s\"]}]",
                               cases[i].config, cases[i].layer);
        char *p = docker_archive(f, "bad.tar", F_NONE, m);
        load_fails(f, p, cases[i].needle);
        free(p);
        free(m);
    }
    /* a symlink that leaves the archive is refused when followed */
    struct blob m = blob_str("[{\"Config\":\"c.json\",\"Layers\":[\"l1.tar\",\"evil.tar\"]}]");
    struct ent e[] = {{.name = "c.json", .data = &f->im.config},
                      {.name = "l1.tar", .data = &f->im.stored[0]},
                      {.name = "evil.tar", .symlink = "../../../etc/passwd"},
                      {.name = "abs.tar", .symlink = "/etc/passwd"},
                      {.name = "loop1", .symlink = "loop2"},
                      {.name = "loop2", .symlink = "loop1"},
                      {.name = "manifest.json", .data = &m}};
    char *p = path_in(f, "sym.tar");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    load_fails(f, p, "'evil.tar' in");
    blob_free(&m);
    m = blob_str("[{\"Config\":\"c.json\",\"Layers\":[\"l1.tar\",\"abs.tar\"]}]");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    load_fails(f, p, "is a symlink to '/etc/passwd', outside the archive");
    blob_free(&m);
    m = blob_str("[{\"Config\":\"c.json\",\"Layers\":[\"l1.tar\",\"loop1\"]}]");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    load_fails(f, p, "too many levels of links");
    blob_free(&m);
    free(p);
    free(cfgname);
}

static void test_archive__load_rejects_bad_docker_manifests(void **state)
{
    struct fx *f = *state;
    char *cfgname = lb_xasprintf("%s.json", f->im.id + 7);
    char *ok_layers = lb_xstrdup("\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]");
    char *cases[][2] = {
        {lb_xstrdup("[{\"Config\": this is not JSON"),
         lb_xstrdup("manifest.json is not valid JSON")},
        {lb_xstrdup("{\"Config\":\"x\"}"), lb_xstrdup("manifest.json is not a list of images")},
        {lb_xstrdup("[]"), lb_xstrdup("manifest.json lists no images")},
        {lb_xstrdup("[42]"), lb_xstrdup("manifest.json: entry 0 is not an object")},
        {lb_xasprintf("[{\"Config\":\"%s\"}]", cfgname), lb_xstrdup("entry 0 has no Layers list")},
        {lb_xasprintf("[{\"Config\":\"%s\",%s,\"RepoTags\":[1]}]", cfgname, ok_layers),
         lb_xstrdup("RepoTags is not a list of strings")},
        {lb_xasprintf("[{\"Config\":\"%s\",\"Layers\":[7]}]", cfgname),
         lb_xstrdup("layer path is empty")},
        {lb_xasprintf("[{\"Config\":\"missing.json\",%s}]", ok_layers),
         lb_xstrdup("config 'missing.json' is missing from")},
        {lb_xasprintf("[{\"Config\":\"%s\",\"Layers\":[\"l1/layer.tar\",\"l3/layer.tar\"]}]",
                      cfgname),
         lb_xstrdup("layer 'l3/layer.tar' is missing from")},
        {lb_xasprintf("[{\"Config\":\"%s\",\"Layers\":[\"l1/layer.tar\"]}]", cfgname),
         lb_xstrdup("lists 2 layer DiffIDs but the manifest has 1 layers")},
        {lb_xasprintf("[{\"Config\":\"%s\",\"Layers\":[\"l2/layer.tar\",\"l1/layer.tar\"]}]",
                      cfgname),
         lb_xstrdup("layer 1 of 2 ('l2/layer.tar'): its DiffID")},
        {lb_xasprintf("[{\"Config\":\"%s\",%s,\"RepoTags\":[\"UPPER\"]}]", cfgname, ok_layers),
         lb_xstrdup("image name 'UPPER'")},
        {lb_xasprintf("[{\"Config\":\"%s\",%s,\"RepoTags\":[\"x@sha256:%s\"]}]", cfgname, ok_layers,
                      f->im.id + 7),
         lb_xstrdup("has a digest; a name needs a tag")},
        {lb_xasprintf("[{\"Config\":\"manifest.json\",%s}]", ok_layers),
         lb_xstrdup("image config 'manifest.json' is not a JSON object")},
        {lb_xasprintf("[{\"Config\":\"l1/VERSION\",%s}]", ok_layers),
         lb_xstrdup("image config 'l1/VERSION' is not valid JSON")},
        {lb_xasprintf("[{\"Config\":\"l1/layer.tar\",%s}]", ok_layers),
         lb_xstrdup("image config 'l1/layer.tar' is not valid JSON")},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char *p = docker_archive(f, "bad.tar", F_NONE, cases[i][0]);
        load_fails(f, p, cases[i][1]);
        free(p);
        free(cases[i][0]);
        free(cases[i][1]);
    }
    free(ok_layers);
    free(cfgname);
}

/* A docker archive whose config is given as text (named by its own digest). */
static char *docker_archive_with_config(struct fx *f, const char *config, const char *layers_json,
                                        const struct ent *extra, size_t n_extra)
{
    struct blob c = blob_str(config);
    char id[72];
    sha(id, c.data, c.len);
    char *cname = lb_xasprintf("%s.json", id + 7);
    char *man = lb_xasprintf("[{\"Config\":\"%s\",\"Layers\":%s}]", cname, layers_json);
    struct blob m = blob_str(man);
    struct ent e[8] = {{.name = cname, .data = &c}, {.name = "manifest.json", .data = &m}};
    for (size_t i = 0; i < n_extra; i++)
        e[2 + i] = extra[i];
    char *p = path_in(f, "cfg.tar");
    write_tar_file(p, F_NONE, e, 2 + n_extra);
    blob_free(&c);
    blob_free(&m);
    free(man);
    free(cname);
    return p;
}

static void test_archive__load_rejects_bad_configs_and_layers(void **state)
{
    struct fx *f = *state;
    struct ent l1 = {.name = "l1.tar", .data = &f->im.stored[0]};
    char *p = docker_archive_with_config(f, "{\"rootfs\":{}}", "[\"l1.tar\"]", &l1, 1);
    load_fails(f, p, "has no rootfs.diff_ids list");
    free(p);
    p = docker_archive_with_config(f, "{\"rootfs\":{\"diff_ids\":[\"sha256:abc\"]}}",
                                   "[\"l1.tar\"]", &l1, 1);
    load_fails(f, p, "rootfs.diff_ids[0]");
    free(p);
    p = docker_archive_with_config(f, "{\"rootfs\":{\"diff_ids\":[5]}}", "[\"l1.tar\"]", &l1, 1);
    load_fails(f, p, "rootfs.diff_ids[0]");
    free(p);

    /* a layer that is not a tar, and one in a compression the store has no media type for */
    struct blob text = blob_str("just text, no tar headers here at all....................");
    char tdig[72];
    sha(tdig, text.data, text.len);
    char *cfg = lb_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\"]}}", tdig);
    struct ent lt = {.name = "text.tar", .data = &text};
    p = docker_archive_with_config(f, cfg, "[\"text.tar\"]", &lt, 1);
    load_fails(f, p, "layer 1 of 1 ('text.tar'): cannot read the tar: Unrecognized archive format");
    free(p);
    free(cfg);
    blob_free(&text);

    struct blob xz = make_tar(F_XZ, layer2_files);
    cfg = lb_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\"]}}", f->im.diff[1]);
    struct ent lx = {.name = "xz.tar", .data = &xz};
    p = docker_archive_with_config(f, cfg, "[\"xz.tar\"]", &lx, 1);
    load_fails(f, p, "uses a compression layerbox does not store");
    free(p);
    free(cfg);
    blob_free(&xz);

    /* a gzip layer whose data is corrupt */
    struct blob gz = make_tar(F_GZIP, layer1_files);
    gz.data[gz.len / 2] ^= 0xff;
    gz.data[gz.len / 2 + 1] ^= 0xff;
    cfg = lb_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\"]}}", f->im.diff[0]);
    struct ent lg = {.name = "gz.tar", .data = &gz};
    p = docker_archive_with_config(f, cfg, "[\"gz.tar\"]", &lg, 1);
    struct lb_error *err = NULL;
    char **lines = NULL;
    char *before = snapshot(f);
    assert_int_equal(lb_archive_load(&f->store, p, &lines, &err), -1);
    assert_non_null(err); /* corrupt deflate data or a wrong DiffID, depending on the byte */
    lb_error_clear(&err);
    char *after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(p);
    free(cfg);
    blob_free(&gz);
}

static void test_archive__load_docker25_blob_names_must_match_their_content(void **state)
{
    struct fx *f = *state;
    char *lname = lb_xasprintf("blobs/sha256/%s", f->im.diff[1] + 7); /* the other layer's name */
    char *cname = lb_xasprintf("blobs/sha256/%s", f->im.id + 7);
    char *man = lb_xasprintf("[{\"Config\":\"%s\",\"Layers\":[\"%s\",\"l2.tar\"]}]", cname, lname);
    struct blob m = blob_str(man);
    struct ent e[] = {{.name = cname, .data = &f->im.config},
                      {.name = lname, .data = &f->im.stored[0]},
                      {.name = "l2.tar", .data = &f->im.stored[1]},
                      {.name = "manifest.json", .data = &m}};
    char *p = path_in(f, "d25.tar");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    char *needle =
        lb_xasprintf("does not match its name: its content hashes to %s", f->im.digest[0]);
    load_fails(f, p, needle);
    free(needle);
    free(p);
    blob_free(&m);
    free(man);
    free(cname);
    free(lname);
}

static void test_archive__load_rejects_bad_oci_indexes_and_descriptors(void **state)
{
    struct fx *f = *state;
    struct image *im = &f->im;
    char upper[72];
    snprintf(upper, sizeof(upper), "%s", im->manifest_digest);
    for (char *c = upper + 7; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    char missing[72];
    sha(missing, "absent", 6);
    const char *mt = LB_MT_OCI_MANIFEST;
    char *cases[][2] = {
        {lb_xstrdup("{\"schemaVersion\":2,"), lb_xstrdup("index.json is not valid JSON")},
        {lb_xstrdup("{\"schemaVersion\":2}"), lb_xstrdup("index.json has no manifests list")},
        {lb_xstrdup("{\"manifests\":[]}"), lb_xstrdup("index.json lists no images")},
        {lb_xstrdup("{\"manifests\":[\"x\"]}"),
         lb_xstrdup("index.json: manifests[0] is not a descriptor")},
        {lb_xstrdup("{\"manifests\":[{\"size\":1}]}"), lb_xstrdup("manifests[0] has no digest")},
        {lb_xasprintf("{\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}", upper,
                      im->manifest.len),
         lb_xstrdup("index.json: manifests[0]: invalid digest")},
        {lb_xasprintf("{\"manifests\":[{\"digest\":\"%s\"}]}", im->manifest_digest),
         lb_xstrdup("manifests[0] has no valid size")},
        {lb_xasprintf("{\"manifests\":[{\"digest\":\"%s\",\"size\":3}]}", missing),
         lb_xasprintf("blob 'blobs/sha256/%s' is missing from", missing + 7)},
        {lb_xasprintf("{\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}", im->manifest_digest,
                      im->manifest.len + 1),
         lb_xasprintf("is %zu bytes in the archive but the descriptor says %zu", im->manifest.len,
                      im->manifest.len + 1)},
        {lb_xasprintf("{\"manifests\":[{\"mediaType\":\"application/x-nope\",\"digest\":\"%s\","
                      "\"size\":%zu}]}",
                      im->manifest_digest, im->manifest.len),
         lb_xstrdup("unsupported media type 'application/x-nope'")},
        {lb_xasprintf("{\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}", mt,
                      im->id, im->config.len),
         lb_xstrdup("config has no digest")},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char *p = oci_archive(f, "bad.tar", cases[i][0]);
        load_fails(f, p, cases[i][1]);
        free(p);
        free(cases[i][0]);
        free(cases[i][1]);
    }
}

static void test_archive__load_oci_blob_whose_content_does_not_match_its_name(void **state)
{
    struct fx *f = *state;
    struct image *im = &f->im;
    char *idx = lb_xasprintf("{\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}",
                             im->manifest_digest, im->manifest.len);
    struct blob x = blob_str(idx);
    /* blobs/sha256/<manifest digest> holds other bytes of the same length */
    struct blob other = {lb_xmalloc(im->manifest.len), im->manifest.len};
    memset(other.data, ' ', other.len);
    char od[72];
    sha(od, other.data, other.len);
    char *n = lb_xasprintf("blobs/sha256/%s", im->manifest_digest + 7);
    struct ent e[] = {{.name = "index.json", .data = &x}, {.name = n, .data = &other}};
    char *p = path_in(f, "mismatch.tar");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    char *needle = lb_xasprintf("does not match its digest: its content hashes to %s", od);
    load_fails(f, p, needle);
    free(needle);
    free(p);
    free(n);
    blob_free(&other);
    blob_free(&x);
    free(idx);
}

static void test_archive__load_rejects_json_over_the_size_limit(void **state)
{
    struct fx *f = *state;
    size_t big = LB_JSON_MAX_SIZE + 10;
    struct blob m = {lb_xmalloc(big), big};
    memset(m.data, ' ', big);
    m.data[0] = '[';
    m.data[big - 1] = ']';
    struct ent e[] = {{.name = "manifest.json", .data = &m}};
    char *p = path_in(f, "huge.tar");
    write_tar_file(p, F_NONE, e, 1);
    char *needle =
        lb_xasprintf("manifest.json is too large (%zu bytes, limit %u)", big, LB_JSON_MAX_SIZE);
    load_fails(f, p, needle);
    free(needle);
    free(p);
    blob_free(&m);
}

static void test_archive__load_undoes_what_it_published_when_a_later_step_fails(void **state)
{
    struct fx *f = *state;
    char *p = docker_archive(f, "d.tar", F_NONE, NULL);
    /* index.json unreadable as an index: lb_store_add_image fails after the blobs and layer
     * records were written; they must be removed again */
    char *idx = lb_path_join(f->root, "images/index.json");
    write_file(idx, "{\"no\":\"manifests\"}", 18);
    load_fails(f, p, "manifests");
    /* layers/ being a file: publishing the first layer fails */
    write_file(idx, "{\"schemaVersion\":2,\"manifests\":[]}", 35);
    char *layers = lb_path_join(f->root, "layers");
    assert_int_equal(rmdir(layers), 0);
    write_file(layers, "", 0);
    load_fails(f, p, "cannot create 'layers/");
    free(layers);
    free(idx);
    free(p);
}

/* --- load: unpacking ------------------------------------------------------------------------ */

/* gzip of bytes (zlib, gzip framing), for a file that looks like a layer and is not one. */
static struct blob gzip_of(const void *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    struct blob b = {lb_xmalloc(cap), 0};
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = b.data;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    b.len = cap - z.avail_out;
    deflateEnd(&z);
    return b;
}

static struct blob read_whole(const char *path);

/* The content of layers/<chain>/diff/<path> (caller frees), or NULL. */
static char *diff_file(struct fx *f, const char *chain, const char *path)
{
    char *rel = lb_xasprintf("layers/%s/diff/%s", chain + 7, path);
    char *got = read_in(f, rel);
    free(rel);
    return got;
}

/* Three images in one archive: A = [l1, l2], B = [l2] alone (l2 is its bottom layer: another
 * chain), C = A's layers with another config. l2's blob is unpacked in the pass for one chain and
 * again, from its staged file, for the other; A and C share both chains. */
static void test_archive__load_unpacks_a_blob_once_per_chain_and_shares_chains(void **state)
{
    struct fx *f = *state;
    struct image *im = &f->im;
    struct image c;
    image_make(&c, F_GZIP, "three"); /* same layers as f->im, another config */
    char *cfg_b = lb_xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                               "\"layers\",\"diff_ids\":[\"%s\"]}}",
                               im->diff[1]);
    struct blob b = blob_str(cfg_b);
    char *man = lb_xasprintf("[{\"Config\":\"a.json\",\"RepoTags\":[\"a\"],\"Layers\":[\"l1.tar\","
                             "\"l2.tar\"]},{\"Config\":\"b.json\",\"RepoTags\":[\"b\"],\"Layers\":["
                             "\"l2.tar\"]},{\"Config\":\"c.json\",\"RepoTags\":[\"c\"],\"Layers\":"
                             "[\"l1.tar\",\"l2.tar\"]}]");
    struct blob m = blob_str(man);
    struct ent e[] = {
        {.name = "l1.tar", .data = &im->stored[0]}, {.name = "l2.tar", .data = &im->stored[1]},
        {.name = "a.json", .data = &im->config},    {.name = "b.json", .data = &b},
        {.name = "c.json", .data = &c.config},      {.name = "manifest.json", .data = &m},
    };
    char *p = path_in(f, "three.tar");
    write_tar_file(p, F_NONE, e, LB_ARRAY_SIZE(e));
    char **lines = load_ok(f, p);
    assert_int_equal(lb_strv_len(lines), 3);
    assert_layers_unpacked(f, im);
    /* l2 as a bottom layer: its ChainID is its DiffID */
    struct lb_digest alone;
    struct lb_error *err = NULL;
    assert_int_equal(lb_digest_parse(&alone, im->diff[1], &err), 0);
    assert_true(lb_layers_exists(f->store.root_fd, &alone));
    char *motd = diff_file(f, im->diff[1], "etc/motd");
    assert_non_null(motd);
    assert_string_equal(motd, "welcome\n");
    free(motd);
    assert_int_equal(lb_layers_count(f->store.root_fd), 3); /* C shares A's two chains */
    assert_tmp_empty(f);
    lb_strv_free(lines);
    free(p);
    blob_free(&m);
    free(man);
    blob_free(&b);
    free(cfg_b);
    image_free(&c);
}

/* A blob named by a digest the store has is not read: even garbage under that name loads, because
 * the store's bytes are the ones the name promises. */
static void test_archive__load_does_not_read_a_blob_the_store_has(void **state)
{
    struct fx *f = *state;
    struct image *im = &f->im;
    char *p = oci_archive(f, "o.tar", NULL);
    lb_strv_free(load_ok(f, p));
    char *before = snapshot(f);
    /* the same OCI archive, its layer blobs replaced by other bytes */
    struct blob junk = blob_str("these bytes are never read");
    struct blob saved[2] = {im->stored[0], im->stored[1]};
    im->stored[0] = junk;
    im->stored[1] = junk;
    free(p);
    p = oci_archive(f, "o2.tar", NULL);
    im->stored[0] = saved[0];
    im->stored[1] = saved[1];
    char **lines = load_ok(f, p);
    assert_string_equal(lines[0], "Loaded image: oci:2");
    char *after = snapshot(f);
    assert_string_equal(before, after);
    assert_layers_unpacked(f, im);
    lb_strv_free(lines);
    free(before);
    free(after);
    blob_free(&junk);
    free(p);
}

/* A store from before layers were unpacked has only layer records (meta.json, no diff/): loading
 * the image again unpacks its layers from the store's blobs, replacing the records. */
static void test_archive__load_unpacks_layers_a_store_only_has_records_of(void **state)
{
    struct fx *f = *state;
    struct image *im = &f->im;
    char *p = oci_archive(f, "o.tar", NULL);
    lb_strv_free(load_ok(f, p));
    struct lb_digest chain[2], diff[2];
    chain_ids(im, chain);
    struct lb_error *err = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(lb_digest_parse(&diff[i], im->diff[i], &err), 0);
        assert_int_equal(lb_store_lock(&f->store, &err), 0);
        assert_int_equal(lb_layers_remove(f->store.root_fd, &chain[i], &err), 0);
        assert_int_equal(
            lb_store_layer_record(&f->store, &chain[i], i ? &chain[0] : NULL, &diff[i], 1, &err),
            0);
        lb_store_unlock(&f->store);
        assert_false(lb_layers_exists(f->store.root_fd, &chain[i]));
    }
    lb_strv_free(load_ok(f, p));
    assert_layers_unpacked(f, im); /* sizes are the real ones again, not the records' 1 */
    assert_tmp_empty(f);
    free(p);
}

/* A docker 25 archive whose layer (named by its digest) is gzip of text: it looks like a layer,
 * fails to unpack in the pass, is still staged whole (its name is checked against all of its
 * bytes), and the image is refused naming the layer. A tar with an unsafe entry is refused with
 * the entry and the rule. */
static void test_archive__load_refuses_a_layer_that_looked_like_one_and_is_not(void **state)
{
    struct fx *f = *state;
    const char text[] = "not a tar, only text; gzip makes it look like a layer\n";
    struct blob gz = gzip_of(text, strlen(text));
    char gd[72], td[72];
    sha(gd, gz.data, gz.len);
    sha(td, text, strlen(text));
    char *name = lb_xasprintf("blobs/sha256/%s", gd + 7);
    char *layers = lb_xasprintf("[\"%s\"]", name);
    char *cfg = lb_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\"]}}", td);
    struct ent lg = {.name = name, .data = &gz};
    char *p = docker_archive_with_config(f, cfg, layers, &lg, 1);
    char *needle =
        lb_xasprintf("layer 1 of 1 ('%s'): cannot read the tar: Unrecognized archive format", name);
    load_fails(f, p, needle);
    free(needle);
    free(p);

    /* the same file in an archive that does not use it as a layer: loads */
    struct ent e2[] = {lg,
                       {.name = "l1.tar", .data = &f->im.stored[0]},
                       {.name = "l2.tar", .data = &f->im.stored[1]}};
    free(cfg);
    cfg = lb_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\",\"%s\"]}}", f->im.diff[0], f->im.diff[1]);
    p = docker_archive_with_config(f, cfg, "[\"l1.tar\",\"l2.tar\"]", e2, 3);
    lb_strv_free(load_ok(f, p));
    assert_tmp_empty(f);
    free(p);

    /* a gzip layer with a byte after its end: a valid tar inside, but the blob is not a gzip
     * stream (the check comes after the tar was applied: the failure must still count) */
    struct blob gl = make_tar(F_GZIP, layer1_files);
    gl.data = lb_xrealloc(gl.data, gl.len + 1);
    gl.data[gl.len++] = '!';
    free(cfg);
    cfg = lb_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\"]}}", f->im.diff[0]);
    struct ent eg = {.name = "gz.tar", .data = &gl};
    p = docker_archive_with_config(f, cfg, "[\"gz.tar\"]", &eg, 1);
    load_fails(f, p, "layer 1 of 1 ('gz.tar'): unexpected data after the end of the gzip stream");
    assert_tmp_empty(f);
    free(p);
    blob_free(&gl);

    /* an unsafe entry */
    struct blob x = blob_str("x");
    struct ent bad[] = {{.name = "ok", .data = &x}, {.name = "../escape", .data = &x}};
    char *bp = path_in(f, "bad-layer.tar");
    write_tar_file(bp, F_GZIP, bad, 2);
    struct blob bl = read_whole(bp);
    /* its DiffID: of the uncompressed tar */
    char *bp2 = path_in(f, "bad-layer-plain.tar");
    write_tar_file(bp2, F_NONE, bad, 2);
    struct blob plain = read_whole(bp2);
    char pd[72];
    sha(pd, plain.data, plain.len);
    free(cfg);
    cfg = lb_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\",\"%s\"]}}", f->im.diff[0], pd);
    struct ent e3[] = {{.name = "l1.tar", .data = &f->im.stored[0]},
                       {.name = "evil.tar", .data = &bl}};
    p = docker_archive_with_config(f, cfg, "[\"l1.tar\",\"evil.tar\"]", e3, 2);
    load_fails(f, p, "layer 2 of 2 ('evil.tar'): entry '../escape': path leaves the layer ('..')");
    assert_tmp_empty(f);
    free(p);
    blob_free(&plain);
    blob_free(&bl);
    free(bp2);
    free(bp);
    blob_free(&x);
    free(cfg);
    free(layers);
    free(name);
    blob_free(&gz);
}

static int fake_probe_ok(int root_fd, const char *root, struct lb_error **err)
{
    (void)root_fd;
    (void)root;
    (void)err;
    return 0;
}

/* With the overlay driver, a whiteout becomes a 0/0 character device (root only: mknod). */
static void test_archive__load_writes_overlay_whiteouts_for_the_overlay_driver(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    struct fx g = {.dir = f->dir, .root = path_in(f, "root-overlay")};
    struct lb_error *err = NULL;
    assert_int_equal(lb_store_open(&g.store, g.root, &err), 0);
    g.store.requested_driver = "overlay";
    lb_driver_set_probe(fake_probe_ok);
    const struct lb_driver *d = NULL;
    assert_int_equal(lb_store_driver(&g.store, &d, &err), 0);
    lb_driver_set_probe(NULL);
    assert_string_equal(d->name, "overlay");
    /* layer 2 deletes layer 1's etc/hostname */
    static const char *const wh_files[] = {"etc/.wh.hostname", "", NULL};
    struct blob l2 = make_tar(F_NONE, wh_files);
    char d2[72];
    sha(d2, l2.data, l2.len);
    char *cfg = lb_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\",\"%s\"]}}", f->im.diff[0], d2);
    struct ent e[] = {{.name = "l1.tar", .data = &f->im.stored[0]},
                      {.name = "wh.tar", .data = &l2}};
    char *p = docker_archive_with_config(f, cfg, "[\"l1.tar\",\"wh.tar\"]", e, 2);
    lb_strv_free(load_ok(&g, p));
    char buf[200];
    snprintf(buf, sizeof(buf), "%s %s", f->im.diff[0], d2);
    char c2[72];
    sha(c2, buf, strlen(buf));
    char *dev = lb_xasprintf("%s/layers/%s/diff/etc/hostname", g.root, c2 + 7);
    struct stat st;
    assert_int_equal(lstat(dev, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, 0);
    free(dev);
    free(p);
    free(cfg);
    blob_free(&l2);
    lb_store_release(&g.store);
    free(g.root);
}

/* --- save ----------------------------------------------------------------------------------- */

/* Every entry of a tar file: names in order, and the content of one of them. */
struct tar_listing {
    char **names;
    struct blob wanted;
};

static void read_tar(const char *path, const char *want, struct tar_listing *out)
{
    memset(out, 0, sizeof(*out));
    out->names = lb_xmalloc(sizeof(char *));
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        lb_strv_push(&out->names, archive_entry_pathname(e));
        assert_int_equal(archive_entry_mtime(e), 0);
        assert_int_equal(archive_entry_uid(e), 0);
        assert_int_equal(archive_entry_gid(e), 0);
        if (want && strcmp(archive_entry_pathname(e), want) == 0) {
            size_t n = (size_t)archive_entry_size(e);
            out->wanted.data = lb_xmalloc(n + 1);
            out->wanted.len = n;
            assert_int_equal(archive_read_data(a, out->wanted.data, n), (la_ssize_t)n);
        }
    }
    archive_read_free(a);
}

static void listing_free(struct tar_listing *l)
{
    lb_strv_free(l->names);
    blob_free(&l->wanted);
}

static int save_to(struct fx *f, struct lb_image **imgs, char **args, size_t n,
                   enum lb_archive_format fmt, const char *path, struct lb_error **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    int r = lb_archive_save(&f->store, imgs, args, n, fmt, fd, err);
    close(fd);
    return r;
}

static struct blob read_whole(const char *path)
{
    struct blob b = {NULL, 0};
    struct lb_error *err = NULL;
    char *buf = NULL;
    assert_int_equal(lb_read_file_at(AT_FDCWD, path, 1 << 26, &buf, &b.len, &err), 0);
    b.data = (unsigned char *)buf;
    return b;
}

static void test_archive__save_docker_archive_has_plain_layers_named_by_diff_id(void **state)
{
    struct fx *f = *state;
    char *p = oci_archive(f, "o.tar", NULL); /* layer 2 is gzip in the store */
    lb_strv_free(load_ok(f, p));
    struct lb_image *img = resolve(f, "oci:2");
    char *args[] = {"oci:2"};
    char *out = path_in(f, "saved.tar");
    struct lb_error *err = NULL;
    if (save_to(f, &img, args, 1, LB_ARCHIVE_DOCKER, out, &err) < 0)
        fail_msg("save: %s", err->msg);

    char *l2 = lb_xasprintf("blobs/sha256/%s", f->im.diff[1] + 7);
    struct tar_listing t;
    read_tar(out, l2, &t);
    /* the gzip layer was written decompressed: exactly the plain tar built here */
    assert_int_equal(t.wanted.len, f->im.plain[1].len);
    assert_memory_equal(t.wanted.data, f->im.plain[1].data, t.wanted.len);
    char *cfg = lb_xasprintf("blobs/sha256/%s", f->im.id + 7);
    assert_true(lb_strv_contains(t.names, cfg));
    assert_string_equal(t.names[0], "blobs/");
    assert_string_equal(t.names[1], "blobs/sha256/");
    size_t n = lb_strv_len(t.names);
    assert_string_equal(t.names[n - 4], "index.json");
    assert_string_equal(t.names[n - 3], "manifest.json");
    assert_string_equal(t.names[n - 2], "oci-layout");
    assert_string_equal(t.names[n - 1], "repositories");
    listing_free(&t);

    read_tar(out, "manifest.json", &t);
    char *want = lb_xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"oci:2\"],\"Layers\":["
                              "\"blobs/sha256/%s\",\"blobs/sha256/%s\"]",
                              cfg, f->im.diff[0] + 7, f->im.diff[1] + 7);
    t.wanted.data[t.wanted.len] = '\0';
    if (!lb_str_has_prefix((char *)t.wanted.data, want))
        fail_msg("manifest.json is %s", (char *)t.wanted.data);
    listing_free(&t);
    read_tar(out, "repositories", &t);
    char *repos = lb_xasprintf("{\"oci\":{\"2\":\"%s\"}}", f->im.diff[1] + 7);
    assert_int_equal(t.wanted.len, strlen(repos));
    assert_memory_equal(t.wanted.data, repos, strlen(repos));
    listing_free(&t);

    /* the saved archive loads into another store with the same ID, and saving is
     * deterministic */
    char *out2 = path_in(f, "saved2.tar");
    assert_int_equal(save_to(f, &img, args, 1, LB_ARCHIVE_DOCKER, out2, &err), 0);
    struct blob b1 = read_whole(out), b2 = read_whole(out2);
    assert_int_equal(b1.len, b2.len);
    assert_memory_equal(b1.data, b2.data, b1.len);
    assert_int_equal(b1.len % 512, 0);
    blob_free(&b1);
    blob_free(&b2);

    struct fx g = {.dir = f->dir, .root = path_in(f, "root2")};
    assert_int_equal(lb_store_open(&g.store, g.root, &err), 0);
    char **lines = load_ok(&g, out);
    assert_string_equal(lines[0], "Loaded image: oci:2");
    struct lb_image *back = resolve(&g, "oci:2");
    assert_string_equal(back->id.str, f->im.id);
    lb_image_free(back);
    lb_strv_free(lines);
    lb_store_release(&g.store);
    free(g.root);

    free(repos);
    free(want);
    free(cfg);
    free(l2);
    free(out2);
    free(out);
    lb_image_free(img);
    free(p);
}

static void test_archive__save_oci_archive_keeps_blobs_as_stored(void **state)
{
    struct fx *f = *state;
    char *p = oci_archive(f, "o.tar", NULL);
    lb_strv_free(load_ok(f, p));
    struct lb_image *img = resolve(f, "oci:2");
    char *args[] = {"oci:2"};
    char *out = path_in(f, "saved.tar");
    struct lb_error *err = NULL;
    assert_int_equal(save_to(f, &img, args, 1, LB_ARCHIVE_OCI, out, &err), 0);
    char *l2 = lb_xasprintf("blobs/sha256/%s", f->im.digest[1] + 7);
    struct tar_listing t;
    read_tar(out, l2, &t);
    assert_int_equal(t.wanted.len, f->im.stored[1].len); /* still gzip */
    assert_memory_equal(t.wanted.data, f->im.stored[1].data, t.wanted.len);
    assert_false(lb_strv_contains(t.names, "manifest.json"));
    listing_free(&t);
    read_tar(out, "index.json", &t);
    char *want = lb_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{"
                              "\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                              "\"annotations\":{\"io.containerd.image.name\":"
                              "\"docker.io/library/oci:2\",\"%s\":\"2\"}}]}",
                              LB_MT_OCI_INDEX, LB_MT_OCI_MANIFEST, f->im.manifest_digest,
                              f->im.manifest.len, LB_ANNOT_REF_NAME);
    assert_int_equal(t.wanted.len, strlen(want));
    assert_memory_equal(t.wanted.data, want, strlen(want));
    listing_free(&t);
    free(want);
    free(l2);
    free(out);
    lb_image_free(img);
    free(p);
}

static void test_archive__save_writes_a_shared_layer_once_and_ids_untagged(void **state)
{
    struct fx *f = *state;
    char *p = docker_archive(f, "d.tar", F_NONE, NULL);
    lb_strv_free(load_ok(f, p));
    struct image first = f->im;
    image_make(&f->im, F_NONE, "second"); /* same layers, other config */
    free(p);
    char *cfgname = lb_xasprintf("%s.json", f->im.id + 7);
    char *m = lb_xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"second\"],\"Layers\":"
                           "[\"l1/layer.tar\",\"l2/layer.tar\"]}]",
                           cfgname);
    p = docker_archive(f, "d2.tar", F_NONE, m);
    lb_strv_free(load_ok(f, p));

    struct lb_image *imgs[3] = {resolve(f, "c"), resolve(f, "second"), NULL};
    imgs[2] = resolve(f, first.id + 7); /* the first image again, named by ID */
    char *args[] = {"c", "second", first.id + 7};
    char *out = path_in(f, "two.tar");
    struct lb_error *err = NULL;
    assert_int_equal(save_to(f, imgs, args, 3, LB_ARCHIVE_DOCKER, out, &err), 0);
    struct tar_listing t;
    read_tar(out, "manifest.json", &t);
    char *l1 = lb_xasprintf("blobs/sha256/%s", f->im.diff[0] + 7);
    size_t count = 0;
    for (size_t i = 0; t.names[i]; i++)
        count += strcmp(t.names[i], l1) == 0;
    assert_int_equal(count, 1);
    char *l2 = lb_xasprintf("blobs/sha256/%s", f->im.diff[1] + 7); /* gzip in one image, plain
                                                                      in the other: same DiffID */
    count = 0;
    for (size_t i = 0; t.names[i]; i++)
        count += strcmp(t.names[i], l2) == 0;
    assert_int_equal(count, 1);
    free(l2);
    /* two images in manifest.json: the one named twice ("c" and by ID) is written once */
    json_t *j = lb_json_parse((char *)t.wanted.data, t.wanted.len, "manifest.json", &err);
    assert_non_null(j);
    assert_int_equal(json_array_size(j), 2);
    json_decref(j);
    listing_free(&t);

    /* saved by ID only: untagged (RepoTags null, no annotations) */
    char *idarg[] = {first.id};
    assert_int_equal(save_to(f, &imgs[2], idarg, 1, LB_ARCHIVE_DOCKER, out, &err), 0);
    read_tar(out, "manifest.json", &t);
    t.wanted.data[t.wanted.len] = '\0';
    assert_non_null(strstr((char *)t.wanted.data, "\"RepoTags\":null"));
    assert_false(lb_strv_contains(t.names, "repositories"));
    listing_free(&t);
    read_tar(out, "index.json", &t);
    t.wanted.data[t.wanted.len] = '\0';
    assert_null(strstr((char *)t.wanted.data, "annotations"));
    listing_free(&t);

    for (int i = 0; i < 3; i++)
        lb_image_free(imgs[i]);
    free(l1);
    free(out);
    free(m);
    free(cfgname);
    free(p);
    image_free(&first);
}

static void test_archive__save_errors(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    enum lb_archive_format fmt;
    assert_int_equal(lb_archive_format_parse(&fmt, "docker-archive", &err), 0);
    assert_int_equal(fmt, LB_ARCHIVE_DOCKER);
    assert_int_equal(lb_archive_format_parse(&fmt, "oci", &err), 0);
    assert_int_equal(fmt, LB_ARCHIVE_OCI);
    assert_int_equal(lb_archive_format_parse(&fmt, "docker", &err), 0);
    assert_int_equal(lb_archive_format_parse(&fmt, "oci-archive", &err), 0);
    assert_int_equal(lb_archive_format_parse(&fmt, "tar", &err), -1);
    assert_error_contains(err, "unknown archive format 'tar'");

    assert_int_equal(lb_archive_save(&f->store, NULL, NULL, 0, LB_ARCHIVE_DOCKER, 1, &err), -1);
    assert_error_contains(err, "no image to save");

    char *p = oci_archive(f, "o.tar", NULL);
    lb_strv_free(load_ok(f, p));
    struct lb_image *img = resolve(f, "oci:2");
    /* an fd that cannot be written */
    int fd = open(p, O_RDONLY);
    assert_int_equal(lb_archive_save(&f->store, &img, NULL, 1, LB_ARCHIVE_OCI, fd, &err), -1);
    assert_error_contains(err, "writing");
    close(fd);

    /* a compressed layer in the store that no longer decompresses to its DiffID */
    char *blob = lb_xasprintf("%s/images/blobs/sha256/%s", f->root, f->im.digest[1] + 7);
    struct blob other = make_tar(F_GZIP, layer1_files);
    write_file(blob, other.data, other.len);
    char *out = path_in(f, "x.tar");
    assert_int_equal(save_to(f, &img, NULL, 1, LB_ARCHIVE_DOCKER, out, &err), -1);
    assert_error_contains(err, "not to its DiffID");
    /* and a missing blob */
    unlink(blob);
    assert_int_equal(save_to(f, &img, NULL, 1, LB_ARCHIVE_OCI, out, &err), -1);
    assert_error_contains(err, f->im.digest[1]);
    blob_free(&other);
    free(out);
    free(blob);
    lb_image_free(img);
    free(p);
}

/* --- import --------------------------------------------------------------------------------- */

static json_t *stored_config(struct fx *f, const struct lb_digest *id)
{
    struct lb_error *err = NULL;
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(lb_store_blob_read(&f->store, id, 1 << 20, &buf, &len, &err), 0);
    json_t *j = lb_json_parse(buf, len, "config", &err);
    assert_non_null(j);
    char want[72];
    sha(want, buf, len);
    assert_string_equal(want, id->str);
    free(buf);
    return j;
}

static int import_file(struct fx *f, const char *path, const struct lb_import_opts *o,
                       struct lb_digest *id, struct lb_error **err)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    int r = lb_archive_import(&f->store, fd, o, id, err);
    close(fd);
    return r;
}

static void test_archive__import_plain_gzip_and_zstd_store_the_plain_tar(void **state)
{
    struct fx *f = *state;
    enum filter fl[] = {F_NONE, F_GZIP, F_ZSTD};
    for (size_t i = 0; i < LB_ARRAY_SIZE(fl); i++) {
        struct blob t = make_tar(fl[i], layer1_files);
        char *p = path_in(f, "rootfs.tar");
        write_file(p, t.data, t.len);
        char *changes[] = {"CMD [\"/bin/tool\"]", "ENV A=1", NULL};
        struct lb_import_opts o = {
            .ref = "imp:1", .message = "from a test", .changes = changes, .source = "rootfs.tar"};
        struct lb_digest id;
        struct lb_error *err = NULL;
        if (import_file(f, p, &o, &id, &err) < 0)
            fail_msg("import: %s", err->msg);
        json_t *cfg = stored_config(f, &id);
        assert_string_equal(lb_json_str(cfg, "os"), "linux");
        assert_non_null(lb_json_str(cfg, "architecture"));
        assert_string_equal(lb_json_str(cfg, "comment"), "from a test");
        json_t *ids = lb_json_arr(lb_json_obj(cfg, "rootfs"), "diff_ids");
        assert_int_equal(json_array_size(ids), 1);
        assert_string_equal(json_string_value(json_array_get(ids, 0)), f->im.diff[0]);
        json_t *h = json_array_get(lb_json_arr(cfg, "history"), 0);
        assert_string_equal(lb_json_str(h, "created_by"), "layerbox import rootfs.tar");
        assert_string_equal(lb_json_str(h, "comment"), "from a test");
        assert_string_equal(lb_json_str(h, "created"), lb_json_str(cfg, "created"));
        json_t *c = lb_json_obj(cfg, "config");
        assert_string_equal(json_string_value(json_array_get(lb_json_arr(c, "Cmd"), 0)),
                            "/bin/tool");
        assert_string_equal(json_string_value(json_array_get(lb_json_arr(c, "Env"), 0)), "A=1");
        json_decref(cfg);

        /* the layer is stored uncompressed: its blob is the plain tar, its digest the DiffID */
        struct lb_image *img = resolve(f, "imp:1");
        assert_string_equal(img->id.str, id.str);
        assert_string_equal(img->layers[0].digest.str, f->im.diff[0]);
        assert_string_equal(img->layers[0].media_type, LB_MT_OCI_LAYER);
        assert_int_equal(img->layers[0].size, (int64_t)f->im.plain[0].len);
        struct lb_digest d;
        assert_int_equal(lb_digest_parse(&d, f->im.diff[0], &err), 0);
        assert_int_equal(lb_store_layer_size(&f->store, &d), LAYER1_SIZE);
        /* and unpacked: a one-layer image's ChainID is its DiffID */
        char *host = diff_file(f, f->im.diff[0], "etc/hostname");
        char *tool = diff_file(f, f->im.diff[0], "bin/tool");
        assert_non_null(host);
        assert_non_null(tool);
        assert_string_equal(host, "box\n");
        assert_string_equal(tool, "#!/bin/sh\necho hi\n");
        free(host);
        free(tool);
        assert_tmp_empty(f);
        lb_image_free(img);
        free(p);
        blob_free(&t);
    }
}

static void test_archive__import_reads_a_pipe_and_defaults_the_comment(void **state)
{
    struct fx *f = *state;
    struct blob t = make_tar(F_GZIP, layer2_files);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    assert_true(t.len < 65536);
    assert_int_equal(write(pfd[1], t.data, t.len), (ssize_t)t.len);
    close(pfd[1]);
    struct lb_import_opts o = {.source = "-"};
    struct lb_digest id;
    struct lb_error *err = NULL;
    if (lb_archive_import(&f->store, pfd[0], &o, &id, &err) < 0)
        fail_msg("import: %s", err->msg);
    close(pfd[0]);
    json_t *cfg = stored_config(f, &id);
    assert_string_equal(lb_json_str(cfg, "comment"), "Imported from -");
    json_decref(cfg);
    struct lb_image *img = resolve(f, id.str);
    assert_non_null(img->names);
    assert_null(img->names[0]); /* no REPOSITORY: untagged */
    lb_image_free(img);
    blob_free(&t);
}

/* A layer of 1 MiB of pseudo-random letters, gzip-compressed, with bytes flipped in the middle:
 * the error comes from the decompressor, mid-stream. */
static void test_archive__import_reports_corrupt_compressed_data(void **state)
{
    struct fx *f = *state;
    size_t n = 1 << 20;
    unsigned char *data = lb_xmalloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (unsigned char)('a' + (x >> 16) % 26); /* Huffman-coded, not stored, by gzip:
                                                            corrupt bits break the decoding
                                                            (libarchive checks no gzip CRC) */
    }
    struct blob c = {data, n};
    struct ent e = {.name = "big.bin", .data = &c};
    char *p = path_in(f, "big.tar.gz");
    write_tar_file(p, F_GZIP, &e, 1);
    struct blob gz = read_whole(p);
    for (size_t i = gz.len / 2; i < gz.len / 2 + 64; i++)
        gz.data[i] ^= 0xa5;
    write_file(p, gz.data, gz.len);
    char *before = snapshot(f);
    struct lb_import_opts o = {.source = "big.tar.gz"};
    struct lb_digest id;
    struct lb_error *err = NULL;
    assert_int_equal(import_file(f, p, &o, &id, &err), -1);
    assert_error_contains(err, "'big.tar.gz': corrupt gzip data");
    char *after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    blob_free(&gz);
    blob_free(&c);
    free(p);
}

static void test_archive__import_errors_leave_the_store_untouched(void **state)
{
    struct fx *f = *state;
    char *p = path_in(f, "in.tar");
    struct blob ok = make_tar(F_NONE, layer1_files);
    const struct {
        const char *content; /* NULL: a valid tar */
        const char *ref;
        const char *change;
        const char *needle;
    } cases[] = {
        {"this is not a tar archive, only text that goes on and on......", NULL, NULL,
         "'in.tar': cannot read the tar: Unrecognized archive format"},
        {"", NULL, NULL, "is not a tar archive: it is empty"},
        {NULL, "Bad", NULL, "invalid reference format"},
        {NULL, "x@sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL,
         "import needs a repository[:tag] name"},
        {NULL, "ok", "FOO bar", "unknown instruction: FOO"},
        {NULL, "ok", "ENV", "ENV requires at least one argument"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        if (cases[i].content)
            write_file(p, cases[i].content, strlen(cases[i].content));
        else
            write_file(p, ok.data, ok.len);
        char *changes[] = {(char *)cases[i].change, NULL};
        struct lb_import_opts o = {.ref = cases[i].ref, .changes = changes, .source = "in.tar"};
        char *before = snapshot(f);
        struct lb_digest id;
        struct lb_error *err = NULL;
        assert_int_equal(import_file(f, p, &o, &id, &err), -1);
        assert_error_contains(err, cases[i].needle);
        char *after = snapshot(f);
        assert_string_equal(before, after);
        free(before);
        free(after);
    }
    /* a tar with an entry that leaves the layer: refused, its staging removed */
    struct blob x = blob_str("x");
    struct ent bad[] = {{.name = "fine", .data = &x}, {.name = "../../escape", .data = &x}};
    write_tar_file(p, F_ZSTD, bad, 2);
    {
        char *before = snapshot(f);
        struct lb_import_opts o = {.ref = "ok", .source = "in.tar"};
        struct lb_digest id;
        struct lb_error *err = NULL;
        assert_int_equal(import_file(f, p, &o, &id, &err), -1);
        assert_error_contains(err, "'in.tar': entry '../../escape': path leaves the layer ('..')");
        char *after = snapshot(f);
        assert_string_equal(before, after);
        free(before);
        free(after);
    }
    blob_free(&x);
    /* a failure after publishing (index.json broken) removes the layer, config and manifest */
    write_file(p, ok.data, ok.len);
    char *idx = lb_path_join(f->root, "images/index.json");
    write_file(idx, "[]", 2);
    char *before = snapshot(f);
    struct lb_import_opts o = {.ref = "ok", .source = "in.tar"};
    struct lb_digest id;
    struct lb_error *err = NULL;
    assert_int_equal(import_file(f, p, &o, &id, &err), -1);
    assert_non_null(err);
    lb_error_clear(&err);
    char *after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(idx);
    blob_free(&ok);
    free(p);
}

LB_UNIT_MAIN(
    cmocka_unit_test_setup_teardown(
        test_archive__load_docker_legacy_reports_tags_and_unpacks_layers, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_reads_gzip_and_zstd_outer_archives, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        test_archive__load_follows_symlinks_and_hardlinks_inside_the_archive, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_later_entry_of_the_same_name_wins, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_oci_archive_keeps_the_manifest_and_its_name,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_oci_names_follow_the_annotation_rules, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_oci_layout_directory, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_oci_directory_refuses_symlinked_blobs, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_reads_standard_input, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_picks_this_platform_from_a_nested_index,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_moves_a_name_and_says_so_like_docker, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__loading_the_same_image_in_another_form_reuses_it,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_rejects_what_is_not_a_tar, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_rejects_paths_that_leave_the_archive, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_rejects_bad_docker_manifests, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_rejects_bad_configs_and_layers, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_docker25_blob_names_must_match_their_content,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_rejects_bad_oci_indexes_and_descriptors,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(
        test_archive__load_oci_blob_whose_content_does_not_match_its_name, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_rejects_json_over_the_size_limit, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        test_archive__load_undoes_what_it_published_when_a_later_step_fails, setup, teardown),
    cmocka_unit_test_setup_teardown(
        test_archive__load_unpacks_a_blob_once_per_chain_and_shares_chains, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_does_not_read_a_blob_the_store_has, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__load_unpacks_layers_a_store_only_has_records_of,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(
        test_archive__load_refuses_a_layer_that_looked_like_one_and_is_not, setup, teardown),
    cmocka_unit_test_setup_teardown(
        test_archive__load_writes_overlay_whiteouts_for_the_overlay_driver, setup, teardown),
    cmocka_unit_test_setup_teardown(
        test_archive__save_docker_archive_has_plain_layers_named_by_diff_id, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__save_oci_archive_keeps_blobs_as_stored, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__save_writes_a_shared_layer_once_and_ids_untagged,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__save_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__import_plain_gzip_and_zstd_store_the_plain_tar,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__import_reads_a_pipe_and_defaults_the_comment,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_archive__import_reports_corrupt_compressed_data, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_archive__import_errors_leave_the_store_untouched, setup,
                                    teardown))
