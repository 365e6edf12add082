/* test_store.c — the image store: layout, blobs, the staging writer, index.json names,
 * resolution order, untag/delete with blob collection, and their error paths. */
#include "unit.h"

#include "core/json.h"
#include "image/digest.h"
#include "image/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char *dir;
    struct lb_store store;
};

static int setup(void **state)
{
    struct fixture *f = lb_xmalloc(sizeof(*f));
    f->dir = lb_unit_mkdtemp();
    struct lb_error *err = NULL;
    if (lb_store_open(&f->store, f->dir, &err) < 0)
        fail_msg("open: %s", err->msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lb_store_release(&f->store);
    lb_unit_rmdir(f->dir);
    free(f);
    return 0;
}

/* Store a one-layer image whose layer is `layer` (raw bytes) and whose config has `created`;
 * returns the manifest digest and the expected image ID (sha256 of the config bytes we wrote). */
static void put_image(struct lb_store *s, const char *layer, const char *created,
                      struct lb_digest *manifest, struct lb_digest *id)
{
    struct lb_error *err = NULL;
    struct lb_digest ld;
    assert_int_equal(lb_store_blob_put(s, &ld, layer, strlen(layer), &err), 0);
    char *config = lb_xasprintf("{\"created\":\"%s\",\"architecture\":\"amd64\",\"os\":\"linux\","
                                "\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\","
                                "\"diff_ids\":[\"%s\"]},\"history\":[{\"created_by\":\"test\"}]}",
                                created, ld.str);
    assert_int_equal(lb_store_blob_put(s, id, config, strlen(config), &err), 0);
    struct lb_digest want;
    lb_digest_buffer(&want, config, strlen(config));
    assert_string_equal(id->str, want.str);
    char *manifest_json = lb_xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":"
        "\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
        LB_MT_OCI_MANIFEST, LB_MT_OCI_CONFIG, id->str, strlen(config), LB_MT_OCI_LAYER, ld.str,
        strlen(layer));
    assert_int_equal(lb_store_blob_put(s, manifest, manifest_json, strlen(manifest_json), &err), 0);
    free(config);
    free(manifest_json);
}

static void add(struct lb_store *s, const struct lb_digest *m, const char *name)
{
    struct lb_error *err = NULL;
    char *names[] = {(char *)name, NULL};
    assert_int_equal(lb_store_lock(s, &err), 0);
    if (lb_store_add_image(s, m, 100, name ? names : NULL, NULL, &err) < 0)
        fail_msg("add: %s", err->msg);
    lb_store_unlock(s);
}

static void test_store__open_creates_an_oci_layout(void **state)
{
    struct fixture *f = *state;
    char *buf = NULL;
    struct lb_error *err = NULL;
    char *p = lb_path_join(f->dir, "images/oci-layout");
    assert_int_equal(lb_read_file_at(AT_FDCWD, p, 1024, &buf, NULL, &err), 0);
    assert_string_equal(buf, "{\"imageLayoutVersion\":\"1.0.0\"}");
    free(buf);
    free(p);
    p = lb_path_join(f->dir, "images/index.json");
    assert_int_equal(lb_read_file_at(AT_FDCWD, p, 1024, &buf, NULL, &err), 0);
    assert_string_equal(buf, "{\"schemaVersion\":2,\"manifests\":[]}");
    free(buf);
    free(p);
}

static void test_store__open_clears_leftover_staging(void **state)
{
    struct fixture *f = *state;
    lb_unit_write(f->dir, "tmp/blob-crashed", "x", 1);
    lb_store_release(&f->store);
    struct lb_error *err = NULL;
    assert_int_equal(lb_store_open(&f->store, f->dir, &err), 0);
    assert_false(lb_path_exists_at(f->store.root_fd, "tmp/blob-crashed"));
}

static void test_store__open_refuses_a_file_as_root(void **state)
{
    struct fixture *f = *state;
    lb_unit_write(f->dir, "afile", "x", 1);
    char *p = lb_path_join(f->dir, "afile");
    struct lb_store s2;
    struct lb_error *err = NULL;
    assert_int_equal(lb_store_open(&s2, p, &err), -1);
    assert_error_contains(err, "afile");
    free(p);
}

static void test_store__blob_put_is_content_addressed_and_idempotent(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest d1, d2;
    assert_int_equal(lb_store_blob_put(&f->store, &d1, "abc", 3, &err), 0);
    /* FIPS 180-2 test vector for "abc" */
    assert_string_equal(d1.str,
                        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(lb_store_blob_put(&f->store, &d2, "abc", 3, &err), 0);
    assert_true(lb_digest_equal(&d1, &d2));
    assert_true(lb_store_has_blob(&f->store, &d1));
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(lb_store_blob_read(&f->store, &d1, 100, &out, &len, &err), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "abc", 3);
    free(out);
}

static void test_store__blob_read_detects_corruption(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest d;
    assert_int_equal(lb_store_blob_put(&f->store, &d, "abc", 3, &err), 0);
    char *rel = lb_store_blob_relpath(&d);
    char *p = lb_path_join(f->dir, rel);
    chmod(p, 0644);
    lb_unit_write(f->dir, rel, "abd", 3);
    char *out = NULL;
    assert_int_equal(lb_store_blob_read(&f->store, &d, 100, &out, NULL, &err), -1);
    assert_error_contains(err, "corrupt");
    free(rel);
    free(p);
}

/* A blob read and verified once is remembered by the store handle (it is named by its content):
 * a second read does not touch the file; another handle reads, and verifies, the file again. */
static void test_store__blob_read_remembers_verified_small_blobs(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest d;
    assert_int_equal(lb_store_blob_put(&f->store, &d, "{\"a\":1}", 7, &err), 0);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(lb_store_blob_read(&f->store, &d, 100, &out, &len, &err), 0);
    assert_int_equal(len, 7);
    assert_string_equal(out, "{\"a\":1}");
    free(out);
    char *rel = lb_store_blob_relpath(&d);
    assert_int_equal(unlinkat(f->store.root_fd, rel, 0), 0);
    out = NULL;
    assert_int_equal(lb_store_blob_read(&f->store, &d, 100, &out, &len, &err), 0);
    assert_string_equal(out, "{\"a\":1}"); /* NUL-terminated, as a read from disk */
    assert_int_equal(len, 7);
    free(out);
    /* a limit smaller than the blob is still refused */
    assert_int_equal(lb_store_blob_read(&f->store, &d, 3, &out, &len, &err), -1);
    lb_error_clear(&err);
    /* a second handle does not share the memory: the file is gone for it */
    struct lb_store other;
    assert_int_equal(lb_store_open(&other, f->dir, &err), 0);
    assert_int_equal(lb_store_blob_read(&other, &d, 100, &out, &len, &err), -1);
    assert_int_equal(err->code, ENOENT);
    lb_error_clear(&err);
    lb_store_release(&other);
    free(rel);
}

static void test_store__blob_open_missing_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest d;
    lb_digest_buffer(&d, "nothing", 7);
    assert_false(lb_store_has_blob(&f->store, &d));
    assert_int_equal(lb_store_blob_open(&f->store, &d, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
}

static void test_store__writer_verifies_digest_and_size_before_publishing(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_blob_writer w;
    struct lb_digest want;
    lb_digest_buffer(&want, "hello", 5);

    assert_int_equal(lb_blob_writer_begin(&w, &f->store, &err), 0);
    assert_int_equal(lb_blob_writer_write(&w, "hellO", 5, &err), 0);
    assert_int_equal(lb_blob_writer_commit(&w, NULL, &want, 5, &err), -1);
    assert_error_contains(err, "digest mismatch");
    lb_blob_writer_abort(&w);
    assert_false(lb_store_has_blob(&f->store, &want));

    assert_int_equal(lb_blob_writer_begin(&w, &f->store, &err), 0);
    assert_int_equal(lb_blob_writer_write(&w, "hello!", 6, &err), 0);
    assert_int_equal(lb_blob_writer_commit(&w, NULL, &want, 5, &err), -1);
    assert_error_contains(err, "size mismatch");
    lb_blob_writer_abort(&w);

    assert_int_equal(lb_blob_writer_begin(&w, &f->store, &err), 0);
    assert_int_equal(lb_blob_writer_write(&w, "hel", 3, &err), 0);
    assert_int_equal(lb_blob_writer_write(&w, "lo", 2, &err), 0);
    assert_int_equal(lb_blob_writer_finish(&w, &want, 5, &err), 0);
    assert_false(lb_store_has_blob(&f->store, &want)); /* staged, not yet published */
    assert_int_equal(lb_blob_writer_publish(&w, &err), 0);
    assert_true(lb_store_has_blob(&f->store, &want));
    lb_blob_writer_abort(&w);
    /* nothing left in tmp/ but the writer's directory entries are gone */
    assert_true(lb_store_has_blob(&f->store, &want));
}

static void test_store__index_changes_need_the_lock(void **state)
{
    struct fixture *f = *state;
    struct lb_digest m, id;
    put_image(&f->store, "layer-a", "2024-01-01T00:00:00Z", &m, &id);
    struct lb_error *err = NULL;
    assert_int_equal(lb_store_add_image(&f->store, &m, 100, NULL, NULL, &err), -1);
    assert_error_contains(err, "store lock");
}

static void test_store__resolves_id_name_and_unique_prefix(void **state)
{
    struct fixture *f = *state;
    struct lb_digest m, id;
    put_image(&f->store, "layer-a", "2024-01-01T00:00:00Z", &m, &id);
    add(&f->store, &m, "docker.io/library/busybox:latest");
    struct lb_error *err = NULL;
    const char *args[] = {"busybox", "busybox:latest", "docker.io/library/busybox",
                          "library/busybox:latest"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(args); i++) {
        struct lb_image *img = lb_store_resolve(&f->store, args[i], &err);
        if (img == NULL)
            fail_msg("%s: %s", args[i], err->msg);
        assert_string_equal(img->id.str, id.str);
        assert_string_equal(img->names[0], "docker.io/library/busybox:latest");
        lb_image_free(img);
    }
    char *prefixes[] = {id.str, (char *)lb_digest_hex(&id), lb_xstrndup(lb_digest_hex(&id), 12),
                        lb_xasprintf("sha256:%.5s", lb_digest_hex(&id))};
    for (size_t i = 0; i < 4; i++) {
        struct lb_image *img = lb_store_resolve(&f->store, prefixes[i], &err);
        if (img == NULL)
            fail_msg("%s: %s", prefixes[i], err->msg);
        assert_string_equal(img->id.str, id.str);
        lb_image_free(img);
    }
    free(prefixes[2]);
    free(prefixes[3]);
}

static void test_store__name_wins_over_id_prefix(void **state)
{
    struct fixture *f = *state;
    struct lb_digest m1, id1, m2, id2;
    put_image(&f->store, "layer-a", "2024-01-01T00:00:00Z", &m1, &id1);
    put_image(&f->store, "layer-b", "2024-01-02T00:00:00Z", &m2, &id2);
    add(&f->store, &m1, NULL);
    /* name image 2 with the first 4 hex characters of image 1's ID */
    char *name = lb_xasprintf("docker.io/library/%.4s:latest", lb_digest_hex(&id1));
    add(&f->store, &m2, name);
    struct lb_error *err = NULL;
    char *arg = lb_xstrndup(lb_digest_hex(&id1), 4);
    struct lb_image *img = lb_store_resolve(&f->store, arg, &err);
    assert_non_null(img);
    assert_string_equal(img->id.str, id2.str); /* docker: name before prefix */
    lb_image_free(img);
    free(arg);
    free(name);
}

static void test_store__ambiguous_prefix_lists_candidates(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest m[40], id[40];
    char layer[32];
    /* find two images whose IDs share the first hex character (pigeonhole: 17 suffice) */
    int a = -1, b = -1;
    for (int i = 0; i < 17 && a < 0; i++) {
        snprintf(layer, sizeof(layer), "layer-%d", i);
        put_image(&f->store, layer, "2024-01-01T00:00:00Z", &m[i], &id[i]);
        add(&f->store, &m[i], NULL);
        for (int k = 0; k < i; k++)
            if (lb_digest_hex(&id[k])[0] == lb_digest_hex(&id[i])[0]) {
                a = k;
                b = i;
                break;
            }
    }
    assert_true(a >= 0);
    char prefix[2] = {lb_digest_hex(&id[a])[0], 0};
    assert_null(lb_store_resolve(&f->store, prefix, &err));
    assert_non_null(err);
    char *ca = lb_xstrndup(lb_digest_hex(&id[a]), 12), *cb = lb_xstrndup(lb_digest_hex(&id[b]), 12);
    assert_non_null(strstr(err->msg, ca));
    assert_non_null(strstr(err->msg, cb));
    assert_error_contains(err, "ambiguous");
    free(ca);
    free(cb);
}

static void test_store__unknown_and_invalid_arguments(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    assert_null(lb_store_resolve(&f->store, "nosuch", &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "no such image: 'nosuch'");
    assert_null(lb_store_resolve(&f->store, "UPPER", &err));
    assert_error_contains(err, "invalid reference format");
    assert_null(lb_store_resolve(&f->store, "", &err));
    assert_error_contains(err, "invalid reference format");
    assert_null(lb_store_resolve(&f->store, "abc123", &err));
    assert_error_contains(err, "no such image");
}

static void test_store__tag_moves_between_images(void **state)
{
    struct fixture *f = *state;
    struct lb_digest m1, id1, m2, id2;
    struct lb_error *err = NULL;
    put_image(&f->store, "layer-a", "2024-01-01T00:00:00Z", &m1, &id1);
    put_image(&f->store, "layer-b", "2024-01-02T00:00:00Z", &m2, &id2);
    add(&f->store, &m1, "docker.io/library/x:1");
    add(&f->store, &m2, "docker.io/library/x:2");
    struct lb_image *img2 = lb_store_resolve(&f->store, "x:2", &err);
    assert_non_null(img2);
    assert_int_equal(lb_store_lock(&f->store, &err), 0);
    assert_int_equal(lb_store_tag(&f->store, img2, "docker.io/library/x:1", &err), 0);
    lb_store_unlock(&f->store);
    lb_image_free(img2);

    struct lb_image **v = NULL;
    size_t n = 0;
    assert_int_equal(lb_store_list_images(&f->store, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    /* newest first: image 2 (2024-01-02) holds both names, image 1 is dangling */
    assert_string_equal(v[0]->id.str, id2.str);
    assert_int_equal(lb_strv_len(v[0]->names), 2);
    assert_string_equal(v[1]->id.str, id1.str);
    assert_int_equal(lb_strv_len(v[1]->names), 0);
    lb_image_list_free(v, n);
}

static void test_store__untag_then_delete_collects_unused_blobs(void **state)
{
    struct fixture *f = *state;
    struct lb_digest m1, id1, m2, id2;
    struct lb_error *err = NULL;
    put_image(&f->store, "shared-layer", "2024-01-01T00:00:00Z", &m1, &id1);
    put_image(&f->store, "shared-layer", "2024-01-03T00:00:00Z", &m2, &id2);
    add(&f->store, &m1, "docker.io/library/a:latest");
    add(&f->store, &m1, "docker.io/library/b:latest");
    add(&f->store, &m2, "docker.io/library/c:latest");
    struct lb_digest layer;
    lb_digest_buffer(&layer, "shared-layer", strlen("shared-layer"));

    assert_int_equal(lb_store_lock(&f->store, &err), 0);
    assert_int_equal(lb_store_untag(&f->store, "docker.io/library/a:latest", &err), 1);
    assert_int_equal(lb_store_untag(&f->store, "docker.io/library/b:latest", &err), 0);
    assert_int_equal(lb_store_untag(&f->store, "docker.io/library/b:latest", &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    struct lb_image *img1 = lb_store_resolve(&f->store, lb_digest_hex(&id1), &err);
    assert_non_null(img1);
    assert_int_equal(lb_strv_len(img1->names), 0);
    assert_int_equal(lb_store_delete_image(&f->store, img1, &err), 0);
    lb_image_free(img1);
    lb_store_unlock(&f->store);

    assert_false(lb_store_has_blob(&f->store, &m1));
    assert_false(lb_store_has_blob(&f->store, &id1));
    assert_true(lb_store_has_blob(&f->store, &layer)); /* image c still uses it */
    assert_true(lb_store_has_blob(&f->store, &m2));

    struct lb_image *img2 = lb_store_resolve(&f->store, "c", &err);
    assert_non_null(img2);
    assert_int_equal(lb_store_lock(&f->store, &err), 0);
    assert_int_equal(lb_store_delete_image(&f->store, img2, &err), 0);
    lb_store_unlock(&f->store);
    lb_image_free(img2);
    assert_false(lb_store_has_blob(&f->store, &layer));
    struct lb_store_counts c;
    assert_int_equal(lb_store_count(&f->store, &c, &err), 0);
    assert_int_equal(c.images, 0);
    assert_int_equal(c.blobs, 0);
}

static void test_store__layer_records_give_sizes(void **state)
{
    struct fixture *f = *state;
    struct lb_digest m, id, layer;
    struct lb_error *err = NULL;
    put_image(&f->store, "layer-a", "2024-01-01T00:00:00Z", &m, &id);
    lb_digest_buffer(&layer, "layer-a", 7);
    /* bottom layer: ChainID = DiffID */
    assert_int_equal(lb_store_layer_record(&f->store, &layer, NULL, &layer, 4242, &err), 0);
    assert_int_equal(lb_store_layer_size(&f->store, &layer), 4242);
    add(&f->store, &m, "docker.io/library/sized:latest");
    struct lb_image *img = lb_store_resolve(&f->store, "sized", &err);
    assert_non_null(img);
    assert_int_equal(img->size, 4242);
    assert_int_equal(img->layers[0].unpacked_size, 4242);
    assert_int_equal(lb_image_created(img), 1704067200); /* date -d 2024-01-01Z +%s */
    lb_image_free(img);
}

static void test_store__corrupt_index_is_a_clear_error(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    lb_unit_write(f->dir, "images/index.json", "{\"manifests\": 3}", 16);
    assert_null(lb_store_resolve(&f->store, "busybox", &err));
    assert_error_contains(err, "manifests");
    lb_unit_write(f->dir, "images/index.json", "{not json", 9);
    assert_null(lb_store_resolve(&f->store, "busybox", &err));
    assert_error_contains(err, "not valid JSON");
    const char *bad = "{\"manifests\":[{\"digest\":\"sha256:../../etc\"}]}";
    lb_unit_write(f->dir, "images/index.json", bad, strlen(bad));
    assert_null(lb_store_resolve(&f->store, "busybox", &err));
    assert_error_contains(err, "invalid digest");
}

static void test_store__manifest_with_mismatched_diff_ids_is_rejected(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest cfg, man;
    const char *config = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
    assert_int_equal(lb_store_blob_put(&f->store, &cfg, config, strlen(config), &err), 0);
    char *mj = lb_xasprintf("{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\",\"size\":1},"
                            "\"layers\":[{\"digest\":\"%s\",\"size\":1}]}",
                            cfg.str, cfg.str);
    assert_int_equal(lb_store_blob_put(&f->store, &man, mj, strlen(mj), &err), 0);
    assert_null(lb_store_load_image(&f->store, &man, &err));
    assert_error_contains(err, "diff_ids");
    free(mj);
}

static void test_store__default_root_follows_environment(void **state)
{
    (void)state;
    setenv("LAYERBOX_ROOT", "/some/where", 1);
    char *r = lb_store_default_root();
    assert_string_equal(r, "/some/where");
    free(r);
    unsetenv("LAYERBOX_ROOT");
    r = lb_store_default_root();
    if (geteuid() == 0)
        assert_string_equal(r, "/var/lib/layerbox");
    else
        assert_non_null(strstr(r, "layerbox"));
    free(r);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
LB_UNIT_MAIN(T(test_store__open_creates_an_oci_layout), T(test_store__open_clears_leftover_staging),
             T(test_store__open_refuses_a_file_as_root),
             T(test_store__blob_put_is_content_addressed_and_idempotent),
             T(test_store__blob_read_detects_corruption),
             T(test_store__blob_read_remembers_verified_small_blobs),
             T(test_store__blob_open_missing_is_not_found),
             T(test_store__writer_verifies_digest_and_size_before_publishing),
             T(test_store__index_changes_need_the_lock),
             T(test_store__resolves_id_name_and_unique_prefix),
             T(test_store__name_wins_over_id_prefix),
             T(test_store__ambiguous_prefix_lists_candidates),
             T(test_store__unknown_and_invalid_arguments), T(test_store__tag_moves_between_images),
             T(test_store__untag_then_delete_collects_unused_blobs),
             T(test_store__layer_records_give_sizes), T(test_store__corrupt_index_is_a_clear_error),
             T(test_store__manifest_with_mismatched_diff_ids_is_rejected),
             T(test_store__default_root_follows_environment))
