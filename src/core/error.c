/* error.c — the error value every fallible function returns through its last argument.
 *
 * The concept: library code never prints and never exits; it describes what went wrong, in one
 * line, and lets the caller decide. Context is added on the way up ("loading 'x': ...").
 *
 * Interface: lb_error_set, lb_error_setk, lb_error_wrap, lb_error_string, lb_error_free,
 *            lb_error_clear
 */
#include "core/error.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int error_setv(struct lb_error **err, int kind, int code, const char *fmt, va_list ap)
{
    if (err == NULL || *err != NULL)
        return -1; /* the first error is the one that explains; keep it */
    struct lb_error *e = lb_xmalloc(sizeof(*e));
    e->code = code;
    e->kind = kind;
    if (vasprintf(&e->msg, fmt, ap) < 0)
        lb_oom();
    *err = e;
    return -1;
}

int lb_error_set(struct lb_error **err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(err, LB_EKIND_GENERIC, code, fmt, ap);
    va_end(ap);
    return -1;
}

int lb_error_setk(struct lb_error **err, int kind, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_setv(err, kind, code, fmt, ap);
    va_end(ap);
    return -1;
}

int lb_error_wrap(struct lb_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;
    char *ctx = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&ctx, fmt, ap) < 0)
        lb_oom();
    va_end(ap);
    char *msg = lb_xasprintf("%s: %s", ctx, (*err)->msg);
    free(ctx);
    free((*err)->msg);
    (*err)->msg = msg;
    return -1;
}

char *lb_error_string(const struct lb_error *e)
{
    if (e == NULL)
        return lb_xstrdup("unknown error");
    if (e->code != 0)
        return lb_xasprintf("%s: %s", e->msg, strerror(e->code));
    return lb_xstrdup(e->msg);
}

void lb_error_free(struct lb_error *e)
{
    if (e == NULL)
        return;
    free(e->msg);
    free(e);
}

void lb_error_clear(struct lb_error **err)
{
    if (err == NULL)
        return;
    lb_error_free(*err);
    *err = NULL;
}
