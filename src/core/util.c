/* util.c — allocation, string vectors and the string buffer.
 *
 * The concept: out-of-memory is not an error a container engine can recover from, so the x*
 * allocators abort with a message (git's xmalloc); everything else returns errors.
 *
 * Interface: lb_oom, lb_xmalloc, lb_xrealloc, lb_xstrdup, lb_xstrndup, lb_xasprintf,
 *            lb_str_has_prefix, lb_str_has_suffix, lb_strv_*, lb_strbuf_*
 */
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lb_oom(void)
{
    static const char msg[] = "layerbox: out of memory\n";
    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing left to do */
    }
    abort();
}

void *lb_xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (p == NULL)
        lb_oom();
    return p;
}

void *lb_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        lb_oom();
    return q;
}

char *lb_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        lb_oom();
    return p;
}

char *lb_xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (p == NULL)
        lb_oom();
    return p;
}

char *lb_xasprintf(const char *fmt, ...)
{
    char *p = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (r < 0)
        lb_oom();
    return p;
}

bool lb_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool lb_str_has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

void lb_strv_free(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

size_t lb_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void lb_strv_push(char ***v, const char *s)
{
    size_t n = lb_strv_len(*v);
    *v = lb_xrealloc(*v, (n + 2) * sizeof(char *));
    (*v)[n] = lb_xstrdup(s);
    (*v)[n + 1] = NULL;
}

bool lb_strv_contains(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static void strbuf_grow(struct lb_strbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->alloc)
        return;
    size_t want = sb->alloc ? sb->alloc : 64;
    while (want < sb->len + extra + 1)
        want *= 2;
    sb->buf = lb_xrealloc(sb->buf, want);
    sb->alloc = want;
}

void lb_strbuf_add(struct lb_strbuf *sb, const void *data, size_t len)
{
    strbuf_grow(sb, len);
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void lb_strbuf_adds(struct lb_strbuf *sb, const char *s)
{
    lb_strbuf_add(sb, s, strlen(s));
}

void lb_strbuf_addc(struct lb_strbuf *sb, char c)
{
    lb_strbuf_add(sb, &c, 1);
}

void lb_strbuf_vaddf(struct lb_strbuf *sb, const char *fmt, va_list ap)
{
    /* Measure into a small buffer first (also keeps GCC's -fsanitize builds from warning about
     * a NULL destination), then grow and format for real. */
    char small[128];
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(small, sizeof(small), fmt, cp);
    va_end(cp);
    if (n < 0)
        lb_oom();
    strbuf_grow(sb, (size_t)n);
    if ((size_t)n < sizeof(small))
        memcpy(sb->buf + sb->len, small, (size_t)n + 1);
    else
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void lb_strbuf_addf(struct lb_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lb_strbuf_vaddf(sb, fmt, ap);
    va_end(ap);
}

void lb_strbuf_reset(struct lb_strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

char *lb_strbuf_detach(struct lb_strbuf *sb)
{
    char *p = sb->buf ? sb->buf : lb_xstrdup("");
    sb->buf = NULL;
    sb->len = sb->alloc = 0;
    return p;
}

void lb_strbuf_release(struct lb_strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->alloc = 0;
}
