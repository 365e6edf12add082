/* lock.c — one flock for the whole store: short critical sections around metadata changes
 * (index.json, tags, names), so concurrent layerbox processes never lose each other's updates.
 * flock is released by the kernel when the process dies, so a crash never leaves it held.
 *
 * Interface: lb_lock_acquire, lb_lock_try, lb_lock_release
 */
#include "core/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

static int lock_open(const char *path, bool exclusive, bool wait, struct lb_error **err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return lb_error_set(err, errno, "cannot open lock '%s'", path);
    int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
    while (flock(fd, op) < 0) {
        if (errno == EINTR)
            continue;
        int saved = errno;
        close(fd);
        return lb_error_set(err, saved, "cannot lock '%s'", path);
    }
    return fd;
}

int lb_lock_acquire(const char *path, bool exclusive, struct lb_error **err)
{
    return lock_open(path, exclusive, true, err);
}

int lb_lock_try(const char *path, bool exclusive, struct lb_error **err)
{
    return lock_open(path, exclusive, false, err);
}

void lb_lock_release(int fd)
{
    if (fd < 0)
        return;
    flock(fd, LOCK_UN);
    close(fd);
}
