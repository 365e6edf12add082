/* test_lifecycle.c — what the container commands call: docker's Path/Args merge (every rule and
 * its errors), create's failures leaving nothing, remove with and without force (a real process
 * as the "container" for the running case), start of a container whose image is gone, the
 * inspect object of a record, and the image-user seam. Running real containers is the CLI
 * tests' job (tests/integration/t2000-run.bats and on). */
#include "unit.h"

#include "container/lifecycle.h"
#include "core/cleanup.h"
#include "core/json.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
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
    lb_store_set_image_user_check(&f->store, NULL, NULL);
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

/* argv of lb_lifecycle_argv joined with '|', or "ERR:<message>". */
static char *merged(const char *config_json, const char *entrypoint, char **cmd)
{
    json_t *config = config_json ? json_loads(config_json, 0, NULL) : NULL;
    struct lb_run_opts o = {.entrypoint = entrypoint, .cmd = cmd};
    char **argv = NULL;
    struct lb_error *err = NULL;
    char *out;
    if (lb_lifecycle_argv(&argv, config, &o, &err) < 0) {
        out = lb_xasprintf("ERR:%d:%s", err->kind, err->msg);
        lb_error_free(err);
        assert_null(argv);
    } else {
        struct lb_strbuf sb = {0};
        for (size_t i = 0; argv[i]; i++)
            lb_strbuf_addf(&sb, "%s%s", i ? "|" : "", argv[i]);
        out = lb_strbuf_detach(&sb);
        lb_strv_free(argv);
    }
    json_decref(config);
    return out;
}

#define ASSERT_MERGE(expected, config, entry, cmd)                                                 \
    do {                                                                                           \
        char *got_ = merged((config), (entry), (cmd));                                             \
        assert_string_equal(got_, (expected));                                                     \
        free(got_);                                                                                \
    } while (0)

static void test_lifecycle__argv_follows_dockers_entrypoint_and_cmd_rules(void **state)
{
    (void)state;
    char *sh_c[] = {"sh", "-c", "x", NULL};
    char *empty[] = {NULL};
    ASSERT_MERGE("/bin/sh", "{\"Cmd\":[\"/bin/sh\"]}", NULL, NULL);
    ASSERT_MERGE("/bin/sh", "{\"Cmd\":[\"/bin/sh\"]}", NULL, empty); /* empty = none given */
    ASSERT_MERGE("sh|-c|x", "{\"Cmd\":[\"/bin/sh\"]}", NULL, sh_c);
    ASSERT_MERGE("/ep|a|/bin/sh", "{\"Entrypoint\":[\"/ep\",\"a\"],\"Cmd\":[\"/bin/sh\"]}", NULL,
                 NULL);
    ASSERT_MERGE("/ep|sh|-c|x", "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"/bin/sh\"]}", NULL, sh_c);
    /* any --entrypoint drops the image's Cmd; "" is no entrypoint at all */
    ASSERT_MERGE("/other", "{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"/bin/sh\"]}", "/other", NULL);
    ASSERT_MERGE("/other|sh|-c|x", "{\"Cmd\":[\"/bin/sh\"]}", "/other", sh_c);
    ASSERT_MERGE("sh|-c|x", "{\"Entrypoint\":[\"/ep\"]}", "", sh_c);
    /* an image entrypoint of [""] is none; null values are absent */
    ASSERT_MERGE("/bin/sh", "{\"Entrypoint\":[\"\"],\"Cmd\":[\"/bin/sh\"]}", NULL, NULL);
    ASSERT_MERGE("/bin/sh", "{\"Entrypoint\":null,\"Cmd\":[\"/bin/sh\"]}", NULL, NULL);
}

static void test_lifecycle__argv_errors_name_the_problem(void **state)
{
    (void)state;
    char buf[128];
    snprintf(buf, sizeof(buf), "ERR:%d:no command specified", LB_EKIND_USAGE);
    ASSERT_MERGE(buf, NULL, NULL, NULL);
    ASSERT_MERGE(buf, "{}", NULL, NULL);
    ASSERT_MERGE(buf, "{\"Cmd\":[\"/bin/sh\"]}", "", NULL);
    ASSERT_MERGE(buf, "{\"Entrypoint\":[\"\"]}", NULL, NULL);
    snprintf(buf, sizeof(buf), "ERR:%d:image config: 'Cmd' is not a list of strings",
             LB_EKIND_INVALID);
    ASSERT_MERGE(buf, "{\"Cmd\":\"/bin/sh\"}", NULL, NULL);
    ASSERT_MERGE(buf, "{\"Cmd\":[\"/bin/sh\", 3]}", NULL, NULL);
    snprintf(buf, sizeof(buf), "ERR:%d:image config: 'Entrypoint' is not a list of strings",
             LB_EKIND_INVALID);
    ASSERT_MERGE(buf, "{\"Entrypoint\":{}}", NULL, NULL);
}

/* Entries in ROOT/containers (0 when it does not exist). */
static size_t count_records(struct fixture *f)
{
    _cleanup_free_ char *p = lb_path_join(f->dir, "containers");
    DIR *d = opendir(p);
    if (d == NULL)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_lifecycle__create_of_an_unknown_image_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct lb_error *err = NULL;
    struct lb_create_request req = {.image = "no-such-image", .name = "x", .stop_timeout = -1};
    assert_null(lb_lifecycle_create(&f->store, &req, &err));
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "no such image: 'no-such-image'");
    assert_int_equal(count_records(f), 0);
    assert_int_equal(f->store.lock_depth, 0);
}

/* A bare record (no image in the store), as lb_container_create makes it. */
static struct lb_container *record(struct fixture *f, const char *name)
{
    char *args[] = {"echo", "hi", NULL};
    struct lb_run_opts o = {.workdir = "/w", .memory_bytes = 1 << 24};
    struct lb_container_spec spec = {.name = name,
                                     .image_id = &f->image,
                                     .image = "img",
                                     .path = "lb-init",
                                     .args = args,
                                     .opts = &o,
                                     .stop_timeout = -1};
    struct lb_error *err = NULL;
    struct lb_container *c = lb_container_create(&f->store, &spec, &err);
    if (c == NULL)
        fail_msg("create: %s", err->msg);
    return c;
}

static void test_lifecycle__remove_of_created_and_unknown_containers(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = record(f, "gone");
    struct lb_error *err = NULL;
    char id[LB_CONTAINER_ID_LEN + 1] = "";
    assert_int_equal(lb_lifecycle_remove(&f->store, "gone", false, id, &err), 0);
    assert_null(err);
    assert_string_equal(id, c->id);
    assert_int_equal(count_records(f), 0);
    assert_int_equal(lb_lifecycle_remove(&f->store, "gone", false, NULL, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "no such container: 'gone'");
    assert_int_equal(f->store.lock_depth, 0);
    lb_container_free(c);
}

/* Record c as running with a real process (a sleeping child) as its container. */
static pid_t fake_running(struct fixture *f, struct lb_container *c)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pause();
        _exit(0);
    }
    uint64_t start = 0;
    struct lb_error *err = NULL;
    assert_int_equal(lb_container_proc_start(pid, &start, &err), 1);
    c->state.status = LB_STATE_RUNNING;
    c->state.pid = pid;
    c->state.pid_start = start;
    assert_int_equal(lb_container_save_state(&f->store, c, &err), 0);
    return pid;
}

static void test_lifecycle__remove_of_a_running_container_needs_force_and_kills_it(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = record(f, "busy");
    pid_t pid = fake_running(f, c);
    struct lb_error *err = NULL;
    assert_int_equal(lb_lifecycle_remove(&f->store, "busy", false, NULL, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_CONFLICT);
    assert_error_contains(err, "cannot remove running container 'busy': stop it first or use -f");
    assert_int_equal(count_records(f), 1);
    assert_int_equal(kill(pid, 0), 0); /* untouched */

    assert_int_equal(lb_lifecycle_remove(&f->store, c->id, true, NULL, &err), 0);
    assert_null(err);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(count_records(f), 0);
    lb_container_free(c);
}

static void test_lifecycle__start_without_the_image_fails_with_125_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = record(f, "orphan");
    struct lb_error *err = NULL;
    int code = 0;
    assert_int_equal(lb_lifecycle_start_foreground(&f->store, c, NULL, &code, &err), -1);
    assert_int_equal(code, 125);
    assert_error_contains(err, "no such image");
    struct lb_container *again = lb_container_load(&f->store, c->id, &err);
    assert_non_null(again);
    assert_int_equal(again->state.status, LB_STATE_CREATED);
    assert_int_equal(again->state.pid, 0);
    assert_int_equal(f->store.lock_depth, 0);
    lb_container_free(again);

    /* a running container cannot be started again: the state machine says so first */
    pid_t pid = fake_running(f, c);
    assert_int_equal(lb_lifecycle_start_foreground(&f->store, c, NULL, &code, &err), -1);
    assert_int_equal(code, 125);
    assert_error_contains(err, "container 'orphan' is already running");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    lb_container_free(c);
}

static void test_lifecycle__inspect_has_dockers_shape(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = record(f, "web");
    json_t *j = lb_lifecycle_inspect_json(&f->store, c);
    assert_string_equal(lb_json_str(j, "Id"), c->id);
    assert_string_equal(lb_json_str(j, "Name"), "/web");
    assert_string_equal(lb_json_str(j, "Path"), "lb-init");
    assert_string_equal(lb_json_str(j, "Image"), f->image.str);
    json_t *args = lb_json_arr(j, "Args");
    assert_int_equal(json_array_size(args), 2);
    assert_string_equal(json_string_value(json_array_get(args, 1)), "hi");
    json_t *st = lb_json_obj(j, "State");
    assert_string_equal(lb_json_str(st, "Status"), "created");
    assert_true(json_is_false(json_object_get(st, "Running")));
    assert_true(json_is_false(json_object_get(st, "OOMKilled")));
    assert_int_equal(lb_json_int(st, "Pid", -5), 0);
    assert_int_equal(lb_json_int(st, "ExitCode", -5), 0);
    assert_string_equal(lb_json_str(st, "StartedAt"), "0001-01-01T00:00:00Z");
    assert_string_equal(lb_json_str(st, "FinishedAt"), "0001-01-01T00:00:00Z");
    assert_int_equal(lb_json_int(lb_json_obj(j, "HostConfig"), "Memory", 0), 1 << 24);
    assert_string_equal(lb_json_str(lb_json_obj(j, "Config"), "WorkingDir"), "/w");
    assert_string_equal(lb_json_str(lb_json_obj(j, "Config"), "Image"), "img");
    char host[13];
    snprintf(host, sizeof(host), "%.12s", c->id);
    assert_string_equal(lb_json_str(lb_json_obj(j, "Config"), "Hostname"), host);
    assert_int_equal(json_array_size(lb_json_arr(j, "Mounts")), 0);
    json_t *data = lb_json_obj(lb_json_obj(j, "GraphDriver"), "Data");
    _cleanup_free_ char *upper = lb_xasprintf("%s/containers/%s/diff", f->dir, c->id);
    _cleanup_free_ char *merged_dir = lb_xasprintf("%s/containers/%s/rootfs", f->dir, c->id);
    assert_string_equal(lb_json_str(data, "UpperDir"), upper);
    assert_string_equal(lb_json_str(data, "MergedDir"), merged_dir);
    assert_string_equal(lb_json_str(data, "LowerDir"), ""); /* the image is not in the store */
    json_decref(j);
    lb_container_free(c);
}

static void test_lifecycle__register_makes_rmi_see_the_containers(void **state)
{
    struct fixture *f = *state;
    struct lb_container *c = record(f, "user");
    lb_lifecycle_register(&f->store);
    assert_non_null(f->store.user_fn);
    char *who = f->store.user_fn(f->store.user_data, &f->image);
    assert_string_equal(who, "user");
    free(who);
    struct lb_digest other;
    lb_digest_buffer(&other, "x", 1);
    assert_null(f->store.user_fn(f->store.user_data, &other));
    lb_container_free(c);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

LB_UNIT_MAIN(T(test_lifecycle__argv_follows_dockers_entrypoint_and_cmd_rules),
             T(test_lifecycle__argv_errors_name_the_problem),
             T(test_lifecycle__create_of_an_unknown_image_leaves_nothing),
             T(test_lifecycle__remove_of_created_and_unknown_containers),
             T(test_lifecycle__remove_of_a_running_container_needs_force_and_kills_it),
             T(test_lifecycle__start_without_the_image_fails_with_125_and_changes_nothing),
             T(test_lifecycle__inspect_has_dockers_shape),
             T(test_lifecycle__register_makes_rmi_see_the_containers))
