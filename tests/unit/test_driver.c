/* test_driver.c — storage drivers: overlay's option strings (pure), the choice of a driver and
 * its record in ROOT/driver (with a fake probe), image mount counts, the vfs copy of hand-made
 * layers (whiteouts, opaque directories, type changes, hard links, metadata, symlink safety)
 * and, as root with overlayfs, real overlay mounts of hand-made layers.
 *
 * Expected values are written out by hand from the rules (OCI image-spec whiteouts, overlayfs
 * lowerdir order), never taken from the code's own output. */
#include "unit.h"

#include "layer/driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* --- helpers ------------------------------------------------------------------------------ */

struct fx {
    char *root;
    int root_fd;
    char *target;
};

static int setup(void **state)
{
    struct fx *f = lb_xmalloc(sizeof(*f));
    f->root = lb_unit_mkdtemp();
    f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->root_fd >= 0);
    f->target = lb_path_join(f->root, "mnt");
    assert_int_equal(mkdir(f->target, 0755), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    umount2(f->target, MNT_DETACH); /* a failed test may leave a mount behind */
    close(f->root_fd);
    lb_unit_rmdir(f->root);
    free(f->target);
    free(f);
    return 0;
}

/* A ChainID made of one repeated hex digit: "sha256:aaaa…". */
static struct lb_digest chain(char c)
{
    struct lb_digest d;
    memcpy(d.str, "sha256:", 7);
    memset(d.str + 7, c, 64);
    d.str[71] = '\0';
    return d;
}

/* A 26-character short link name made of one letter. */
static char *linkname(char c)
{
    char *s = lb_xmalloc(27);
    memset(s, c, 26);
    return s;
}

/* ROOT/layers/<hex>/diff, its link file and ROOT/layers/l/<link> → ../<hex>/diff, as layers.h
 * lays them out. Returns the diff path (caller frees). */
static char *mk_layer(struct fx *f, char c)
{
    struct lb_digest d = chain(c);
    char *dir = lb_xasprintf("%s/layers/%s", f->root, lb_digest_hex(&d));
    char *diff = lb_path_join(dir, "diff");
    struct lb_error *err = NULL;
    assert_int_equal(lb_mkdir_p(diff, 0755, &err), 0);
    char *l = linkname((char)(c - 'a' + 'A'));
    lb_unit_write(dir, "link", l, strlen(l));
    char *ldir = lb_xasprintf("%s/layers/l", f->root);
    assert_int_equal(lb_mkdir_p(ldir, 0700, &err), 0);
    char *lpath = lb_path_join(ldir, l);
    char *to = lb_xasprintf("../%s/diff", lb_digest_hex(&d));
    assert_int_equal(symlink(to, lpath), 0);
    free(to);
    free(lpath);
    free(ldir);
    free(l);
    free(dir);
    return diff;
}

static void put(const char *dir, const char *name, const char *text)
{
    lb_unit_write(dir, name, text, strlen(text));
}

static void mkdirs(const char *dir, const char *name)
{
    char *p = lb_path_join(dir, name);
    struct lb_error *err = NULL;
    assert_int_equal(lb_mkdir_p(p, 0755, &err), 0);
    free(p);
}

/* Contents of dir/name, or NULL when it cannot be read. Caller frees. */
static char *slurp(const char *dir, const char *name)
{
    char *p = lb_path_join(dir, name);
    char *buf = NULL;
    struct lb_error *err = NULL;
    if (lb_read_file_at(AT_FDCWD, p, 1 << 20, &buf, NULL, &err) < 0)
        lb_error_free(err);
    free(p);
    return buf;
}

static void assert_file(const char *dir, const char *name, const char *want)
{
    char *got = slurp(dir, name);
    if (got == NULL)
        fail_msg("'%s/%s' cannot be read, expected \"%s\"", dir, name, want);
    assert_string_equal(got, want);
    free(got);
}

static bool exists(const char *dir, const char *name)
{
    char *p = lb_path_join(dir, name);
    struct stat st;
    bool r = lstat(p, &st) == 0;
    free(p);
    return r;
}

static struct stat lst(const char *dir, const char *name)
{
    char *p = lb_path_join(dir, name);
    struct stat st;
    if (lstat(p, &st) < 0)
        fail_msg("lstat '%s': %s", p, strerror(errno));
    free(p);
    return st;
}

/* Does any entry under dir have a name starting with ".wh."? */
static bool has_whiteout_names(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (strncmp(de->d_name, ".wh.", 4) == 0) {
            found = true;
            break;
        }
        if (de->d_type == DT_DIR) {
            char *sub = lb_path_join(dir, de->d_name);
            found = has_whiteout_names(sub);
            free(sub);
        }
    }
    closedir(d);
    return found;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static struct lb_mount_request request(struct fx *f, const struct lb_digest *layers, size_t n)
{
    return (struct lb_mount_request){.root_fd = f->root_fd,
                                     .root = f->root,
                                     .layers = layers,
                                     .n_layers = n,
                                     .target = f->target};
}

/* The three-layer fixture (fixtures/README.md) as hand-made layers. Whiteouts in the given
 * format: FILES = `.wh.` marker files; OVERLAY = 0/0 char devices and the opaque xattr (root).
 * Fills layers[] top first: c (layer 3), b (layer 2), a (layer 1). */
static void mk_three_layers(struct fx *f, enum lb_whiteout_format fmt, struct lb_digest layers[3])
{
    char *l1 = mk_layer(f, 'a'), *l2 = mk_layer(f, 'b'), *l3 = mk_layer(f, 'c');
    put(l1, "etc/os-release", "ID=layerbox-fixture\n");
    put(l1, "etc/motd", "motd: from layer 1, deleted by layer 3\n");
    put(l1, "data/keep.txt", "keep\n");
    put(l1, "data/change.txt", "change: version 1\n");
    put(l1, "data/remove.txt", "remove\n");
    put(l1, "data/run.sh", "#!/bin/sh\n");
    put(l1, "data/hard1.txt", "hard\n");
    char *h1 = lb_path_join(l1, "data/hard1.txt"), *h2 = lb_path_join(l1, "data/hard2.txt");
    assert_int_equal(link(h1, h2), 0);
    char *ln = lb_path_join(l1, "data/link");
    assert_int_equal(symlink("keep.txt", ln), 0);
    put(l1, "opaque/old1", "old1\n");
    put(l1, "opaque/old2", "old2\n");
    char *run1 = lb_path_join(l1, "data/run.sh");
    assert_int_equal(chmod(run1, 0644), 0);

    put(l2, "data/new.txt", "new\n");
    put(l2, "data/change.txt", "change: version 2\n");
    put(l2, "opaque/fresh", "fresh\n");
    put(l3, "data/third.txt", "third\n");
    put(l3, "data/run.sh", "#!/bin/sh\n");
    char *run3 = lb_path_join(l3, "data/run.sh");
    assert_int_equal(chmod(run3, 0755), 0);
    mkdirs(l3, "etc");
    if (fmt == LB_WHITEOUT_FILES) {
        put(l2, "data/.wh.remove.txt", "");
        put(l2, "opaque/.wh..wh..opq", "");
        put(l3, "etc/.wh.motd", "");
    } else {
        char *w1 = lb_path_join(l2, "data/remove.txt"), *w2 = lb_path_join(l3, "etc/motd");
        char *op = lb_path_join(l2, "opaque");
        assert_int_equal(mknod(w1, S_IFCHR | 0000, makedev(0, 0)), 0);
        assert_int_equal(mknod(w2, S_IFCHR | 0000, makedev(0, 0)), 0);
        assert_int_equal(setxattr(op, "trusted.overlay.opaque", "y", 1, 0), 0);
        free(w1);
        free(w2);
        free(op);
    }
    layers[0] = chain('c');
    layers[1] = chain('b');
    layers[2] = chain('a');
    free(h1);
    free(h2);
    free(ln);
    free(run1);
    free(run3);
    free(l1);
    free(l2);
    free(l3);
}

/* The final view of fixtures/README.md ("What a container sees"), checked entry by entry. */
static void assert_three_layer_view(const char *t)
{
    assert_file(t, "data/change.txt", "change: version 2\n");
    assert_file(t, "data/keep.txt", "keep\n");
    assert_file(t, "data/new.txt", "new\n");
    assert_file(t, "data/third.txt", "third\n");
    assert_file(t, "data/hard1.txt", "hard\n");
    assert_file(t, "data/hard2.txt", "hard\n");
    assert_file(t, "etc/os-release", "ID=layerbox-fixture\n");
    assert_file(t, "opaque/fresh", "fresh\n");
    assert_false(exists(t, "data/remove.txt"));
    assert_false(exists(t, "etc/motd"));
    assert_false(exists(t, "opaque/old1"));
    assert_false(exists(t, "opaque/old2"));
    assert_int_equal(count_entries(t), 3); /* data etc opaque */
    char *data = lb_path_join(t, "data"), *etc = lb_path_join(t, "etc");
    char *opq = lb_path_join(t, "opaque");
    assert_int_equal(count_entries(data), 8);
    assert_int_equal(count_entries(etc), 1);
    assert_int_equal(count_entries(opq), 1);
    assert_int_equal(lst(t, "data/run.sh").st_mode & 07777, 0755);
    assert_true(S_ISLNK(lst(t, "data/link").st_mode));
    char buf[64] = {0};
    char *lp = lb_path_join(t, "data/link");
    assert_int_equal(readlink(lp, buf, sizeof(buf) - 1), 8);
    assert_string_equal(buf, "keep.txt");
    assert_int_equal(lst(t, "data/hard1.txt").st_ino, lst(t, "data/hard2.txt").st_ino);
    assert_false(has_whiteout_names(t));
    free(lp);
    free(data);
    free(etc);
    free(opq);
}

static bool can_mount_overlay(void)
{
    if (geteuid() != 0)
        return false;
    char *d = lb_unit_mkdtemp();
    char *l = lb_path_join(d, "l"), *u = lb_path_join(d, "u"), *w = lb_path_join(d, "w"),
         *m = lb_path_join(d, "m");
    bool ok =
        mkdir(l, 0700) == 0 && mkdir(u, 0700) == 0 && mkdir(w, 0700) == 0 && mkdir(m, 0700) == 0;
    char *opts = lb_xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", l, u, w);
    ok = ok && mount("overlay", m, "overlay", 0, opts) == 0;
    if (ok)
        umount2(m, 0);
    free(opts);
    free(l);
    free(u);
    free(w);
    free(m);
    lb_unit_rmdir(d);
    return ok;
}

/* The /proc/self/mountinfo line whose mount point is target, or NULL. Caller frees. */
static char *mountinfo_line(const char *target)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    assert_non_null(f);
    char *line = NULL, *found = NULL;
    size_t cap = 0;
    char *needle = lb_xasprintf(" %s ", target);
    while (getline(&line, &cap, f) > 0) {
        /* field 5 is the mount point: after "ID PARENT MAJ:MIN ROOT " */
        char *p = line;
        for (int i = 0; i < 4 && p; i++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        if (p && strncmp(p - 1, needle, strlen(needle)) == 0) {
            free(found);
            found = lb_xstrdup(line);
        }
    }
    free(needle);
    free(line);
    fclose(f);
    return found;
}

/* --- overlay option strings ------------------------------------------------------------- */

static void test_driver__lowerdir_lists_short_links_top_first(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    char *links[] = {"TOP", "MIDDLE", "BOTTOM"};
    char *s = lb_overlay_lowerdir(links, 3, &err);
    assert_non_null(s);
    assert_string_equal(s, "l/TOP:l/MIDDLE:l/BOTTOM");
    free(s);
    char *one[] = {"Q2HXJ5VZ6T3KSKGMLRCOJ3XNYF"};
    s = lb_overlay_lowerdir(one, 1, &err);
    assert_string_equal(s, "l/Q2HXJ5VZ6T3KSKGMLRCOJ3XNYF");
    free(s);
}

static void test_driver__lowerdir_rejects_names_that_could_break_the_options(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    const char *bad[] = {
        "",   "a/b", "a:b",  "a,b",
        "..", "a b", "a\\b", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++) {
        char *links[] = {"GOOD", (char *)bad[i]};
        assert_null(lb_overlay_lowerdir(links, 2, &err));
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "invalid short link name");
    }
    char *links[] = {"GOOD"};
    assert_null(lb_overlay_lowerdir(links, 0, &err));
    assert_error_contains(err, "at least one lower layer");
}

static void test_driver__options_of_120_short_links_fit_in_a_page(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    char *links[120];
    for (int i = 0; i < 120; i++)
        links[i] = lb_xasprintf("%026d", i); /* 26 characters, like docker's links */
    char *lower = lb_overlay_lowerdir(links, 120, &err);
    assert_non_null(lower);
    /* 120 × "l/" + 26, plus 119 ':' */
    assert_int_equal(strlen(lower), 120 * 28 + 119);
    assert_true(lb_str_has_prefix(
        lower, "l/00000000000000000000000000:l/00000000000000000000000001:" /* links 0 and 1 */));
    char *opts = lb_overlay_options(lower, NULL, NULL, 4096, &err);
    assert_non_null(opts);
    assert_int_equal(strlen(opts), strlen("lowerdir=") + 120 * 28 + 119); /* 3488 < 4096 */
    free(opts);
    /* The same 120 layers as absolute paths (/var/lib/layerbox/layers/<64 hex>/diff, 94 bytes
     * each) would need 120 × 94 + 119 = 11,399 bytes: why the short links exist. */
    struct lb_strbuf sb = LB_STRBUF_INIT;
    for (int i = 0; i < 120; i++)
        lb_strbuf_addf(&sb, "%s/var/lib/layerbox/layers/%064d/diff", i ? ":" : "", i);
    assert_int_equal(sb.len, 120 * 94 + 119);
    assert_null(lb_overlay_options(sb.buf, NULL, NULL, 4096, &err));
    assert_int_equal(err->code, E2BIG);
    assert_error_contains(err, "over the kernel's limit of 4095");
    lb_strbuf_release(&sb);
    free(lower);
    for (int i = 0; i < 120; i++)
        free(links[i]);
}

static void test_driver__options_limit_is_exclusive_of_the_terminating_nul(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    /* "lowerdir=l/A" is 12 bytes: it needs a 13-byte buffer. */
    char *s = lb_overlay_options("l/A", NULL, NULL, 13, &err);
    assert_string_equal(s, "lowerdir=l/A");
    free(s);
    assert_null(lb_overlay_options("l/A", NULL, NULL, 12, &err));
    assert_error_contains(err, "12 bytes, over the kernel's limit of 11");
}

static void test_driver__options_escape_separators_in_upper_and_work(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    char *s = lb_overlay_options("l/A:l/B", "/s,t:o\\re/upper", "/w", 0, &err);
    assert_non_null(s);
    assert_string_equal(s, "lowerdir=l/A:l/B,upperdir=/s\\,t\\:o\\\\re/upper,workdir=/"
                           "w,redirect_dir=off,metacopy=off");
    free(s);
}

static void test_driver__options_need_upper_and_work_together(void **state)
{
    (void)state;
    struct lb_error *err = NULL;
    assert_null(lb_overlay_options("l/A", "/u", NULL, 0, &err));
    assert_error_contains(err, "both an upper and a work directory");
    assert_null(lb_overlay_options("l/A", NULL, "/w", 0, &err));
    assert_error_contains(err, "both an upper and a work directory");
}

static void test_driver__by_name_knows_overlay_and_vfs_only(void **state)
{
    (void)state;
    assert_ptr_equal(lb_driver_by_name("overlay"), &lb_driver_overlay);
    assert_ptr_equal(lb_driver_by_name("vfs"), &lb_driver_vfs);
    assert_null(lb_driver_by_name("overlay2"));
    assert_null(lb_driver_by_name("VFS"));
    assert_null(lb_driver_by_name(""));
    assert_null(lb_driver_by_name(NULL));
    assert_int_equal(lb_driver_overlay.whiteouts, LB_WHITEOUT_OVERLAY);
    assert_int_equal(lb_driver_vfs.whiteouts, LB_WHITEOUT_FILES);
}

/* --- selection --------------------------------------------------------------------------- */

static int probe_calls;
static int fake_probe_ok(int root_fd, const char *root, struct lb_error **err)
{
    (void)root_fd;
    (void)root;
    (void)err;
    probe_calls++;
    return 0;
}
static int fake_probe_not_root(int root_fd, const char *root, struct lb_error **err)
{
    (void)root_fd;
    (void)root;
    probe_calls++;
    return lb_error_set(err, 0, "not root");
}
static int fake_probe_eperm(int root_fd, const char *root, struct lb_error **err)
{
    (void)root_fd;
    (void)root;
    probe_calls++;
    return lb_error_set(err, EPERM, "overlayfs probe mount failed");
}

static int setup_select(void **state)
{
    probe_calls = 0;
    return setup(state);
}

static int teardown_select(void **state)
{
    lb_driver_set_probe(NULL);
    return teardown(state);
}

static void test_driver__select_records_overlay_when_the_probe_succeeds(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    const struct lb_driver *d = NULL;
    char *why = NULL;
    lb_driver_set_probe(fake_probe_ok);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, NULL, &d, &why, &err), 0);
    assert_ptr_equal(d, &lb_driver_overlay);
    assert_string_equal(why, "overlay: overlayfs is available and a probe mount succeeded");
    assert_int_equal(probe_calls, 1);
    assert_file(f->root, "driver", "overlay\n");
    free(why);
    /* Asked again: the record answers, the probe is not run again. */
    assert_int_equal(lb_driver_select(f->root_fd, f->root, NULL, &d, &why, &err), 0);
    assert_ptr_equal(d, &lb_driver_overlay);
    char *want = lb_xasprintf("overlay: recorded in %s/driver", f->root);
    assert_string_equal(why, want);
    assert_int_equal(probe_calls, 1);
    free(want);
    free(why);
}

static void test_driver__select_falls_back_to_vfs_and_says_why(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    const struct lb_driver *d = NULL;
    char *why = NULL;
    lb_driver_set_probe(fake_probe_not_root);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, NULL, &d, &why, &err), 0);
    assert_ptr_equal(d, &lb_driver_vfs);
    assert_string_equal(why, "vfs: not root");
    assert_file(f->root, "driver", "vfs\n");
    free(why);
}

static void test_driver__select_names_the_probe_error_in_why(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    const struct lb_driver *d = NULL;
    char *why = NULL;
    lb_driver_set_probe(fake_probe_eperm);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, NULL, &d, &why, &err), 0);
    assert_ptr_equal(d, &lb_driver_vfs);
    assert_string_equal(why, "vfs: overlayfs probe mount failed: Operation not permitted");
    free(why);
}

static void test_driver__select_honours_a_requested_vfs_without_probing(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    const struct lb_driver *d = NULL;
    char *why = NULL;
    lb_driver_set_probe(fake_probe_ok);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, "vfs", &d, &why, &err), 0);
    assert_ptr_equal(d, &lb_driver_vfs);
    assert_string_equal(why, "vfs: requested with --storage-driver");
    assert_int_equal(probe_calls, 0);
    assert_file(f->root, "driver", "vfs\n");
    free(why);
    /* Same request again: fine, and why may be NULL. */
    assert_int_equal(lb_driver_select(f->root_fd, f->root, "vfs", &d, NULL, &err), 0);
    assert_ptr_equal(d, &lb_driver_vfs);
}

static void test_driver__select_checks_a_requested_overlay_with_the_probe(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    const struct lb_driver *d = NULL;
    char *why = NULL;
    lb_driver_set_probe(fake_probe_eperm);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, "overlay", &d, &why, &err), -1);
    assert_int_equal(err->code, EPERM);
    assert_error_contains(err, "storage driver 'overlay' cannot be used in");
    assert_false(exists(f->root, "driver")); /* nothing recorded */
    lb_driver_set_probe(fake_probe_ok);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, "overlay", &d, &why, &err), 0);
    assert_ptr_equal(d, &lb_driver_overlay);
    assert_string_equal(why,
                        "overlay: requested with --storage-driver, and a probe mount succeeded");
    assert_file(f->root, "driver", "overlay\n");
    free(why);
}

static void test_driver__select_refuses_to_switch_a_recorded_store(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    const struct lb_driver *d = NULL;
    char *why = NULL;
    put(f->root, "driver", "overlay\n");
    lb_driver_set_probe(fake_probe_ok);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, "vfs", &d, &why, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_USAGE);
    char *want = lb_xasprintf(
        "this store uses the 'overlay' driver (%s/driver); it cannot switch to 'vfs'", f->root);
    assert_string_equal(err->msg, want);
    lb_error_clear(&err);
    assert_null(why);
    assert_file(f->root, "driver", "overlay\n");
    assert_int_equal(probe_calls, 0);
    /* and the other way round */
    put(f->root, "driver", "vfs\n");
    assert_int_equal(lb_driver_select(f->root_fd, f->root, "overlay", &d, &why, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_USAGE);
    assert_error_contains(err, "uses the 'vfs' driver");
    free(want);
}

static void test_driver__select_rejects_an_unknown_driver_name(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    const struct lb_driver *d = NULL;
    char *why = NULL;
    lb_driver_set_probe(fake_probe_ok);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, "zfs", &d, &why, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_USAGE);
    assert_string_equal(err->msg, "unknown storage driver 'zfs' (overlay, vfs)");
    lb_error_clear(&err);
    assert_false(exists(f->root, "driver"));
    assert_int_equal(probe_calls, 0);
}

static void test_driver__select_rejects_a_corrupt_record(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    const struct lb_driver *d = NULL;
    char *why = NULL;
    put(f->root, "driver", "aufs\n");
    lb_driver_set_probe(fake_probe_ok);
    assert_int_equal(lb_driver_select(f->root_fd, f->root, NULL, &d, &why, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "names an unknown storage driver 'aufs'");
    assert_file(f->root, "driver", "aufs\n"); /* not overwritten */
    assert_int_equal(probe_calls, 0);
}

static void test_driver__real_probe_answers_and_leaves_nothing_behind(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    int rc = lb_overlay_probe(f->root_fd, f->root, &err);
    if (geteuid() != 0) {
        assert_int_equal(rc, -1);
        assert_string_equal(err->msg, "not root");
        lb_error_clear(&err);
        return;
    }
    if (can_mount_overlay())
        assert_int_equal(rc, 0);
    else
        assert_error_contains(err, "overlay");
    lb_error_clear(&err);
    char *tmp = lb_path_join(f->root, "tmp");
    assert_int_equal(count_entries(tmp), 0);
    free(tmp);
}

/* --- mount counts ------------------------------------------------------------------------ */

static void test_driver__mount_count_round_trips_through_its_file(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest id = chain('e');
    unsigned long n = 99;
    assert_int_equal(lb_image_mount_count(f->root_fd, &id, &n, &err), 0);
    assert_int_equal(n, 0);
    char *rel = lb_image_mount_relpath(&id);
    assert_string_equal(rel,
                        "mounts/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    char *dir = lb_path_join(f->root, rel);
    assert_int_equal(lb_image_mount_set_count(f->root_fd, &id, 2, &err), 0);
    assert_file(dir, "count", "2\n");
    assert_int_equal(lb_image_mount_count(f->root_fd, &id, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(lb_image_mount_set_count(f->root_fd, &id, 0, &err), 0);
    assert_false(exists(dir, "count"));
    assert_int_equal(lb_image_mount_count(f->root_fd, &id, &n, &err), 0);
    assert_int_equal(n, 0);
    free(dir);
    free(rel);
}

static void test_driver__mount_count_rejects_a_file_that_is_not_a_number(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest id = chain('e');
    const char *bad[] = {"", "two\n", "-1\n", "2x\n", " 2\n"};
    for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++) {
        char *p = lb_xasprintf("mounts/%s/count", lb_digest_hex(&id));
        put(f->root, p, bad[i]);
        unsigned long n = 0;
        assert_int_equal(lb_image_mount_count(f->root_fd, &id, &n, &err), -1);
        assert_int_equal(err->kind, LB_EKIND_INVALID);
        assert_error_contains(err, "is not a mount count");
        free(p);
    }
}

/* --- vfs ---------------------------------------------------------------------------------- */

static void test_driver__vfs_builds_the_three_layer_union(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest layers[3];
    mk_three_layers(f, LB_WHITEOUT_FILES, layers);
    struct lb_mount_request req = request(f, layers, 3);
    if (lb_driver_vfs.mount(&req, &err) < 0)
        fail_msg("vfs mount: %s", err->msg);
    assert_three_layer_view(f->target);
    bool mounted = false;
    assert_int_equal(lb_driver_is_mounted(&lb_driver_vfs, f->target, &mounted, &err), 0);
    assert_true(mounted);
    /* The layers themselves are untouched: the markers are still in layer 2. */
    char *l2 = lb_xasprintf("%s/layers/%s/diff", f->root, lb_digest_hex(&layers[1]));
    assert_true(exists(l2, "data/.wh.remove.txt"));
    assert_true(exists(l2, "opaque/.wh..wh..opq"));
    free(l2);
    /* The copy is writable. */
    put(f->target, "data/written", "x");
}

static void test_driver__vfs_umount_empties_the_copy_and_keeps_the_target(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest layers[3];
    mk_three_layers(f, LB_WHITEOUT_FILES, layers);
    struct lb_mount_request req = request(f, layers, 3);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), 0);
    char *ro = lb_path_join(f->target, "data");
    assert_int_equal(chmod(ro, 0555), 0); /* a read-only directory is no obstacle */
    free(ro);
    assert_int_equal(lb_driver_vfs.umount(&req, &err), 0);
    assert_true(exists(f->root, "mnt"));
    assert_int_equal(count_entries(f->target), 0);
    bool mounted = true;
    assert_int_equal(lb_driver_is_mounted(&lb_driver_vfs, f->target, &mounted, &err), 0);
    assert_false(mounted);
    /* and the layers are intact */
    char *l1 = lb_xasprintf("%s/layers/%s/diff", f->root, lb_digest_hex(&layers[2]));
    assert_file(l1, "data/keep.txt", "keep\n");
    free(l1);
}

static void test_driver__vfs_whiteout_of_a_directory_removes_its_tree(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a'), *l2 = mk_layer(f, 'b');
    put(l1, "usr/share/doc/a/README", "a\n");
    put(l1, "usr/share/doc/b/README", "b\n");
    put(l1, "usr/bin/tool", "tool\n");
    put(l2, "usr/share/.wh.doc", "");
    struct lb_digest layers[2] = {chain('b'), chain('a')};
    struct lb_mount_request req = request(f, layers, 2);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), 0);
    assert_false(exists(f->target, "usr/share/doc"));
    assert_true(exists(f->target, "usr/share"));
    assert_file(f->target, "usr/bin/tool", "tool\n");
    assert_false(has_whiteout_names(f->target));
    free(l1);
    free(l2);
}

static void test_driver__vfs_opaque_root_hides_every_lower_file(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a'), *l2 = mk_layer(f, 'b');
    put(l1, "a", "a\n");
    put(l1, "d/b", "b\n");
    put(l2, ".wh..wh..opq", "");
    put(l2, "c", "c\n");
    struct lb_digest layers[2] = {chain('b'), chain('a')};
    struct lb_mount_request req = request(f, layers, 2);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), 0);
    assert_int_equal(count_entries(f->target), 1);
    assert_file(f->target, "c", "c\n");
    free(l1);
    free(l2);
}

static void test_driver__vfs_replaces_types_in_both_directions(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a'), *l2 = mk_layer(f, 'b');
    put(l1, "was-file", "file\n");
    put(l1, "was-dir/inner/deep", "deep\n");
    put(l1, "was-link-target", "t\n");
    char *p = lb_path_join(l1, "was-link");
    assert_int_equal(symlink("was-link-target", p), 0);
    free(p);
    put(l2, "was-file/now", "dir now\n");
    put(l2, "was-dir", "file now\n");
    put(l2, "was-link", "regular now\n");
    struct lb_digest layers[2] = {chain('b'), chain('a')};
    struct lb_mount_request req = request(f, layers, 2);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), 0);
    assert_true(S_ISDIR(lst(f->target, "was-file").st_mode));
    assert_file(f->target, "was-file/now", "dir now\n");
    assert_true(S_ISREG(lst(f->target, "was-dir").st_mode));
    assert_file(f->target, "was-dir", "file now\n");
    assert_true(S_ISREG(lst(f->target, "was-link").st_mode));
    assert_file(f->target, "was-link", "regular now\n");
    assert_file(f->target, "was-link-target", "t\n"); /* replaced the link, not its target */
    free(l1);
    free(l2);
}

static void test_driver__vfs_never_writes_through_a_lower_symlink(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *outside = lb_unit_mkdtemp();
    char *l1 = mk_layer(f, 'a'), *l2 = mk_layer(f, 'b');
    char *p = lb_path_join(l1, "escape");
    assert_int_equal(symlink(outside, p), 0); /* absolute: points out of the copy */
    free(p);
    put(l2, "escape/planted", "gotcha\n");
    put(l2, "relative/x", "x\n");
    p = lb_path_join(l1, "relative");
    assert_int_equal(symlink("../../../..", p), 0);
    free(p);
    struct lb_digest layers[2] = {chain('b'), chain('a')};
    struct lb_mount_request req = request(f, layers, 2);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), 0);
    assert_int_equal(count_entries(outside), 0);
    assert_true(S_ISDIR(lst(f->target, "escape").st_mode));
    assert_file(f->target, "escape/planted", "gotcha\n");
    assert_true(S_ISDIR(lst(f->target, "relative").st_mode));
    /* A whiteout under a name that is a symlink below removes nothing through the link. */
    put(outside, "victim", "v\n");
    assert_int_equal(lb_driver_vfs.umount(&req, &err), 0);
    char *l3 = mk_layer(f, 'c');
    put(l3, "escape/.wh.victim", "");
    struct lb_digest two[2] = {chain('c'), chain('a')};
    req = request(f, two, 2);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), 0);
    assert_true(S_ISDIR(lst(f->target, "escape").st_mode));
    assert_file(outside, "victim", "v\n");
    lb_unit_rmdir(outside);
    free(l1);
    free(l2);
    free(l3);
}

static void test_driver__vfs_preserves_metadata_and_hardlinks(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a'), *l2 = mk_layer(f, 'b');
    put(l1, "dir/file", "one\n");
    put(l2, "dir/h1", "linked\n");
    char *h1 = lb_path_join(l2, "dir/h1"), *h2 = lb_path_join(l2, "dir/h2"),
         *h3 = lb_path_join(l2, "other/h3");
    mkdirs(l2, "other");
    assert_int_equal(link(h1, h2), 0);
    assert_int_equal(link(h1, h3), 0);
    char *file = lb_path_join(l1, "dir/file"), *dir2 = lb_path_join(l2, "dir");
    assert_int_equal(chmod(file, 04710), 0);
    assert_int_equal(setxattr(file, "user.test", "value", 5, 0), 0);
    const struct timespec t1[2] = {{1000000, 5}, {1234567890, 123456789}};
    assert_int_equal(utimensat(AT_FDCWD, file, t1, 0), 0);
    assert_int_equal(chmod(dir2, 0750), 0);
    const struct timespec t2[2] = {{2000000, 0}, {1500000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, dir2, t2, 0), 0);
    char *fifo = lb_path_join(l2, "fifo");
    assert_int_equal(mkfifo(fifo, 0620), 0);
    assert_int_equal(chmod(fifo, 0620), 0); /* past the umask */
    bool root = geteuid() == 0;
    if (root) {
        assert_int_equal(chown(file, 1234, 5678), 0);
        assert_int_equal(chmod(file, 04710), 0); /* chown cleared the set-uid bit */
        assert_int_equal(utimensat(AT_FDCWD, file, t1, 0), 0);
        char *dev = lb_path_join(l2, "null");
        assert_int_equal(mknod(dev, S_IFCHR | 0666, makedev(1, 3)), 0);
        free(dev);
    }
    struct lb_digest layers[2] = {chain('b'), chain('a')};
    struct lb_mount_request req = request(f, layers, 2);
    if (lb_driver_vfs.mount(&req, &err) < 0)
        fail_msg("vfs mount: %s", err->msg);
    struct stat st = lst(f->target, "dir/file");
    assert_int_equal(st.st_mode & 07777, 04710);
    assert_int_equal(st.st_mtim.tv_sec, 1234567890);
    assert_int_equal(st.st_mtim.tv_nsec, 123456789);
    char *tfile = lb_path_join(f->target, "dir/file");
    char val[16] = {0};
    assert_int_equal(getxattr(tfile, "user.test", val, sizeof(val)), 5);
    assert_string_equal(val, "value");
    free(tfile);
    st = lst(f->target, "dir"); /* the directory takes layer 2's mode and time */
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(st.st_mtim.tv_sec, 1500000000);
    ino_t ino = lst(f->target, "dir/h1").st_ino;
    assert_int_equal(lst(f->target, "dir/h2").st_ino, ino);
    assert_int_equal(lst(f->target, "other/h3").st_ino, ino);
    assert_int_equal(lst(f->target, "dir/h1").st_nlink, 3);
    assert_true(ino != lst(l2, "dir/h1").st_ino); /* a copy, not a link into the layer */
    st = lst(f->target, "fifo");
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0620);
    if (root) {
        st = lst(f->target, "dir/file");
        assert_int_equal(st.st_uid, 1234);
        assert_int_equal(st.st_gid, 5678);
        st = lst(f->target, "null");
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(major(st.st_rdev), 1);
        assert_int_equal(minor(st.st_rdev), 3);
    }
    free(h1);
    free(h2);
    free(h3);
    free(file);
    free(dir2);
    free(fifo);
    free(l1);
    free(l2);
}

static void test_driver__vfs_refuses_a_target_that_is_not_empty(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a');
    put(l1, "a", "a\n");
    put(f->target, "already", "here\n");
    struct lb_digest layers[1] = {chain('a')};
    struct lb_mount_request req = request(f, layers, 1);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_CONFLICT);
    assert_error_contains(err, "is not empty");
    assert_file(f->target, "already", "here\n");
    assert_false(exists(f->target, "a"));
    free(l1);
}

static void test_driver__vfs_missing_layer_fails_and_leaves_the_target_empty(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a');
    put(l1, "a", "a\n");
    struct lb_digest layers[2] = {chain('f'), chain('a')}; /* 'f' was never unpacked */
    struct lb_mount_request req = request(f, layers, 2);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), -1);
    assert_error_contains(err, "layer sha256:ffff");
    assert_int_equal(count_entries(f->target), 0); /* layer a's copy was rolled back */
    free(l1);
}

static void test_driver__vfs_rejects_an_empty_whiteout_name(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a'), *l2 = mk_layer(f, 'b');
    put(l1, "d/a", "a\n");
    put(l2, "d/.wh.", "");
    struct lb_digest layers[2] = {chain('b'), chain('a')};
    struct lb_mount_request req = request(f, layers, 2);
    assert_int_equal(lb_driver_vfs.mount(&req, &err), -1);
    assert_int_equal(err->kind, LB_EKIND_INVALID);
    assert_error_contains(err, "invalid whiteout '/d/.wh.'");
    assert_int_equal(count_entries(f->target), 0);
    free(l1);
    free(l2);
}

static void test_driver__vfs_umount_of_a_missing_target_fails(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    struct lb_digest layers[1] = {chain('a')};
    struct lb_mount_request req = request(f, layers, 1);
    assert_int_equal(rmdir(f->target), 0);
    assert_int_equal(lb_driver_vfs.umount(&req, &err), -1);
    assert_error_contains(err, "cannot open mount target");
    assert_int_equal(mkdir(f->target, 0755), 0);
}

/* --- overlay (root with overlayfs) -------------------------------------------------------- */

static void test_driver__overlay_mounts_the_union_read_only_through_short_links(void **state)
{
    struct fx *f = *state;
    if (!can_mount_overlay())
        skip();
    struct lb_error *err = NULL;
    struct lb_digest layers[3];
    mk_three_layers(f, LB_WHITEOUT_OVERLAY, layers);
    char cwd_before[4096], cwd_after[4096];
    assert_non_null(getcwd(cwd_before, sizeof(cwd_before)));
    struct lb_mount_request req = request(f, layers, 3);
    if (lb_driver_overlay.mount(&req, &err) < 0)
        fail_msg("overlay mount: %s", err->msg);
    assert_non_null(getcwd(cwd_after, sizeof(cwd_after)));
    assert_string_equal(cwd_before, cwd_after);
    assert_three_layer_view(f->target);
    char *line = mountinfo_line(f->target);
    assert_non_null(line);
    char *want = lb_xasprintf("lowerdir=l/%s:l/%s:l/%s", "CCCCCCCCCCCCCCCCCCCCCCCCCC",
                              "BBBBBBBBBBBBBBBBBBBBBBBBBB", "AAAAAAAAAAAAAAAAAAAAAAAAAA");
    if (strstr(line, want) == NULL || strstr(line, " overlay ") == NULL)
        fail_msg("mountinfo line '%s' lacks '%s'", line, want);
    free(want);
    free(line);
    char *p = lb_path_join(f->target, "data/new-file");
    assert_int_equal(open(p, O_WRONLY | O_CREAT, 0644), -1);
    assert_int_equal(errno, EROFS);
    free(p);
    bool mounted = false;
    assert_int_equal(lb_driver_is_mounted(&lb_driver_overlay, f->target, &mounted, &err), 0);
    assert_true(mounted);
    assert_int_equal(lb_driver_overlay.umount(&req, &err), 0);
    line = mountinfo_line(f->target);
    assert_null(line);
    assert_int_equal(lb_driver_is_mounted(&lb_driver_overlay, f->target, &mounted, &err), 0);
    assert_false(mounted);
    assert_int_equal(count_entries(f->target), 0);
}

static void test_driver__overlay_binds_a_single_layer_read_only(void **state)
{
    struct fx *f = *state;
    if (!can_mount_overlay())
        skip();
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a');
    put(l1, "etc/hostname", "one\n");
    struct lb_digest layers[1] = {chain('a')};
    struct lb_mount_request req = request(f, layers, 1);
    if (lb_driver_overlay.mount(&req, &err) < 0)
        fail_msg("overlay mount: %s", err->msg);
    assert_file(f->target, "etc/hostname", "one\n");
    char *p = lb_path_join(f->target, "etc/new");
    assert_int_equal(open(p, O_WRONLY | O_CREAT, 0644), -1);
    assert_int_equal(errno, EROFS);
    free(p);
    bool mounted = false;
    assert_int_equal(lb_driver_is_mounted(&lb_driver_overlay, f->target, &mounted, &err), 0);
    assert_true(mounted); /* a bind mount on the same file system is seen too */
    assert_int_equal(lb_driver_overlay.umount(&req, &err), 0);
    assert_null(mountinfo_line(f->target));
    assert_false(exists(f->target, "etc"));
    assert_file(l1, "etc/hostname", "one\n");
    free(l1);
}

/* The three-layer image with a container's writable layer: c/diff and c/work made, the request
 * filled in (the caller mounts). */
static struct lb_mount_request request_with_upper(struct fx *f, struct lb_digest layers[3],
                                                  char **upper, char **work)
{
    struct lb_error *err = NULL;
    mk_three_layers(f, LB_WHITEOUT_OVERLAY, layers);
    *upper = lb_path_join(f->root, "c/diff");
    *work = lb_path_join(f->root, "c/work");
    assert_int_equal(lb_mkdir_p(*upper, 0755, &err), 0);
    assert_int_equal(lb_mkdir_p(*work, 0755, &err), 0);
    struct lb_mount_request req = request(f, layers, 3);
    req.upper = *upper;
    req.work = *work;
    return req;
}

static void test_driver__overlay_with_an_upper_dir_writes_there(void **state)
{
    struct fx *f = *state;
    if (!can_mount_overlay())
        skip();
    struct lb_error *err = NULL;
    struct lb_digest layers[3];
    char *upper, *work;
    struct lb_mount_request req = request_with_upper(f, layers, &upper, &work);
    if (lb_driver_overlay.mount(&req, &err) < 0)
        fail_msg("overlay mount: %s", err->msg);
    put(f->target, "data/written", "by the container\n");
    char *p = lb_path_join(f->target, "data/keep.txt");
    assert_int_equal(unlink(p), 0);
    free(p);
    assert_int_equal(lb_driver_overlay.umount(&req, &err), 0);
    assert_file(upper, "data/written", "by the container\n");
    struct stat st = lst(upper, "data/keep.txt"); /* the deletion is a 0/0 whiteout */
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(0, 0));
    char *l1 = lb_xasprintf("%s/layers/%s/diff", f->root, lb_digest_hex(&layers[2]));
    assert_file(l1, "data/keep.txt", "keep\n"); /* the image layer is untouched */
    free(l1);
    free(upper);
    free(work);
}

/* A --rm container's writable layer is mounted "volatile" (no sync at unmount); the mark a
 * volatile mount leaves in the work dir (work/incompat/volatile), which overlayfs would refuse
 * to mount again, is cleared before the next mount. */
static void test_driver__overlay_volatile_upper_and_its_leftover_mark(void **state)
{
    struct fx *f = *state;
    if (!can_mount_overlay())
        skip();
    struct lb_error *err = NULL;
    struct lb_digest layers[3];
    char *upper, *work;
    struct lb_mount_request req = request_with_upper(f, layers, &upper, &work);
    req.volatile_upper = true;
    if (lb_driver_overlay.mount(&req, &err) < 0)
        fail_msg("overlay mount: %s", err->msg);
    /* the option is in the mount table (read with grep, not with layerbox) */
    char *cmd = lb_xasprintf("grep -q ' %s .* overlay .*volatile' /proc/self/mountinfo", f->target);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    put(f->target, "data/written", "x\n");
    assert_int_equal(lb_driver_overlay.umount(&req, &err), 0);
    assert_file(upper, "data/written", "x\n");
    char *mark = lb_xasprintf("%s/work/incompat/volatile", work);
    struct stat st;
    assert_int_equal(stat(mark, &st), 0); /* what a crash would leave too */
    /* mounted again (durably this time): the mark goes, the upper is kept */
    req.volatile_upper = false;
    if (lb_driver_overlay.mount(&req, &err) < 0)
        fail_msg("second overlay mount: %s", err->msg);
    assert_file(f->target, "data/written", "x\n");
    assert_int_equal(lb_driver_overlay.umount(&req, &err), 0);
    assert_int_equal(stat(mark, &st), -1);
    free(mark);
    free(upper);
    free(work);
}

static void test_driver__overlay_needs_every_layer_unpacked(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a');
    struct lb_digest layers[2] = {chain('f'), chain('a')};
    struct lb_mount_request req = request(f, layers, 2);
    assert_int_equal(lb_driver_overlay.mount(&req, &err), -1);
    assert_error_contains(err, "layer sha256:ffff");
    assert_null(mountinfo_line(f->target));
    /* a link file naming no link in layers/l/ */
    char *ldir = lb_xasprintf("%s/layers/%s", f->root, lb_digest_hex(&layers[0]));
    put(ldir, "link", "NOSUCHLINK\n");
    assert_int_equal(lb_driver_overlay.mount(&req, &err), -1);
    assert_error_contains(err, "does not lead to its diff directory");
    put(ldir, "link", "../../etc\n");
    assert_int_equal(lb_driver_overlay.mount(&req, &err), -1);
    assert_error_contains(err, "invalid short link name");
    assert_null(mountinfo_line(f->target));
    struct lb_mount_request none = request(f, layers, 0);
    assert_int_equal(lb_driver_overlay.mount(&none, &err), -1);
    assert_error_contains(err, "without layers");
    free(ldir);
    free(l1);
}

static void test_driver__overlay_falls_back_to_the_link_in_meta_json(void **state)
{
    struct fx *f = *state;
    struct lb_error *err = NULL;
    char *l1 = mk_layer(f, 'a'), *l2 = mk_layer(f, 'b');
    put(l1, "one", "1\n");
    put(l2, "two", "2\n");
    struct lb_digest layers[2] = {chain('b'), chain('a')};
    char *dir = lb_xasprintf("%s/layers/%s", f->root, lb_digest_hex(&layers[0]));
    char *linkfile = lb_path_join(dir, "link");
    assert_int_equal(unlink(linkfile), 0);
    /* meta.json without a link: the layer was recorded, never published */
    char *meta =
        lb_xasprintf("{\"chain_id\":\"%s\",\"diff_id\":\"%s\"}", layers[0].str, layers[0].str);
    put(dir, "meta.json", meta);
    free(meta);
    struct lb_mount_request req = request(f, layers, 2);
    assert_int_equal(lb_driver_overlay.mount(&req, &err), -1);
    assert_error_contains(err, "has no short link");
    if (!can_mount_overlay()) {
        free(dir);
        free(linkfile);
        free(l1);
        free(l2);
        skip();
    }
    meta = lb_xasprintf("{\"chain_id\":\"%s\",\"diff_id\":\"%s\",\"link\":\"%s\"}", layers[0].str,
                        layers[0].str, "BBBBBBBBBBBBBBBBBBBBBBBBBB");
    put(dir, "meta.json", meta);
    free(meta);
    if (lb_driver_overlay.mount(&req, &err) < 0)
        fail_msg("overlay mount: %s", err->msg);
    assert_file(f->target, "one", "1\n");
    assert_file(f->target, "two", "2\n");
    assert_int_equal(lb_driver_overlay.umount(&req, &err), 0);
    free(dir);
    free(linkfile);
    free(l1);
    free(l2);
}

static void test_driver__overlay_umount_of_an_unmounted_target_fails(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0)
        skip();
    struct lb_error *err = NULL;
    struct lb_digest layers[1] = {chain('a')};
    struct lb_mount_request req = request(f, layers, 1);
    assert_int_equal(lb_driver_overlay.umount(&req, &err), -1);
    assert_error_contains(err, "is not mounted");
}

#define T(name)  cmocka_unit_test_setup_teardown(name, setup, teardown)
#define TS(name) cmocka_unit_test_setup_teardown(name, setup_select, teardown_select)

LB_UNIT_MAIN(cmocka_unit_test(test_driver__lowerdir_lists_short_links_top_first),
             cmocka_unit_test(test_driver__lowerdir_rejects_names_that_could_break_the_options),
             cmocka_unit_test(test_driver__options_of_120_short_links_fit_in_a_page),
             cmocka_unit_test(test_driver__options_limit_is_exclusive_of_the_terminating_nul),
             cmocka_unit_test(test_driver__options_escape_separators_in_upper_and_work),
             cmocka_unit_test(test_driver__options_need_upper_and_work_together),
             cmocka_unit_test(test_driver__by_name_knows_overlay_and_vfs_only),
             TS(test_driver__select_records_overlay_when_the_probe_succeeds),
             TS(test_driver__select_falls_back_to_vfs_and_says_why),
             TS(test_driver__select_names_the_probe_error_in_why),
             TS(test_driver__select_honours_a_requested_vfs_without_probing),
             TS(test_driver__select_checks_a_requested_overlay_with_the_probe),
             TS(test_driver__select_refuses_to_switch_a_recorded_store),
             TS(test_driver__select_rejects_an_unknown_driver_name),
             TS(test_driver__select_rejects_a_corrupt_record),
             T(test_driver__real_probe_answers_and_leaves_nothing_behind),
             T(test_driver__mount_count_round_trips_through_its_file),
             T(test_driver__mount_count_rejects_a_file_that_is_not_a_number),
             T(test_driver__vfs_builds_the_three_layer_union),
             T(test_driver__vfs_umount_empties_the_copy_and_keeps_the_target),
             T(test_driver__vfs_whiteout_of_a_directory_removes_its_tree),
             T(test_driver__vfs_opaque_root_hides_every_lower_file),
             T(test_driver__vfs_replaces_types_in_both_directions),
             T(test_driver__vfs_never_writes_through_a_lower_symlink),
             T(test_driver__vfs_preserves_metadata_and_hardlinks),
             T(test_driver__vfs_refuses_a_target_that_is_not_empty),
             T(test_driver__vfs_missing_layer_fails_and_leaves_the_target_empty),
             T(test_driver__vfs_rejects_an_empty_whiteout_name),
             T(test_driver__vfs_umount_of_a_missing_target_fails),
             T(test_driver__overlay_mounts_the_union_read_only_through_short_links),
             T(test_driver__overlay_binds_a_single_layer_read_only),
             T(test_driver__overlay_with_an_upper_dir_writes_there),
             T(test_driver__overlay_volatile_upper_and_its_leftover_mark),
             T(test_driver__overlay_needs_every_layer_unpacked),
             T(test_driver__overlay_falls_back_to_the_link_in_meta_json),
             T(test_driver__overlay_umount_of_an_unmounted_target_fails))
