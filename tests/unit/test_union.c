/* test_union.c — the union view of hand-made layer directories: lookups through whiteouts and
 * opaque directories in both formats (FILES markers, OVERLAY 0/0 devices and xattrs, the latter
 * as root only), never following a symlink; and the comparison of a layer with the layers below
 * it: the three-layer fixture's counts worked out by hand from fixtures/README.md, the limits of
 * the whiteout list, and the rejection of a directory that shadows a lower symlink. */
#include "unit.h"

#include "layer/layers.h"
#include "layer/union.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct fixture {
    char *dir;
};

static int setup(void **state)
{
    struct fixture *f = lb_xmalloc(sizeof(*f));
    f->dir = lb_unit_mkdtemp();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lb_unit_rmdir(f->dir);
    free(f);
    return 0;
}

/* --- building layers by hand ------------------------------------------------------------- */

static char *layer_path(struct fixture *f, const char *layer, const char *rel)
{
    if (rel == NULL)
        return lb_xasprintf("%s/%s", f->dir, layer);
    return lb_xasprintf("%s/%s/%s", f->dir, layer, rel);
}

static void mkdirs(struct fixture *f, const char *layer, const char *rel)
{
    char *p = layer_path(f, layer, rel);
    struct lb_error *err = NULL;
    if (lb_mkdir_p(p, 0755, &err) < 0)
        fail_msg("mkdir %s: %s", p, err->msg);
    free(p);
}

static void put(struct fixture *f, const char *layer, const char *rel, const char *text)
{
    char *p = layer_path(f, layer, NULL);
    mkdirs(f, layer, NULL);
    lb_unit_write(p, rel, text, strlen(text));
    free(p);
}

static void put_symlink(struct fixture *f, const char *layer, const char *rel, const char *target)
{
    char *p = layer_path(f, layer, rel);
    if (symlink(target, p) < 0)
        fail_msg("symlink %s: %s", p, strerror(errno));
    free(p);
}

static bool is_root(void)
{
    return geteuid() == 0;
}

/* OVERLAY whiteout: a 0/0 character device (root only). */
static void put_overlay_whiteout(struct fixture *f, const char *layer, const char *rel)
{
    char *p = layer_path(f, layer, rel);
    if (mknod(p, S_IFCHR | 0000, makedev(0, 0)) < 0)
        fail_msg("mknod %s: %s", p, strerror(errno));
    free(p);
}

/* OVERLAY opaque directory: trusted.overlay.opaque = "y" (root only). */
static void put_overlay_opaque(struct fixture *f, const char *layer, const char *rel)
{
    char *p = layer_path(f, layer, rel);
    if (setxattr(p, "trusted.overlay.opaque", "y", 1, 0) < 0)
        fail_msg("setxattr %s: %s", p, strerror(errno));
    free(p);
}

static int open_layer(struct fixture *f, const char *layer)
{
    mkdirs(f, layer, NULL);
    char *p = layer_path(f, layer, NULL);
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    free(p);
    return fd;
}

/* A stack of named layers, top first. */
struct stack {
    int fds[8];
    size_t n;
};

static struct stack open_stack(struct fixture *f, const char *const *names)
{
    struct stack s = {.n = 0};
    for (; *names; names++)
        s.fds[s.n++] = open_layer(f, *names);
    return s;
}

static void close_stack(struct stack *s)
{
    for (size_t i = 0; i < s->n; i++)
        close(s->fds[i]);
    s->n = 0;
}

#define LOOKUP(s, fmt, path) lb_union_lookup((s).fds, (s).n, (fmt), (path))

/* --- lookups ----------------------------------------------------------------------------- */

static void test_union__lookup_of_the_root_is_a_directory(void **state)
{
    struct fixture *f = *state;
    struct stack s = open_stack(f, (const char *[]){"l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, ""), LB_UNION_DIR);
    assert_int_equal(lb_union_lookup(NULL, 0, LB_WHITEOUT_FILES, ""), LB_UNION_DIR);
    assert_int_equal(lb_union_lookup(NULL, 0, LB_WHITEOUT_FILES, "a"), LB_UNION_ABSENT);
    close_stack(&s);
}

static void test_union__lookup_finds_kinds_and_merges_directories(void **state)
{
    struct fixture *f = *state;
    put(f, "l1", "a/low", "low");
    put(f, "l1", "file", "1");
    put(f, "l2", "a/high", "high");
    put_symlink(f, "l2", "link", "file");
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a"), LB_UNION_DIR);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/low"), LB_UNION_OTHER);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/high"), LB_UNION_OTHER);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "file"), LB_UNION_OTHER);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "link"), LB_UNION_SYMLINK);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "nothing"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/nothing"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "file/below"), LB_UNION_ABSENT);
    close_stack(&s);
}

static void test_union__lookup_never_follows_a_symlink(void **state)
{
    struct fixture *f = *state;
    /* l1/a -> ../outside, a real directory that has x: the union has no a/x. */
    put(f, "outside", "x", "outside");
    char *target = layer_path(f, "outside", NULL);
    mkdirs(f, "l1", NULL);
    put_symlink(f, "l1", "a", target);
    put_symlink(f, "l1", "rel", "../outside");
    struct stack s = open_stack(f, (const char *[]){"l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a"), LB_UNION_SYMLINK);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/x"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "rel/x"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "../outside/x"), LB_UNION_ABSENT);
    close_stack(&s);
    free(target);
}

static void test_union__non_directory_hides_a_lower_directory_and_its_children(void **state)
{
    struct fixture *f = *state;
    put(f, "l1", "a/b", "b");
    put(f, "l2", "a", "now a file");
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a"), LB_UNION_OTHER);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/b"), LB_UNION_ABSENT);
    close_stack(&s);
}

static void test_union__directory_hides_a_lower_file_of_the_same_name(void **state)
{
    struct fixture *f = *state;
    put(f, "l1", "a", "a file");
    put(f, "l2", "a/b", "b");
    put(f, "l3", "other", "x");
    struct stack s = open_stack(f, (const char *[]){"l3", "l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a"), LB_UNION_DIR);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/b"), LB_UNION_OTHER);
    close_stack(&s);
}

static void test_union__files_whiteout_hides_the_path_and_everything_below(void **state)
{
    struct fixture *f = *state;
    put(f, "l1", "a/b/c", "c");
    put(f, "l1", "keep", "k");
    put(f, "l2", ".wh.a", "");
    put(f, "l3", "other", "o");
    struct stack s = open_stack(f, (const char *[]){"l3", "l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/b/c"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "keep"), LB_UNION_OTHER);
    /* The marker itself is an instruction, never a visible file. */
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, ".wh.a"), LB_UNION_ABSENT);
    close_stack(&s);

    /* Recreated above the whiteout: visible again, without the old children. */
    put(f, "l3", "a/new", "n");
    s = open_stack(f, (const char *[]){"l3", "l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a"), LB_UNION_DIR);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/new"), LB_UNION_OTHER);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "a/b"), LB_UNION_ABSENT);
    close_stack(&s);
}

static void test_union__files_whiteout_only_hides_lower_layers(void **state)
{
    struct fixture *f = *state;
    /* The same layer has the marker and the entry: the marker is for the layers below. */
    put(f, "l1", "x", "old");
    put(f, "l2", "x", "new");
    put(f, "l2", ".wh.x", "");
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "x"), LB_UNION_OTHER);
    close_stack(&s);
}

static void test_union__files_opaque_directory_hides_lower_children(void **state)
{
    struct fixture *f = *state;
    put(f, "l1", "opaque/old1", "old1");
    put(f, "l1", "plain/old", "old");
    put(f, "l2", "opaque/.wh..wh..opq", "");
    put(f, "l2", "opaque/fresh", "fresh");
    put(f, "l2", "plain/new", "new");
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "opaque"), LB_UNION_DIR);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "opaque/old1"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "opaque/fresh"), LB_UNION_OTHER);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "opaque/.wh..wh..opq"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "plain/old"), LB_UNION_OTHER);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "plain/new"), LB_UNION_OTHER);
    close_stack(&s);
}

static void test_union__overlay_whiteout_device_hides_the_path(void **state)
{
    struct fixture *f = *state;
    if (!is_root())
        skip(); /* mknod of a 0/0 device needs CAP_MKNOD */
    put(f, "l1", "etc/motd", "motd");
    put(f, "l1", "dir/sub/x", "x");
    mkdirs(f, "l2", "etc");
    put_overlay_whiteout(f, "l2", "etc/motd");
    put_overlay_whiteout(f, "l2", "dir");
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_OVERLAY, "etc"), LB_UNION_DIR);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_OVERLAY, "etc/motd"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_OVERLAY, "dir"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_OVERLAY, "dir/sub/x"), LB_UNION_ABSENT);
    /* The same device read with the FILES convention is just a device. */
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "etc/motd"), LB_UNION_OTHER);
    close_stack(&s);
}

static void test_union__overlay_opaque_xattr_hides_lower_children(void **state)
{
    struct fixture *f = *state;
    if (!is_root())
        skip(); /* trusted.* xattrs need CAP_SYS_ADMIN */
    put(f, "l1", "opaque/old1", "old1");
    put(f, "l2", "opaque/fresh", "fresh");
    put_overlay_opaque(f, "l2", "opaque");
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_OVERLAY, "opaque/old1"), LB_UNION_ABSENT);
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_OVERLAY, "opaque/fresh"), LB_UNION_OTHER);
    /* Without the overlay convention the xattr means nothing. */
    assert_int_equal(LOOKUP(s, LB_WHITEOUT_FILES, "opaque/old1"), LB_UNION_OTHER);
    close_stack(&s);
}

/* --- compare ----------------------------------------------------------------------------- */

/* The three-layer fixture of fixtures/README.md, by hand. FILES markers unless overlay. */
static void build_three_layers(struct fixture *f, bool overlay)
{
    put(f, "l1", "etc/os-release", "NAME=\"layerbox three-layer fixture\"\n");
    put(f, "l1", "etc/motd", "motd: from layer 1, deleted by layer 3\n");
    put(f, "l1", "data/keep.txt", "keep: from layer 1, never touched again\n");
    put(f, "l1", "data/change.txt", "change: version 1, from layer 1\n");
    put(f, "l1", "data/remove.txt", "remove: from layer 1, deleted by layer 2\n");
    put(f, "l1", "data/run.sh", "#!/bin/sh\necho run\n");
    put(f, "l1", "data/hard1.txt", "hard: one file with two names, hard1.txt and hard2.txt\n");
    char *h1 = layer_path(f, "l1", "data/hard1.txt"), *h2 = layer_path(f, "l1", "data/hard2.txt");
    assert_int_equal(link(h1, h2), 0);
    free(h1);
    free(h2);
    put_symlink(f, "l1", "data/link", "keep.txt");
    put(f, "l1", "opaque/old1", "old1\n");
    put(f, "l1", "opaque/old2", "old2\n");

    put(f, "l2", "data/new.txt", "new: added by layer 2\n");
    put(f, "l2", "data/change.txt", "change: version 2, from layer 2\n");
    put(f, "l2", "opaque/fresh", "fresh\n");
    if (overlay) {
        put_overlay_whiteout(f, "l2", "data/remove.txt");
        put_overlay_opaque(f, "l2", "opaque");
    } else {
        put(f, "l2", "data/.wh.remove.txt", "");
        put(f, "l2", "opaque/.wh..wh..opq", "");
    }

    put(f, "l3", "data/third.txt", "third: added by layer 3\n");
    put(f, "l3", "data/run.sh", "#!/bin/sh\necho run\n");
    char *run = layer_path(f, "l3", "data/run.sh");
    assert_int_equal(chmod(run, 0755), 0);
    free(run);
    if (overlay) {
        mkdirs(f, "l3", "etc");
        put_overlay_whiteout(f, "l3", "etc/motd");
    } else {
        put(f, "l3", "etc/.wh.motd", "");
    }
}

static void check_three_layer_counts(struct fixture *f, enum lb_whiteout_format fmt)
{
    struct lb_error *err = NULL;
    struct lb_union_diff d;
    struct stack s1 = open_stack(f, (const char *[]){"l1", NULL});
    struct stack s2 = open_stack(f, (const char *[]){"l2", "l1", NULL});
    struct stack s3 = open_stack(f, (const char *[]){"l3", "l2", "l1", NULL});

    /* Layer 1 over nothing: 3 directories (etc, data, opaque) + 11 entries, all added. */
    assert_int_equal(lb_union_compare(s1.fds[0], NULL, 0, fmt, &d, &err), 0);
    assert_int_equal(d.added, 14);
    assert_int_equal(d.changed, 0);
    assert_int_equal(d.deleted, 0);
    assert_int_equal(d.opaques, 0);
    assert_null(d.whiteouts);

    /* Layer 2: adds data/new.txt and opaque/fresh, changes data/change.txt, deletes
     * data/remove.txt, makes opaque/ opaque; data/ and opaque/ themselves are unchanged. */
    assert_int_equal(lb_union_compare(s2.fds[0], s2.fds + 1, 1, fmt, &d, &err), 0);
    assert_int_equal(d.added, 2);
    assert_int_equal(d.changed, 1);
    assert_int_equal(d.deleted, 1);
    assert_int_equal(d.opaques, 1);
    assert_non_null(d.whiteouts);
    assert_string_equal(d.whiteouts[0], "data/remove.txt");
    assert_null(d.whiteouts[1]);
    lb_strv_free(d.whiteouts);

    /* Layer 3: adds data/third.txt, changes data/run.sh (mode), deletes etc/motd. */
    assert_int_equal(lb_union_compare(s3.fds[0], s3.fds + 1, 2, fmt, &d, &err), 0);
    assert_int_equal(d.added, 1);
    assert_int_equal(d.changed, 1);
    assert_int_equal(d.deleted, 1);
    assert_int_equal(d.opaques, 0);
    assert_string_equal(d.whiteouts[0], "etc/motd");
    assert_null(d.whiteouts[1]);
    lb_strv_free(d.whiteouts);

    /* And the union of all three is the view the README lists. */
    const char *visible[] = {"data/change.txt", "data/hard1.txt", "data/hard2.txt",
                             "data/keep.txt",   "data/new.txt",   "data/run.sh",
                             "data/third.txt",  "etc/os-release", "opaque/fresh"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(visible); i++)
        assert_int_equal(LOOKUP(s3, fmt, visible[i]), LB_UNION_OTHER);
    assert_int_equal(LOOKUP(s3, fmt, "data/link"), LB_UNION_SYMLINK);
    const char *gone[] = {"data/remove.txt", "opaque/old1", "opaque/old2", "etc/motd"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(gone); i++)
        assert_int_equal(LOOKUP(s3, fmt, gone[i]), LB_UNION_ABSENT);
    close_stack(&s1);
    close_stack(&s2);
    close_stack(&s3);
}

static void test_union__compare_counts_the_three_layer_fixture_with_files_markers(void **state)
{
    struct fixture *f = *state;
    build_three_layers(f, false);
    check_three_layer_counts(f, LB_WHITEOUT_FILES);
}

static void test_union__compare_counts_the_three_layer_fixture_in_overlay_format(void **state)
{
    struct fixture *f = *state;
    if (!is_root())
        skip();
    build_three_layers(f, true);
    check_three_layer_counts(f, LB_WHITEOUT_OVERLAY);
}

static void test_union__compare_rejects_a_directory_over_a_lower_symlink(void **state)
{
    struct fixture *f = *state;
    mkdirs(f, "l1", NULL);
    put_symlink(f, "l1", "a", "/etc");
    put(f, "l2", "a/passwd", "pwned");
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    struct lb_error *err = NULL;
    struct lb_union_diff d = {.added = 99};
    assert_int_equal(lb_union_compare(s.fds[0], s.fds + 1, 1, LB_WHITEOUT_FILES, &d, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_string_equal(err->msg, "directory 'a' would write through symlink 'a' of a lower layer");
    lb_error_clear(&err);
    assert_int_equal(d.added, 0);
    assert_null(d.whiteouts);
    close_stack(&s);
}

static void test_union__compare_rejects_the_shadowing_at_any_depth_and_layer(void **state)
{
    struct fixture *f = *state;
    put(f, "l1", "x/y/file", "f");
    mkdirs(f, "l2", "x");
    put_symlink(f, "l2", "x/y", "../../outside"); /* l2 replaces x/y by a symlink */
    put(f, "l3", "other", "o");
    put(f, "l4", "x/y/z", "through");
    struct stack s = open_stack(f, (const char *[]){"l4", "l3", "l2", "l1", NULL});
    struct lb_error *err = NULL;
    struct lb_union_diff d;
    assert_int_equal(lb_union_compare(s.fds[0], s.fds + 1, 3, LB_WHITEOUT_FILES, &d, &err), -1);
    assert_error_contains(err, "directory 'x/y' would write through symlink 'x/y'");
    close_stack(&s);
}

static void test_union__compare_allows_a_file_or_symlink_over_a_lower_symlink(void **state)
{
    struct fixture *f = *state;
    mkdirs(f, "l1", NULL);
    put_symlink(f, "l1", "a", "/etc");
    put_symlink(f, "l1", "b", "/etc");
    put(f, "l2", "a", "a file now");
    put_symlink(f, "l2", "b", "elsewhere");
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    struct lb_error *err = NULL;
    struct lb_union_diff d;
    assert_int_equal(lb_union_compare(s.fds[0], s.fds + 1, 1, LB_WHITEOUT_FILES, &d, &err), 0);
    assert_int_equal(d.added, 0);
    assert_int_equal(d.changed, 2);
    close_stack(&s);
}

static void test_union__compare_a_directory_changes_only_with_its_mode_or_type(void **state)
{
    struct fixture *f = *state;
    put(f, "l1", "same/x", "x");
    put(f, "l1", "mode/x", "x");
    put(f, "l1", "wasfile", "a file");
    put(f, "l2", "same/y", "y");
    put(f, "l2", "mode/y", "y");
    put(f, "l2", "wasfile/z", "z");
    char *m = layer_path(f, "l2", "mode");
    assert_int_equal(chmod(m, 0700), 0);
    free(m);
    struct stack s = open_stack(f, (const char *[]){"l2", "l1", NULL});
    struct lb_error *err = NULL;
    struct lb_union_diff d;
    assert_int_equal(lb_union_compare(s.fds[0], s.fds + 1, 1, LB_WHITEOUT_FILES, &d, &err), 0);
    /* added: same/y, mode/y, wasfile/z; changed: mode (0700), wasfile (file → directory). */
    assert_int_equal(d.added, 3);
    assert_int_equal(d.changed, 2);
    close_stack(&s);
}

static void test_union__compare_looks_below_through_whiteouts_and_opaques(void **state)
{
    struct fixture *f = *state;
    put(f, "l1", "gone", "1");
    put(f, "l1", "d/hidden", "1");
    put(f, "l2", ".wh.gone", "");
    put(f, "l2", "d/.wh..wh..opq", "");
    put(f, "l3", "gone", "back");
    put(f, "l3", "d/hidden", "back");
    struct stack s = open_stack(f, (const char *[]){"l3", "l2", "l1", NULL});
    struct lb_error *err = NULL;
    struct lb_union_diff d;
    assert_int_equal(lb_union_compare(s.fds[0], s.fds + 1, 2, LB_WHITEOUT_FILES, &d, &err), 0);
    /* Both were invisible in the union below, so both are added, not changed. */
    assert_int_equal(d.added, 2);
    assert_int_equal(d.changed, 0);
    close_stack(&s);
}

static void test_union__compare_lists_at_most_the_first_64_whiteouts_sorted(void **state)
{
    struct fixture *f = *state;
    for (int i = 69; i >= 0; i--) {
        char name[32];
        snprintf(name, sizeof(name), "dir/.wh.f%02d", i);
        put(f, "top", name, "");
    }
    put(f, "top", ".wh.a-top-level", "");
    put(f, "top", ".wh..wh..opq", "");
    int top = open_layer(f, "top");
    struct lb_error *err = NULL;
    struct lb_union_diff d;
    assert_int_equal(lb_union_compare(top, NULL, 0, LB_WHITEOUT_FILES, &d, &err), 0);
    assert_int_equal(d.deleted, 71);
    assert_int_equal(d.opaques, 1); /* the root's opaque marker */
    assert_int_equal(d.added, 1);   /* dir; the markers are not files */
    assert_int_equal(lb_strv_len(d.whiteouts), LB_LAYER_MAX_WHITEOUT_NAMES);
    assert_string_equal(d.whiteouts[0], "a-top-level"); /* ".wh.a…" sorts before "dir" */
    assert_string_equal(d.whiteouts[1], "dir/f00");
    assert_string_equal(d.whiteouts[63], "dir/f62");
    lb_strv_free(d.whiteouts);
    close(top);
}

static void test_union__compare_reports_an_unreadable_layer(void **state)
{
    struct fixture *f = *state;
    (void)f;
    struct lb_error *err = NULL;
    struct lb_union_diff d;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(lb_union_compare(fd, NULL, 0, LB_WHITEOUT_FILES, &d, &err), -1);
    assert_error_contains(err, "cannot");
    close(fd);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

LB_UNIT_MAIN(T(test_union__lookup_of_the_root_is_a_directory),
             T(test_union__lookup_finds_kinds_and_merges_directories),
             T(test_union__lookup_never_follows_a_symlink),
             T(test_union__non_directory_hides_a_lower_directory_and_its_children),
             T(test_union__directory_hides_a_lower_file_of_the_same_name),
             T(test_union__files_whiteout_hides_the_path_and_everything_below),
             T(test_union__files_whiteout_only_hides_lower_layers),
             T(test_union__files_opaque_directory_hides_lower_children),
             T(test_union__overlay_whiteout_device_hides_the_path),
             T(test_union__overlay_opaque_xattr_hides_lower_children),
             T(test_union__compare_counts_the_three_layer_fixture_with_files_markers),
             T(test_union__compare_counts_the_three_layer_fixture_in_overlay_format),
             T(test_union__compare_rejects_a_directory_over_a_lower_symlink),
             T(test_union__compare_rejects_the_shadowing_at_any_depth_and_layer),
             T(test_union__compare_allows_a_file_or_symlink_over_a_lower_symlink),
             T(test_union__compare_a_directory_changes_only_with_its_mode_or_type),
             T(test_union__compare_looks_below_through_whiteouts_and_opaques),
             T(test_union__compare_lists_at_most_the_first_64_whiteouts_sorted),
             T(test_union__compare_reports_an_unreadable_layer))
