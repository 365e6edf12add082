/* test_commit.c — commit's pure part (the new image config from the parent's) and the cgroup
 * freezer it pauses a running container with (in a fake cgroup tree; the real one when root
 * and a v1 freezer are there). */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/commit.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/util.h"
#include "runtime/cgroup.h"
#include "runtime/sys.h"

static const char parent_text[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"comment\":\"Imported from x\","
    "\"created\":\"2024-01-01T00:00:00Z\","
    "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"/bin/sh\"]},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
    "1111111111111111111111111111111111111111111111111111111111111111\"]},"
    "\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"ADD x /\"}]}";

static json_t *parent_config(void)
{
    json_error_t je;
    json_t *j = json_loads(parent_text, 0, &je);
    if (j == NULL)
        fail_msg("bad test JSON: %s", je.text);
    return j;
}

static const struct lb_commit_facts facts = {.container_id = "c0ffee",
                                             .created_by = "sh -c echo hi > /f",
                                             .created = "2026-01-02T03:04:05Z"};

static void digest_of(struct lb_digest *d, char ch)
{
    char hex[65];
    memset(hex, ch, 64);
    hex[64] = '\0';
    struct lb_error *err = NULL;
    if (lb_digest_from_hex(d, hex, &err) < 0)
        fail_msg("%s", err->msg);
}

static void test_commit__config_adds_the_diff_id_history_author_comment_and_container(void **state)
{
    (void)state;
    _cleanup_json_ json_t *parent = parent_config();
    _cleanup_free_ char *before = lb_json_dump(parent);
    struct lb_digest d;
    digest_of(&d, '2');
    struct lb_commit_opts o = {.message = "msg", .author = "me <me@x>"};
    struct lb_error *err = NULL;
    _cleanup_json_ json_t *cfg = lb_commit_config(parent, &o, &facts, &d, &err);
    assert_non_null(cfg);

    json_t *ids = lb_json_arr(lb_json_obj(cfg, "rootfs"), "diff_ids");
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(json_string_value(json_array_get(ids, 0)),
                        "sha256:1111111111111111111111111111111111111111111111111111111111111111");
    assert_string_equal(json_string_value(json_array_get(ids, 1)),
                        "sha256:2222222222222222222222222222222222222222222222222222222222222222");
    assert_string_equal(lb_json_str(cfg, "author"), "me <me@x>");
    assert_string_equal(lb_json_str(cfg, "comment"), "msg");
    assert_string_equal(lb_json_str(cfg, "container"), "c0ffee");
    assert_string_equal(lb_json_str(cfg, "created"), "2026-01-02T03:04:05Z");
    assert_string_equal(lb_json_str(cfg, "architecture"), "amd64");

    json_t *hist = lb_json_arr(cfg, "history");
    assert_int_equal(json_array_size(hist), 2);
    assert_string_equal(lb_json_str(json_array_get(hist, 0), "created_by"), "ADD x /");
    json_t *h = json_array_get(hist, 1);
    assert_string_equal(lb_json_str(h, "created_by"), "sh -c echo hi > /f");
    assert_string_equal(lb_json_str(h, "created"), "2026-01-02T03:04:05Z");
    assert_string_equal(lb_json_str(h, "author"), "me <me@x>");
    assert_string_equal(lb_json_str(h, "comment"), "msg");
    assert_null(json_object_get(h, "empty_layer"));
    assert_int_equal(json_object_size(h), 4);

    /* the parent is not touched */
    _cleanup_free_ char *after = lb_json_dump(parent);
    assert_string_equal(before, after);
}

static void test_commit__config_without_message_or_author_drops_the_parent_s(void **state)
{
    (void)state;
    _cleanup_json_ json_t *parent = parent_config();
    json_object_set_new(parent, "author", json_string("parent author"));
    struct lb_commit_opts o = {0};
    struct lb_error *err = NULL;
    _cleanup_json_ json_t *cfg = lb_commit_config(parent, &o, &facts, NULL, &err);
    assert_non_null(cfg);
    assert_null(json_object_get(cfg, "author"));
    assert_null(json_object_get(cfg, "comment"));
    json_t *h = json_array_get(lb_json_arr(cfg, "history"), 1);
    assert_int_equal(json_object_size(h), 2); /* created, created_by: omitempty */
    /* diff_id NULL: rootfs as the parent's */
    assert_int_equal(json_array_size(lb_json_arr(lb_json_obj(cfg, "rootfs"), "diff_ids")), 1);
}

static void test_commit__config_applies_the_changes_in_order(void **state)
{
    (void)state;
    _cleanup_json_ json_t *parent = parent_config();
    char *changes[] = {"CMD [\"x\"]", "ENV A=1", "WORKDIR /w", "LABEL k=v", NULL};
    struct lb_commit_opts o = {.changes = changes};
    struct lb_digest d;
    digest_of(&d, 'a');
    struct lb_error *err = NULL;
    _cleanup_json_ json_t *cfg = lb_commit_config(parent, &o, &facts, &d, &err);
    assert_non_null(cfg);
    json_t *c = lb_json_obj(cfg, "config");
    _cleanup_free_ char *cmd = lb_json_dump(json_object_get(c, "Cmd"));
    assert_string_equal(cmd, "[\"x\"]");
    _cleanup_free_ char *env = lb_json_dump(json_object_get(c, "Env"));
    assert_string_equal(env, "[\"PATH=/bin\",\"A=1\"]");
    assert_string_equal(lb_json_str(c, "WorkingDir"), "/w");
    assert_string_equal(lb_json_str(lb_json_obj(c, "Labels"), "k"), "v");
}

static void test_commit__config_refuses_a_bad_change(void **state)
{
    (void)state;
    _cleanup_json_ json_t *parent = parent_config();
    char *changes[] = {"ENV A=1", "FROB x", NULL};
    struct lb_commit_opts o = {.changes = changes};
    struct lb_error *err = NULL;
    assert_null(lb_commit_config(parent, &o, &facts, NULL, &err));
    assert_error_contains(err, "FROB");
    lb_error_free(err);
}

static void test_commit__config_refuses_a_parent_with_mistyped_rootfs_or_history(void **state)
{
    (void)state;
    struct lb_commit_opts o = {0};
    struct lb_digest d;
    digest_of(&d, 'b');
    struct lb_error *err = NULL;

    _cleanup_json_ json_t *p1 = parent_config();
    json_object_set_new(lb_json_obj(p1, "rootfs"), "diff_ids", json_string("x"));
    assert_null(lb_commit_config(p1, &o, &facts, &d, &err));
    assert_error_contains(err, "diff_ids");
    lb_error_free(err);
    err = NULL;

    _cleanup_json_ json_t *p2 = parent_config();
    json_object_set_new(p2, "history", json_object());
    assert_null(lb_commit_config(p2, &o, &facts, &d, &err));
    assert_error_contains(err, "history");
    lb_error_free(err);
    err = NULL;

    _cleanup_json_ json_t *p3 = json_array();
    assert_null(lb_commit_config(p3, &o, &facts, &d, &err));
    assert_error_contains(err, "not an object");
    lb_error_free(err);
}

static void test_commit__config_makes_rootfs_and_history_when_the_parent_has_none(void **state)
{
    (void)state;
    _cleanup_json_ json_t *parent = json_object();
    struct lb_commit_opts o = {0};
    struct lb_digest d;
    digest_of(&d, 'c');
    struct lb_error *err = NULL;
    _cleanup_json_ json_t *cfg = lb_commit_config(parent, &o, &facts, &d, &err);
    assert_non_null(cfg);
    json_t *rootfs = lb_json_obj(cfg, "rootfs");
    assert_string_equal(lb_json_str(rootfs, "type"), "layers");
    assert_int_equal(json_array_size(lb_json_arr(rootfs, "diff_ids")), 1);
    assert_int_equal(json_array_size(lb_json_arr(cfg, "history")), 1);
}

static void test_commit__created_by_joins_path_and_args_as_docker(void **state)
{
    (void)state;
    char *args[] = {"-c", "echo hi > /f", NULL};
    struct lb_container c = {.path = "sh", .args = args};
    _cleanup_free_ char *s = lb_commit_created_by(&c);
    assert_string_equal(s, "sh -c echo hi > /f");
    char *none[] = {NULL};
    struct lb_container c2 = {.path = "/bin/true", .args = none};
    _cleanup_free_ char *s2 = lb_commit_created_by(&c2);
    assert_string_equal(s2, "/bin/true");
}

/* --- the freezer in a fake cgroup tree ---------------------------------------------------- */

struct fake {
    bool v2_events; /* a write of cgroup.freeze updates cgroup.events, as the kernel does */
    int writes;
    char last_write[256];
};

static int fake_hook(const struct lb_sys_call *c, void *data)
{
    struct fake *f = data;
    if (c->op == LB_SYS_CGROUP_RMDIR) { /* a cgroup fs removes the control files too */
        struct lb_error *e = NULL;
        int rc = lb_rm_tree_at(AT_FDCWD, c->path, &e);
        lb_error_free(e);
        return rc;
    }
    if (c->op == LB_SYS_CGROUP_WRITE) {
        f->writes++;
        snprintf(f->last_write, sizeof(f->last_write), "%s", c->source);
        if (f->v2_events && lb_str_has_suffix(c->path, "/cgroup.freeze")) {
            _cleanup_free_ char *dir = lb_xstrndup(c->path, strlen(c->path) - 14);
            _cleanup_free_ char *ev = lb_xasprintf("populated 1\nfrozen %s\n", c->source);
            lb_unit_write(dir, "cgroup.events", ev, strlen(ev));
        }
    }
    return LB_SYS_PASS;
}

static void mkdirs(const char *root, const char *rel)
{
    _cleanup_free_ char *p = lb_path_join(root, rel);
    struct lb_error *e = NULL;
    if (lb_mkdir_p(p, 0755, &e) < 0)
        fail_msg("%s", e->msg);
}

static char *slurp(const char *dir, const char *file)
{
    _cleanup_free_ char *p = lb_path_join(dir, file);
    char *text = NULL;
    if (lb_sys_read_file(p, 1 << 20, &text) < 0)
        fail_msg("cannot read '%s'", p);
    return text;
}

static void fake_proc(const char *root, int pid, const char *text)
{
    _cleanup_free_ char *rel = lb_xasprintf("proc/%d", pid);
    mkdirs(root, rel);
    _cleanup_free_ char *dir = lb_path_join(root, rel);
    lb_unit_write(dir, "cgroup", text, strlen(text));
}

static void test_commit__freezer_v1_moves_freezes_thaws_moves_back_and_removes(void **state)
{
    (void)state;
    char *t = lb_unit_mkdtemp();
    mkdirs(t, "cg/freezer/user");
    fake_proc(t, 10, "6:freezer:/user\n4:memory:/x\n0::/\n");
    fake_proc(t, 11, "6:freezer:/\n0::/\n");
    struct fake fk = {0};
    lb_sys_set_hook(fake_hook, &fk);
    _cleanup_free_ char *cg = lb_path_join(t, "cg");
    _cleanup_free_ char *proc = lb_path_join(t, "proc");
    struct lb_freezer f;
    struct lb_error *err = NULL;
    assert_int_equal(lb_cgroup_freezer_create(&f, cg, proc, "abc", &err), 0);
    assert_int_equal(f.version, LB_CGROUP_V1);
    _cleanup_free_ char *dir = lb_xasprintf("%s/cg/freezer/layerbox/abc", t);
    assert_string_equal(f.dir, dir);
    assert_true(f.made);

    pid_t pids[] = {10, 11, 12 /* gone: no /proc entry */};
    size_t added = 99;
    assert_int_equal(lb_cgroup_freezer_add(&f, pids, 3, &added, &err), 0);
    assert_int_equal(added, 2);
    _cleanup_free_ char *procs = slurp(dir, "cgroup.procs");
    assert_string_equal(procs, "11"); /* the fake file keeps the last write */
    _cleanup_free_ char *from0 = lb_xasprintf("%s/cg/freezer/user", t);
    _cleanup_free_ char *from1 = lb_xasprintf("%s/cg/freezer", t);
    assert_string_equal(f.from[0], from0);
    assert_string_equal(f.from[1], from1);

    /* the kernel now lists them in the group: a second round adds nothing */
    fake_proc(t, 10, "6:freezer:/layerbox/abc\n");
    fake_proc(t, 11, "6:freezer:/layerbox/abc\n");
    assert_int_equal(lb_cgroup_freezer_add(&f, pids, 2, &added, &err), 0);
    assert_int_equal(added, 0);

    assert_int_equal(lb_cgroup_freeze(&f, 1000, &err), 0);
    _cleanup_free_ char *st = slurp(dir, "freezer.state");
    assert_string_equal(st, "FROZEN");

    /* destroy thaws first, then moves each member back where it came from; 13 was forked
     * inside and goes to the first one's group */
    lb_unit_write(dir, "cgroup.procs", "10\n11\n13\n", 9);
    int writes_before = fk.writes;
    assert_int_equal(lb_cgroup_freezer_destroy(&f, &err), 0);
    assert_int_equal(fk.writes - writes_before, 4); /* THAWED + three moves */
    _cleanup_free_ char *back0 = slurp(from0, "cgroup.procs");
    assert_string_equal(back0, "13");
    _cleanup_free_ char *back1 = slurp(from1, "cgroup.procs");
    assert_string_equal(back1, "11");
    assert_false(lb_path_exists_at(AT_FDCWD, dir));
    assert_null(f.dir);
    assert_int_equal(f.version, LB_CGROUP_NONE);
    /* a zeroed struct is fine */
    assert_int_equal(lb_cgroup_freezer_destroy(&f, &err), 0);
    lb_sys_set_hook(NULL, NULL);
    lb_unit_rmdir(t);
}

static void test_commit__freezer_v2_waits_for_frozen_in_cgroup_events(void **state)
{
    (void)state;
    char *t = lb_unit_mkdtemp();
    mkdirs(t, "cg");
    lb_unit_write(t, "cg/cgroup.controllers", "memory pids\n", 12);
    fake_proc(t, 20, "0::/\n");
    struct fake fk = {.v2_events = true};
    lb_sys_set_hook(fake_hook, &fk);
    _cleanup_free_ char *cg = lb_path_join(t, "cg");
    _cleanup_free_ char *proc = lb_path_join(t, "proc");
    struct lb_freezer f;
    struct lb_error *err = NULL;
    assert_int_equal(lb_cgroup_freezer_create(&f, cg, proc, "abc", &err), 0);
    assert_int_equal(f.version, LB_CGROUP_V2);
    _cleanup_free_ char *dir = lb_xasprintf("%s/cg/layerbox-abc", t);
    assert_string_equal(f.dir, dir);
    pid_t pid = 20;
    size_t added = 0;
    assert_int_equal(lb_cgroup_freezer_add(&f, &pid, 1, &added, &err), 0);
    assert_int_equal(added, 1);
    assert_int_equal(lb_cgroup_freeze(&f, 1000, &err), 0);
    _cleanup_free_ char *fr = slurp(dir, "cgroup.freeze");
    assert_string_equal(fr, "1");
    assert_int_equal(lb_cgroup_thaw(&f, &err), 0);
    _cleanup_free_ char *th = slurp(dir, "cgroup.freeze");
    assert_string_equal(th, "0");
    int w = fk.writes;
    assert_int_equal(lb_cgroup_thaw(&f, &err), 0); /* nothing frozen: no write */
    assert_int_equal(fk.writes, w);
    assert_int_equal(lb_cgroup_freezer_destroy(&f, &err), 0);
    assert_false(lb_path_exists_at(AT_FDCWD, dir));
    lb_sys_set_hook(NULL, NULL);
    lb_unit_rmdir(t);
}

static void test_commit__freezer_v2_existing_group_is_frozen_in_place_and_kept(void **state)
{
    (void)state;
    char *t = lb_unit_mkdtemp();
    mkdirs(t, "cg/layerbox-abc");
    lb_unit_write(t, "cg/cgroup.controllers", "memory\n", 7);
    struct fake fk = {.v2_events = true};
    lb_sys_set_hook(fake_hook, &fk);
    _cleanup_free_ char *cg = lb_path_join(t, "cg");
    _cleanup_free_ char *proc = lb_path_join(t, "proc");
    struct lb_freezer f;
    struct lb_error *err = NULL;
    assert_int_equal(lb_cgroup_freezer_create(&f, cg, proc, "abc", &err), 0);
    assert_false(f.made);
    assert_int_equal(lb_cgroup_freeze(&f, 1000, &err), 0);
    _cleanup_free_ char *dir = lb_xstrdup(f.dir);
    assert_int_equal(lb_cgroup_freezer_destroy(&f, &err), 0);
    _cleanup_free_ char *fr = slurp(dir, "cgroup.freeze");
    assert_string_equal(fr, "0"); /* thawed */
    assert_true(lb_path_exists_at(AT_FDCWD, dir));
    lb_sys_set_hook(NULL, NULL);
    lb_unit_rmdir(t);
}

static void test_commit__freezer_times_out_and_destroy_still_thaws(void **state)
{
    (void)state;
    char *t = lb_unit_mkdtemp();
    mkdirs(t, "cg");
    lb_unit_write(t, "cg/cgroup.controllers", "memory\n", 7);
    struct fake fk = {.v2_events = false}; /* the fake kernel never says frozen */
    lb_sys_set_hook(fake_hook, &fk);
    _cleanup_free_ char *cg = lb_path_join(t, "cg");
    struct lb_freezer f;
    struct lb_error *err = NULL;
    assert_int_equal(lb_cgroup_freezer_create(&f, cg, t, "abc", &err), 0);
    assert_int_equal(lb_cgroup_freeze(&f, 20, &err), -1);
    assert_error_contains(err, "did not freeze");
    lb_error_free(err);
    err = NULL;
    assert_int_equal(lb_cgroup_freezer_destroy(&f, &err), 0);
    assert_string_equal(fk.last_write, "0");
    lb_sys_set_hook(NULL, NULL);
    lb_unit_rmdir(t);
}

static void test_commit__freezer_errors_without_freezer_or_with_a_bad_name(void **state)
{
    (void)state;
    char *t = lb_unit_mkdtemp();
    struct lb_freezer f;
    struct lb_error *err = NULL;
    assert_int_equal(lb_cgroup_freezer_create(&f, t, t, "abc", &err), -1);
    assert_error_contains(err, "freezer is not available");
    lb_error_free(err);
    err = NULL;
    assert_int_equal(lb_cgroup_freezer_create(&f, t, t, "../x", &err), -1);
    assert_error_contains(err, "bad cgroup name");
    lb_error_free(err);
    err = NULL;
    assert_int_equal(lb_cgroup_freeze(&f, 10, &err), -1); /* nothing made */
    lb_error_free(err);
    lb_unit_rmdir(t);
}

/* The real thing: a child frozen in /sys/fs/cgroup/freezer, then back where it was. */
static void test_commit__freezer_really_freezes_a_process_when_root(void **state)
{
    (void)state;
    struct stat st;
    if (geteuid() != 0 || stat(LB_CGROUP_ROOT "/freezer", &st) < 0 ||
        stat(LB_CGROUP_ROOT "/cgroup.controllers", &st) == 0) {
        skip(); /* needs root and a v1 freezer hierarchy */
    }
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    assert_true(child > 0);
    _cleanup_free_ char *name = lb_xasprintf("unit-test-%d", (int)getpid());
    struct lb_freezer f;
    struct lb_error *err = NULL;
    if (lb_cgroup_freezer_create(&f, NULL, NULL, name, &err) < 0)
        fail_msg("%s", err->msg);
    size_t added = 0;
    assert_int_equal(lb_cgroup_freezer_add(&f, &child, 1, &added, &err), 0);
    assert_int_equal(added, 1);
    assert_int_equal(lb_cgroup_freeze(&f, -1, &err), 0);
    _cleanup_free_ char *state_text = slurp(f.dir, "freezer.state");
    assert_true(lb_str_has_prefix(state_text, "FROZEN"));
    _cleanup_free_ char *dir = lb_xstrdup(f.dir);
    assert_int_equal(lb_cgroup_freezer_destroy(&f, &err), 0);
    assert_false(lb_path_exists_at(AT_FDCWD, dir));
    _cleanup_free_ char *procdir = lb_xasprintf("/proc/%d", (int)child);
    _cleanup_free_ char *cgtext = slurp(procdir, "cgroup");
    assert_null(strstr(cgtext, name));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

LB_UNIT_MAIN(
    cmocka_unit_test(test_commit__config_adds_the_diff_id_history_author_comment_and_container),
    cmocka_unit_test(test_commit__config_without_message_or_author_drops_the_parent_s),
    cmocka_unit_test(test_commit__config_applies_the_changes_in_order),
    cmocka_unit_test(test_commit__config_refuses_a_bad_change),
    cmocka_unit_test(test_commit__config_refuses_a_parent_with_mistyped_rootfs_or_history),
    cmocka_unit_test(test_commit__config_makes_rootfs_and_history_when_the_parent_has_none),
    cmocka_unit_test(test_commit__created_by_joins_path_and_args_as_docker),
    cmocka_unit_test(test_commit__freezer_v1_moves_freezes_thaws_moves_back_and_removes),
    cmocka_unit_test(test_commit__freezer_v2_waits_for_frozen_in_cgroup_events),
    cmocka_unit_test(test_commit__freezer_v2_existing_group_is_frozen_in_place_and_kept),
    cmocka_unit_test(test_commit__freezer_times_out_and_destroy_still_thaws),
    cmocka_unit_test(test_commit__freezer_errors_without_freezer_or_with_a_bad_name),
    cmocka_unit_test(test_commit__freezer_really_freezes_a_process_when_root))
