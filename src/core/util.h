/* util.h — allocation that cannot fail (out-of-memory aborts, the one exception to "library code
 * never exits"), small string helpers and a growable string buffer. */
#ifndef LB_CORE_UTIL_H
#define LB_CORE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define LB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

_Noreturn void lb_oom(void);
void *lb_xmalloc(size_t n); /* zero-filled */
void *lb_xrealloc(void *p, size_t n);
char *lb_xstrdup(const char *s);
char *lb_xstrndup(const char *s, size_t n);
char *lb_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool lb_str_has_prefix(const char *s, const char *prefix);
bool lb_str_has_suffix(const char *s, const char *suffix);

/* A NULL-terminated array of owned strings. */
void lb_strv_free(char **v);
size_t lb_strv_len(char *const *v);
/* Appends a copy of s; *v may be NULL. */
void lb_strv_push(char ***v, const char *s);
bool lb_strv_contains(char *const *v, const char *s);

/* Growable string (git's strbuf idea). buf is always NUL-terminated once initialised. */
struct lb_strbuf {
    char *buf;
    size_t len;
    size_t alloc;
};
#define LB_STRBUF_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }
void lb_strbuf_add(struct lb_strbuf *sb, const void *data, size_t len);
void lb_strbuf_adds(struct lb_strbuf *sb, const char *s);
void lb_strbuf_addc(struct lb_strbuf *sb, char c);
void lb_strbuf_addf(struct lb_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lb_strbuf_vaddf(struct lb_strbuf *sb, const char *fmt, va_list ap);
void lb_strbuf_reset(struct lb_strbuf *sb);
/* Returns the buffer (never NULL) and leaves sb empty; caller frees. */
char *lb_strbuf_detach(struct lb_strbuf *sb);
void lb_strbuf_release(struct lb_strbuf *sb);

#endif
