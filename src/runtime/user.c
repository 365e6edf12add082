/* user.c — resolving "user[:group]" against the image's /etc/passwd and /etc/group.
 *
 * The concept: inside a container, names belong to the image, not to the host. "www-data" may be
 * uid 33 on the host and uid 82 in an Alpine image, so the lookup reads the image's own files —
 * through the rootfs fd, one component at a time and never through a symlink (lb_safepath_open),
 * because a malicious image could otherwise point /etc/passwd at a host file. The rules are
 * runc's (libcontainer/user.GetExecUser), which docker uses: numbers are ids, names must exist,
 * the first matching line wins, and supplementary groups come only with an implicit group.
 * Unlike runc, a line whose uid/gid field is not a number is skipped rather than read as 0.
 * Sits on: core, layer/safepath. Used by: plan.c (and exec).
 *
 * Interface: lb_user_resolve, lb_user_release
 */
#include "runtime/user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"
#include "layer/safepath.h"

#define ID_MAX       2147483647LL       /* runc's range for uids and gids */
#define ETC_MAX_SIZE (16 * 1024 * 1024) /* a passwd file larger than this is not a passwd file */

/* Read the image's etc/<name> into *out (NUL-terminated, owned); *out stays NULL when the file
 * (or /etc) does not exist. A symlink anywhere on the way is an error. */
static int read_etc_file(int rootfd, const char *name, char **out, struct lb_error **err)
{
    *out = NULL;
    struct stat st;
    if (fstatat(rootfd, "etc", &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return lb_error_set(err, errno, "cannot stat '/etc' of the image");
    }
    _cleanup_free_ char *rel = lb_xasprintf("etc/%s", name);
    _cleanup_error_ struct lb_error *e = NULL;
    /* O_NONBLOCK: a FIFO planted at /etc/passwd must not hang the lookup. */
    _cleanup_close_ int fd = lb_safepath_open(rootfd, rel, O_RDONLY | O_NONBLOCK, &e);
    if (fd < 0) {
        if (e->code == ENOENT)
            return 0;
        return lb_error_setk(err, LB_EKIND_INVALID, e->code, "cannot read '/%s' of the image: %s",
                             rel, e->msg);
    }
    if (fstat(fd, &st) < 0)
        return lb_error_set(err, errno, "cannot stat '/%s' of the image", rel);
    if (!S_ISREG(st.st_mode))
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "cannot read '/%s' of the image: not a regular file", rel);
    if (st.st_size > ETC_MAX_SIZE)
        return lb_error_setk(err, LB_EKIND_INVALID, EFBIG,
                             "cannot read '/%s' of the image: larger than %d bytes", rel,
                             ETC_MAX_SIZE);
    size_t cap = (size_t)st.st_size + 1; /* +1: notice a file that grew meanwhile */
    _cleanup_free_ char *buf = lb_xmalloc(cap + 1);
    ssize_t n = lb_read_full(fd, buf, cap, err);
    if (n < 0)
        return lb_error_wrap(err, "reading '/%s' of the image", rel);
    if ((size_t)n == cap)
        return lb_error_setk(err, LB_EKIND_INVALID, EAGAIN,
                             "cannot read '/%s' of the image: it changed while being read", rel);
    buf[n] = '\0';
    *out = lb_steal_pointer(&buf);
    return 0;
}

/* An id in a spec, runc's strconv.Atoi rules: 1 = a number in *out, 0 = not a number (a name),
 * -1 = a number outside 0..2147483647. */
static int spec_number(const char *s, long long *out)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (*p == '\0')
        return 0;
    long long v = 0;
    bool big = false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        if (!big) {
            v = v * 10 + (*p - '0');
            big = v > ID_MAX;
        }
    }
    if (big || (neg && v != 0))
        return -1;
    *out = v;
    return 1;
}

/* A uid/gid field of a file: plain digits in range, else false (the line is skipped). */
static bool field_number(const char *s, long long *out)
{
    if (*s == '\0')
        return false;
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v > ID_MAX)
            return false;
    }
    *out = v;
    return true;
}

/* Split the next line of *cursor into at most max ':'-separated fields (in place). Returns the
 * number of fields, 0 for a line to skip (blank, comment, NIS "+"/"-" entry), -1 at the end. */
static int next_line(char **cursor, char **fields, int max)
{
    char *line = *cursor;
    if (*line == '\0')
        return -1;
    char *nl = strchrnul(line, '\n');
    *cursor = *nl ? nl + 1 : nl;
    *nl = '\0';
    size_t len = (size_t)(nl - line);
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        line[--len] = '\0';
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line == '\0' || *line == '#' || *line == '+' || *line == '-')
        return 0;
    int n = 0;
    for (char *p = line; n < max;) {
        fields[n++] = p;
        char *colon = strchr(p, ':');
        if (colon == NULL)
            break;
        *colon = '\0';
        p = colon + 1;
    }
    return n;
}

struct pw_match {
    bool found;
    char *name;
    long long uid;
    long long gid;
    char *home;
};

/* The first passwd line whose uid (numeric spec) or name matches. buf is consumed. */
static void find_passwd(char *buf, bool numeric, long long uid, const char *name,
                        struct pw_match *m)
{
    char *cursor = buf;
    char *f[7];
    int n;
    while ((n = next_line(&cursor, f, 7)) >= 0) {
        long long u, g;
        if (n < 4 || !field_number(f[2], &u) || !field_number(f[3], &g))
            continue;
        if (numeric ? u != uid : strcmp(f[0], name) != 0)
            continue;
        m->found = true;
        m->name = lb_xstrdup(f[0]);
        m->uid = u;
        m->gid = g;
        m->home = lb_xstrdup(n >= 6 && f[5][0] ? f[5] : "/");
        return;
    }
}

static bool list_has_member(char *list, const char *who)
{
    for (char *p = list; *p;) {
        char *end = strchrnul(p, ',');
        size_t len = (size_t)(end - p);
        if (len == strlen(who) && memcmp(p, who, len) == 0)
            return true;
        p = *end ? end + 1 : end;
    }
    return false;
}

static void add_group(struct lb_user *u, gid_t g)
{
    for (size_t i = 0; i < u->n_groups; i++)
        if (u->groups[i] == g)
            return;
    u->groups = lb_xrealloc(u->groups, (u->n_groups + 1) * sizeof(gid_t));
    u->groups[u->n_groups++] = g;
}

/* Explicit group: the first line whose gid (numeric) or name matches; *found tells. */
static void find_group(char *buf, bool numeric, long long gid, const char *name, bool *found,
                       long long *out)
{
    char *cursor = buf;
    char *f[4];
    int n;
    *found = false;
    while ((n = next_line(&cursor, f, 4)) >= 0) {
        long long g;
        if (n < 3 || !field_number(f[2], &g))
            continue;
        if (numeric ? g != gid : strcmp(f[0], name) != 0)
            continue;
        *found = true;
        *out = g;
        return;
    }
}

/* Implicit group: every group listing `who` as a member, in file order. */
static void add_member_groups(struct lb_user *u, char *buf, const char *who)
{
    char *cursor = buf;
    char *f[4];
    int n;
    while ((n = next_line(&cursor, f, 4)) >= 0) {
        long long g;
        if (n < 4 || !field_number(f[2], &g))
            continue;
        if (list_has_member(f[3], who))
            add_group(u, (gid_t)g);
    }
}

static int range_error(struct lb_error **err, const char *spec)
{
    return lb_error_setk(err, LB_EKIND_INVALID, 0,
                         "invalid user '%s': uids and gids must be in range 0-2147483647", spec);
}

static int resolve(struct lb_user *u, int rootfd, const char *spec, struct lb_error **err)
{
    _cleanup_free_ char *user_arg = NULL;
    const char *group_arg = NULL;
    const char *colon = strchr(spec, ':');
    user_arg = colon ? lb_xstrndup(spec, (size_t)(colon - spec)) : lb_xstrdup(spec);
    /* runc reads only the first two fields: "a:b:c" is user a, group b. */
    _cleanup_free_ char *group_buf = NULL;
    if (colon) {
        const char *g = colon + 1;
        group_buf = lb_xstrndup(g, strcspn(g, ":"));
        group_arg = group_buf;
    }

    long long uid = 0, gid = 0;
    int uid_kind = user_arg[0] ? spec_number(user_arg, &uid) : 1; /* "" = uid 0 */
    if (uid_kind < 0)
        return range_error(err, spec);
    int gid_kind = 0;
    if (group_arg && group_arg[0]) {
        gid_kind = spec_number(group_arg, &gid);
        if (gid_kind < 0)
            return range_error(err, spec);
    }

    _cleanup_free_ char *passwd = NULL;
    if (read_etc_file(rootfd, "passwd", &passwd, err) < 0)
        return -1;
    struct pw_match m = {0};
    if (passwd)
        find_passwd(passwd, uid_kind == 1, uid, user_arg, &m);
    if (m.found) {
        u->uid = (uid_t)m.uid;
        u->gid = (gid_t)m.gid;
        u->name = m.name;
        u->home = m.home;
    } else if (uid_kind == 1) {
        u->uid = (uid_t)uid;
        u->gid = 0;
        u->home = lb_xstrdup("/");
    } else {
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "unable to find user %s: no matching entries in passwd file",
                             user_arg);
    }

    bool explicit_group = group_arg && group_arg[0];
    if (!explicit_group && u->name == NULL) {
        add_group(u, u->gid);
        return 0;
    }
    _cleanup_free_ char *group = NULL;
    if (read_etc_file(rootfd, "group", &group, err) < 0)
        return -1;
    if (explicit_group) {
        bool found = false;
        long long g = 0;
        if (group)
            find_group(group, gid_kind == 1, gid, group_arg, &found, &g);
        if (!found && gid_kind != 1)
            return lb_error_setk(err, LB_EKIND_INVALID, 0,
                                 "unable to find group %s: no matching entries in group file",
                                 group_arg);
        u->gid = (gid_t)(found ? g : gid);
        add_group(u, u->gid);
        return 0;
    }
    add_group(u, u->gid);
    if (group)
        add_member_groups(u, group, u->name);
    return 0;
}

int lb_user_resolve(struct lb_user *user, int rootfd, const char *spec, struct lb_error **err)
{
    memset(user, 0, sizeof(*user));
    if (resolve(user, rootfd, spec ? spec : "", err) < 0) {
        lb_user_release(user);
        return -1;
    }
    return 0;
}

void lb_user_release(struct lb_user *user)
{
    free(user->name);
    free(user->home);
    free(user->groups);
    memset(user, 0, sizeof(*user));
}
