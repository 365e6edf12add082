/* test_layers.c — unpacked layers in a store: staging, publishing (meta.json, the short link, one
 * rename), sharing, the check against the parent chain (counts, and the symlink shadowing
 * refused), meta.json round trips and its errors, removal with its short link (and the refusal
 * of a mounted layer, as root), parent chains, and the garbage collection of layers when images
 * are deleted through the image store (shared layers stay). Layers are made by hand in the
 * staging directory, as an unpacker would leave them. */
#include "unit.h"

#include "core/json.h"
#include "image/digest.h"
#include "image/store.h"
#include "layer/chainid.h"
#include "layer/layers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char *dir;
    struct lb_store store;
    int root_fd;
};

static int setup(void **state)
{
    struct fixture *f = lb_xmalloc(sizeof(*f));
    f->dir = lb_unit_mkdtemp();
    struct lb_error *err = NULL;
    if (lb_store_open(&f->store, f->dir, &err) < 0)
        fail_msg("open: %s", err->msg);
    f->root_fd = f->store.root_fd;
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

/* A DiffID that is just a name: sha256 of the text. */
static struct lb_digest diff_of(const char *text)
{
    struct lb_digest d;
    lb_digest_buffer(&d, text, strlen(text));
    return d;
}

/* The staging of one layer: files are written under its diff/ by path. */
struct staged {
    char *rel;  /* "tmp/layer-…" */
    char *diff; /* absolute path of its diff/ */
};

static struct staged stage(struct fixture *f)
{
    struct staged s = {0};
    struct lb_error *err = NULL;
    int fd = -1;
    if (lb_layers_stage(f->root_fd, &s.rel, &fd, &err) < 0)
        fail_msg("stage: %s", err->msg);
    assert_true(fd >= 0);
    close(fd);
    s.diff = lb_xasprintf("%s/%s/diff", f->dir, s.rel);
    return s;
}

static void staged_free(struct staged *s)
{
    free(s->rel);
    free(s->diff);
}

static void put(struct staged *s, const char *rel, const char *text)
{
    lb_unit_write(s->diff, rel, text, strlen(text));
}

/* meta for a layer with DiffID diff_of(name) over parent (NULL: the bottom). */
static struct lb_layer_meta meta_for(const char *name, const struct lb_digest *parent)
{
    struct lb_layer_meta m = {.diff_id = diff_of(name), .size = 42, .format = LB_WHITEOUT_FILES};
    if (parent) {
        m.has_parent = true;
        m.parent = *parent;
    }
    lb_chain_id_next(&m.chain_id, parent, &m.diff_id);
    return m;
}

/* Stage a layer with the given files (pairs of path, content; NULL-terminated) and publish it.
 * Returns its chain ID. */
static struct lb_digest publish_layer(struct fixture *f, const char *name,
                                      const struct lb_digest *parent, const char *const *files)
{
    struct staged s = stage(f);
    for (; files && files[0]; files += 2)
        put(&s, files[0], files[1]);
    struct lb_layer_meta m = meta_for(name, parent);
    bool shared = true;
    struct lb_error *err = NULL;
    if (lb_layers_publish(f->root_fd, s.rel, &m, &shared, &err) < 0)
        fail_msg("publish %s: %s", name, err->msg);
    assert_false(shared);
    staged_free(&s);
    lb_layer_meta_release(&m);
    return m.chain_id;
}

static size_t count_dir(struct fixture *f, const char *rel)
{
    char *p = lb_path_join(f->dir, rel);
    DIR *d = opendir(p);
    free(p);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static char *read_text(struct fixture *f, const char *rel)
{
    char *buf = NULL;
    struct lb_error *err = NULL;
    if (lb_read_file_at(f->root_fd, rel, 1 << 20, &buf, NULL, &err) < 0)
        fail_msg("read %s: %s", rel, err->msg);
    return buf;
}

static char *layer_rel(const struct lb_digest *chain, const char *sub)
{
    return lb_xasprintf("layers/%s%s%s", lb_digest_hex(chain), sub ? "/" : "", sub ? sub : "");
}

/* --- stage and publish ------------------------------------------------------------------- */

static void test_layers__stage_makes_an_empty_diff_directory_in_tmp(void **state)
{
    struct fixture *f = *state;
    char *rel = NULL;
    int fd = -1;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_stage(f->root_fd, &rel, &fd, &err), 0);
    assert_true(lb_str_has_prefix(rel, "tmp/layer-"));
    assert_null(strchr(rel + strlen("tmp/"), '/'));
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    char *diff = lb_xasprintf("%s/diff", rel);
    struct stat st2;
    assert_int_equal(fstatat(f->root_fd, diff, &st2, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_ino, st2.st_ino);
    assert_int_equal(count_dir(f, diff), 0);
    assert_int_equal(fstatat(f->root_fd, rel, &st2, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st2.st_mode & 07777, 0755);
    close(fd);
    free(diff);
    free(rel);
}

static void test_layers__stage_fails_without_tmp(void **state)
{
    struct fixture *f = *state;
    char *p = lb_path_join(f->dir, "tmp");
    assert_int_equal(rmdir(p), 0);
    free(p);
    char *rel = NULL;
    int fd = -1;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_stage(f->root_fd, &rel, &fd, &err), -1);
    assert_error_contains(err, "staging a layer");
    assert_null(rel);
    assert_int_equal(fd, -1);
}

static void test_layers__publish_renames_into_place_with_meta_and_short_link(void **state)
{
    struct fixture *f = *state;
    struct staged s = stage(f);
    put(&s, "etc/hello", "hello\n");
    struct lb_layer_meta m = meta_for("one", NULL);
    bool shared = true;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_publish(f->root_fd, s.rel, &m, &shared, &err), 0);
    assert_false(shared);
    assert_false(lb_path_exists_at(f->root_fd, s.rel)); /* staging consumed */
    assert_true(lb_layers_exists(f->root_fd, &m.chain_id));

    /* The files, under layers/<chain hex>/diff. */
    char *hello = layer_rel(&m.chain_id, "diff/etc/hello");
    char *text = read_text(f, hello);
    assert_string_equal(text, "hello\n");
    free(text);
    free(hello);
    char *relpath = lb_layers_diff_relpath(&m.chain_id);
    char *want = lb_xasprintf("layers/%s/diff", lb_digest_hex(&m.chain_id));
    assert_string_equal(relpath, want);
    free(relpath);
    free(want);

    /* The short link: 26 characters of [A-Z2-7], in `link` and meta, l/<it> → ../<hex>/diff. */
    char *linkrel = layer_rel(&m.chain_id, "link");
    char *link = read_text(f, linkrel);
    assert_int_equal(strlen(link), 26);
    assert_int_equal(strspn(link, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 26);
    assert_string_equal(m.link, link);
    char *l = lb_xasprintf("layers/l/%s", link);
    char target[256];
    ssize_t n = readlinkat(f->root_fd, l, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    char *expect = lb_xasprintf("../%s/diff", lb_digest_hex(&m.chain_id));
    assert_string_equal(target, expect);
    /* and it resolves to the layer's files */
    char *through = lb_xasprintf("%s/etc/hello", l);
    assert_true(lb_path_exists_at(f->root_fd, through));
    free(through);
    free(expect);
    free(l);
    free(link);
    free(linkrel);

    /* meta.json, read with jansson (not with lb_layers_read_meta). */
    char *metarel = layer_rel(&m.chain_id, "meta.json");
    json_t *j = lb_json_load_at(f->root_fd, metarel, &err);
    assert_non_null(j);
    assert_string_equal(lb_json_str(j, "chain_id"), m.chain_id.str);
    assert_string_equal(lb_json_str(j, "diff_id"), diff_of("one").str);
    assert_null(json_object_get(j, "parent"));
    assert_int_equal(lb_json_int(j, "size", -1), 42);
    assert_string_equal(lb_json_str(j, "format"), "files");
    assert_string_equal(lb_json_str(j, "link"), m.link);
    assert_int_equal(lb_json_int(j, "added", -1), 2); /* etc and etc/hello */
    assert_int_equal(lb_json_int(j, "changed", -1), 0);
    assert_int_equal(lb_json_int(j, "deleted", -1), 0);
    assert_int_equal(lb_json_int(j, "opaques", -1), 0);
    assert_int_equal(json_array_size(json_object_get(j, "whiteouts")), 0);
    json_decref(j);
    free(metarel);
    assert_int_equal(count_dir(f, "tmp"), 0);
    lb_layer_meta_release(&m);
    staged_free(&s);
}

static void test_layers__publishing_the_same_layer_again_shares_it(void **state)
{
    struct fixture *f = *state;
    struct lb_digest c = publish_layer(f, "one", NULL, (const char *[]){"a", "1", NULL});
    char *linkrel = layer_rel(&c, "link");
    char *link1 = read_text(f, linkrel);

    struct staged s = stage(f);
    put(&s, "a", "1");
    struct lb_layer_meta m = meta_for("one", NULL);
    bool shared = false;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_publish(f->root_fd, s.rel, &m, &shared, &err), 0);
    assert_true(shared);
    assert_false(lb_path_exists_at(f->root_fd, s.rel));
    assert_string_equal(m.link, link1); /* the existing layer's link and counts */
    assert_int_equal(m.added, 1);
    char *link2 = read_text(f, linkrel);
    assert_string_equal(link1, link2);
    assert_int_equal(count_dir(f, "layers/l"), 1);
    assert_int_equal(count_dir(f, "layers"), 2); /* the layer and l/ */
    assert_int_equal(count_dir(f, "tmp"), 0);
    free(link1);
    free(link2);
    free(linkrel);
    lb_layer_meta_release(&m);
    staged_free(&s);
}

static void test_layers__publish_counts_against_the_parent_chain(void **state)
{
    struct fixture *f = *state;
    struct lb_digest c1 = publish_layer(
        f, "base", NULL, (const char *[]){"data/change.txt", "v1", "data/remove.txt", "r", NULL});
    struct staged s = stage(f);
    put(&s, "data/change.txt", "v2");
    put(&s, "data/new.txt", "n");
    put(&s, "data/.wh.remove.txt", "");
    struct lb_layer_meta m = meta_for("top", &c1);
    bool shared = true;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_publish(f->root_fd, s.rel, &m, &shared, &err), 0);
    assert_int_equal(m.added, 1);
    assert_int_equal(m.changed, 1);
    assert_int_equal(m.deleted, 1);
    assert_string_equal(m.whiteouts[0], "data/remove.txt");

    /* The round trip through meta.json gives the same. */
    struct lb_layer_meta r;
    assert_int_equal(lb_layers_read_meta(f->root_fd, &m.chain_id, &r, &err), 0);
    assert_string_equal(r.chain_id.str, m.chain_id.str);
    assert_string_equal(r.diff_id.str, diff_of("top").str);
    assert_true(r.has_parent);
    assert_string_equal(r.parent.str, c1.str);
    assert_int_equal(r.size, 42);
    assert_int_equal(r.format, LB_WHITEOUT_FILES);
    assert_string_equal(r.link, m.link);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.changed, 1);
    assert_int_equal(r.deleted, 1);
    assert_int_equal(r.opaques, 0);
    assert_int_equal(lb_strv_len(r.whiteouts), 1);
    assert_string_equal(r.whiteouts[0], "data/remove.txt");
    lb_layer_meta_release(&r);
    lb_layer_meta_release(&m);
    staged_free(&s);
}

static void test_layers__publish_rejects_a_directory_over_a_lower_symlink(void **state)
{
    struct fixture *f = *state;
    /* Layer 1 plants a -> /etc; layer 2 writes a/passwd "through" it. */
    struct staged s1 = stage(f);
    char *p = lb_path_join(s1.diff, "a");
    assert_int_equal(symlink("/etc", p), 0);
    free(p);
    struct lb_layer_meta m1 = meta_for("plant", NULL);
    bool shared = false;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_publish(f->root_fd, s1.rel, &m1, &shared, &err), 0);

    struct staged s2 = stage(f);
    put(&s2, "a/passwd", "pwned");
    struct lb_layer_meta m2 = meta_for("through", &m1.chain_id);
    assert_int_equal(lb_layers_publish(f->root_fd, s2.rel, &m2, &shared, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    char *want = lb_xasprintf("layer %.12s: directory 'a' would write through symlink 'a' of a "
                              "lower layer",
                              lb_digest_hex(&m2.chain_id));
    assert_string_equal(err->msg, want);
    free(want);
    lb_error_clear(&err);
    /* Nothing published, no link made, staging gone. */
    assert_false(lb_layers_exists(f->root_fd, &m2.chain_id));
    char *dir = layer_rel(&m2.chain_id, NULL);
    assert_false(lb_path_exists_at(f->root_fd, dir));
    free(dir);
    assert_int_equal(count_dir(f, "layers/l"), 1);
    assert_int_equal(count_dir(f, "tmp"), 0);
    lb_layer_meta_release(&m1);
    lb_layer_meta_release(&m2);
    staged_free(&s1);
    staged_free(&s2);
}

static void test_layers__publish_needs_an_unpacked_parent(void **state)
{
    struct fixture *f = *state;
    struct lb_digest ghost = diff_of("never published");
    struct staged s = stage(f);
    put(&s, "x", "x");
    struct lb_layer_meta m = meta_for("orphan", &ghost);
    bool shared = false;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_publish(f->root_fd, s.rel, &m, &shared, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, ghost.str);
    assert_false(lb_path_exists_at(f->root_fd, s.rel));
    assert_false(lb_layers_exists(f->root_fd, &m.chain_id));
    assert_int_equal(count_dir(f, "layers/l"), 0);
    staged_free(&s);
}

static void test_layers__publish_checks_the_chain_id(void **state)
{
    struct fixture *f = *state;
    struct staged s = stage(f);
    struct lb_layer_meta m = meta_for("one", NULL);
    m.chain_id = diff_of("something else");
    bool shared = false;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_publish(f->root_fd, s.rel, &m, &shared, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "chain ID does not match");
    assert_false(lb_path_exists_at(f->root_fd, s.rel));
    assert_int_equal(count_dir(f, "layers"), 0);
    staged_free(&s);
}

static void test_layers__publish_refuses_anything_but_a_staging_directory(void **state)
{
    struct fixture *f = *state;
    struct lb_layer_meta m = meta_for("one", NULL);
    bool shared = false;
    struct lb_error *err = NULL;
    const char *bad[] = {"images",     "tmp/layer-",   "tmp/layer-x/../../images",
                         "tmp/blob-1", "/tmp/layer-x", "tmp/layer-..",
                         NULL};
    for (size_t i = 0; bad[i]; i++) {
        assert_int_equal(lb_layers_publish(f->root_fd, bad[i], &m, &shared, &err), -1);
        assert_error_contains(err, "is not a layer staging directory");
    }
    assert_true(lb_path_exists_at(f->root_fd, "images/index.json"));
}

static void test_layers__publish_replaces_a_size_record(void **state)
{
    struct fixture *f = *state;
    struct lb_layer_meta rec = meta_for("one", NULL);
    rec.size = 7;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_record(f->root_fd, &rec, &err), 0);
    assert_false(lb_layers_exists(f->root_fd, &rec.chain_id)); /* a record is not unpacked */
    struct lb_layer_meta r;
    assert_int_equal(lb_layers_read_meta(f->root_fd, &rec.chain_id, &r, &err), 0);
    assert_int_equal(r.size, 7);
    assert_string_equal(r.link, "");
    assert_int_equal(r.added, 0);
    assert_null(r.whiteouts);
    lb_layer_meta_release(&r);
    assert_int_equal(lb_store_layer_size(&f->store, &rec.chain_id), 7);

    struct staged s = stage(f);
    put(&s, "f", "x");
    struct lb_layer_meta m = meta_for("one", NULL);
    bool shared = true;
    assert_int_equal(lb_layers_publish(f->root_fd, s.rel, &m, &shared, &err), 0);
    assert_false(shared);
    assert_true(lb_layers_exists(f->root_fd, &m.chain_id));
    assert_int_equal(lb_store_layer_size(&f->store, &m.chain_id), 42);
    assert_int_equal(count_dir(f, "tmp"), 0); /* the old record went with the staging name */

    /* A record for an unpacked layer leaves the layer's own meta.json alone. */
    assert_int_equal(lb_store_layer_record(&f->store, &m.chain_id, NULL, &m.diff_id, 9, &err), 0);
    assert_int_equal(lb_store_layer_size(&f->store, &m.chain_id), 42);
    assert_int_equal(lb_layers_read_meta(f->root_fd, &m.chain_id, &r, &err), 0);
    assert_string_equal(r.link, m.link);
    lb_layer_meta_release(&r);
    lb_layer_meta_release(&m);
    staged_free(&s);
}

/* --- meta.json errors -------------------------------------------------------------------- */

static void write_meta(struct fixture *f, const struct lb_digest *chain, const char *json)
{
    char *dir = layer_rel(chain, NULL);
    char *abs = lb_path_join(f->dir, dir);
    lb_unit_write(abs, "meta.json", json, strlen(json));
    free(abs);
    free(dir);
}

static void test_layers__read_meta_reports_missing_and_malformed_records(void **state)
{
    struct fixture *f = *state;
    struct lb_digest c = diff_of("one");
    struct lb_layer_meta r;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_read_meta(f->root_fd, &c, &r, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, c.str);
    assert_int_equal(lb_store_layer_size(&f->store, &c), -1);

    struct {
        const char *json, *needle;
    } cases[] = {
        {"{not json", "meta.json"},
        {"[1]", "not a JSON object"},
        {"{\"size\":1}", "no diff_id"},
        {"{\"diff_id\":\"sha256:XYZ\"}", "diff_id"},
        {"{\"diff_id\":\"%s\",\"parent\":\"md5:1\"}", "parent"},
        {"{\"diff_id\":\"%s\",\"chain_id\":\"%s0\"}", "chain_id"},
        {"{\"diff_id\":\"%s\",\"format\":\"zfs\"}", "unknown format 'zfs'"},
        {"{\"diff_id\":\"%s\",\"link\":\"../../etc\"}", "invalid link name"},
        {"{\"diff_id\":\"%s\",\"added\":-1}", "\"added\" is not a count"},
        {"{\"diff_id\":\"%s\",\"whiteouts\":[1]}", "\"whiteouts\" is not a list"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char *json = lb_xasprintf(cases[i].json, c.str, c.str);
        write_meta(f, &c, json);
        free(json);
        assert_int_equal(lb_layers_read_meta(f->root_fd, &c, &r, &err), -1);
        assert_error_contains(err, cases[i].needle);
    }
    /* A meta.json naming another chain ID is not this layer's. */
    char *json =
        lb_xasprintf("{\"diff_id\":\"%s\",\"chain_id\":\"%s\"}", c.str, diff_of("two").str);
    write_meta(f, &c, json);
    free(json);
    assert_int_equal(lb_layers_read_meta(f->root_fd, &c, &r, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "names chain ID");
}

static void test_layers__read_meta_keeps_at_most_64_whiteouts(void **state)
{
    struct fixture *f = *state;
    struct lb_digest c = diff_of("one");
    struct lb_strbuf sb = LB_STRBUF_INIT;
    lb_strbuf_addf(&sb, "{\"diff_id\":\"%s\",\"deleted\":70,\"whiteouts\":[", c.str);
    for (int i = 0; i < 70; i++)
        lb_strbuf_addf(&sb, "%s\"w%02d\"", i ? "," : "", i);
    lb_strbuf_adds(&sb, "]}");
    write_meta(f, &c, sb.buf);
    lb_strbuf_release(&sb);
    struct lb_layer_meta r;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_read_meta(f->root_fd, &c, &r, &err), 0);
    assert_int_equal(lb_strv_len(r.whiteouts), LB_LAYER_MAX_WHITEOUT_NAMES);
    assert_string_equal(r.whiteouts[63], "w63");
    assert_int_equal(r.deleted, 70);
    lb_layer_meta_release(&r);
}

/* --- remove ------------------------------------------------------------------------------ */

static void test_layers__remove_deletes_the_directory_and_its_short_link(void **state)
{
    struct fixture *f = *state;
    struct lb_digest a = publish_layer(f, "a", NULL, (const char *[]){"x/y", "1", NULL});
    struct lb_digest b = publish_layer(f, "b", NULL, (const char *[]){"z", "1", NULL});
    assert_int_equal(count_dir(f, "layers/l"), 2);
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_remove(f->root_fd, &a, &err), 0);
    assert_false(lb_layers_exists(f->root_fd, &a));
    char *dir = layer_rel(&a, NULL);
    assert_false(lb_path_exists_at(f->root_fd, dir));
    free(dir);
    assert_int_equal(count_dir(f, "layers/l"), 1);
    assert_true(lb_layers_exists(f->root_fd, &b));
    /* The one left is b's. */
    char *blink = layer_rel(&b, "link");
    char *name = read_text(f, blink);
    char *l = lb_xasprintf("layers/l/%s", name);
    assert_true(lb_path_exists_at(f->root_fd, l));
    free(l);
    free(name);
    free(blink);
    /* Missing is fine. */
    assert_int_equal(lb_layers_remove(f->root_fd, &a, &err), 0);
}

static void test_layers__remove_leaves_a_short_link_that_is_not_its_own(void **state)
{
    struct fixture *f = *state;
    struct lb_digest a = publish_layer(f, "a", NULL, NULL);
    struct lb_digest b = publish_layer(f, "b", NULL, NULL);
    /* Make a's `link` file name b's link (a corrupt store): removing a must not break b. */
    char *alink = layer_rel(&a, "link"), *blink = layer_rel(&b, "link");
    char *bname = read_text(f, blink);
    struct lb_error *err = NULL;
    assert_int_equal(lb_atomic_write_at(f->root_fd, alink, bname, strlen(bname), 0644, &err), 0);
    assert_int_equal(lb_layers_remove(f->root_fd, &a, &err), 0);
    char *l = lb_xasprintf("layers/l/%s", bname);
    assert_true(lb_path_exists_at(f->root_fd, l));
    free(l);
    free(bname);
    free(alink);
    free(blink);
}

static void test_layers__remove_refuses_a_mounted_layer(void **state)
{
    struct fixture *f = *state;
    if (geteuid() != 0)
        skip(); /* mounting needs root */
    struct lb_digest a = publish_layer(f, "a", NULL, (const char *[]){"f", "1", NULL});
    char *rel = layer_rel(&a, "diff");
    char *abs = lb_path_join(f->dir, rel);
    if (mount("lb-unit", abs, "tmpfs", 0, "size=64k") < 0)
        skip();
    struct lb_error *err = NULL;
    int rc = lb_layers_remove(f->root_fd, &a, &err);
    int code = err ? err->code : 0;
    char *msg = err ? lb_xstrdup(err->msg) : NULL;
    lb_error_clear(&err);
    bool link_kept = count_dir(f, "layers/l") == 1;
    umount2(abs, MNT_DETACH);
    assert_int_equal(rc, -1);
    assert_int_equal(code, EBUSY);
    assert_non_null(strstr(msg, "is mounted"));
    assert_true(link_kept); /* refused before anything was removed */
    assert_true(lb_layers_exists(f->root_fd, &a));
    free(msg);
    free(abs);
    free(rel);
}

/* --- chains ------------------------------------------------------------------------------ */

static void same_dir(int fd, struct fixture *f, const struct lb_digest *chain)
{
    char *rel = lb_layers_diff_relpath(chain);
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(fstatat(f->root_fd, rel, &b, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    free(rel);
}

static void test_layers__open_chain_follows_parents_top_first(void **state)
{
    struct fixture *f = *state;
    struct lb_digest c1 = publish_layer(f, "l1", NULL, (const char *[]){"a", "1", NULL});
    struct lb_digest c2 = publish_layer(f, "l2", &c1, (const char *[]){"b", "2", NULL});
    struct lb_digest c3 = publish_layer(f, "l3", &c2, (const char *[]){"c", "3", NULL});
    /* The chain IDs are those of the OCI formula, over the DiffIDs. */
    struct lb_digest diffs[3] = {diff_of("l1"), diff_of("l2"), diff_of("l3")}, want[3];
    lb_chain_ids(want, diffs, 3);
    assert_string_equal(c3.str, want[2].str);

    int *fds = NULL;
    size_t n = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_open_chain(f->root_fd, &c3, &fds, &n, &err), 0);
    assert_int_equal(n, 3);
    same_dir(fds[0], f, &c3);
    same_dir(fds[1], f, &c2);
    same_dir(fds[2], f, &c1);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
}

static void test_layers__open_chain_names_a_missing_parent(void **state)
{
    struct fixture *f = *state;
    struct lb_digest c1 = publish_layer(f, "l1", NULL, NULL);
    struct lb_digest c2 = publish_layer(f, "l2", &c1, NULL);
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_remove(f->root_fd, &c1, &err), 0);
    int *fds = NULL;
    size_t n = 0;
    assert_int_equal(lb_layers_open_chain(f->root_fd, &c2, &fds, &n, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    char *want = lb_xasprintf("parent layer %s of layer %s is not unpacked", c1.str, c2.str);
    assert_string_equal(err->msg, want);
    free(want);
    lb_error_clear(&err);
    assert_null(fds);
    assert_int_equal(n, 0);
    /* and the layer itself missing */
    assert_int_equal(lb_layers_open_chain(f->root_fd, &c1, &fds, &n, &err), -1);
    assert_error_contains(err, "is not unpacked");
}

static void test_layers__open_chain_refuses_a_tampered_parent_pointer(void **state)
{
    struct fixture *f = *state;
    struct lb_digest c1 = publish_layer(f, "l1", NULL, NULL);
    struct lb_digest other = publish_layer(f, "other", NULL, NULL);
    struct lb_digest c2 = publish_layer(f, "l2", &c1, NULL);
    /* Point l2's parent at another layer: its chain ID no longer follows. */
    char *json = lb_xasprintf("{\"chain_id\":\"%s\",\"diff_id\":\"%s\",\"parent\":\"%s\","
                              "\"size\":1}",
                              c2.str, diff_of("l2").str, other.str);
    write_meta(f, &c2, json);
    free(json);
    int *fds = NULL;
    size_t n = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_open_chain(f->root_fd, &c2, &fds, &n, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "give chain ID");
    assert_null(fds);
}

static void test_layers__count_ignores_the_short_link_directory(void **state)
{
    struct fixture *f = *state;
    publish_layer(f, "a", NULL, NULL);
    publish_layer(f, "b", NULL, NULL);
    struct lb_layer_meta rec = meta_for("record", NULL);
    struct lb_error *err = NULL;
    assert_int_equal(lb_layers_record(f->root_fd, &rec, &err), 0);
    assert_int_equal(count_dir(f, "layers"), 4); /* 3 layers + l/ */
    assert_int_equal(lb_layers_count(f->root_fd), 3);
    struct lb_store_counts counts;
    assert_int_equal(lb_store_count(&f->store, &counts, &err), 0);
    assert_int_equal(counts.layers, 3);
}

/* --- garbage collection through the image store ------------------------------------------ */

/* Store an image whose layers have the DiffIDs diff_of(names[i]) (layer blobs: any bytes). */
static struct lb_digest put_image(struct fixture *f, const char *const *names, const char *tag)
{
    struct lb_error *err = NULL;
    struct lb_strbuf diffs = LB_STRBUF_INIT, layers = LB_STRBUF_INIT;
    for (size_t i = 0; names[i]; i++) {
        struct lb_digest blob;
        char *bytes = lb_xasprintf("blob of %s", names[i]);
        assert_int_equal(lb_store_blob_put(&f->store, &blob, bytes, strlen(bytes), &err), 0);
        lb_strbuf_addf(&diffs, "%s\"%s\"", i ? "," : "", diff_of(names[i]).str);
        lb_strbuf_addf(&layers, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
                       i ? "," : "", LB_MT_OCI_LAYER, blob.str, strlen(bytes));
        free(bytes);
    }
    char *config = lb_xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
                                "{\"type\":\"layers\",\"diff_ids\":[%s]},\"comment\":\"%s\"}",
                                diffs.buf, tag);
    struct lb_digest cfg, manifest;
    assert_int_equal(lb_store_blob_put(&f->store, &cfg, config, strlen(config), &err), 0);
    char *mj =
        lb_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                     "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[%s]}",
                     LB_MT_OCI_MANIFEST, LB_MT_OCI_CONFIG, cfg.str, strlen(config), layers.buf);
    assert_int_equal(lb_store_blob_put(&f->store, &manifest, mj, strlen(mj), &err), 0);
    char *names_v[] = {(char *)tag, NULL};
    assert_int_equal(lb_store_lock(&f->store, &err), 0);
    if (lb_store_add_image(&f->store, &manifest, (int64_t)strlen(mj), names_v, NULL, &err) < 0)
        fail_msg("add: %s", err->msg);
    lb_store_unlock(&f->store);
    free(config);
    free(mj);
    lb_strbuf_release(&diffs);
    lb_strbuf_release(&layers);
    return manifest;
}

static void delete_image(struct fixture *f, const char *tag)
{
    struct lb_error *err = NULL;
    struct lb_image *img = lb_store_resolve(&f->store, tag, &err);
    if (img == NULL)
        fail_msg("resolve %s: %s", tag, err->msg);
    assert_int_equal(lb_store_lock(&f->store, &err), 0);
    if (lb_store_delete_image(&f->store, img, &err) < 0)
        fail_msg("delete %s: %s", tag, err->msg);
    lb_store_unlock(&f->store);
    lb_image_free(img);
}

static void test_layers__deleting_an_image_removes_its_unshared_layers_and_links(void **state)
{
    struct fixture *f = *state;
    /* A = [base, onlya], B = [base, onlyb]: base is shared. */
    struct lb_digest base = publish_layer(f, "base", NULL, (const char *[]){"f", "1", NULL});
    struct lb_digest onlya = publish_layer(f, "onlya", &base, (const char *[]){"a", "1", NULL});
    struct lb_digest onlyb = publish_layer(f, "onlyb", &base, (const char *[]){"b", "1", NULL});
    put_image(f, (const char *[]){"base", "onlya", NULL}, "docker.io/library/a:latest");
    put_image(f, (const char *[]){"base", "onlyb", NULL}, "docker.io/library/b:latest");
    assert_int_equal(count_dir(f, "layers/l"), 3);

    delete_image(f, "a");
    assert_false(lb_layers_exists(f->root_fd, &onlya));
    char *dir = layer_rel(&onlya, NULL);
    assert_false(lb_path_exists_at(f->root_fd, dir));
    free(dir);
    assert_true(lb_layers_exists(f->root_fd, &base));
    assert_true(lb_layers_exists(f->root_fd, &onlyb));
    assert_int_equal(count_dir(f, "layers/l"), 2);
    /* the links left are exactly base's and onlyb's */
    struct lb_digest left[] = {base, onlyb};
    for (size_t i = 0; i < 2; i++) {
        char *lf = layer_rel(&left[i], "link");
        char *name = read_text(f, lf);
        char *l = lb_xasprintf("layers/l/%s", name);
        assert_true(lb_path_exists_at(f->root_fd, l));
        free(l);
        free(name);
        free(lf);
    }

    delete_image(f, "b");
    assert_false(lb_layers_exists(f->root_fd, &base));
    assert_false(lb_layers_exists(f->root_fd, &onlyb));
    assert_int_equal(count_dir(f, "layers/l"), 0);
    assert_int_equal(lb_layers_count(f->root_fd), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

LB_UNIT_MAIN(T(test_layers__stage_makes_an_empty_diff_directory_in_tmp),
             T(test_layers__stage_fails_without_tmp),
             T(test_layers__publish_renames_into_place_with_meta_and_short_link),
             T(test_layers__publishing_the_same_layer_again_shares_it),
             T(test_layers__publish_counts_against_the_parent_chain),
             T(test_layers__publish_rejects_a_directory_over_a_lower_symlink),
             T(test_layers__publish_needs_an_unpacked_parent),
             T(test_layers__publish_checks_the_chain_id),
             T(test_layers__publish_refuses_anything_but_a_staging_directory),
             T(test_layers__publish_replaces_a_size_record),
             T(test_layers__read_meta_reports_missing_and_malformed_records),
             T(test_layers__read_meta_keeps_at_most_64_whiteouts),
             T(test_layers__remove_deletes_the_directory_and_its_short_link),
             T(test_layers__remove_leaves_a_short_link_that_is_not_its_own),
             T(test_layers__remove_refuses_a_mounted_layer),
             T(test_layers__open_chain_follows_parents_top_first),
             T(test_layers__open_chain_names_a_missing_parent),
             T(test_layers__open_chain_refuses_a_tampered_parent_pointer),
             T(test_layers__count_ignores_the_short_link_directory),
             T(test_layers__deleting_an_image_removes_its_unshared_layers_and_links))
