/* tar.h — writing POSIX pax tars (what Go's archive/tar and docker produce), for layer diffs and
 * `save`. Reading tars stays with libarchive; its writer is not used because it links the XML
 * and ICU libraries (see docs/layers.md).
 *
 * The shape, for a given sequence of calls always the same bytes:
 *   - one 512-byte ustar header per entry (magic "ustar\0", version "00", octal numbers, empty
 *     uname/gname, devmajor/devminor only for character and block devices), content padded to
 *     512 bytes, and at the end exactly two zero blocks (no padding to 10 KiB, as Go);
 *   - a path longer than 100 bytes is split at a '/' into prefix (<= 155) and name (<= 100)
 *     when it can be; a directory's path gets a trailing '/' if it has none;
 *   - a pax 'x' header, named "<dir>/PaxHeader/<base>" (libarchive's name, shortened to fit),
 *     comes before an entry only when ustar cannot say something. Its records, in this order:
 *       hdrcharset=BINARY  a path or link target that is not valid UTF-8 (raw bytes, as
 *                          libarchive writes them);
 *       path               a path that does not fit ustar, or is not ASCII (docker's rule);
 *       linkpath           a link target longer than 100 bytes, or not ASCII;
 *       size               size > 077777777777 (8 GiB - 1);
 *       uid, gid           > 07777777;
 *       mtime              < 0 or > 077777777777 (whole seconds);
 *       SCHILY.xattr.NAME  one per xattr, raw value bytes, in the order the caller gives.
 *     A number that needs a record is written as 0 in the ustar field (as Go does).
 *
 * Output is buffered (64 KiB): bytes reach the fd when the buffer fills, on lb_tar_flush and on
 * lb_tar_finish, so a write error shows up at the entry being written when the buffer fills.
 * After a write error `failed` is set and nothing more is ever written (no tidy end-of-archive
 * on a half-written tar): every later call fails. Errors name the entry:
 * "cannot write '<path>' into the <what>: <strerror>". Nothing here prints.
 *
 *     struct lb_tar_writer w;
 *     if (lb_tar_writer_init(&w, fd, "layer tar", err) == 0 &&
 *         lb_tar_write_header(&w, &h, err) == 0 && lb_tar_write_data(&w, "hi", 2, err) == 0)
 *         r = lb_tar_finish(&w, err);
 *     lb_tar_writer_release(&w);
 */
#ifndef LB_LAYER_TAR_H
#define LB_LAYER_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

#define LB_TAR_BLOCK 512

struct lb_tar_xattr {
    const char *name; /* without "SCHILY.xattr."; must not be empty or contain '=' */
    const void *value;
    size_t size;
};

struct lb_tar_header {
    const char *path; /* relative, as it goes into the tar; not empty */
    mode_t mode;      /* S_IFMT type | permission bits (07777); sockets are refused */
    uid_t uid;
    gid_t gid;
    int64_t mtime;        /* seconds since the epoch, may be negative */
    int64_t size;         /* content bytes; only regular files (not hardlinks) have content */
    dev_t rdev;           /* character and block devices */
    const char *linkname; /* symlink target, or the hardlink's target path; else NULL */
    bool hardlink;        /* linkname names an earlier entry: typeflag '1', no content */
    const struct lb_tar_xattr *xattrs;
    size_t n_xattrs;
};

struct lb_tar_writer {
    int fd;
    bool failed;      /* a write failed: nothing more is written, every call fails */
    bool finished;    /* lb_tar_finish succeeded */
    uint64_t offset;  /* bytes of tar produced so far (written or buffered) */
    const char *what; /* names the tar in messages ("tar", "layer tar", "archive") */
    char *entry;      /* path of the current entry, for messages */
    int64_t left;     /* content bytes the current entry still expects */
    size_t pad;       /* zero bytes that follow the current entry's content */
    char *buf;        /* output buffer */
    size_t used;
    char *copy; /* lb_tar_write_file's read buffer, allocated on first use */
};

/* Start a tar on fd (written from its current position; never closed, fsynced or rewound).
 * what names the tar in messages (a string that outlives the writer; NULL = "tar"). Fails with
 * EBADF when fd is not open for writing. lb_tar_writer_release must be called whatever this
 * returns. */
int lb_tar_writer_init(struct lb_tar_writer *w, int fd, const char *what, struct lb_error **err);

/* Free the writer's buffers. Writes nothing: without lb_tar_finish the tar stays unfinished. */
void lb_tar_writer_release(struct lb_tar_writer *w);

/* Begin an entry (with its pax header first when one is needed). The previous entry's content
 * must be complete. Invalid input (empty path, negative size, a socket, an xattr name with '=')
 * is refused with EINVAL and nothing written. */
int lb_tar_write_header(struct lb_tar_writer *w, const struct lb_tar_header *h,
                        struct lb_error **err);

/* Content of the current entry, in as many calls as wanted; more than its size is refused
 * (nothing written). The padding follows by itself once the last byte is in. */
int lb_tar_write_data(struct lb_tar_writer *w, const void *buf, size_t n, struct lb_error **err);

/* Copy exactly size bytes from src_fd (from its current position) as the current entry's
 * content: read errors "cannot read '<path>'", an early end of file "'<path>' shrank while it
 * was being read" (the tar is then left unfinishable: `failed` is set). */
int lb_tar_write_file(struct lb_tar_writer *w, int src_fd, int64_t size, struct lb_error **err);

/* Write whatever is buffered to the fd. */
int lb_tar_flush(struct lb_tar_writer *w, struct lb_error **err);

/* The two zero blocks that end the archive, then flush. Fails if the last entry's content is
 * incomplete. */
int lb_tar_finish(struct lb_tar_writer *w, struct lb_error **err);

#endif
