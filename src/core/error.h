/* error.h — how layerbox reports failure.
 *
 * A function that can fail returns -1 (or NULL) and fills `struct lb_error **err`, its last
 * argument. The caller either handles the error (and frees it) or wraps it with context and
 * passes it up. Only src/cli/main.c turns an error into a message and an exit code.
 *
 *     if (fd < 0)
 *         return lb_error_set(err, errno, "cannot open '%s'", path);
 *     ...
 *     if (lb_store_open(&s, root, err) < 0)
 *         return lb_error_wrap(err, "opening store '%s'", root);
 */
#ifndef LB_CORE_ERROR_H
#define LB_CORE_ERROR_H

#include <stdarg.h>

struct lb_error {
    int code;  /* errno value, or 0 when the failure is not a system error */
    int kind;  /* LB_EKIND_*: lets the CLI pick an exit code and a hint */
    char *msg; /* "cannot open 'x'", owned */
};

/* What sort of failure this is, when the CLI should treat it specially. */
enum lb_error_kind {
    LB_EKIND_GENERIC = 0,
    LB_EKIND_USAGE,     /* bad command line: exit 125 with a usage hint (docker does the same) */
    LB_EKIND_NOT_FOUND, /* no such image/container */
    LB_EKIND_CONFLICT,  /* e.g. image in use, name taken */
    LB_EKIND_INVALID,   /* malformed input: archive, JSON, reference */
};

/* Set *err (if err is not NULL and *err is still empty) and return -1.
 * `code` is an errno value or 0. The message is printf-formatted. */
int lb_error_set(struct lb_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like lb_error_set, with a kind. */
int lb_error_setk(struct lb_error **err, int kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefix the message of *err with "<context>: " and return -1. No-op when *err is NULL. */
int lb_error_wrap(struct lb_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The full one-line text: "msg: strerror(code)" (or just msg). Caller frees. */
char *lb_error_string(const struct lb_error *e);

void lb_error_free(struct lb_error *e);

/* Frees *err and sets it to NULL (for callers that handle and ignore an error). */
void lb_error_clear(struct lb_error **err);

#endif
