/* test_volumes.c — named and anonymous volumes: names, the on-disk layout, idempotent create,
 * list, inspect's shape, remove and prune with the containers seam, and -v specifications. */
#include "unit.h"

#include "container/volumes.h"
#include "core/json.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

struct fixture {
    char *root;
    struct lb_store store;
};

static int setup(void **state)
{
    struct fixture *f = lb_xmalloc(sizeof(*f));
    f->root = lb_unit_mkdtemp();
    struct lb_error *err = NULL;
    if (lb_store_open(&f->store, f->root, &err) < 0)
        fail_msg("store: %s", err->msg);
    lb_volume_set_user_check(NULL, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lb_volume_set_user_check(NULL, NULL);
    lb_store_release(&f->store);
    lb_unit_rmdir(f->root);
    free(f);
    return 0;
}

#define VTEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

static bool is_dir(const char *root, const char *rel)
{
    char *p = lb_path_join(root, rel);
    struct stat st;
    bool r = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return r;
}

/* Entries of ROOT/volumes, dot entries included (but not . and ..). */
static size_t count_entries(const char *root)
{
    char *p = lb_path_join(root, "volumes");
    size_t n = 0;
    DIR *d = opendir(p);
    free(p);
    if (d == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_volumes__validates_names_as_docker(void **state)
{
    (void)state;
    static const char *const good[] = {"ab", "a_b.c-d", "0x", "Data", "v1", "a--", "9.9"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(good); i++) {
        struct lb_error *err = NULL;
        if (lb_volume_name_validate(good[i], &err) != 0)
            fail_msg("'%s' refused: %s", good[i], err->msg);
    }
    struct lb_error *err = NULL;
    assert_int_equal(lb_volume_name_validate("a", &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "volume name is too short, names should be at least two");
    assert_int_equal(lb_volume_name_validate("", &err), -1);
    assert_error_contains(err, "volume name cannot be empty");
    assert_int_equal(lb_volume_name_validate(NULL, &err), -1);
    assert_error_contains(err, "volume name cannot be empty");
    static const char *const bad[] = {"_ab",  ".ab", "-ab",  "a b",        "a/b",
                                      "/abs", "a:b", "a\nb", "caf\xc3\xa9"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++) {
        if (lb_volume_name_validate(bad[i], &err) != -1)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "includes invalid characters for a local volume name");
    }
    assert_int_equal(lb_volume_name_validate("a b", &err), -1);
    assert_string_equal(err->msg, "'a b' includes invalid characters for a local volume name, "
                                  "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                                  "intended to pass a host directory, use absolute path");
    lb_error_clear(&err);
    char name[LB_VOLUME_NAME_MAX + 2];
    memset(name, 'v', sizeof(name) - 1);
    name[LB_VOLUME_NAME_MAX + 1] = '\0';
    assert_int_equal(lb_volume_name_validate(name, &err), -1);
    assert_error_contains(err, "longer than 255 characters");
    name[LB_VOLUME_NAME_MAX] = '\0';
    assert_int_equal(lb_volume_name_validate(name, NULL), 0);
}

static void test_volumes__create_makes_data_dir_and_meta(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    bool created = false;
    char *labels[] = {"a=b", "empty", "x=y=z", NULL};
    struct lb_time before = lb_time_now();
    struct lb_volume *v = lb_volume_create(&f->store, "data", labels, &created, &err);
    assert_null(err);
    assert_non_null(v);
    assert_true(created);
    assert_string_equal(v->name, "data");
    assert_false(v->anonymous);
    char *mp = lb_xasprintf("%s/volumes/data/_data", f->root);
    assert_string_equal(v->mountpoint, mp);
    free(mp);
    assert_true(is_dir(f->root, "volumes/data/_data"));
    assert_true(v->created.sec >= before.sec && v->created.sec <= lb_time_now().sec);
    assert_string_equal(json_string_value(json_object_get(v->labels, "a")), "b");
    assert_string_equal(json_string_value(json_object_get(v->labels, "empty")), "");
    assert_string_equal(json_string_value(json_object_get(v->labels, "x")), "y=z");
    assert_int_equal(json_object_size(v->labels), 3);
    lb_volume_free(v);

    /* meta.json, read independently */
    char *meta_path = lb_path_join(f->root, "volumes/data/meta.json");
    json_error_t je;
    json_t *meta = json_load_file(meta_path, 0, &je);
    free(meta_path);
    assert_non_null(meta);
    assert_string_equal(json_string_value(json_object_get(meta, "name")), "data");
    assert_true(json_is_false(json_object_get(meta, "anonymous")));
    assert_non_null(json_string_value(json_object_get(meta, "created")));
    assert_true(json_is_object(json_object_get(meta, "labels")));
    json_decref(meta);
    assert_int_equal(count_entries(f->root), 1); /* no staging leftover */
}

static void test_volumes__create_is_idempotent_for_an_existing_name(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    char *labels[] = {"first=1", NULL};
    struct lb_volume *v = lb_volume_create(&f->store, "data", labels, NULL, &err);
    assert_non_null(v);
    lb_unit_write(f->root, "volumes/data/_data/keep", "x", 1);
    lb_volume_free(v);
    char *other[] = {"second=2", NULL};
    bool created = true;
    v = lb_volume_create(&f->store, "data", other, &created, &err);
    assert_null(err);
    assert_non_null(v);
    assert_false(created);
    assert_string_equal(json_string_value(json_object_get(v->labels, "first")), "1");
    assert_null(json_object_get(v->labels, "second"));
    lb_volume_free(v);
    assert_true(lb_path_exists_at(AT_FDCWD, f->root) &&
                lb_path_exists_at(f->store.root_fd, "volumes/data/_data/keep"));
}

static void test_volumes__create_without_name_makes_an_anonymous_volume(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_volume *a = lb_volume_create(&f->store, NULL, NULL, NULL, &err);
    struct lb_volume *b = lb_volume_create(&f->store, NULL, NULL, NULL, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(strlen(a->name), 64);
    assert_int_equal(strspn(a->name, "0123456789abcdef"), 64);
    assert_string_not_equal(a->name, b->name);
    assert_true(a->anonymous);
    assert_string_equal(json_string_value(json_object_get(a->labels, LB_VOLUME_ANON_LABEL)), "");
    assert_int_equal(lb_volume_name_validate(a->name, NULL), 0);
    lb_volume_free(a);
    lb_volume_free(b);
    assert_int_equal(count_entries(f->root), 2);
}

static void test_volumes__create_refuses_bad_names_and_labels(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    assert_null(lb_volume_create(&f->store, "x", NULL, NULL, &err));
    assert_error_contains(err, "too short");
    assert_null(lb_volume_create(&f->store, "../etc", NULL, NULL, &err));
    assert_error_contains(err, "includes invalid characters");
    char *labels[] = {"ok=1", "=v", NULL};
    assert_null(lb_volume_create(&f->store, "good", labels, NULL, &err));
    assert_int_equal(err->kind, LB_EKIND_USAGE);
    assert_error_contains(err, "invalid label '=v': empty name");
    assert_int_equal(count_entries(f->root), 0);
    assert_int_equal(f->store.lock_depth, 0);
}

static void test_volumes__load_reports_missing_and_corrupt_volumes(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    assert_null(lb_volume_load(&f->store, "nope", &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_string_equal(err->msg, "no such volume: 'nope'");
    lb_error_clear(&err);
    assert_null(lb_volume_load(&f->store, "../images", &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);

    lb_unit_write(f->root, "volumes/bad/meta.json", "{not json", 9);
    assert_null(lb_volume_load(&f->store, "bad", &err));
    assert_non_null(err);
    lb_error_clear(&err);
    const char *other = "{\"name\":\"other\",\"created\":\"2024-01-02T03:04:05Z\"}";
    lb_unit_write(f->root, "volumes/mism/meta.json", other, strlen(other));
    assert_null(lb_volume_load(&f->store, "mism", &err));
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "volume 'mism' has an invalid meta.json");
    const char *badtime = "{\"name\":\"bt\",\"created\":\"yesterday\"}";
    lb_unit_write(f->root, "volumes/bt/meta.json", badtime, strlen(badtime));
    assert_null(lb_volume_load(&f->store, "bt", &err));
    assert_error_contains(err, "volume 'bt' has an invalid meta.json");
    const char *badlab = "{\"name\":\"bl\",\"created\":\"2024-01-02T03:04:05Z\",\"labels\":[1]}";
    lb_unit_write(f->root, "volumes/bl/meta.json", badlab, strlen(badlab));
    assert_null(lb_volume_load(&f->store, "bl", &err));
    assert_error_contains(err, "volume 'bl' has an invalid meta.json");

    /* a list stops at the corrupt one */
    struct lb_volume **v = NULL;
    size_t n = 0;
    assert_int_equal(lb_volume_list(&f->store, &v, &n, &err), -1);
    assert_non_null(err);
    lb_error_clear(&err);
    assert_null(v);
    assert_int_equal(n, 0);
}

static void test_volumes__list_is_sorted_and_skips_dot_entries(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_volume **v = NULL;
    size_t n = 99;
    assert_int_equal(lb_volume_list(&f->store, &v, &n, &err), 0); /* no volumes/ yet */
    assert_int_equal(n, 0);
    static const char *const names[] = {"zeta", "alpha", "Mid", "b2"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(names); i++)
        lb_volume_free(lb_volume_create(&f->store, names[i], NULL, NULL, &err));
    assert_null(err);
    char *stray = lb_path_join(f->root, "volumes/.tmp-0123");
    assert_int_equal(mkdir(stray, 0700), 0);
    free(stray);
    assert_int_equal(lb_volume_list(&f->store, &v, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_string_equal(v[0]->name, "Mid"); /* strcmp order: uppercase first */
    assert_string_equal(v[1]->name, "alpha");
    assert_string_equal(v[2]->name, "b2");
    assert_string_equal(v[3]->name, "zeta");
    lb_volume_list_free(v, n);
}

static void test_volumes__inspect_json_has_dockers_shape(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    const char *meta =
        "{\"name\":\"vol\",\"created\":\"2024-01-02T03:04:05.5Z\",\"anonymous\":false}";
    lb_unit_write(f->root, "volumes/vol/meta.json", meta, strlen(meta));
    struct lb_volume *v = lb_volume_load(&f->store, "vol", &err);
    assert_non_null(v);
    assert_null(v->labels);
    json_t *j = lb_volume_inspect_json(v);
    char *text = lb_json_dump(j);
    char *expect = lb_xasprintf(
        "{\"CreatedAt\": \"2024-01-02T03:04:05Z\", \"Driver\": \"local\", \"Labels\": null, "
        "\"Mountpoint\": \"%s/volumes/vol/_data\", \"Name\": \"vol\", \"Options\": null, "
        "\"Scope\": \"local\"}",
        f->root);
    json_t *want = json_loads(expect, 0, NULL);
    assert_non_null(want);
    if (!json_equal(j, want))
        fail_msg("got %s", text);
    /* and the keys in docker's (sorted) order */
    const char *order[] = {"CreatedAt", "Driver",  "Labels", "Mountpoint",
                           "Name",      "Options", "Scope"};
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach(j, k, val) assert_string_equal(k, order[i++]);
    assert_int_equal(i, 7);
    json_decref(want);
    free(expect);
    free(text);
    json_decref(j);
    lb_volume_free(v);

    char *labels[] = {"k=v", NULL};
    v = lb_volume_create(&f->store, "lab", labels, NULL, &err);
    j = lb_volume_inspect_json(v);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "Labels"), "k")), "v");
    json_decref(j);
    lb_volume_free(v);
}

/* The seam: "busy" is used by container "web". */
static int seam_calls;
static char *user_of(void *data, const char *volume)
{
    seam_calls++;
    assert_string_equal((const char *)data, "cookie");
    return strcmp(volume, "busy") == 0 || strcmp(volume, "busyanon") == 0 ? lb_xstrdup("web")
                                                                          : NULL;
}

static void test_volumes__remove_deletes_files_and_refuses_volumes_in_use(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    lb_volume_free(lb_volume_create(&f->store, "gone", NULL, NULL, &err));
    lb_volume_free(lb_volume_create(&f->store, "busy", NULL, NULL, &err));
    lb_unit_write(f->root, "volumes/gone/_data/sub/file", "abc", 3);
    lb_volume_set_user_check(user_of, "cookie");
    seam_calls = 0;

    assert_int_equal(lb_volume_remove(&f->store, "gone", false, &err), 0);
    assert_null(err);
    assert_false(lb_path_exists_at(f->store.root_fd, "volumes/gone"));
    assert_int_equal(seam_calls, 1);

    assert_int_equal(lb_volume_remove(&f->store, "busy", false, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_CONFLICT);
    assert_string_equal(err->msg, "remove busy: volume is in use - [web]");
    lb_error_clear(&err);
    assert_int_equal(lb_volume_remove(&f->store, "busy", true, &err), -1); /* -f too, as docker */
    assert_error_contains(err, "volume is in use");
    assert_true(is_dir(f->root, "volumes/busy/_data"));

    assert_int_equal(lb_volume_remove(&f->store, "gone", false, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "no such volume: 'gone'");
    assert_int_equal(lb_volume_remove(&f->store, "gone", true, &err), 0);
    assert_null(err);
    assert_int_equal(lb_volume_remove(&f->store, "bad name", true, &err), 0);

    /* nothing registered: nobody uses anything */
    lb_volume_set_user_check(NULL, NULL);
    assert_int_equal(lb_volume_remove(&f->store, "busy", false, &err), 0);
    assert_int_equal(count_entries(f->root), 0);
    assert_int_equal(f->store.lock_depth, 0);
}

static void test_volumes__remove_of_a_corrupt_volume_reports_it(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    lb_unit_write(f->root, "volumes/bad/meta.json", "[]", 2);
    assert_int_equal(lb_volume_remove(&f->store, "bad", true, &err), -1);
    assert_error_contains(err, "invalid meta.json");
    assert_true(is_dir(f->root, "volumes/bad"));
}

static void test_volumes__prune_removes_unused_anonymous_volumes_only_by_default(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_volume *anon = lb_volume_create(&f->store, NULL, NULL, NULL, &err);
    lb_volume_free(lb_volume_create(&f->store, "named", NULL, NULL, &err));
    lb_volume_free(lb_volume_create(&f->store, "busy", NULL, NULL, &err));
    /* an anonymous volume in use: write its meta by hand under a name the seam knows */
    const char *busyanon =
        "{\"name\":\"busyanon\",\"created\":\"2024-01-02T03:04:05Z\",\"anonymous\":true}";
    lb_unit_write(f->root, "volumes/busyanon/meta.json", busyanon, strlen(busyanon));
    char *rel = lb_xasprintf("volumes/%s/_data/a", anon->name);
    lb_unit_write(f->root, rel, "0123456789", 10);
    free(rel);
    rel = lb_xasprintf("volumes/%s/_data/d/b", anon->name);
    lb_unit_write(f->root, rel, "abcde", 5);
    free(rel);
    char *stray = lb_path_join(f->root, "volumes/.rm-abc");
    assert_int_equal(mkdir(stray, 0700), 0);
    free(stray);
    lb_volume_set_user_check(user_of, "cookie");

    char **removed = NULL;
    int64_t bytes = -1;
    assert_int_equal(lb_volume_prune(&f->store, false, &removed, &bytes, &err), 0);
    assert_null(err);
    assert_int_equal(lb_strv_len(removed), 1);
    assert_string_equal(removed[0], anon->name);
    assert_int_equal(bytes, 15);
    lb_strv_free(removed);
    assert_false(lb_path_exists_at(f->store.root_fd, "volumes/.rm-abc"));
    assert_int_equal(count_entries(f->root), 3); /* named, busy, busyanon */

    /* nothing left to prune by default */
    assert_int_equal(lb_volume_prune(&f->store, false, &removed, &bytes, &err), 0);
    assert_int_equal(lb_strv_len(removed), 0);
    assert_int_equal(bytes, 0);
    lb_strv_free(removed);

    /* -a: named ones too, but not those in use */
    assert_int_equal(lb_volume_prune(&f->store, true, &removed, NULL, &err), 0);
    assert_int_equal(lb_strv_len(removed), 1);
    assert_string_equal(removed[0], "named");
    lb_strv_free(removed);
    assert_int_equal(lb_volume_prune(&f->store, true, NULL, NULL, &err), 0);
    assert_true(is_dir(f->root, "volumes/busy"));
    assert_true(lb_path_exists_at(f->store.root_fd, "volumes/busyanon"));
    lb_volume_free(anon);
}

static void test_volumes__prune_fails_on_a_corrupt_volume(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    lb_volume_free(lb_volume_create(&f->store, NULL, NULL, NULL, &err));
    lb_unit_write(f->root, "volumes/zz/meta.json", "{}", 2);
    char **removed = NULL;
    assert_int_equal(lb_volume_prune(&f->store, true, &removed, NULL, &err), -1);
    assert_error_contains(err, "invalid meta.json");
    assert_non_null(removed);
    assert_int_equal(lb_strv_len(removed), 0);
    lb_strv_free(removed);
    assert_int_equal(count_entries(f->root), 2);
}

/* --- -v specifications --- */

static void test_volumes__spec_parse_accepts_dockers_forms(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        enum lb_volume_kind kind;
        const char *source, *target;
        bool ro;
        const char *mode;
    } cases[] = {
        {"/data", LB_VOLUME_ANONYMOUS, NULL, "/data", false, NULL},
        {"/data/", LB_VOLUME_ANONYMOUS, NULL, "/data", false, NULL},
        {"/a//b/./c", LB_VOLUME_ANONYMOUS, NULL, "/a/b/c", false, NULL},
        {"/host:/ctr", LB_VOLUME_BIND, "/host", "/ctr", false, NULL},
        {"/host/:/ctr:ro", LB_VOLUME_BIND, "/host", "/ctr", true, "ro"},
        {"/:/host:rw", LB_VOLUME_BIND, "/", "/host", false, "rw"},
        {"name:/ctr", LB_VOLUME_NAMED, "name", "/ctr", false, NULL},
        {"my.vol-1:/var/lib/x:ro", LB_VOLUME_NAMED, "my.vol-1", "/var/lib/x", true, "ro"},
        /* Go's path.Clean, as docker: ".." removes the component before it, none above "/" */
        {"/data/../data", LB_VOLUME_ANONYMOUS, NULL, "/data", false, NULL},
        {"/a/b/../../c/", LB_VOLUME_ANONYMOUS, NULL, "/c", false, NULL},
        {"/../../x", LB_VOLUME_ANONYMOUS, NULL, "/x", false, NULL},
        {"/a/..b/c", LB_VOLUME_ANONYMOUS, NULL, "/a/..b/c", false, NULL},
        {"/h/x/../y:/a/./b/..", LB_VOLUME_BIND, "/h/y", "/a", false, NULL},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        struct lb_volume_spec s;
        struct lb_error *err = NULL;
        if (lb_volume_spec_parse(&s, cases[i].spec, &err) != 0)
            fail_msg("'%s' refused: %s", cases[i].spec, err->msg);
        assert_int_equal(s.kind, cases[i].kind);
        if (cases[i].source)
            assert_string_equal(s.source, cases[i].source);
        else
            assert_null(s.source);
        assert_string_equal(s.target, cases[i].target);
        assert_int_equal(s.readonly, cases[i].ro);
        if (cases[i].mode)
            assert_string_equal(s.mode, cases[i].mode);
        else
            assert_null(s.mode);
        lb_volume_spec_release(&s);
    }
}

static void test_volumes__spec_parse_rejects_bad_specs_with_dockers_errors(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *msg;
    } cases[] = {
        {"", "invalid volume specification: ''"},
        {":", "invalid volume specification: ':'"},
        {"/a:", "invalid volume specification: '/a:'"},
        {":/a", "invalid volume specification: ':/a'"},
        {"/a:/b:", "invalid volume specification: '/a:/b:'"},
        {"/a:/b:ro:x", "invalid volume specification: '/a:/b:ro:x'"},
        {"/a:/b:rx", "invalid volume specification: '/a:/b:rx'"},
        {"/a:/b:ro,rw", "invalid volume specification: '/a:/b:ro,rw'"},
        {"data", "invalid mount path: 'data' mount path must be absolute"},
        {"/a:ctr", "invalid mount path: 'ctr' mount path must be absolute"},
        {"name:ctr:ro", "invalid mount path: 'ctr' mount path must be absolute"},
        {"/", "invalid specification: destination can't be '/'"},
        {"/host://", "invalid specification: destination can't be '/'"},
        {"/..", "invalid specification: destination can't be '/'"},
        {"/h:/a/..", "invalid specification: destination can't be '/'"},
        {"x:/ctr", "volume name is too short"},
        {"a b:/ctr", "includes invalid characters for a local volume name"},
        {"./rel:/ctr", "includes invalid characters for a local volume name"},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        struct lb_volume_spec s;
        struct lb_error *err = NULL;
        if (lb_volume_spec_parse(&s, cases[i].spec, &err) != -1)
            fail_msg("'%s' accepted", cases[i].spec);
        assert_null(s.source);
        assert_null(s.target);
        assert_int_equal(err->kind, LB_EKIND_USAGE);
        if (strstr(err->msg, cases[i].msg) == NULL)
            fail_msg("'%s': error '%s' does not contain '%s'", cases[i].spec, err->msg,
                     cases[i].msg);
        lb_error_clear(&err);
        lb_volume_spec_release(&s);
    }
}

static void release_mount(struct lb_mount_spec *m)
{
    free(m->source);
    free(m->target);
    free(m->data);
}

static void test_volumes__spec_mount_binds_host_paths_and_makes_volumes(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_volume_spec spec;
    struct lb_mount_spec m;
    char *vname = NULL;

    /* a bind of an existing host directory */
    char *src = lb_xasprintf("%s:/mnt:ro", f->root);
    assert_int_equal(lb_volume_spec_parse(&spec, src, &err), 0);
    free(src);
    assert_int_equal(lb_volume_spec_mount(&f->store, &spec, &m, &vname, &err), 0);
    assert_int_equal(m.kind, LB_MOUNT_BIND);
    assert_string_equal(m.source, f->root);
    assert_string_equal(m.target, "/mnt");
    assert_int_equal(m.flags, MS_REC | MS_RDONLY);
    assert_int_equal(m.mode, S_IFDIR | 0755);
    assert_null(vname);
    release_mount(&m);
    lb_volume_spec_release(&spec);

    /* a bind of a missing path */
    src = lb_xasprintf("%s/missing:/mnt", f->root);
    assert_int_equal(lb_volume_spec_parse(&spec, src, &err), 0);
    free(src);
    assert_int_equal(lb_volume_spec_mount(&f->store, &spec, &m, &vname, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_USAGE);
    char *want = lb_xasprintf("bind source path does not exist: %s/missing", f->root);
    assert_string_equal(err->msg, want);
    free(want);
    lb_error_clear(&err);
    assert_null(m.source);
    lb_volume_spec_release(&spec);

    /* a named volume is created on demand, then reused */
    for (int round = 0; round < 2; round++) {
        assert_int_equal(lb_volume_spec_parse(&spec, "cache:/var/cache", &err), 0);
        assert_int_equal(lb_volume_spec_mount(&f->store, &spec, &m, &vname, &err), 0);
        char *mp = lb_xasprintf("%s/volumes/cache/_data", f->root);
        assert_string_equal(m.source, mp);
        free(mp);
        assert_string_equal(m.target, "/var/cache");
        assert_int_equal(m.flags, MS_REC);
        assert_string_equal(vname, "cache");
        if (round == 0)
            lb_unit_write(f->root, "volumes/cache/_data/kept", "1", 1);
        free(vname);
        release_mount(&m);
        lb_volume_spec_release(&spec);
    }
    assert_true(lb_path_exists_at(f->store.root_fd, "volumes/cache/_data/kept"));

    /* an anonymous volume every time */
    char *names[2] = {NULL, NULL};
    for (int round = 0; round < 2; round++) {
        assert_int_equal(lb_volume_spec_parse(&spec, "/scratch", &err), 0);
        assert_int_equal(lb_volume_spec_mount(&f->store, &spec, &m, &names[round], &err), 0);
        assert_int_equal(strlen(names[round]), 64);
        struct lb_volume *v = lb_volume_load(&f->store, names[round], &err);
        assert_non_null(v);
        assert_true(v->anonymous);
        assert_string_equal(m.source, v->mountpoint);
        lb_volume_free(v);
        release_mount(&m);
        lb_volume_spec_release(&spec);
    }
    assert_string_not_equal(names[0], names[1]);
    free(names[0]);
    free(names[1]);
    assert_int_equal(count_entries(f->root), 3);

    /* volume_name may be NULL */
    assert_int_equal(lb_volume_spec_parse(&spec, "cache:/c", &err), 0);
    assert_int_equal(lb_volume_spec_mount(&f->store, &spec, &m, NULL, &err), 0);
    release_mount(&m);
    lb_volume_spec_release(&spec);
}

/* Parse specs[0..n) (all valid) and check them for duplicates. */
static int check_unique(char *const *specs, size_t n, struct lb_error **err)
{
    struct lb_volume_spec *v = lb_xmalloc(n * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        struct lb_error *e = NULL;
        if (lb_volume_spec_parse(&v[i], specs[i], &e) != 0)
            fail_msg("'%s' refused: %s", specs[i], e->msg);
    }
    int rc = lb_volume_specs_check_unique(v, n, err);
    for (size_t i = 0; i < n; i++)
        lb_volume_spec_release(&v[i]);
    free(v);
    return rc;
}

static void test_volumes__specs_with_one_mount_point_twice_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b, *c;
        const char *dup; /* NULL: accepted */
    } cases[] = {
        {"/a:/data", "/b:/data", NULL, "/data"},
        {"/a:/data", "/b:/data/", NULL, "/data"},
        {"/a:/data", "vol:/data/../data:ro", NULL, "/data"},
        {"/x", "/y", "//x/./", "/x"},            /* the third against the first */
        {"/a:/data", "/data2", "/b:/dat", NULL}, /* prefixes are different paths */
        {"/a:/data", "/data/sub", NULL, NULL},   /* nested is allowed, as in docker */
        {"/a:/one", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
        char *specs[] = {(char *)cases[i].a, (char *)cases[i].b, (char *)cases[i].c};
        size_t n = cases[i].c ? 3 : cases[i].b ? 2 : 1;
        struct lb_error *err = NULL;
        int rc = check_unique(specs, n, &err);
        if (cases[i].dup == NULL) {
            if (rc != 0)
                fail_msg("case %zu refused: %s", i, err->msg);
            continue;
        }
        if (rc != -1)
            fail_msg("case %zu accepted", i);
        assert_int_equal(err->kind, LB_EKIND_USAGE);
        char *want = lb_xasprintf("duplicate mount point: %s", cases[i].dup);
        assert_string_equal(err->msg, want);
        free(want);
        lb_error_free(err);
    }
    /* no specs at all */
    struct lb_error *err = NULL;
    assert_int_equal(lb_volume_specs_check_unique(NULL, 0, &err), 0);
    assert_null(err);
}

static void assert_json_str(const json_t *o, const char *key, const char *want)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("'%s' is not a string", key);
    if (strcmp(json_string_value(v), want) != 0)
        fail_msg("'%s' is '%s', want '%s'", key, json_string_value(v), want);
}

/* The keys of o, in order, joined by ','. */
static char *keys_of(const json_t *o)
{
    struct lb_strbuf sb = LB_STRBUF_INIT;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) lb_strbuf_addf(&sb, "%s%s", sb.len ? "," : "", k);
    return lb_strbuf_detach(&sb);
}

static void test_volumes__mounts_json_has_dockers_mount_points_sorted_by_destination(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_volume *named = lb_volume_create(&f->store, "cache", NULL, NULL, &err);
    struct lb_volume *anon = lb_volume_create(&f->store, NULL, NULL, NULL, &err);
    assert_non_null(named);
    assert_non_null(anon);
    char *anon_spec = lb_xasprintf("%s:/anon", anon->name);
    char *specs[] = {"/srv/www:/z/www:ro", "cache:/var/cache", anon_spec, "/h:/b/",
                     "ro-vol:/m:ro",       "not a spec",       NULL};
    json_t *m = lb_volume_mounts_json(&f->store, specs);
    assert_true(json_is_array(m));
    assert_int_equal(json_array_size(m), 5); /* the bad spec is left out */
    const char *order[] = {"/anon", "/b", "/m", "/var/cache", "/z/www"};
    for (size_t i = 0; i < 5; i++)
        assert_json_str(json_array_get(m, i), "Destination", order[i]);

    const json_t *a = json_array_get(m, 0);
    char *keys = keys_of(a);
    assert_string_equal(keys, "Type,Name,Source,Destination,Driver,Mode,RW,Propagation");
    free(keys);
    assert_json_str(a, "Type", "volume");
    assert_json_str(a, "Name", anon->name);
    char *src = lb_xasprintf("%s/volumes/%s/_data", f->root, anon->name);
    assert_json_str(a, "Source", src);
    free(src);
    assert_json_str(a, "Driver", "local");
    assert_json_str(a, "Mode", ""); /* anonymous: no "z" */
    assert_true(json_is_true(json_object_get(a, "RW")));
    assert_json_str(a, "Propagation", "");

    const json_t *b = json_array_get(m, 1);
    keys = keys_of(b);
    assert_string_equal(keys, "Type,Source,Destination,Mode,RW,Propagation");
    free(keys);
    assert_json_str(b, "Type", "bind");
    assert_json_str(b, "Source", "/h");
    assert_json_str(b, "Mode", "");
    assert_true(json_is_true(json_object_get(b, "RW")));
    assert_json_str(b, "Propagation", "rprivate");

    /* a named volume that does not exist (yet): its path all the same, "z" unless a mode */
    const json_t *ro = json_array_get(m, 2);
    assert_json_str(ro, "Name", "ro-vol");
    src = lb_xasprintf("%s/volumes/ro-vol/_data", f->root);
    assert_json_str(ro, "Source", src);
    free(src);
    assert_json_str(ro, "Mode", "ro");
    assert_true(json_is_false(json_object_get(ro, "RW")));

    const json_t *c = json_array_get(m, 3);
    assert_json_str(c, "Type", "volume");
    assert_json_str(c, "Name", "cache");
    assert_json_str(c, "Source", named->mountpoint);
    assert_json_str(c, "Mode", "z");
    assert_true(json_is_true(json_object_get(c, "RW")));

    const json_t *w = json_array_get(m, 4);
    assert_json_str(w, "Source", "/srv/www");
    assert_json_str(w, "Mode", "ro");
    assert_true(json_is_false(json_object_get(w, "RW")));
    assert_json_str(w, "Propagation", "rprivate");
    json_decref(m);

    /* no specs: an empty array, not null */
    m = lb_volume_mounts_json(&f->store, NULL);
    assert_true(json_is_array(m));
    assert_int_equal(json_array_size(m), 0);
    json_decref(m);
    free(anon_spec);
    lb_volume_free(named);
    lb_volume_free(anon);
}

LB_UNIT_MAIN(cmocka_unit_test(test_volumes__validates_names_as_docker),
             VTEST(test_volumes__create_makes_data_dir_and_meta),
             VTEST(test_volumes__create_is_idempotent_for_an_existing_name),
             VTEST(test_volumes__create_without_name_makes_an_anonymous_volume),
             VTEST(test_volumes__create_refuses_bad_names_and_labels),
             VTEST(test_volumes__load_reports_missing_and_corrupt_volumes),
             VTEST(test_volumes__list_is_sorted_and_skips_dot_entries),
             VTEST(test_volumes__inspect_json_has_dockers_shape),
             VTEST(test_volumes__remove_deletes_files_and_refuses_volumes_in_use),
             VTEST(test_volumes__remove_of_a_corrupt_volume_reports_it),
             VTEST(test_volumes__prune_removes_unused_anonymous_volumes_only_by_default),
             VTEST(test_volumes__prune_fails_on_a_corrupt_volume),
             cmocka_unit_test(test_volumes__spec_parse_accepts_dockers_forms),
             cmocka_unit_test(test_volumes__spec_parse_rejects_bad_specs_with_dockers_errors),
             VTEST(test_volumes__spec_mount_binds_host_paths_and_makes_volumes),
             cmocka_unit_test(test_volumes__specs_with_one_mount_point_twice_are_refused),
             VTEST(test_volumes__mounts_json_has_dockers_mount_points_sorted_by_destination))
