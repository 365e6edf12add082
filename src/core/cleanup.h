/* cleanup.h — scope-bound release of resources (crun's utils.h, bubblewrap's steal_pointer).
 *
 *     _cleanup_free_ char *path = NULL;          freed when it goes out of scope
 *     _cleanup_close_ int fd = -1;               closed when it goes out of scope
 *     return lb_steal_pointer(&path);            hand ownership to the caller
 */
#ifndef LB_CORE_CLEANUP_H
#define LB_CORE_CLEANUP_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"

static inline void lb_cleanup_freep(void *p)
{
    free(*(void **)p);
}
static inline void lb_cleanup_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
static inline void lb_cleanup_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
static inline void lb_cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}
static inline void lb_cleanup_errorp(struct lb_error **e)
{
    lb_error_free(*e);
}
static inline void lb_cleanup_strvp(char ***v)
{
    lb_strv_free(*v);
}
static inline void lb_cleanup_strbufp(struct lb_strbuf *sb)
{
    lb_strbuf_release(sb);
}

#define _cleanup_free_   __attribute__((cleanup(lb_cleanup_freep)))
#define _cleanup_close_  __attribute__((cleanup(lb_cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(lb_cleanup_fclosep)))
#define _cleanup_json_   __attribute__((cleanup(lb_cleanup_jsonp)))
#define _cleanup_error_  __attribute__((cleanup(lb_cleanup_errorp)))
#define _cleanup_strv_   __attribute__((cleanup(lb_cleanup_strvp)))
#define _cleanup_strbuf_ __attribute__((cleanup(lb_cleanup_strbufp)))

static inline void *lb_steal_ptr_(void *pp)
{
    void **p = pp;
    void *r = *p;
    *p = NULL;
    return r;
}
#define lb_steal_pointer(pp) ((__typeof__(*(pp)))lb_steal_ptr_(pp))

static inline int lb_steal_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

#endif
