/* test_container.c — container records: create (files on disk, IDs, names given or generated,
 * uniqueness, 20 concurrent creates of one name), load and its errors (missing, corrupt), list
 * order, resolution (ID → name → prefix, ambiguity), state saving, rename, remove (and the
 * refusal of a mount point), the run options' JSON, the image-user seam, and the liveness check
 * with real processes: a child killed behind our back, a reaped one, a reused pid. */
#include "unit.h"

#include "container/container.h"
#include "container/names.h"
#include "core/json.h"
#include "image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct fixture {
    char *dir;
    struct lb_store store;
    struct lb_digest image;
};

static int setup(void **state)
{
    struct fixture *f = lb_xmalloc(sizeof(*f));
    f->dir = lb_unit_mkdtemp();
    struct lb_error *err = NULL;
    if (lb_store_open(&f->store, f->dir, &err) < 0)
        fail_msg("open: %s", err->msg);
    lb_digest_buffer(&f->image, "an image config", 15);
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

static struct lb_container *create_named(struct fixture *f, const char *name)
{
    struct lb_container_spec spec = {
        .name = name, .image_id = &f->image, .image = "busybox", .path = "sh", .stop_timeout = -1};
    struct lb_error *err = NULL;
    struct lb_container *c = lb_container_create(&f->store, &spec, &err);
    if (c == NULL)
        fail_msg("create '%s': %s", name ? name : "(generated)", err->msg);
    return c;
}

/* Entries of ROOT/containers (including dot entries other than . and ..). */
static size_t count_records(struct fixture *f)
{
    char *path = lb_path_join(f->dir, "containers");
    DIR *d = opendir(path);
    free(path);
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

static json_t *load_record_file(struct fixture *f, const char *id, const char *file)
{
    char *rel = lb_xasprintf("containers/%s/%s", id, file);
    struct lb_error *err = NULL;
    json_t *j = lb_json_load_at(f->store.root_fd, rel, &err);
    if (j == NULL)
        fail_msg("%s: %s", rel, err->msg);
    free(rel);
    return j;
}

static void write_record_file(struct fixture *f, const char *id, const char *file, const char *text)
{
    char *rel = lb_xasprintf("containers/%s/%s", id, file);
    lb_unit_write(f->dir, rel, text, strlen(text));
    free(rel);
}

/* A record with a chosen ID, written by hand (for prefix tests). */
static void write_record(struct fixture *f, const char *id, const char *name, const char *created)
{
    char *config =
        lb_xasprintf("{\"Id\":\"%s\",\"Name\":\"%s\",\"Image\":\"%s\",\"Created\":\"%s\","
                     "\"Path\":\"sh\",\"Args\":[]}",
                     id, name, f->image.str, created);
    write_record_file(f, id, "config.json", config);
    write_record_file(f, id, "state.json", "{\"Status\":\"created\",\"ExitCode\":0}");
    free(config);
}

static const char *hexid(char c, char last)
{
    static char buf[65];
    memset(buf, c, 64);
    buf[63] = last;
    buf[64] = '\0';
    return buf;
}

/* --- create ------------------------------------------------------------------------------ */

static void test_container__create_writes_config_and_state_atomically(void **state)
{
    struct fixture *f = *state;
    char *args[] = {"-c", "echo hi", NULL};
    char *cmd[] = {"sh", "-c", "echo hi", NULL};
    char *env[] = {"A=1", "B=two words", NULL};
    char *caps[] = {"NET_ADMIN", NULL};
    char *vols[] = {"/data", "named:/srv:ro", NULL};
    struct lb_run_opts opts = {.cmd = cmd,
                               .entrypoint = "",
                               .env = env,
                               .workdir = "/tmp",
                               .user = "1000:1000",
                               .hostname = "box",
                               .read_only = true,
                               .network = LB_NET_NONE,
                               .memory_bytes = 64 << 20,
                               .pids_limit = 50,
                               .cpus = 1.5,
                               .cap_add = caps,
                               .no_new_privileges = true,
                               .tty = true};
    struct lb_container_spec spec = {.name = "web",
                                     .image_id = &f->image,
                                     .image = "busybox",
                                     .path = "/bin/sh",
                                     .args = args,
                                     .opts = &opts,
                                     .auto_remove = true,
                                     .stop_signal = "SIGINT",
                                     .stop_timeout = 3,
                                     .volumes = vols};
    struct lb_error *err = NULL;
    struct lb_container *c = lb_container_create(&f->store, &spec, &err);
    assert_non_null(c);
    assert_int_equal(strlen(c->id), 64);
    assert_true(lb_is_lower_hex(c->id, 64));
    assert_string_equal(c->name, "web");
    assert_int_equal(c->state.status, LB_STATE_CREATED);
    assert_int_equal(c->state.pid, 0);
    assert_int_equal(c->state.exit_code, 0);
    assert_true(c->created.sec > 0);

    /* the files, read with jansson directly */
    json_t *config = load_record_file(f, c->id, "config.json");
    assert_string_equal(lb_json_str(config, "Id"), c->id);
    assert_string_equal(lb_json_str(config, "Name"), "web");
    assert_string_equal(lb_json_str(config, "Image"), f->image.str);
    assert_string_equal(lb_json_str(config, "ImageName"), "busybox");
    assert_string_equal(lb_json_str(config, "Path"), "/bin/sh");
    json_t *a = lb_json_arr(config, "Args");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_array_get(a, 1)), "echo hi");
    json_t *o = lb_json_obj(config, "Options");
    assert_string_equal(lb_json_str(o, "Entrypoint"), "");
    assert_string_equal(lb_json_str(o, "Network"), "none");
    assert_int_equal(lb_json_int(o, "Memory", 0), 67108864);
    assert_true(json_is_true(json_object_get(config, "AutoRemove")));
    json_decref(config);
    json_t *st = load_record_file(f, c->id, "state.json");
    assert_string_equal(lb_json_str(st, "Status"), "created");
    json_decref(st);

    /* everything survives a load */
    struct lb_container *l = lb_container_load(&f->store, c->id, &err);
    assert_non_null(l);
    assert_string_equal(l->path, "/bin/sh");
    assert_int_equal(lb_strv_len(l->args), 2);
    assert_string_equal(l->opts.cmd[2], "echo hi");
    assert_string_equal(l->opts.entrypoint, "");
    assert_string_equal(l->opts.env[1], "B=two words");
    assert_null(l->opts.env_files);
    assert_string_equal(l->opts.workdir, "/tmp");
    assert_string_equal(l->opts.user, "1000:1000");
    assert_string_equal(l->opts.hostname, "box");
    assert_true(l->opts.read_only);
    assert_int_equal(l->opts.network, LB_NET_NONE);
    assert_int_equal(l->opts.memory_bytes, 64 << 20);
    assert_int_equal(l->opts.pids_limit, 50);
    assert_true(l->opts.cpus > 1.49 && l->opts.cpus < 1.51);
    assert_string_equal(l->opts.cap_add[0], "NET_ADMIN");
    assert_null(l->opts.cap_drop);
    assert_true(l->opts.no_new_privileges);
    assert_true(l->opts.tty);
    assert_false(l->opts.interactive);
    assert_true(l->auto_remove);
    assert_string_equal(l->stop_signal, "SIGINT");
    assert_int_equal(l->stop_timeout, 3);
    assert_string_equal(l->volumes[1], "named:/srv:ro");
    assert_string_equal(l->image, "busybox");
    assert_true(lb_digest_equal(&l->image_id, &f->image));
    assert_int_equal(l->created.sec, c->created.sec);
    assert_int_equal(l->created.nsec, c->created.nsec);
    lb_container_free(l);
    assert_int_equal(count_records(f), 1); /* no staging left behind */
    lb_container_free(c);
}

static void test_container__create_strips_slash_and_generates_names(void **state)
{
    struct fixture *f = *state;
    struct lb_container *a = create_named(f, "/api");
    assert_string_equal(a->name, "api");
    struct lb_container *b = create_named(f, NULL);
    struct lb_container *c = create_named(f, "");
    assert_int_equal(lb_names_validate(b->name, NULL), 0);
    assert_non_null(strchr(b->name, '_'));
    assert_non_null(strchr(c->name, '_'));
    assert_string_not_equal(b->name, c->name);
    assert_string_not_equal(a->id, b->id);
    lb_container_free(a);
    lb_container_free(b);
    lb_container_free(c);
}

static void test_container__create_refuses_bad_and_taken_names(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    static const char *const bad[] = {"-web", "/x/y", "a b", "web!"};
    struct lb_container_spec spec = {.image_id = &f->image, .stop_timeout = -1};
    struct lb_error *err = NULL;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spec.name = bad[i];
        assert_null(lb_container_create(&f->store, &spec, &err));
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "invalid container name");
    }
    char *long_name = lb_xmalloc(300);
    memset(long_name, 'x', 254);
    spec.name = long_name;
    assert_null(lb_container_create(&f->store, &spec, &err));
    assert_error_contains(err, "longer than 253 characters");
    free(long_name);

    spec.name = "web";
    assert_null(lb_container_create(&f->store, &spec, &err));
    assert_int_equal(err->kind, LB_EKIND_CONFLICT);
    char *want =
        lb_xasprintf("the container name 'web' is already in use by container '%.12s'", c->id);
    assert_error_contains(err, want);
    free(want);
    spec.name = "/web"; /* the same name */
    assert_null(lb_container_create(&f->store, &spec, &err));
    assert_error_contains(err, "already in use");

    spec.name = "x";
    spec.image_id = NULL;
    assert_null(lb_container_create(&f->store, &spec, &err));
    assert_error_contains(err, "needs an image");
    assert_null(lb_container_create(&f->store, NULL, &err));
    assert_error_contains(err, "needs an image");

    assert_int_equal(count_records(f), 1); /* nothing was created by the failures */
    lb_container_free(c);
}

static void test_container__create_removes_leftover_staging(void **state)
{
    struct fixture *f = *state;
    lb_unit_write(f->dir, "containers/.tmp-dead/config.json", "{", 1);
    struct lb_container *c = create_named(f, "web");
    assert_false(lb_path_exists_at(f->store.root_fd, "containers/.tmp-dead"));
    assert_int_equal(count_records(f), 1);
    lb_container_free(c);
}

/* A --rm container's record is written without fsync: a crash can leave its config.json empty.
 * Such a record is no container (load, list) and the next create removes it; a durable record
 * with an empty state.json is left alone. */
static void test_container__an_rm_record_emptied_by_a_crash_is_no_container(void **state)
{
    struct fixture *f = *state;
    struct lb_container_spec spec = {.name = "eph",
                                     .image_id = &f->image,
                                     .image = "busybox",
                                     .path = "sh",
                                     .stop_timeout = -1,
                                     .auto_remove = true};
    struct lb_error *err = NULL;
    struct lb_container *c = lb_container_create(&f->store, &spec, &err);
    assert_non_null(c);
    json_t *config = load_record_file(f, c->id, "config.json");
    assert_true(json_is_true(json_object_get(config, "AutoRemove")));
    json_decref(config);
    struct lb_container *keep = create_named(f, "keep");

    write_record_file(f, c->id, "config.json", "");
    assert_null(lb_container_load(&f->store, c->id, &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    struct lb_container **v = NULL;
    size_t n = 0;
    assert_int_equal(lb_container_list(&f->store, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0]->name, "keep");
    lb_container_list_free(v, n);
    assert_int_equal(count_records(f), 2);

    /* its name is free again, and creating removes the leftover */
    struct lb_container *again = create_named(f, "eph");
    char *rel = lb_xasprintf("containers/%s", c->id);
    assert_false(lb_path_exists_at(f->store.root_fd, rel));
    free(rel);
    assert_int_equal(count_records(f), 2);
    lb_container_free(again);
    lb_container_free(keep);
    lb_container_free(c);
}

static void test_container__tombstone_keeps_an_exit_code_and_ages_out(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    const char *id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    int code = -5;
    lb_container_free(create_named(f, "a")); /* containers/ exists once a container did */
    assert_int_equal(lb_container_tombstone_read(&f->store, id, &code, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    assert_int_equal(lb_container_tombstone_write(&f->store, id, 137, &err), 0);
    assert_int_equal(lb_container_tombstone_read(&f->store, id, &code, &err), 0);
    assert_int_equal(code, 137);
    char *rel = lb_xasprintf("containers/.exit-%s", id);
    lb_unit_write(f->dir, rel, "x\n", 2);
    assert_int_equal(lb_container_tombstone_read(&f->store, id, &code, &err), -1);
    assert_error_contains(err, "holds no exit code");
    lb_unit_write(f->dir, rel, "256\n", 4);
    assert_int_equal(lb_container_tombstone_read(&f->store, id, &code, &err), -1);
    lb_error_clear(&err);
    /* a young one survives a create, an old one does not */
    lb_unit_write(f->dir, rel, "3\n", 2);
    lb_container_free(create_named(f, "c"));
    assert_true(lb_path_exists_at(f->store.root_fd, rel));
    struct timespec old[2] = {{time(NULL) - LB_EXIT_TOMBSTONE_SECONDS - 5, 0},
                              {time(NULL) - LB_EXIT_TOMBSTONE_SECONDS - 5, 0}};
    assert_int_equal(utimensat(f->store.root_fd, rel, old, 0), 0);
    lb_container_free(create_named(f, "b"));
    assert_false(lb_path_exists_at(f->store.root_fd, rel));
    /* tombstones are not records: the list still has the two containers */
    struct lb_container **v = NULL;
    size_t n = 0;
    assert_int_equal(lb_container_list(&f->store, &v, &n, &err), 0);
    assert_int_equal(n, 3);
    lb_container_list_free(v, n);
    free(rel);
}

/* 20 processes race to create the same --name: the store lock lets exactly one win. */
static void test_container__twenty_concurrent_creates_of_one_name_give_one_success(void **state)
{
    struct fixture *f = *state;
    enum { N = 20 };
    pid_t kids[N];
    int go[2];
    assert_int_equal(pipe(go), 0);
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            close(go[1]);
            char b;
            (void)!read(go[0], &b, 1); /* start together */
            close(go[0]);
            /* own store: a flock belongs to an open file, not inherited state */
            struct lb_store s;
            struct lb_error *err = NULL;
            int code = 3;
            if (lb_store_open(&s, f->dir, &err) == 0) {
                struct lb_container_spec spec = {
                    .name = "same", .image_id = &f->image, .stop_timeout = -1};
                struct lb_container *c = lb_container_create(&s, &spec, &err);
                code = c ? 0 : err->kind == LB_EKIND_CONFLICT ? 1 : 2;
                lb_container_free(c);
                lb_store_release(&s);
            }
            lb_error_free(err);
            _exit(code);
        }
    }
    close(go[0]);
    close(go[1]); /* EOF releases them all at once */
    int won = 0, conflict = 0;
    for (int i = 0; i < N; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 0)
            won++;
        else if (WEXITSTATUS(status) == 1)
            conflict++;
    }
    assert_int_equal(won, 1);
    assert_int_equal(conflict, N - 1);
    assert_int_equal(count_records(f), 1);
    struct lb_error *err = NULL;
    struct lb_container *c = lb_container_resolve(&f->store, "same", &err);
    assert_non_null(c);
    lb_container_free(c);
}

static void test_container__concurrent_creates_without_names_all_get_distinct_names(void **state)
{
    struct fixture *f = *state;
    enum { N = 10 };
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            struct lb_store s;
            struct lb_error *err = NULL;
            int code = 1;
            if (lb_store_open(&s, f->dir, &err) == 0) {
                struct lb_container_spec spec = {.image_id = &f->image, .stop_timeout = -1};
                struct lb_container *c = lb_container_create(&s, &spec, &err);
                code = c ? 0 : 1;
                lb_container_free(c);
                lb_store_release(&s);
            }
            lb_error_free(err);
            _exit(code);
        }
    }
    for (int i = 0; i < N; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    struct lb_container **v = NULL;
    size_t n = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_list(&f->store, &v, &n, &err), 0);
    assert_int_equal(n, N);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(v[i]->name, v[j]->name);
    lb_container_list_free(v, n);
}

/* --- load, list ---------------------------------------------------------------------------- */

static void test_container__load_reports_missing_records_as_not_found(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    assert_null(lb_container_load(&f->store, hexid('a', 'b'), &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "no such container: 'aaaa");
    assert_null(lb_container_load(&f->store, "../../etc", &err)); /* never a path */
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    assert_null(lb_container_load(&f->store, NULL, &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    /* a directory without config.json (a removal that got to its end) is not a container */
    lb_unit_write(f->dir,
                  "containers/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab/"
                  "state.json",
                  "{}", 2);
    assert_null(lb_container_load(&f->store, hexid('a', 'b'), &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
}

static void test_container__load_takes_an_empty_state_as_created(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    c->state.status = LB_STATE_EXITED;
    c->state.exit_code = 3;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_save_state(&f->store, c, &err), 0);
    json_t *st = load_record_file(f, c->id, "state.json");
    assert_string_equal(lb_json_str(st, "Status"), "exited");
    json_decref(st);

    /* what a crash can leave of a state.json replaced without fsync */
    write_record_file(f, c->id, "state.json", "");
    struct lb_container *l = lb_container_load(&f->store, c->id, &err);
    assert_non_null(l);
    assert_int_equal(l->state.status, LB_STATE_CREATED);
    assert_int_equal(l->state.exit_code, 0);
    lb_container_free(l);

    /* one byte is not empty: still an error, not a guess */
    write_record_file(f, c->id, "state.json", " ");
    assert_null(lb_container_load(&f->store, c->id, &err));
    assert_error_contains(err, "corrupt state.json");
    lb_container_free(c);
}

static void test_container__load_rejects_corrupt_files(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    struct {
        const char *file, *text, *needle;
    } cases[] = {
        {"state.json", "{not json", "corrupt state.json of container"},
        {"state.json", "[]", "not an object"},
        {"state.json", "{\"ExitCode\":0}", "'Status' is missing"},
        {"state.json", "{\"Status\":\"dancing\"}", "unknown container state 'dancing'"},
        {"state.json", "{\"Status\":\"running\",\"Pid\":\"12\"}", "'Pid' is not an integer"},
        {"state.json", "{\"Status\":\"running\",\"Pid\":-4}", "'Pid' is not an integer >= 0"},
        {"state.json", "{\"Status\":\"exited\",\"ExitCode\":300}", "out of range"},
        {"state.json", "{\"Status\":\"exited\",\"StartedAt\":\"yesterday\"}", "'StartedAt'"},
        {"state.json", "{\"Status\":\"exited\",\"OOMKilled\":1}", "'OOMKilled' is not a boolean"},
        {"config.json", "{\"Id\":\"x\"}", "'Id' is not"},
        {"config.json", "{oops", "corrupt config.json of container"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *good_config = load_record_file(f, c->id, "config.json");
        char *saved = lb_json_dump(good_config);
        json_decref(good_config);
        write_record_file(f, c->id, cases[i].file, cases[i].text);
        struct lb_error *err = NULL;
        struct lb_container *l = lb_container_load(&f->store, c->id, &err);
        if (l != NULL)
            fail_msg("case %zu (%s) loaded", i, cases[i].text);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        char *short_id = lb_xasprintf("'%.12s'", c->id);
        if (strstr(err->msg, short_id) == NULL)
            fail_msg("case %zu: '%s' does not name the container", i, err->msg);
        free(short_id);
        assert_error_contains(err, cases[i].needle);
        write_record_file(f, c->id, "config.json", saved);
        write_record_file(f, c->id, "state.json", "{\"Status\":\"created\"}");
        free(saved);
    }
    /* config.json keys of the wrong type */
    static const char *const bad_keys[] = {"\"Name\":3",
                                           "\"Name\":\"a b\"",
                                           "\"Args\":\"sh\"",
                                           "\"Image\":\"sha256:xyz\"",
                                           "\"StopTimeout\":\"3\"",
                                           "\"Options\":{\"Network\":\"bridge\"}",
                                           "\"Options\":{\"Cpus\":\"2\"}",
                                           "\"Options\":{\"Env\":[1]}",
                                           "\"Options\":[]"};
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        char *text = lb_xasprintf("{\"Id\":\"%s\",\"Name\":\"web\",\"Image\":\"%s\",\"Args\":[],"
                                  "\"Created\":\"2024-01-02T03:04:05Z\",%s}",
                                  c->id, f->image.str, bad_keys[i]);
        /* JSON_REJECT_DUPLICATES: the bad key replaces, it does not repeat */
        json_error_t je;
        json_t *probe = json_loads(text, JSON_REJECT_DUPLICATES, &je);
        if (probe == NULL) {
            /* a duplicate key: build by replacing instead */
            free(text);
            json_t *base = json_pack("{s:s,s:s,s:s,s:[]}", "Id", c->id, "Name", "web", "Image",
                                     f->image.str, "Args");
            char *frag = lb_xasprintf("{%s}", bad_keys[i]);
            json_t *over = json_loads(frag, 0, NULL);
            json_object_update(base, over);
            text = lb_json_dump(base);
            json_decref(over);
            json_decref(base);
            free(frag);
        }
        json_decref(probe);
        write_record_file(f, c->id, "config.json", text);
        free(text);
        struct lb_error *err = NULL;
        if (lb_container_load(&f->store, c->id, &err) != NULL)
            fail_msg("config with %s loaded", bad_keys[i]);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "corrupt config.json");
    }
    /* a missing state.json is a removal under way (or interrupted half-way): no container */
    write_record(f, c->id, "web", "2024-01-02T03:04:05Z");
    char *rel = lb_xasprintf("containers/%s/state.json", c->id);
    assert_int_equal(unlinkat(f->store.root_fd, rel, 0), 0);
    free(rel);
    struct lb_error *err = NULL;
    assert_null(lb_container_load(&f->store, c->id, &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "no such container");
    lb_container_free(c);
}

static void test_container__list_is_newest_first_and_skips_broken_records(void **state)
{
    struct fixture *f = *state;
    write_record(f, hexid('1', '1'), "old", "2020-01-01T00:00:00Z");
    write_record(f, hexid('2', '2'), "new", "2024-01-01T00:00:00.5Z");
    write_record(f, hexid('3', '3'), "mid", "2022-06-01T00:00:00Z");
    write_record(f, hexid('4', '4'), "tie", "2024-01-01T00:00:00.5Z");
    write_record(f, hexid('5', '5'), "broken", "2025-01-01T00:00:00Z");
    write_record_file(f, hexid('5', '5'), "state.json", "garbage");
    lb_unit_write(f->dir, "containers/not-an-id/config.json", "{}", 2);
    struct lb_container **v = NULL;
    size_t n = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_list(&f->store, &v, &n, &err), 0);
    assert_int_equal(n, 4);
    assert_string_equal(v[0]->name, "new"); /* same time as "tie": then by ID */
    assert_string_equal(v[1]->name, "tie");
    assert_string_equal(v[2]->name, "mid");
    assert_string_equal(v[3]->name, "old");
    lb_container_list_free(v, n);

    /* an empty store (no containers/ yet) lists nothing */
    lb_store_release(&f->store);
    char *other = lb_unit_mkdtemp();
    assert_int_equal(lb_store_open(&f->store, other, &err), 0);
    assert_int_equal(lb_container_list(&f->store, &v, &n, &err), 0);
    assert_int_equal(n, 0);
    lb_container_list_free(v, n);
    lb_unit_rmdir(other);
}

/* --- resolve ------------------------------------------------------------------------------- */

static void test_container__resolves_id_then_name_then_unique_prefix(void **state)
{
    struct fixture *f = *state;
    const char *a = "ab00000000000000000000000000000000000000000000000000000000000001";
    const char *b = "ab10000000000000000000000000000000000000000000000000000000000002";
    const char *c = "cd00000000000000000000000000000000000000000000000000000000000003";
    write_record(f, a, "alpha", "2024-01-01T00:00:00Z");
    write_record(f, b, "ab1", "2024-01-01T00:00:00Z"); /* a name that is also a prefix of b */
    write_record(f, c, a, "2024-01-01T00:00:00Z");     /* a name equal to a's full ID */
    char id[65];
    struct lb_error *err = NULL;
    /* exact ID beats a name equal to it */
    assert_int_equal(lb_container_resolve_id(&f->store, a, id, &err), 0);
    assert_string_equal(id, a);
    /* names, with or without '/' */
    assert_int_equal(lb_container_resolve_id(&f->store, "alpha", id, &err), 0);
    assert_string_equal(id, a);
    assert_int_equal(lb_container_resolve_id(&f->store, "/alpha", id, &err), 0);
    assert_string_equal(id, a);
    /* a name beats a prefix */
    assert_int_equal(lb_container_resolve_id(&f->store, "ab1", id, &err), 0);
    assert_string_equal(id, b);
    /* unique prefixes */
    assert_int_equal(lb_container_resolve_id(&f->store, "ab0", id, &err), 0);
    assert_string_equal(id, a);
    assert_int_equal(lb_container_resolve_id(&f->store, "c", id, &err), 0);
    assert_string_equal(id, c);
    /* ambiguous */
    assert_int_equal(lb_container_resolve_id(&f->store, "ab", id, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "container ID prefix 'ab' is ambiguous: it matches ab0000000000, "
                               "ab1000000000");
    /* not found */
    assert_int_equal(lb_container_resolve_id(&f->store, "ef", id, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "no such container: 'ef'");
    assert_int_equal(lb_container_resolve_id(&f->store, "nobody", id, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "no such container: 'nobody'");
    assert_int_equal(lb_container_resolve_id(&f->store, "AB", id, &err),
                     -1); /* IDs are lowercase */
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    assert_int_equal(lb_container_resolve_id(&f->store, "/", id, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    assert_int_equal(lb_container_resolve_id(&f->store, "", id, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_USAGE);
    assert_error_contains(err, "container name cannot be empty");

    /* resolve = resolve_id + load */
    struct lb_container *r = lb_container_resolve(&f->store, "/ab1", &err);
    assert_non_null(r);
    assert_string_equal(r->id, b);
    lb_container_free(r);
    assert_null(lb_container_resolve(&f->store, "zzz", &err));
    assert_error_contains(err, "no such container: 'zzz'");

    /* a record with a corrupt state.json is still found by ID prefix (so rm -f can reach it),
     * and by name, while load says what is wrong */
    write_record_file(f, c, "state.json", "garbage");
    assert_int_equal(lb_container_resolve_id(&f->store, "cd", id, &err), 0);
    assert_string_equal(id, c);
    assert_null(lb_container_resolve(&f->store, "cd", &err));
    assert_error_contains(err, "corrupt state.json");
}

/* --- state, rename, remove ------------------------------------------------------------------ */

static void test_container__save_state_round_trips_and_needs_the_record(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    c->state.status = LB_STATE_EXITED;
    c->state.pid = 4242;
    c->state.pid_start = 123456789012ULL;
    c->state.exit_code = 137;
    c->state.started = (struct lb_time){1700000000, 5};
    c->state.finished = (struct lb_time){1700000100, 0};
    c->state.oom_killed = true;
    c->state.monitor_pid = 77;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_save_state(&f->store, c, &err), 0);
    json_t *j = load_record_file(f, c->id, "state.json");
    assert_string_equal(lb_json_str(j, "Status"), "exited");
    assert_int_equal(lb_json_int(j, "ExitCode", 0), 137);
    assert_int_equal(lb_json_int(j, "PidStartTime", 0), 123456789012LL);
    assert_string_equal(lb_json_str(j, "StartedAt"), "2023-11-14T22:13:20.000000005Z");
    assert_string_equal(lb_json_str(j, "FinishedAt"), "2023-11-14T22:15:00Z");
    assert_true(json_is_true(json_object_get(j, "OOMKilled")));
    json_decref(j);
    struct lb_container *l = lb_container_load(&f->store, c->id, &err);
    assert_non_null(l);
    assert_int_equal(l->state.status, LB_STATE_EXITED);
    assert_int_equal(l->state.pid, 4242);
    assert_int_equal(l->state.pid_start, 123456789012ULL);
    assert_int_equal(l->state.exit_code, 137);
    assert_int_equal(l->state.started.sec, 1700000000);
    assert_int_equal(l->state.started.nsec, 5);
    assert_int_equal(l->state.finished.sec, 1700000100);
    assert_true(l->state.oom_killed);
    assert_int_equal(l->state.monitor_pid, 77);
    lb_container_free(l);

    /* a never-started container has no times in the file */
    struct lb_container *fresh = create_named(f, "fresh");
    j = load_record_file(f, fresh->id, "state.json");
    assert_null(json_object_get(j, "StartedAt"));
    assert_null(json_object_get(j, "FinishedAt"));
    json_decref(j);
    assert_int_equal(fresh->state.started.sec, 0);

    /* saving the state of a removed container does not bring it back */
    assert_int_equal(lb_container_remove(&f->store, c->id, &err), 0);
    assert_int_equal(lb_container_save_state(&f->store, c, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    char *rel = lb_xasprintf("containers/%s", c->id);
    assert_false(lb_path_exists_at(f->store.root_fd, rel));
    free(rel);
    lb_container_free(fresh);
    lb_container_free(c);
}

static void test_container__rename_checks_and_keeps_the_rest_of_config(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    struct lb_container *other = create_named(f, "db");
    /* a key this version does not know must survive the rewrite */
    json_t *config = load_record_file(f, c->id, "config.json");
    json_object_set_new(config, "Future", json_string("kept"));
    char *text = lb_json_dump(config);
    json_decref(config);
    write_record_file(f, c->id, "config.json", text);
    free(text);

    struct lb_error *err = NULL;
    assert_int_equal(lb_container_rename(&f->store, c, "/front", &err), 0);
    assert_string_equal(c->name, "front");
    config = load_record_file(f, c->id, "config.json");
    assert_string_equal(lb_json_str(config, "Name"), "front");
    assert_string_equal(lb_json_str(config, "Future"), "kept");
    json_decref(config);
    char id[65];
    assert_int_equal(lb_container_resolve_id(&f->store, "front", id, &err), 0);
    assert_string_equal(id, c->id);
    assert_int_equal(lb_container_resolve_id(&f->store, "web", id, &err), -1);
    assert_error_contains(err, "no such container");
    /* the old name is free again */
    struct lb_container *again = create_named(f, "web");

    assert_int_equal(lb_container_rename(&f->store, c, "db", &err), -1);
    assert_int_equal(err->kind, LB_EKIND_CONFLICT);
    assert_error_contains(err, "the container name 'db' is already in use");
    assert_int_equal(lb_container_rename(&f->store, c, "front", &err), -1);
    assert_error_contains(err, "renaming a container with the same name as its current name");
    assert_int_equal(lb_container_rename(&f->store, c, "", &err), -1);
    assert_error_contains(err, "container name cannot be empty");
    assert_int_equal(lb_container_rename(&f->store, c, "a/b", &err), -1);
    assert_error_contains(err, "invalid container name");
    assert_string_equal(c->name, "front");

    assert_int_equal(lb_container_remove(&f->store, c->id, &err), 0);
    assert_int_equal(lb_container_rename(&f->store, c, "gone", &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    lb_container_free(again);
    lb_container_free(other);
    lb_container_free(c);
}

static void test_container__remove_deletes_the_whole_record(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    struct lb_container *keep = create_named(f, "keep");
    char *rel = lb_xasprintf("containers/%s/diff/etc/hostname", c->id);
    lb_unit_write(f->dir, rel, "x", 1);
    free(rel);
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_remove(&f->store, c->id, &err), 0);
    assert_int_equal(count_records(f), 1);
    assert_int_equal(lb_container_remove(&f->store, c->id, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    assert_int_equal(lb_container_remove(&f->store, "../images", &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    assert_true(lb_path_exists_at(f->store.root_fd, "images/index.json"));
    /* a half-removed record (config.json only) can be removed */
    rel = lb_xasprintf("containers/%s/state.json", keep->id);
    assert_int_equal(unlinkat(f->store.root_fd, rel, 0), 0);
    free(rel);
    assert_int_equal(lb_container_remove(&f->store, keep->id, &err), 0);
    assert_int_equal(count_records(f), 0);
    lb_container_free(keep);
    lb_container_free(c);
}

static void test_container__remove_refuses_a_mounted_root_and_touches_nothing(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    char *diff = lb_xasprintf("containers/%s/diff/file", c->id);
    lb_unit_write(f->dir, diff, "x", 1);
    char *rootfs = lb_xasprintf("%s/containers/%s/rootfs", f->dir, c->id);
    assert_int_equal(mkdir(rootfs, 0755), 0);
    if (mount("tmpfs", rootfs, "tmpfs", 0, "size=64k") < 0) {
        int e = errno;
        free(diff);
        free(rootfs);
        lb_container_free(c);
        print_message("skipped: cannot mount a tmpfs (%s): not root?\n", strerror(e));
        skip();
    }
    struct lb_error *err = NULL;
    int ret = lb_container_remove(&f->store, c->id, &err);
    bool diff_kept = lb_path_exists_at(f->store.root_fd, diff);
    umount2(rootfs, MNT_DETACH);
    assert_int_equal(ret, -1);
    assert_int_equal(err->code, EBUSY);
    assert_error_contains(err, "'rootfs' is still mounted");
    assert_true(diff_kept);
    struct lb_container *l = lb_container_load(&f->store, c->id, &err);
    assert_non_null(l); /* still a whole record */
    lb_container_free(l);
    assert_int_equal(lb_container_remove(&f->store, c->id, &err), 0); /* unmounted: fine */
    free(diff);
    free(rootfs);
    lb_container_free(c);
}

/* A mount deeper down (not seen before removing starts) stops the removal half-way; config.json
 * goes last, so the record can still be found by name and removed once unmounted. */
static void test_container__remove_stopped_half_way_keeps_config_json(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    char *inner = lb_xasprintf("%s/containers/%s/diff/mnt", f->dir, c->id);
    assert_int_equal(lb_mkdir_p(inner, 0755, NULL), 0);
    if (mount("tmpfs", inner, "tmpfs", 0, "size=64k") < 0) {
        int e = errno;
        free(inner);
        lb_container_free(c);
        print_message("skipped: cannot mount a tmpfs (%s): not root?\n", strerror(e));
        skip();
    }
    struct lb_error *err = NULL;
    int ret = lb_container_remove(&f->store, c->id, &err);
    umount2(inner, MNT_DETACH);
    assert_int_equal(ret, -1);
    assert_error_contains(err, "mount point");
    char *rel = lb_xasprintf("containers/%s/config.json", c->id);
    assert_true(lb_path_exists_at(f->store.root_fd, rel));
    free(rel);
    char id[65];
    assert_int_equal(lb_container_resolve_id(&f->store, "web", id, &err), 0);
    assert_string_equal(id, c->id);
    assert_int_equal(lb_container_remove(&f->store, c->id, &err), 0);
    assert_int_equal(count_records(f), 0);
    free(inner);
    lb_container_free(c);
}

/* --- run options JSON --------------------------------------------------------------------------
 */

static void test_container__opts_json_defaults_and_type_errors(void **state)
{
    (void)state;
    struct lb_run_opts o;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_opts_from_json(&o, NULL, &err), 0);
    assert_null(o.cmd);
    assert_null(o.entrypoint);
    assert_int_equal(o.network, LB_NET_HOST);
    lb_container_opts_release(&o);

    /* NULL opts: defaults; NULL vs empty cmd and entrypoint are kept apart */
    json_t *j = lb_container_opts_to_json(NULL);
    assert_null(json_object_get(j, "Cmd"));
    assert_null(json_object_get(j, "Entrypoint"));
    assert_string_equal(lb_json_str(j, "Network"), "host");
    json_decref(j);
    char *empty[] = {NULL};
    struct lb_run_opts in = {.cmd = empty, .pids_limit = -1};
    j = lb_container_opts_to_json(&in);
    assert_int_equal(lb_container_opts_from_json(&o, j, &err), 0);
    assert_non_null(o.cmd);
    assert_null(o.cmd[0]);
    assert_null(o.entrypoint);
    assert_int_equal(o.pids_limit, -1); /* docker: -1 = unlimited */
    lb_container_opts_release(&o);
    json_decref(j);

    static const struct {
        const char *json, *needle;
    } bad[] = {
        {"{\"Cmd\":\"sh\"}", "'Cmd' is not an array of strings"},
        {"{\"Entrypoint\":[\"sh\"]}", "'Entrypoint' is not a string"},
        {"{\"ReadOnly\":\"yes\"}", "'ReadOnly' is not a boolean"},
        {"{\"Memory\":-1}", "'Memory' is not an integer >= 0"},
        {"{\"PidsLimit\":-2}", "'PidsLimit' is not an integer >= -1"},
        {"{\"Cpus\":true}", "'Cpus' is not a number"},
        {"{\"Network\":\"bridge\"}", "unknown network mode 'bridge'"},
        {"{\"CapDrop\":[\"ALL\",3]}", "'CapDrop' is not an array of strings"},
        {"{\"User\":\"u\",\"Tty\":1}", "'Tty' is not a boolean"},
        {"[1]", "'Options' is not an object"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = json_loads(bad[i].json, 0, NULL);
        assert_non_null(j);
        memset(&o, 0x5a, sizeof(o));
        assert_int_equal(lb_container_opts_from_json(&o, j, &err), -1);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, bad[i].needle);
        assert_null(o.user); /* released on error, nothing leaks or dangles */
        assert_null(o.cmd);
        json_decref(j);
    }
}

/* --- the image-user seam ------------------------------------------------------------------------
 */

static void test_container__image_user_names_a_container_of_the_image(void **state)
{
    struct fixture *f = *state;
    struct lb_digest other;
    lb_digest_buffer(&other, "another config", 14);
    assert_null(lb_container_image_user(&f->store, &f->image)); /* no containers/ at all */
    struct lb_container *c = create_named(f, "web");
    char *user = lb_container_image_user(&f->store, &f->image);
    assert_non_null(user);
    assert_string_equal(user, "web");
    free(user);
    assert_null(lb_container_image_user(&f->store, &other));
    /* any state counts */
    c->state.status = LB_STATE_EXITED;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_save_state(&f->store, c, &err), 0);
    user = lb_container_image_user(&f->store, &f->image);
    assert_string_equal(user, "web");
    free(user);
    /* through the store's seam, as rmi calls it */
    lb_store_set_image_user_check(&f->store, lb_container_image_user, &f->store);
    user = f->store.user_fn(f->store.user_data, &f->image);
    assert_string_equal(user, "web");
    free(user);
    assert_int_equal(lb_container_remove(&f->store, c->id, &err), 0);
    assert_null(lb_container_image_user(&f->store, &f->image));
    lb_container_free(c);
}

/* --- liveness --------------------------------------------------------------------------------- */

/* Field 22 of /proc/PID/stat read by awk (another route than the library's parser; the test
 * binary's comm has no spaces, so awk's field split is right here). */
static uint64_t awk_start_time(pid_t pid)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "awk '{print $22}' /proc/%d/stat", (int)pid);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned long long v = 0;
    assert_int_equal(fscanf(p, "%llu", &v), 1);
    pclose(p);
    return v;
}

static void test_container__parse_stat_splits_at_the_last_paren(void **state)
{
    (void)state;
    /* fields 3..52 after the comm; field 22 = 4242 */
    struct lb_strbuf tail = LB_STRBUF_INIT;
    for (int field = 3; field <= 52; field++) {
        if (field == 3)
            lb_strbuf_adds(&tail, " S");
        else if (field == 22)
            lb_strbuf_adds(&tail, " 4242");
        else
            lb_strbuf_addf(&tail, " %d", field);
    }
    static const char *const comms[] = {"(sh)", "(a b)", "(x) R 9 9)", "(()", "()) (()", "())"};
    for (size_t i = 0; i < sizeof(comms) / sizeof(comms[0]); i++) {
        char *line = lb_xasprintf("123 %s%s\n", comms[i], tail.buf);
        char st = 0;
        uint64_t start = 0;
        struct lb_error *err = NULL;
        if (lb_container_parse_stat(line, &st, &start, &err) != 0)
            fail_msg("comm %s: %s", comms[i], err->msg);
        assert_int_equal(st, 'S');
        assert_int_equal(start, 4242);
        free(line);
    }
    lb_strbuf_release(&tail);

    static const struct {
        const char *line, *needle;
    } bad[] = {
        {"123 sh S 1", "no '(comm)'"},
        {"123 )sh( S 1", "no '(comm)'"},
        {"123 (sh) S 1 2 3", "field 7 is missing"},
        {"123 (sh)S 1", "field 3 is missing"},
        {"123 (sh) SS 1", "bad state field"},
        {"1 (sh) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 4x2", "bad start time"},
        {"1 (sh) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 99999999999999999999999",
         "bad start time"},
        {"", "no '(comm)'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char st = 0;
        uint64_t start = 0;
        struct lb_error *err = NULL;
        assert_int_equal(lb_container_parse_stat(bad[i].line, &st, &start, &err), -1);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, bad[i].needle);
    }
    /* exactly 22 fields is enough */
    char st = 0;
    uint64_t start = 0;
    assert_int_equal(
        lb_container_parse_stat("1 (sh) R 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 77", &st,
                                &start, NULL),
        0);
    assert_int_equal(st, 'R');
    assert_int_equal(start, 77);
}

static void test_container__proc_start_reads_live_and_gone_processes(void **state)
{
    (void)state;
    uint64_t start = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_proc_start(getpid(), &start, &err), 1);
    assert_int_equal(start, awk_start_time(getpid()));
    assert_int_equal(lb_container_proc_start(0, &start, &err), 0);
    assert_int_equal(lb_container_proc_start(-5, &start, &err), 0);
    /* a pid above pid_max never exists */
    assert_int_equal(lb_container_proc_start(0x7ffffff0, &start, &err), 0);
    assert_null(err);
}

/* A child that waits to be killed; *start gets its start time. */
static pid_t spawn_sleeper(uint64_t *start)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_proc_start(pid, start, &err), 1);
    assert_int_equal(*start, awk_start_time(pid));
    return pid;
}

static struct lb_container *running_record(struct fixture *f, const char *name, pid_t pid,
                                           uint64_t start)
{
    struct lb_container *c = create_named(f, name);
    c->state.status = LB_STATE_RUNNING;
    c->state.pid = pid;
    c->state.pid_start = start;
    c->state.exit_code = 0;
    c->state.started = lb_time_now();
    c->state.monitor_pid = 1;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_save_state(&f->store, c, &err), 0);
    return c;
}

static void test_container__check_reports_a_killed_process_as_exited(void **state)
{
    struct fixture *f = *state;
    uint64_t start = 0;
    pid_t pid = spawn_sleeper(&start);
    struct lb_container *c = running_record(f, "web", pid, start);
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_check(&f->store, c, &err), 0); /* alive, same start time */
    assert_int_equal(c->state.status, LB_STATE_RUNNING);

    /* paused is live too */
    c->state.status = LB_STATE_PAUSED;
    assert_int_equal(lb_container_save_state(&f->store, c, &err), 0);
    assert_int_equal(lb_container_check(&f->store, c, &err), 0);
    assert_int_equal(c->state.status, LB_STATE_PAUSED);

    /* killed behind layerbox's back, not yet reaped: a zombie is not running */
    assert_int_equal(kill(pid, SIGKILL), 0);
    char st = 0;
    for (int i = 0; i < 1000 && st != 'Z'; i++) {
        char path[64], buf[512] = "";
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *fp = fopen(path, "r");
        if (fp && fgets(buf, sizeof(buf), fp))
            st = strrchr(buf, ')')[2];
        if (fp)
            fclose(fp);
        usleep(1000);
    }
    assert_int_equal(st, 'Z');
    assert_int_equal(lb_container_check(&f->store, c, &err), 1);
    assert_int_equal(c->state.status, LB_STATE_EXITED);
    assert_int_equal(c->state.exit_code, -1);
    assert_int_equal(c->state.monitor_pid, 0);
    assert_true(c->state.finished.sec >= c->state.started.sec);
    /* saved: a fresh load agrees */
    struct lb_container *l = lb_container_load(&f->store, c->id, &err);
    assert_int_equal(l->state.status, LB_STATE_EXITED);
    assert_int_equal(l->state.exit_code, -1);
    /* checking again changes nothing */
    assert_int_equal(lb_container_check(&f->store, l, &err), 0);
    lb_container_free(l);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    lb_container_free(c);
}

static void test_container__check_reports_a_reaped_process_as_exited(void **state)
{
    struct fixture *f = *state;
    uint64_t start = 0;
    pid_t pid = spawn_sleeper(&start);
    struct lb_container *c = running_record(f, "web", pid, start);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_check(&f->store, c, &err), 1);
    assert_int_equal(c->state.status, LB_STATE_EXITED);
    lb_container_free(c);
}

static void test_container__check_reports_a_reused_pid_as_exited(void **state)
{
    struct fixture *f = *state;
    /* our own pid is alive, but the recorded start time is another process's (as after a
     * reboot, when the pid now belongs to someone else) */
    uint64_t mine = awk_start_time(getpid());
    struct lb_container *c = running_record(f, "web", getpid(), mine + 1);
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_check(&f->store, c, &err), 1);
    assert_int_equal(c->state.status, LB_STATE_EXITED);
    assert_int_equal(c->state.exit_code, -1);
    lb_container_free(c);

    /* with the right start time it is running; with pid 0 it is not */
    c = running_record(f, "mine", getpid(), mine);
    assert_int_equal(lb_container_check(&f->store, c, &err), 0);
    assert_int_equal(c->state.status, LB_STATE_RUNNING);
    lb_container_free(c);
    c = running_record(f, "nopid", 0, 0);
    assert_int_equal(lb_container_check(&f->store, c, &err), 1);
    assert_int_equal(c->state.status, LB_STATE_EXITED);
    lb_container_free(c);
}

static void test_container__check_leaves_not_live_states_and_reads_the_monitors_word(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = create_named(f, "web");
    struct lb_error *err = NULL;
    /* created: nothing to check, even with a stale pid in memory */
    c->state.pid = 0x7ffffff0;
    assert_int_equal(lb_container_check(&f->store, c, &err), 0);
    assert_int_equal(c->state.status, LB_STATE_CREATED);
    lb_container_free(c);

    /* in memory running, but the monitor has written the end meanwhile: that wins */
    uint64_t start = 0;
    pid_t pid = spawn_sleeper(&start);
    c = running_record(f, "mon", pid, start);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    write_record_file(f, c->id, "state.json",
                      "{\"Status\":\"exited\",\"ExitCode\":3,\"Pid\":1,\"PidStartTime\":2}");
    assert_int_equal(lb_container_check(&f->store, c, &err), 0);
    assert_int_equal(c->state.status, LB_STATE_EXITED);
    assert_int_equal(c->state.exit_code, 3);

    /* a corrupt state.json on disk is an error, not a guess */
    c->state.status = LB_STATE_RUNNING;
    write_record_file(f, c->id, "state.json", "{");
    assert_int_equal(lb_container_check(&f->store, c, &err), -1);
    assert_error_contains(err, "corrupt state.json");
    lb_container_free(c);
}

static void test_container__record_exit_is_the_monitors_word_for_its_own_run(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = running_record(f, "web", 4242, 99);
    struct lb_error *err = NULL;
    /* another run's process: ignored */
    assert_int_equal(lb_container_record_exit(&f->store, c, 4242, 98, 1, false, &err), 0);
    assert_int_equal(lb_container_record_exit(&f->store, c, 4243, 99, 1, false, &err), 0);
    assert_int_equal(c->state.status, LB_STATE_RUNNING);
    /* its own: recorded */
    assert_int_equal(lb_container_record_exit(&f->store, c, 4242, 99, 137, true, &err), 1);
    assert_int_equal(c->state.status, LB_STATE_EXITED);
    assert_int_equal(c->state.exit_code, 137);
    assert_true(c->state.oom_killed);
    assert_int_equal(c->state.monitor_pid, 0);
    json_t *j = load_record_file(f, c->id, "state.json");
    assert_int_equal(lb_json_int(j, "ExitCode", 0), 137);
    json_decref(j);
    /* recorded once: a second report changes nothing */
    assert_int_equal(lb_container_record_exit(&f->store, c, 4242, 99, 5, false, &err), 0);
    assert_int_equal(c->state.exit_code, 137);
    lb_container_free(c);

    /* the liveness check got there first (exit code unknown): the monitor fills it in */
    c = running_record(f, "late", 0x7ffffff0, 5);
    assert_int_equal(lb_container_check(&f->store, c, &err), 1);
    assert_int_equal(c->state.exit_code, -1);
    assert_int_equal(lb_container_record_exit(&f->store, c, 0x7ffffff0, 5, 2, false, &err), 1);
    assert_int_equal(c->state.exit_code, 2);
    assert_int_equal(c->state.status, LB_STATE_EXITED);

    /* a removed record: an error */
    assert_int_equal(lb_container_remove(&f->store, c->id, &err), 0);
    assert_int_equal(lb_container_record_exit(&f->store, c, 0x7ffffff0, 5, 2, false, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    lb_error_clear(&err);
    lb_container_free(c);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

LB_UNIT_MAIN(T(test_container__create_writes_config_and_state_atomically),
             T(test_container__create_strips_slash_and_generates_names),
             T(test_container__create_refuses_bad_and_taken_names),
             T(test_container__create_removes_leftover_staging),
             T(test_container__twenty_concurrent_creates_of_one_name_give_one_success),
             T(test_container__concurrent_creates_without_names_all_get_distinct_names),
             T(test_container__load_reports_missing_records_as_not_found),
             T(test_container__load_takes_an_empty_state_as_created),
             T(test_container__an_rm_record_emptied_by_a_crash_is_no_container),
             T(test_container__tombstone_keeps_an_exit_code_and_ages_out),
             T(test_container__load_rejects_corrupt_files),
             T(test_container__list_is_newest_first_and_skips_broken_records),
             T(test_container__resolves_id_then_name_then_unique_prefix),
             T(test_container__save_state_round_trips_and_needs_the_record),
             T(test_container__rename_checks_and_keeps_the_rest_of_config),
             T(test_container__remove_deletes_the_whole_record),
             T(test_container__remove_refuses_a_mounted_root_and_touches_nothing),
             T(test_container__remove_stopped_half_way_keeps_config_json),
             T(test_container__opts_json_defaults_and_type_errors),
             T(test_container__image_user_names_a_container_of_the_image),
             T(test_container__parse_stat_splits_at_the_last_paren),
             T(test_container__proc_start_reads_live_and_gone_processes),
             T(test_container__check_reports_a_killed_process_as_exited),
             T(test_container__check_reports_a_reaped_process_as_exited),
             T(test_container__check_reports_a_reused_pid_as_exited),
             T(test_container__check_leaves_not_live_states_and_reads_the_monitors_word),
             T(test_container__record_exit_is_the_monitors_word_for_its_own_run))
