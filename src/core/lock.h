/* lock.h — the store-wide lock (flock on ROOT/lock) that serialises metadata changes. */
#ifndef LB_CORE_LOCK_H
#define LB_CORE_LOCK_H

#include <stdbool.h>

#include "core/error.h"

/* Open (creating) path and take an exclusive (or shared) flock on it, waiting for it.
 * Returns the fd that holds the lock, or -1. */
int lb_lock_acquire(const char *path, bool exclusive, struct lb_error **err);

/* Take the lock only if it is free: returns the fd, or -1 with EWOULDBLOCK in the error. */
int lb_lock_try(const char *path, bool exclusive, struct lb_error **err);

/* Release and close; fd < 0 is a no-op. */
void lb_lock_release(int fd);

#endif
