/* archive.h — moving images in and out of the store as files: load and save (docker-archive,
 * OCI archive, OCI layout directory), and import (a plain root file system tar). */
#ifndef LB_IMAGE_ARCHIVE_H
#define LB_IMAGE_ARCHIVE_H

#include <stdbool.h>

#include "core/error.h"
#include "image/store.h"

enum lb_archive_format {
    LB_ARCHIVE_DOCKER, /* docker-archive: manifest.json (+ legacy layout, or docker 25+ OCI-plus) */
    LB_ARCHIVE_OCI,    /* oci-archive: oci-layout + index.json + blobs/sha256 */
};

/* Parse "docker-archive" / "oci-archive" (also "docker", "oci"). */
int lb_archive_format_parse(enum lb_archive_format *out, const char *s, struct lb_error **err);

/* Load every image of the archive at path (a tar file, possibly gzip/zstd compressed, or an OCI
 * layout directory); path "-" or NULL reads standard input (fd 0). The format is detected. Every
 * blob's size and digest and every DiffID is verified while streaming; on any error the store is
 * left exactly as it was. *loaded gets docker's report lines, one per image:
 * "Loaded image: busybox:latest" or "Loaded image ID: sha256:<hex>" (caller frees the vector).
 * Takes the store lock itself. */
int lb_archive_load(struct lb_store *s, const char *path, char ***loaded, struct lb_error **err);

/* Write the images to out_fd as one archive. args[i] is what the user named image i ("busybox",
 * an ID, ...): named references are recorded as the archive's tags (RepoTags / ref.name);
 * images named by ID are saved untagged. Layers shared by several images are written once. */
int lb_archive_save(struct lb_store *s, struct lb_image *const *imgs, char *const *args, size_t n,
                    enum lb_archive_format format, int out_fd, struct lb_error **err);

/* Options of `import`. */
struct lb_import_opts {
    const char *ref;      /* "repo[:tag]" or NULL for an untagged image */
    const char *message;  /* -m: history comment, or NULL */
    char *const *changes; /* -c: Dockerfile instructions (CMD, ENTRYPOINT, ENV, WORKDIR, USER,
                             LABEL, EXPOSE, VOLUME), NULL-terminated or NULL */
    const char *source;   /* shown in history's created_by: "/path/x.tar" or "-" */
};

/* Make a one-layer image from a root file system tar (plain, gzip or zstd) read from fd. The
 * layer is stored uncompressed (its digest is its DiffID). *id gets the image ID. Takes the store
 * lock itself; on error nothing is left behind. */
int lb_archive_import(struct lb_store *s, int fd, const struct lb_import_opts *opts,
                      struct lb_digest *id, struct lb_error **err);

#endif
