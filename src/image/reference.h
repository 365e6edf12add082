/* reference.h — image names as docker parses them (github.com/distribution/reference).
 *
 *   busybox                    → domain docker.io, path library/busybox, tag latest
 *   localhost:5000/a/b:tag     → domain localhost:5000, path a/b, tag tag
 *   name@sha256:<hex>          → digest set, tag NULL (unless also given: name:tag@sha256:…)
 *
 * Grammar (distribution/reference): the first component is a domain when it contains '.' or
 * ':' or is "localhost" (or has an uppercase letter); path components are
 * [a-z0-9]+(([._]|__|-+)[a-z0-9]+)*; tag is [\w][\w.-]{0,127}; the whole name ≤ 255
 * characters; a 64-hex repository name is refused. Everything invalid is the LB_EKIND_INVALID
 * error "invalid reference format" (with the reason appended after a colon where helpful,
 * e.g. "invalid reference format: repository name must be lowercase"). */
#ifndef LB_IMAGE_REFERENCE_H
#define LB_IMAGE_REFERENCE_H

#include "core/error.h"

struct lb_reference {
    char *domain; /* "docker.io", "localhost:5000", "localhost", "quay.io" */
    char *path;   /* "library/busybox", "a/b" */
    char *tag;    /* "latest"; NULL when a digest was given without a tag, or with NO_DEFAULT_TAG */
    char *digest; /* "sha256:<hex>" or NULL */
};

enum {
    LB_REFERENCE_NO_DEFAULT_TAG = 1 << 0, /* don't add ":latest" (e.g. `images busybox` filter) */
};

/* Parse and normalise s into ref (zeroed on entry; release with lb_reference_release). */
int lb_reference_parse(struct lb_reference *ref, const char *s, int flags, struct lb_error **err);
void lb_reference_release(struct lb_reference *ref);

/* All return newly allocated strings (caller frees). */
/* "docker.io/library/busybox" */
char *lb_reference_name(const struct lb_reference *ref);
/* "docker.io/library/busybox:latest", "x/y@sha256:…", "x/y:t@sha256:…" — the stored form */
char *lb_reference_string(const struct lb_reference *ref);
/* "busybox", "foo/bar", "localhost:5000/a/b" — docker's REPOSITORY column */
char *lb_reference_familiar_name(const struct lb_reference *ref);
/* "busybox:latest" — docker's familiar string (RepoTags entries) */
char *lb_reference_familiar_string(const struct lb_reference *ref);

/* The stored form of s as the name of a new image (import, commit): a reference without a
 * digest ("'x@sha256:…' has a digest: <cmd> needs a repository[:tag] name"), :latest by default.
 * NULL with *err set when s is not one. */
char *lb_reference_new_image_name(const char *s, const char *cmd, struct lb_error **err);

#endif
