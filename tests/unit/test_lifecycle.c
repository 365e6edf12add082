/* test_lifecycle.c — what the container commands call: docker's Path/Args merge (every rule and
 * its errors), create's failures leaving nothing, remove with and without force (a real process
 * as the "container" for the running case), start of a container whose image is gone, the
 * inspect object of a record, and the image-user seam. Running real containers is the CLI
 * tests' job (tests/integration/t2000-run.bats and on). */
#include "unit.h"

#include "container/lifecycle.h"
#include "core/cleanup.h"
#include "core/json.h"
#include "core/lock.h"
#include "image/archive.h"
#include "layer/driver.h"
#include "layer/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/mman.h>
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

/* --- lb_lifecycle_root_open / _release (needs root and overlayfs) ----------------------- */

/* Skip unless we are root and the store's driver is overlay. */
static void need_overlay(struct fixture *f)
{
    if (geteuid() != 0)
        skip();
    const struct lb_driver *d = NULL;
    struct lb_error *err = NULL;
    if (lb_store_driver(&f->store, &d, &err) < 0 || strcmp(d->name, "overlay") != 0) {
        lb_error_free(err);
        skip();
    }
}

/* Import a one-layer image "rootimg:1" holding etc/hello = "hello\n"; *out gets it. */
static struct lb_image *import_image(struct fixture *f)
{
    int fd = memfd_create("layer", MFD_CLOEXEC);
    assert_true(fd >= 0);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    struct lb_tar_header d = {.path = "etc/", .mode = S_IFDIR | 0755, .mtime = 1000};
    struct lb_tar_header h = {
        .path = "etc/hello", .mode = S_IFREG | 0644, .mtime = 1000, .size = 6};
    if (lb_tar_writer_init(&w, fd, NULL, &err) < 0 || lb_tar_write_header(&w, &d, &err) < 0 ||
        lb_tar_write_header(&w, &h, &err) < 0 || lb_tar_write_data(&w, "hello\n", 6, &err) < 0 ||
        lb_tar_finish(&w, &err) < 0)
        fail_msg("tar: %s", err->msg);
    lb_tar_writer_release(&w);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    struct lb_import_opts o = {.ref = "rootimg:1", .source = "-"};
    struct lb_digest id;
    if (lb_archive_import(&f->store, fd, &o, &id, &err) < 0)
        fail_msg("import: %s", err->msg);
    close(fd);
    struct lb_image *img = lb_store_resolve(&f->store, "rootimg:1", &err);
    assert_non_null(img);
    return img;
}

static struct lb_container *create_from(struct fixture *f, const char *name)
{
    char *cmd[] = {"true", NULL};
    struct lb_run_opts o = {.cmd = cmd};
    struct lb_create_request req = {
        .image = "rootimg:1", .name = name, .opts = &o, .stop_timeout = -1};
    struct lb_error *err = NULL;
    struct lb_container *c = lb_lifecycle_create(&f->store, &req, &err);
    if (c == NULL)
        fail_msg("create: %s", err->msg);
    return c;
}

static bool is_mounted(const char *path)
{
    bool m = false;
    struct lb_error *err = NULL;
    if (lb_driver_is_mounted(&lb_driver_overlay, path, &m, &err) < 0)
        fail_msg("is_mounted: %s", err->msg);
    return m;
}

/* Is ROOT/lock free for another open file description (as another process would see it)? */
static bool lock_is_free(struct fixture *f)
{
    _cleanup_free_ char *path = lb_path_join(f->dir, "lock");
    struct lb_error *err = NULL;
    int fd = lb_lock_try(path, true, &err);
    if (fd < 0) {
        assert_int_equal(err->code, EWOULDBLOCK);
        lb_error_free(err);
        return false;
    }
    lb_lock_release(fd);
    return true;
}

static void assert_hello(int rootfd)
{
    char buf[16] = "";
    _cleanup_close_ int fd = openat(rootfd, "etc/hello", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), 6);
    assert_string_equal(buf, "hello\n");
}

static void test_lifecycle__root_open_mounts_a_stopped_container_under_the_lock(void **state)
{
    struct fixture *f = *state;
    need_overlay(f);
    struct lb_image *img = import_image(f);
    struct lb_container *c = create_from(f, "stopped");
    _cleanup_free_ char *target = lb_xasprintf("%s/containers/%s/rootfs", f->dir, c->id);
    _cleanup_free_ char *upper = lb_xasprintf("%s/containers/%s/diff", f->dir, c->id);
    assert_false(is_mounted(target));
    assert_true(lock_is_free(f));

    struct lb_container_root r;
    struct lb_error *err = NULL;
    if (lb_lifecycle_root_open(&f->store, c, &r, &err) < 0)
        fail_msg("root_open: %s", err->msg);
    assert_false(r.running);
    assert_true(is_mounted(target));
    assert_string_equal(r.path, target);
    assert_string_equal(r.upper, upper);
    assert_int_equal(r.n_layers, 1);
    assert_hello(r.fd);
    /* the layer fd is the image's layer directory: it has etc/hello too */
    assert_hello(r.layer_fds[0]);
    /* a write through the root lands in the writable layer */
    assert_int_equal(mkdirat(r.fd, "made", 0755), 0);
    assert_false(lock_is_free(f)); /* nobody can start, rm or mount it meanwhile */

    assert_int_equal(lb_lifecycle_root_release(&r, &err), 0);
    assert_null(err);
    assert_int_equal(r.fd, -1);
    assert_null(r.path);
    assert_false(is_mounted(target));
    assert_true(lock_is_free(f));
    assert_int_equal(f->store.lock_depth, 0);
    struct stat st;
    _cleanup_free_ char *made = lb_xasprintf("%s/made", upper);
    assert_int_equal(stat(made, &st), 0);
    lb_container_free(c);
    lb_image_free(img);
}

static void test_lifecycle__root_open_uses_a_running_containers_mount_as_it_is(void **state)
{
    struct fixture *f = *state;
    need_overlay(f);
    struct lb_image *img = import_image(f);
    struct lb_container *c = create_from(f, "running");
    _cleanup_free_ char *target = lb_xasprintf("%s/containers/%s/rootfs", f->dir, c->id);
    _cleanup_free_ char *upper = lb_xasprintf("%s/containers/%s/diff", f->dir, c->id);
    _cleanup_free_ char *work = lb_xasprintf("%s/containers/%s/work", f->dir, c->id);
    /* mount it as start does, and make it "run" */
    struct lb_mount_request req = {.root_fd = f->store.root_fd,
                                   .root = f->dir,
                                   .layers = &img->layers[0].chain_id,
                                   .n_layers = 1,
                                   .upper = upper,
                                   .work = work,
                                   .target = target};
    struct lb_error *err = NULL;
    if (lb_driver_overlay.mount(&req, &err) < 0)
        fail_msg("mount: %s", err->msg);
    pid_t pid = fake_running(f, c);

    struct lb_container_root r;
    if (lb_lifecycle_root_open(&f->store, c, &r, &err) < 0)
        fail_msg("root_open: %s", err->msg);
    assert_true(r.running);
    assert_hello(r.fd);
    assert_true(lock_is_free(f)); /* a running container's mount is its own: no lock kept */
    assert_int_equal(lb_lifecycle_root_release(&r, &err), 0);
    assert_true(is_mounted(target)); /* not ours to unmount */
    assert_int_equal(f->store.lock_depth, 0);

    assert_int_equal(lb_driver_overlay.umount(&req, &err), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    lb_container_free(c);
    lb_image_free(img);
}

static void test_lifecycle__root_open_without_the_image_is_a_clear_error(void **state)
{
    struct fixture *f = *state;
    need_overlay(f);
    struct lb_image *img = import_image(f);
    struct lb_container *c = create_from(f, "orphaned");
    _cleanup_free_ char *target = lb_xasprintf("%s/containers/%s/rootfs", f->dir, c->id);
    struct lb_error *err = NULL;
    assert_int_equal(lb_store_lock(&f->store, &err), 0);
    assert_int_equal(lb_store_delete_image(&f->store, img, &err), 0);
    lb_store_unlock(&f->store);

    struct lb_container_root r;
    assert_int_equal(lb_lifecycle_root_open(&f->store, c, &r, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_NOT_FOUND);
    assert_error_contains(err, "the image of container 'orphaned' is gone");
    assert_int_equal(r.fd, -1);
    assert_false(is_mounted(target));
    assert_true(lock_is_free(f));
    assert_int_equal(f->store.lock_depth, 0);
    lb_container_free(c);
    lb_image_free(img);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

LB_UNIT_MAIN(T(test_lifecycle__argv_follows_dockers_entrypoint_and_cmd_rules),
             T(test_lifecycle__argv_errors_name_the_problem),
             T(test_lifecycle__create_of_an_unknown_image_leaves_nothing),
             T(test_lifecycle__remove_of_created_and_unknown_containers),
             T(test_lifecycle__remove_of_a_running_container_needs_force_and_kills_it),
             T(test_lifecycle__start_without_the_image_fails_with_125_and_changes_nothing),
             T(test_lifecycle__inspect_has_dockers_shape),
             T(test_lifecycle__register_makes_rmi_see_the_containers),
             T(test_lifecycle__root_open_mounts_a_stopped_container_under_the_lock),
             T(test_lifecycle__root_open_uses_a_running_containers_mount_as_it_is),
             T(test_lifecycle__root_open_without_the_image_is_a_clear_error))
