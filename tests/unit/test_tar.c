/* test_tar.c — the pax tar writer (layer/tar.h).
 *
 * Every tar written here is checked by routes that do not share code with the writer:
 *   - raw bytes, walked by a small parser in this file that recomputes every header checksum,
 *     follows pax size records and requires exactly two zero blocks at the end;
 *   - libarchive's reader and python3's tarfile, both printed to the same one-line-per-entry
 *     form and compared with a hand-written list;
 *   - GNU tar: `tar -tvf` listings and `tar --xattrs -xpf` extraction (as root).
 * Expected pax records are worked out by hand in the comments ("%d key=value\n", the length
 * counting itself). */
#include "unit.h"

#include "layer/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define T0 1600000000

struct fx {
    char *dir;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->dir = lb_unit_mkdtemp();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    lb_unit_rmdir(f->dir);
    free(f);
    return 0;
}

static const char *sub(struct fx *f, const char *name)
{
    static char bufs[4][4096];
    static int i;
    char *b = bufs[i++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", f->dir, name);
    return b;
}

static char *slurp(const char *path, size_t *len)
{
    char *out = NULL;
    struct lb_error *err = NULL;
    if (lb_read_file_at(AT_FDCWD, path, (size_t)1 << 30, &out, len, &err) < 0)
        fail_msg("read %s: %s", path, err->msg);
    return out;
}

static char *repeat(char c, size_t n)
{
    char *s = lb_xmalloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- an entry list, written through the writer ---- */

struct ent {
    struct lb_tar_header h;
    const char *data; /* size bytes, or NULL for none */
};

static void write_entries(const char *path, const struct ent *e, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), 0);
    for (size_t i = 0; i < n; i++) {
        if (lb_tar_write_header(&w, &e[i].h, &err) < 0)
            fail_msg("header %s: %s", e[i].h.path, err->msg);
        if (e[i].data && lb_tar_write_data(&w, e[i].data, (size_t)e[i].h.size, &err) < 0)
            fail_msg("data %s: %s", e[i].h.path, err->msg);
    }
    assert_int_equal(lb_tar_finish(&w, &err), 0);
    lb_tar_writer_release(&w);
    close(fd);
}

/* ---- our own reading of the raw bytes ---- */

static uint64_t octal(const char *p, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (uint64_t)(p[i] - '0');
    return v;
}

static bool all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* The value of a pax record key in the records rec[0..len), or NULL; *vlen its length. */
static const char *pax_find(const char *rec, size_t len, const char *key, size_t *vlen)
{
    size_t off = 0, kl = strlen(key);
    while (off < len) {
        char *sp = NULL;
        unsigned long rl = strtoul(rec + off, &sp, 10);
        assert_true(sp && *sp == ' ' && rl > 0 && off + rl <= len);
        assert_int_equal(rec[off + rl - 1], '\n');
        const char *k = sp + 1;
        if (strncmp(k, key, kl) == 0 && k[kl] == '=') {
            *vlen = (size_t)(rec + off + rl - 1 - (k + kl + 1));
            return k + kl + 1;
        }
        off += rl;
    }
    return NULL;
}

/* Walk the archive: every checksum recomputed (sum of the bytes with the checksum field as
 * spaces, written "%06o\0 "), magic and version checked, sizes followed (a pax size record
 * wins), and the archive must end in exactly two zero blocks. Returns the number of headers. */
static size_t walk(const char *b, size_t len)
{
    assert_int_equal(len % 512, 0);
    size_t off = 0, headers = 0;
    int64_t pax_size = -1;
    for (;;) {
        assert_true(off + 1024 <= len);
        if (all_zero(b + off, 512)) {
            assert_true(all_zero(b + off + 512, 512));
            assert_int_equal(off + 1024, len); /* nothing after the end: no 10 KiB padding */
            return headers;
        }
        const char *h = b + off;
        unsigned sum = 0;
        for (size_t i = 0; i < 512; i++)
            sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
        char want[8];
        snprintf(want, sizeof(want), "%06o", sum);
        assert_memory_equal(h + 148, want, 7);
        assert_int_equal(h[155], ' ');
        assert_memory_equal(h + 257,
                            "ustar\0"
                            "00",
                            8);
        assert_true(all_zero(h + 265, 64)); /* uname, gname: empty */
        uint64_t size = octal(h + 124, 11);
        if (pax_size >= 0)
            size = (uint64_t)pax_size;
        pax_size = -1;
        if (h[156] == 'x') {
            size_t vl;
            const char *v = pax_find(h + 512, size, "size", &vl);
            if (v)
                pax_size = strtoll(v, NULL, 10);
        }
        headers++;
        off += 512 + (size + 511) / 512 * 512;
    }
}

/* The header block of the n-th header (0-based), pax headers counted. */
static const char *nth_header(const char *b, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        off += 512 + (octal(b + off + 124, 11) + 511) / 512 * 512;
    return b + off;
}

/* ---- readers: libarchive and python, printed the same way ---- */

static char *hex(const void *p, size_t n)
{
    char *s = lb_xmalloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", ((const unsigned char *)p)[i]);
    s[2 * n] = '\0';
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per entry: path|type|perm|uid|gid|mtime|size|link|major,minor|xattrs sorted by name
 * as name=hexvalue joined by ';'. */
static char *libarchive_listing(const char *path)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
    struct lb_strbuf out = LB_STRBUF_INIT;
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        char type = '?';
        const char *link = archive_entry_hardlink(e);
        switch (archive_entry_filetype(e)) {
        case AE_IFREG:
            type = '0';
            break;
        case AE_IFLNK:
            type = '2';
            break;
        case AE_IFCHR:
            type = '3';
            break;
        case AE_IFBLK:
            type = '4';
            break;
        case AE_IFDIR:
            type = '5';
            break;
        case AE_IFIFO:
            type = '6';
            break;
        }
        if (link)
            type = '1'; /* libarchive leaves a hardlink's file type unset */
        else
            link = archive_entry_symlink(e);
        char *names[16];
        size_t nx = 0;
        const char *xn;
        const void *xv;
        size_t xs;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK && nx < 16) {
            char *h = hex(xv, xs);
            names[nx++] = lb_xasprintf("%s=%s", xn, h);
            free(h);
        }
        qsort(names, nx, sizeof(*names), cmp_str);
        lb_strbuf_addf(&out, "%s|%c|%04o|%lld|%lld|%lld|%lld|%s|%u,%u|", archive_entry_pathname(e),
                       type, (unsigned)archive_entry_perm(e), (long long)archive_entry_uid(e),
                       (long long)archive_entry_gid(e), (long long)archive_entry_mtime(e),
                       (long long)archive_entry_size(e), link ? link : "",
                       type == '3' || type == '4' ? (unsigned)archive_entry_rdevmajor(e) : 0,
                       type == '3' || type == '4' ? (unsigned)archive_entry_rdevminor(e) : 0);
        for (size_t i = 0; i < nx; i++) {
            lb_strbuf_addf(&out, "%s%s", i ? ";" : "", names[i]);
            free(names[i]);
        }
        lb_strbuf_addc(&out, '\n');
    }
    assert_int_equal(r, ARCHIVE_EOF);
    archive_read_free(a);
    return lb_strbuf_detach(&out);
}

/* Run a shell command, returning its stdout and (in *status) its exit status. */
static char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    struct lb_strbuf out = LB_STRBUF_INIT;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
        lb_strbuf_add(&out, buf, n);
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return lb_strbuf_detach(&out);
}

#define REQUIRE_TOOL(check, what)                                                                  \
    do {                                                                                           \
        if (system(check " >/dev/null 2>&1") != 0) {                                               \
            print_message("skipped: needs " what "\n");                                            \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static const char py_lister[] =
    "import sys, tarfile, os\n"
    "out = sys.stdout.buffer\n"
    "with tarfile.open(sys.argv[1], 'r:') as t:\n"
    "    for m in t:\n"
    "        x = sorted((k[13:], os.fsencode(v).hex()) for k, v in m.pax_headers.items()\n"
    "                   if k.startswith('SCHILY.xattr.'))\n"
    "        dev = (m.devmajor, m.devminor) if m.type in (b'3', b'4') else (0, 0)\n"
    "        name = os.fsencode(m.name) + (b'/' if m.isdir() else b'')\n"
    "        out.write(b'|'.join([name, m.type, b'%04o' % m.mode,\n"
    "            b'%d' % m.uid, b'%d' % m.gid, b'%d' % int(m.mtime), b'%d' % m.size,\n"
    "            os.fsencode(m.linkname), b'%d,%d' % dev,\n"
    "            ';'.join(k + '=' + v for k, v in x).encode()]) + b'\\n')\n";

static char *python_listing(struct fx *f, const char *tar)
{
    const char *script = sub(f, "list.py");
    lb_unit_write(f->dir, "list.py", py_lister, strlen(py_lister));
    char *cmd = lb_xasprintf("python3 '%s' '%s'", script, tar);
    int status;
    char *out = run(cmd, &status);
    free(cmd);
    assert_int_equal(status, 0);
    return out;
}

/* Both readers must print exactly `want`; python only when it is there. */
static void check_readers(struct fx *f, const char *tar, const char *want)
{
    char *la = libarchive_listing(tar);
    assert_string_equal(la, want);
    free(la);
    if (system("python3 -c 'import tarfile' >/dev/null 2>&1") == 0) {
        char *py = python_listing(f, tar);
        assert_string_equal(py, want);
        free(py);
    } else {
        print_message("note: no python3, its check is left out\n");
    }
}

/* `tar --numeric-owner -tvf` must succeed and contain each of the needles. */
static void check_gnu_listing(const char *tar, const char *const *needles, size_t n)
{
    if (system("tar --version 2>/dev/null | grep -q 'GNU tar'") != 0) {
        print_message("note: no GNU tar, its listing is left out\n");
        return;
    }
    char *cmd = lb_xasprintf("TZ=UTC tar --numeric-owner -tvf '%s' 2>&1", tar);
    int status;
    char *out = run(cmd, &status);
    free(cmd);
    if (status != 0)
        fail_msg("tar -tvf failed:\n%s", out);
    for (size_t i = 0; i < n; i++)
        if (strstr(out, needles[i]) == NULL)
            fail_msg("'%s' not in GNU tar's listing:\n%s", needles[i], out);
    free(out);
}

/* ---- the tests ---- */

/* Every entry type with short names. Sizes by hand: 9 headers, f.txt one block, 512 exactly one
 * block (no extra padding block), the rest none, then two zero blocks: 13 blocks in all. */
static void test_tar__short_names_of_every_type_read_back_by_three_readers(void **state)
{
    struct fx *f = *state;
    char *b512 = repeat('z', 512);
    const struct ent e[] = {
        {{.path = "d", .mode = S_IFDIR | 0755, .uid = 0, .gid = 0, .mtime = T0}, NULL},
        {{.path = "d/f.txt",
          .mode = S_IFREG | 0640,
          .uid = 1000,
          .gid = 100,
          .mtime = T0,
          .size = 6},
         "hello\n"},
        {{.path = "d/empty", .mode = S_IFREG | 0600, .mtime = T0}, NULL},
        {{.path = "d/512", .mode = S_IFREG | 0644, .mtime = T0, .size = 512}, b512},
        {{.path = "d/ln", .mode = S_IFLNK | 0777, .mtime = T0, .linkname = "f.txt"}, NULL},
        {{.path = "d/hl",
          .mode = S_IFREG | 0640,
          .uid = 1000,
          .gid = 100,
          .mtime = T0,
          .size = 6,
          .linkname = "d/f.txt",
          .hardlink = true},
         NULL},
        {{.path = "d/null", .mode = S_IFCHR | 0666, .mtime = T0, .rdev = makedev(1, 3)}, NULL},
        {{.path = "d/blk", .mode = S_IFBLK | 0660, .gid = 6, .mtime = T0, .rdev = makedev(8, 1)},
         NULL},
        {{.path = "d/fifo", .mode = S_IFIFO | 01644, .mtime = T0}, NULL},
    };
    const char *tar = sub(f, "t.tar");
    write_entries(tar, e, LB_ARRAY_SIZE(e));
    free(b512);

    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(len, 13 * 512);
    assert_int_equal(walk(b, len), 9);
    assert_null(memmem(b, len, "PaxHeader", 9)); /* ustar says it all */
    /* The directory got its '/', the type flags and the device numbers are where ustar puts
     * them; devmajor/devminor are empty for everything but devices. */
    const char *h = nth_header(b, 0);
    assert_string_equal(h, "d/");
    assert_int_equal(h[156], '5');
    assert_memory_equal(h + 100, "0000755\0", 8);
    assert_true(all_zero(h + 329, 16));
    assert_int_equal(nth_header(b, 1)[156], '0');
    assert_memory_equal(nth_header(b, 1) + 108,
                        "0001750\0"
                        "0000144\0"
                        "00000000006\0",
                        28);
    assert_memory_equal(nth_header(b, 1) + 136, "13727410000\0", 12); /* T0 = 0o13727410000 */
    assert_int_equal(nth_header(b, 4)[156], '2');
    assert_int_equal(nth_header(b, 5)[156], '1');
    assert_memory_equal(nth_header(b, 5) + 124, "00000000000\0", 12); /* a hardlink: size 0 */
    assert_int_equal(nth_header(b, 6)[156], '3');
    assert_memory_equal(nth_header(b, 6) + 329,
                        "0000001\0"
                        "0000003\0",
                        16);
    assert_int_equal(nth_header(b, 7)[156], '4');
    assert_int_equal(nth_header(b, 8)[156], '6');
    assert_memory_equal(nth_header(b, 8) + 100, "0001644\0", 8);
    free(b);

    check_readers(f, tar,
                  "d/|5|0755|0|0|1600000000|0||0,0|\n"
                  "d/f.txt|0|0640|1000|100|1600000000|6||0,0|\n"
                  "d/empty|0|0600|0|0|1600000000|0||0,0|\n"
                  "d/512|0|0644|0|0|1600000000|512||0,0|\n"
                  "d/ln|2|0777|0|0|1600000000|0|f.txt|0,0|\n"
                  "d/hl|1|0640|1000|100|1600000000|0|d/f.txt|0,0|\n"
                  "d/null|3|0666|0|0|1600000000|0||1,3|\n"
                  "d/blk|4|0660|0|6|1600000000|0||8,1|\n"
                  "d/fifo|6|1644|0|0|1600000000|0||0,0|\n");
    static const char *const gnu[] = {
        "drwxr-xr-x 0/0",
        "-rw-r----- 1000/100",
        " 6 2020-09-13 12:26 d/f.txt",
        "d/ln -> f.txt",
        "d/hl link to d/f.txt",
        "crw-rw-rw- 0/0",
        " 1,3 ",
        "brw-rw---- 0/6",
        " 8,1 ",
        "prw-r--r-T 0/0",
        " 512 2020-09-13 12:26 d/512",
    };
    check_gnu_listing(tar, gnu, LB_ARRAY_SIZE(gnu));
}

/* 100 bytes: the name field alone. 101 bytes "aaa…/bbb…": split at the '/' into prefix and
 * name. 300 bytes with no '/': a pax path record, by hand: " path=" (6) + 300 + "\n" (1) = 307,
 * plus its 3 digits = 310. */
static void test_tar__names_at_the_ustar_limits(void **state)
{
    struct fx *f = *state;
    char *n100 = repeat('a', 100);
    char *n101 = repeat('b', 101);
    n101[50] = '/'; /* prefix 50 bytes, name 50 bytes */
    char *n300 = repeat('c', 300);
    const struct ent e[] = {
        {{.path = n100, .mode = S_IFREG | 0644, .mtime = T0}, NULL},
        {{.path = n101, .mode = S_IFREG | 0644, .mtime = T0}, NULL},
        {{.path = n300, .mode = S_IFREG | 0644, .mtime = T0, .size = 1}, "x"},
    };
    const char *tar = sub(f, "t.tar");
    write_entries(tar, e, LB_ARRAY_SIZE(e));
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(walk(b, len), 4);
    const char *h = nth_header(b, 0);
    assert_memory_equal(h, n100, 100);
    assert_true(all_zero(h + 345, 155));
    h = nth_header(b, 1);
    assert_memory_equal(h, n101 + 51, 50);
    assert_int_equal(h[50], '\0');
    assert_memory_equal(h + 345, n101, 50);
    assert_int_equal(h[345 + 50], '\0');
    h = nth_header(b, 2); /* the pax header */
    assert_int_equal(h[156], 'x');
    assert_memory_equal(h, "PaxHeader/", 10); /* and the base cut to fill the 100 bytes */
    assert_memory_equal(h + 10, n300, 90);
    char *rec = lb_xasprintf("310 path=%s\n", n300);
    assert_int_equal(octal(h + 124, 11), 310);
    assert_memory_equal(h + 512, rec, 310);
    free(rec);
    free(b);

    char *want = lb_xasprintf("%s|0|0644|0|0|%d|0||0,0|\n%s|0|0644|0|0|%d|0||0,0|\n"
                              "%s|0|0644|0|0|%d|1||0,0|\n",
                              n100, T0, n101, T0, n300, T0);
    check_readers(f, tar, want);
    free(want);
    const char *gnu[] = {n100, n101, n300};
    check_gnu_listing(tar, gnu, 3);
    free(n100);
    free(n101);
    free(n300);
}

/* A 200-byte symlink target: " linkpath=" (10) + 200 + 1 = 211, + 3 digits = 214. A hardlink to
 * a long name carries the name in linkpath as well; the 'x' header is named dir/PaxHeader/base. */
static void test_tar__long_link_targets_go_into_linkpath_records(void **state)
{
    struct fx *f = *state;
    char *target = repeat('t', 200);
    char *longname = repeat('n', 120);
    const struct ent e[] = {
        {{.path = "dir/sym", .mode = S_IFLNK | 0777, .mtime = T0, .linkname = target}, NULL},
        {{.path = longname, .mode = S_IFREG | 0644, .mtime = T0}, NULL},
        {{.path = "hard",
          .mode = S_IFREG | 0644,
          .mtime = T0,
          .linkname = longname,
          .hardlink = true},
         NULL},
    };
    const char *tar = sub(f, "t.tar");
    write_entries(tar, e, LB_ARRAY_SIZE(e));
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(walk(b, len), 6);
    const char *h = nth_header(b, 0);
    assert_string_equal(h, "dir/PaxHeader/sym");
    char *rec = lb_xasprintf("214 linkpath=%s\n", target);
    assert_memory_equal(h + 512, rec, 214);
    assert_int_equal(octal(h + 124, 11), 214);
    free(rec);
    h = nth_header(b, 1);
    assert_memory_equal(h + 157, target, 100); /* the ustar field: the first 100 bytes */
    free(b);
    char *want = lb_xasprintf("dir/sym|2|0777|0|0|%d|0|%s|0,0|\n%s|0|0644|0|0|%d|0||0,0|\n"
                              "hard|1|0644|0|0|%d|0|%s|0,0|\n",
                              T0, target, longname, T0, T0, longname);
    check_readers(f, tar, want);
    free(want);
    char *sym = lb_xasprintf("dir/sym -> %s", target);
    char *hard = lb_xasprintf("hard link to %s", longname);
    const char *gnu[] = {sym, hard};
    check_gnu_listing(tar, gnu, 2);
    free(sym);
    free(hard);
    free(target);
    free(longname);
}

/* UTF-8 names get a path record (docker's rule) and no hdrcharset; a name that is not UTF-8 gets
 * hdrcharset=BINARY first, then its raw bytes. GNU tar extracts the exact bytes. */
static void test_tar__non_ascii_names_get_path_records_and_binary_ones_hdrcharset(void **state)
{
    struct fx *f = *state;
    const struct ent e[] = {
        {{.path = "caf\xc3\xa9", .mode = S_IFREG | 0644, .mtime = T0, .size = 1}, "1"},
        {{.path = "\xe6\x97\xa5\xe6\x9c\xac/x", .mode = S_IFREG | 0644, .mtime = T0}, NULL},
        {{.path = "raw\xff\xfe", .mode = S_IFREG | 0644, .mtime = T0, .size = 1}, "2"},
        {{.path = "over\xc0\xaf", .mode = S_IFREG | 0644, .mtime = T0}, NULL}, /* overlong '/' */
        {{.path = "plain", .mode = S_IFREG | 0644, .mtime = T0}, NULL},
    };
    const char *tar = sub(f, "t.tar");
    write_entries(tar, e, LB_ARRAY_SIZE(e));
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(walk(b, len), 9);
    /* " path=café\n": 1+5+5+1 = 12 → "14 path=café\n" (the é is two bytes). */
    assert_non_null(memmem(b, len, "14 path=caf\xc3\xa9\n", 14));
    assert_string_equal(nth_header(b, 0), "PaxHeader/caf\xc3\xa9");
    assert_string_equal(nth_header(b, 2), "\xe6\x97\xa5\xe6\x9c\xac/PaxHeader/x");
    /* " hdrcharset=BINARY\n" = 1+10+1+6+1 = 19 → 21, then " path=raw\xff\xfe\n" = 12 → 14. */
    const char *h = nth_header(b, 4);
    assert_memory_equal(h + 512, "21 hdrcharset=BINARY\n14 path=raw\xff\xfe\n", 35);
    assert_int_equal(octal(h + 124, 11), 35);
    size_t n = 0;
    for (const char *p = b; (p = memmem(p, len - (size_t)(p - b), "hdrcharset", 10)); p++)
        n++;
    assert_int_equal(n, 2); /* raw\xff\xfe and the overlong form */
    free(b);
    char *want = lb_xasprintf("caf\xc3\xa9|0|0644|0|0|%d|1||0,0|\n"
                              "\xe6\x97\xa5\xe6\x9c\xac/x|0|0644|0|0|%d|0||0,0|\n"
                              "raw\xff\xfe|0|0644|0|0|%d|1||0,0|\n"
                              "over\xc0\xaf|0|0644|0|0|%d|0||0,0|\n"
                              "plain|0|0644|0|0|%d|0||0,0|\n",
                              T0, T0, T0, T0, T0);
    check_readers(f, tar, want);
    free(want);
    if (system("tar --version 2>/dev/null | grep -q 'GNU tar'") == 0) {
        const char *x = sub(f, "x");
        assert_int_equal(mkdir(x, 0755), 0);
        char *cmd = lb_xasprintf("tar --warning=no-unknown-keyword -xf '%s' -C '%s'", tar, x);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        struct stat st;
        assert_int_equal(lstat(sub(f, "x/caf\xc3\xa9"), &st), 0);
        assert_int_equal(lstat(sub(f, "x/raw\xff\xfe"), &st), 0);
        assert_int_equal(st.st_size, 1);
        assert_int_equal(lstat(sub(f, "x/\xe6\x97\xa5\xe6\x9c\xac/x"), &st), 0);
    }
}

/* 07777777 = 2097151 is the largest id ustar holds; 2097152 and 3000000 need records:
 * " uid=2097152\n" = 1+3+1+7+1 = 13, + 2 digits → "15 uid=2097152\n". */
static void test_tar__ids_beyond_the_octal_limit_get_pax_records(void **state)
{
    struct fx *f = *state;
    const struct ent e[] = {
        {{.path = "max", .mode = S_IFREG | 0644, .uid = 2097151, .gid = 2097151, .mtime = T0},
         NULL},
        {{.path = "over", .mode = S_IFREG | 0644, .uid = 2097152, .gid = 7, .mtime = T0}, NULL},
        {{.path = "big", .mode = S_IFREG | 0644, .uid = 3000000, .gid = 3000000, .mtime = T0},
         NULL},
    };
    const char *tar = sub(f, "t.tar");
    write_entries(tar, e, LB_ARRAY_SIZE(e));
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(walk(b, len), 5);
    assert_memory_equal(nth_header(b, 0) + 108,
                        "7777777\0"
                        "7777777\0",
                        16);
    const char *h = nth_header(b, 1);
    assert_int_equal(h[156], 'x');
    assert_memory_equal(h + 512, "15 uid=2097152\n", 15);
    assert_int_equal(octal(h + 124, 11), 15);
    assert_memory_equal(nth_header(b, 2) + 108,
                        "0000000\0"
                        "0000007\0",
                        16);
    h = nth_header(b, 3);
    assert_memory_equal(h + 512, "15 uid=3000000\n15 gid=3000000\n", 30);
    free(b);
    char *want = lb_xasprintf("max|0|0644|2097151|2097151|%d|0||0,0|\n"
                              "over|0|0644|2097152|7|%d|0||0,0|\n"
                              "big|0|0644|3000000|3000000|%d|0||0,0|\n",
                              T0, T0, T0);
    check_readers(f, tar, want);
    free(want);
    const char *gnu[] = {"3000000/3000000", "2097152/7", "2097151/2097151"};
    check_gnu_listing(tar, gnu, 3);
}

/* mtime 0 is plain ustar; -1 and 2^33 (one past 077777777777) need records:
 * " mtime=-1\n" = 10 → "12 mtime=-1\n"; " mtime=8589934592\n" = 18 → "20 mtime=8589934592\n". */
static void test_tar__mtimes_zero_negative_and_past_the_octal_limit(void **state)
{
    struct fx *f = *state;
    const struct ent e[] = {
        {{.path = "zero", .mode = S_IFREG | 0644, .mtime = 0}, NULL},
        {{.path = "neg", .mode = S_IFREG | 0644, .mtime = -1}, NULL},
        {{.path = "max", .mode = S_IFREG | 0644, .mtime = 077777777777LL}, NULL},
        {{.path = "far", .mode = S_IFREG | 0644, .mtime = 8589934592LL}, NULL},
    };
    const char *tar = sub(f, "t.tar");
    write_entries(tar, e, LB_ARRAY_SIZE(e));
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(walk(b, len), 6);
    assert_memory_equal(nth_header(b, 0) + 136, "00000000000\0", 12);
    assert_memory_equal(nth_header(b, 1) + 512, "12 mtime=-1\n", 12);
    assert_memory_equal(nth_header(b, 2) + 136, "00000000000\0", 12); /* Go writes 0 too */
    assert_memory_equal(nth_header(b, 3) + 136, "77777777777\0", 12);
    assert_memory_equal(nth_header(b, 4) + 512, "20 mtime=8589934592\n", 20);
    free(b);
    check_readers(f, tar,
                  "zero|0|0644|0|0|0|0||0,0|\n"
                  "neg|0|0644|0|0|-1|0||0,0|\n"
                  "max|0|0644|0|0|8589934591|0||0,0|\n"
                  "far|0|0644|0|0|8589934592|0||0,0|\n");
}

/* 9 GiB = 9663676416 bytes: " size=9663676416\n" = 17 → "19 size=9663676416\n"; the ustar
 * field holds 0. One byte less than 8 GiB still fits ustar. Only the headers are written. */
static void test_tar__a_size_past_8_gib_goes_into_a_pax_record(void **state)
{
    struct fx *f = *state;
    const char *tar = sub(f, "t.tar");
    int fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), 0);
    struct lb_tar_header h = {.path = "fits", .mode = S_IFREG | 0644, .size = 077777777777LL};
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    /* its content is missing: the next header is refused and the tar can never be finished */
    h.path = "huge";
    h.size = 9LL << 30;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), -1);
    assert_error_contains(err, "'fits' is missing 8589934591 bytes");
    assert_true(w.failed);
    lb_tar_writer_release(&w);

    /* again, with only the huge one */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), 0);
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_flush(&w, &err), 0);
    assert_int_equal(w.offset, 3 * 512);
    assert_int_equal(lb_tar_finish(&w, &err), -1);
    assert_error_contains(err, "cannot finish the tar: 'huge' is missing 9663676416 bytes");
    lb_tar_writer_release(&w);
    close(fd);
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(len, 3 * 512); /* nothing was added by the failed finish */
    assert_int_equal(b[156], 'x');
    assert_memory_equal(b + 512, "19 size=9663676416\n", 19);
    assert_int_equal(octal(b + 124, 11), 19);
    assert_memory_equal(b + 1024, "huge", 5);
    assert_memory_equal(b + 1024 + 124, "00000000000\0", 12);
    free(b);
    if (system("python3 -c 'import tarfile' >/dev/null 2>&1") == 0) {
        char *cmd = lb_xasprintf("python3 -c 'import tarfile,sys; m = tarfile.open(sys.argv[1], "
                                 "\"r:\").next(); print(m.name, m.size)' '%s'",
                                 tar);
        int status;
        char *out = run(cmd, &status);
        assert_int_equal(status, 0);
        assert_string_equal(out, "huge 9663676416\n");
        free(out);
        free(cmd);
    }
}

/* xattrs as SCHILY.xattr.* records in the order given, values as raw bytes (NUL, newline, 0xff,
 * '=' included). "user.bin" with 5 value bytes: 1 + 21 + 1 + 5 + 1 = 29, + 2 digits = 31. */
static void test_tar__xattrs_are_schily_records_in_the_given_order(void **state)
{
    struct fx *f = *state;
    static const char bin[] = {'\0', '\n', '\xff', '=', 'x'};
    const struct lb_tar_xattr xa[] = {
        {"user.z", "last", 4},
        {"user.bin", bin, sizeof(bin)},
        {"trusted.t", "", 0},
    };
    const struct ent e[] = {
        {{.path = "f", .mode = S_IFREG | 0644, .mtime = T0, .size = 2, .xattrs = xa, .n_xattrs = 3},
         "hi"},
        {{.path = "d/", .mode = S_IFDIR | 0755, .mtime = T0, .xattrs = xa, .n_xattrs = 1}, NULL},
    };
    const char *tar = sub(f, "t.tar");
    write_entries(tar, e, LB_ARRAY_SIZE(e));
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(walk(b, len), 4);
    const char *h = nth_header(b, 0);
    /* " SCHILY.xattr.user.z=last\n" = 26 → 28; " SCHILY.xattr.trusted.t=\n" = 25 → 27. */
    static const char recs[] = "28 SCHILY.xattr.user.z=last\n"
                               "31 SCHILY.xattr.user.bin=\0\n\xff=x\n"
                               "27 SCHILY.xattr.trusted.t=\n";
    assert_int_equal(octal(h + 124, 11), sizeof(recs) - 1);
    assert_memory_equal(h + 512, recs, sizeof(recs) - 1);
    assert_string_equal(nth_header(b, 2), "PaxHeader/d");
    free(b);
    char *bh = hex(bin, sizeof(bin));
    char *want = lb_xasprintf("f|0|0644|0|0|%d|2||0,0|trusted.t=;user.bin=%s;user.z=6c617374\n"
                              "d/|5|0755|0|0|%d|0||0,0|user.z=6c617374\n",
                              T0, bh, T0);
    check_readers(f, tar, want);
    free(want);
    free(bh);
    if (geteuid() != 0 || system("tar --version 2>/dev/null | grep -q 'GNU tar'") != 0) {
        print_message("note: extraction with xattrs needs root and GNU tar; left out\n");
        return;
    }
    const char *x = sub(f, "x");
    assert_int_equal(mkdir(x, 0755), 0);
    char *cmd = lb_xasprintf("tar --xattrs --xattrs-include='*' -xf '%s' -C '%s'", tar, x);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char v[16];
    const char *fx = sub(f, "x/f");
    assert_int_equal(lgetxattr(fx, "user.bin", v, sizeof(v)), 5);
    assert_memory_equal(v, bin, 5);
    assert_int_equal(lgetxattr(fx, "user.z", v, sizeof(v)), 4);
    assert_memory_equal(v, "last", 4);
    assert_int_equal(lgetxattr(fx, "trusted.t", v, sizeof(v)), 0);
    assert_int_equal(lgetxattr(sub(f, "x/d"), "user.z", v, sizeof(v)), 4);
}

static void test_tar__an_empty_archive_is_two_zero_blocks(void **state)
{
    struct fx *f = *state;
    const char *tar = sub(f, "t.tar");
    write_entries(tar, NULL, 0);
    size_t len;
    char *b = slurp(tar, &len);
    assert_int_equal(len, 1024);
    assert_true(all_zero(b, len));
    free(b);
    check_readers(f, tar, "");
}

/* Refused input writes nothing and leaves the writer usable. */
static void test_tar__invalid_headers_are_refused_before_writing(void **state)
{
    struct fx *f = *state;
    const char *tar = sub(f, "t.tar");
    int fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    assert_int_equal(lb_tar_writer_init(&w, fd, "layer tar", &err), 0);
    struct lb_tar_header h = {.path = "", .mode = S_IFREG | 0644};
    assert_int_equal(lb_tar_write_header(&w, &h, &err), -1);
    assert_error_contains(err, "empty path");
    h.path = "sock";
    h.mode = S_IFSOCK | 0644;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), -1);
    assert_error_contains(err, "cannot write 'sock' into a tar: unsupported file type");
    h.mode = S_IFREG | 0644;
    h.size = -1;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), -1);
    assert_error_contains(err, "negative size");
    h.size = 0;
    const struct lb_tar_xattr bad = {"user.a=b", "v", 1};
    h.xattrs = &bad;
    h.n_xattrs = 1;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), -1);
    assert_error_contains(err, "bad xattr name 'user.a=b'");
    h.n_xattrs = 0;
    h.mode = S_IFLNK | 0777;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), -1);
    assert_error_contains(err, "a link needs a target");
    assert_int_equal(w.offset, 0);
    assert_false(w.failed);
    /* more content than the header said: refused, nothing written */
    h.mode = S_IFREG | 0644;
    h.size = 2;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_data(&w, "abc", 3, &err), -1);
    assert_error_contains(err, "cannot write 'sock' into the layer tar: 3 bytes of content");
    assert_int_equal(lb_tar_write_data(&w, "ab", 2, &err), 0);
    assert_int_equal(lb_tar_finish(&w, &err), 0);
    /* and after the end, nothing more */
    assert_int_equal(lb_tar_write_header(&w, &h, &err), -1);
    assert_error_contains(err, "the archive is finished");
    lb_tar_writer_release(&w);
    close(fd);
    check_readers(f, tar, "sock|0|0644|0|0|0|2||0,0|\n");
}

static void test_tar__unwritable_fds_are_refused_at_init(void **state)
{
    struct fx *f = *state;
    const char *tar = sub(f, "t.tar");
    lb_unit_write(f->dir, "t.tar", "", 0);
    int fd = open(tar, O_RDONLY);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), -1);
    assert_int_equal(err->code, EBADF);
    assert_error_contains(err, "cannot write the tar to fd");
    lb_tar_writer_release(&w);
    close(fd);
    assert_int_equal(lb_tar_writer_init(&w, fd, "layer tar", &err), -1); /* closed */
    assert_int_equal(err->code, EBADF);
    assert_error_contains(err, "cannot write the layer tar to fd");
    /* and the writer refuses everything afterwards */
    struct lb_tar_header h = {.path = "a", .mode = S_IFREG | 0644};
    assert_int_equal(lb_tar_write_header(&w, &h, &err), -1);
    assert_error_contains(err, "an earlier write failed");
    lb_tar_writer_release(&w);
}

/* An fd closed under the writer: the buffered bytes fail when they are flushed. */
static void test_tar__an_fd_closed_after_init_fails_at_the_flush(void **state)
{
    struct fx *f = *state;
    int fd = open(sub(f, "t.tar"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), 0);
    close(fd);
    struct lb_tar_header h = {.path = "a", .mode = S_IFREG | 0644, .size = 1};
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_data(&w, "x", 1, &err), 0);
    assert_int_equal(lb_tar_finish(&w, &err), -1);
    assert_int_equal(err->code, EBADF);
    assert_error_contains(err, "cannot finish the tar");
    assert_true(w.failed);
    lb_tar_writer_release(&w);
}

/* A full disk (/dev/full) while a file is copied: the error names that entry, and after it
 * nothing is written, not even an end-of-archive. */
static void test_tar__a_full_device_fails_naming_the_entry(void **state)
{
    struct fx *f = *state;
    int out = open("/dev/full", O_WRONLY);
    if (out < 0) {
        print_message("skipped: no /dev/full\n");
        skip();
    }
    char *big = repeat('b', 300000);
    lb_unit_write(f->dir, "src", big, 300000);
    free(big);
    int src = open(sub(f, "src"), O_RDONLY);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    assert_int_equal(lb_tar_writer_init(&w, out, NULL, &err), 0);
    struct lb_tar_header h = {.path = "small", .mode = S_IFREG | 0644, .size = 1};
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_data(&w, "s", 1, &err), 0); /* buffered */
    h.path = "dir/big";
    h.size = 300000;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_file(&w, src, 300000, &err), -1);
    assert_int_equal(err->code, ENOSPC);
    assert_error_contains(err, "cannot write 'dir/big' into the tar");
    assert_true(w.failed);
    assert_int_equal(lb_tar_finish(&w, &err), -1);
    assert_error_contains(err, "an earlier write failed");
    lb_tar_writer_release(&w);
    close(src);
    close(out);
}

/* A real file system that fills up (a 64 KiB tmpfs): what was written stays as it was, the
 * failed writer appends nothing. Needs root to mount. */
static void test_tar__a_full_tmpfs_keeps_the_partial_tar_untouched(void **state)
{
    struct fx *f = *state;
    if (geteuid() != 0) {
        print_message("skipped: needs root to mount a tmpfs\n");
        skip();
    }
    const char *mnt = sub(f, "mnt");
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0) {
        print_message("skipped: cannot mount a tmpfs: %s\n", strerror(errno));
        skip();
    }
    const char *tar = sub(f, "mnt/t.tar");
    int fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    char *data = repeat('d', 200000);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), 0);
    struct lb_tar_header h = {.path = "data", .mode = S_IFREG | 0644, .size = 200000};
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_data(&w, data, 200000, &err), -1);
    assert_int_equal(err->code, ENOSPC);
    assert_error_contains(err, "cannot write 'data' into the tar");
    struct stat st1, st2;
    assert_int_equal(fstat(fd, &st1), 0);
    assert_int_equal(lb_tar_finish(&w, &err), -1);
    assert_error_contains(err, "an earlier write failed");
    assert_int_equal(lb_tar_write_data(&w, data, 1, &err), -1);
    assert_error_contains(err, "an earlier write failed");
    lb_tar_writer_release(&w);
    assert_int_equal(fstat(fd, &st2), 0);
    assert_int_equal(st1.st_size, st2.st_size);
    assert_true(st1.st_size < 200000);
    close(fd);
    free(data);
    assert_int_equal(umount2(mnt, MNT_DETACH), 0);
}

/* lb_tar_write_file: exactly size bytes (a longer file is fine, the rest is not read); a file
 * that ends early is "shrank"; a read error names the entry. */
static void test_tar__write_file_copies_exactly_and_fails_when_the_source_shrinks(void **state)
{
    struct fx *f = *state;
    lb_unit_write(f->dir, "src", "0123456789", 10);
    const char *tar = sub(f, "t.tar");
    int fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int src = open(sub(f, "src"), O_RDONLY);
    struct lb_tar_writer w;
    struct lb_error *err = NULL;
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), 0);
    struct lb_tar_header h = {.path = "first", .mode = S_IFREG | 0644, .size = 4};
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_file(&w, src, 4, &err), 0);
    assert_int_equal(lseek(src, 0, SEEK_CUR), 4);
    h.path = "rest";
    h.size = 6;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_file(&w, src, 6, &err), 0);
    assert_int_equal(lb_tar_finish(&w, &err), 0);
    lb_tar_writer_release(&w);
    close(fd);
    check_readers(f, tar, "first|0|0644|0|0|0|4||0,0|\nrest|0|0644|0|0|0|6||0,0|\n");
    size_t len;
    char *b = slurp(tar, &len);
    assert_memory_equal(b + 512, "0123\0", 5);
    assert_memory_equal(b + 3 * 512, "456789\0", 7);
    free(b);

    /* shrank: 10 bytes where 20 were promised */
    fd = open(tar, O_WRONLY | O_TRUNC);
    assert_int_equal(lseek(src, 0, SEEK_SET), 0);
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), 0);
    h.path = "dir/shrinking";
    h.size = 20;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_file(&w, src, 20, &err), -1);
    assert_error_contains(err, "'dir/shrinking' shrank while it was being read");
    assert_true(w.failed);
    assert_int_equal(lb_tar_finish(&w, &err), -1);
    assert_error_contains(err, "an earlier write failed");
    lb_tar_writer_release(&w);

    /* a source that cannot be read */
    int dirfd = open(f->dir, O_RDONLY | O_DIRECTORY);
    assert_int_equal(lb_tar_writer_init(&w, fd, NULL, &err), 0);
    h.path = "unreadable";
    h.size = 1;
    assert_int_equal(lb_tar_write_header(&w, &h, &err), 0);
    assert_int_equal(lb_tar_write_file(&w, dirfd, 1, &err), -1);
    assert_int_equal(err->code, EISDIR);
    assert_error_contains(err, "cannot read 'unreadable'");
    lb_tar_writer_release(&w);
    close(dirfd);
    close(src);
    close(fd);
}

LB_UNIT_MAIN(
    cmocka_unit_test_setup_teardown(test_tar__short_names_of_every_type_read_back_by_three_readers,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar__names_at_the_ustar_limits, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar__long_link_targets_go_into_linkpath_records, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        test_tar__non_ascii_names_get_path_records_and_binary_ones_hdrcharset, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar__ids_beyond_the_octal_limit_get_pax_records, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_tar__mtimes_zero_negative_and_past_the_octal_limit, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_tar__a_size_past_8_gib_goes_into_a_pax_record, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_tar__xattrs_are_schily_records_in_the_given_order, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_tar__an_empty_archive_is_two_zero_blocks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar__invalid_headers_are_refused_before_writing, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_tar__unwritable_fds_are_refused_at_init, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar__an_fd_closed_after_init_fails_at_the_flush, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_tar__a_full_device_fails_naming_the_entry, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_tar__a_full_tmpfs_keeps_the_partial_tar_untouched, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(
        test_tar__write_file_copies_exactly_and_fails_when_the_source_shrinks, setup, teardown))
