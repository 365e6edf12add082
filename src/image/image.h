/* image.h — an image as layerbox holds it in memory: the manifest, the config, the layers, the
 * names pointing at it. Read-only view, built by the store (store.h) from the OCI layout. */
#ifndef LB_IMAGE_IMAGE_H
#define LB_IMAGE_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "image/digest.h"

#define LB_MT_OCI_MANIFEST      "application/vnd.oci.image.manifest.v1+json"
#define LB_MT_OCI_INDEX         "application/vnd.oci.image.index.v1+json"
#define LB_MT_OCI_CONFIG        "application/vnd.oci.image.config.v1+json"
#define LB_MT_OCI_LAYER         "application/vnd.oci.image.layer.v1.tar"
#define LB_MT_OCI_LAYER_GZIP    "application/vnd.oci.image.layer.v1.tar+gzip"
#define LB_MT_OCI_LAYER_ZSTD    "application/vnd.oci.image.layer.v1.tar+zstd"
#define LB_MT_DOCKER_MANIFEST   "application/vnd.docker.distribution.manifest.v2+json"
#define LB_MT_DOCKER_CONFIG     "application/vnd.docker.container.image.v1+json"
#define LB_MT_DOCKER_LAYER      "application/vnd.docker.image.rootfs.diff.tar"
#define LB_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* Annotation on index.json descriptors: the image's tag (full normalised reference). */
#define LB_ANNOT_REF_NAME "org.opencontainers.image.ref.name"
/* layerbox's own annotation: the image ID of the parent image (docker's local "Parent"). */
#define LB_ANNOT_PARENT "io.layerbox.image.parent"

struct lb_layer_info {
    struct lb_digest digest;   /* the blob's digest (compressed bytes, as stored) */
    int64_t size;              /* the blob's size in bytes */
    char *media_type;          /* as in the manifest */
    struct lb_digest diff_id;  /* digest of the uncompressed tar (config rootfs.diff_ids[i]) */
    struct lb_digest chain_id; /* ChainID of layers 0..i: its directory is layers/<chain hex> */
    int64_t unpacked_size; /* sum of file sizes in the layer (docker's layer Size); -1 unknown */
};

struct lb_image {
    struct lb_digest id;       /* image ID = digest of the config blob */
    struct lb_digest manifest; /* digest of the manifest blob */
    int64_t manifest_size;
    json_t *manifest_json; /* parsed manifest */
    json_t *config;        /* parsed config blob */
    struct lb_layer_info *layers;
    size_t n_layers;
    char **names; /* full normalised references ("docker.io/library/busybox:latest"),
                     sorted; NULL-terminated, may be empty (dangling image) */
    char *parent; /* "sha256:<hex>" image ID of the parent, or NULL */
    int64_t size; /* sum of the layers' unpacked sizes */
};

void lb_image_free(struct lb_image *img);
void lb_image_list_free(struct lb_image **v, size_t n);

/* config.created as seconds since the epoch (0 when absent or invalid). */
int64_t lb_image_created(const struct lb_image *img);

/* True when any name of img is `full_ref` (a full normalised reference string). */
bool lb_image_has_name(const struct lb_image *img, const char *full_ref);

/* docker's RepoTags: familiar "name:tag" strings, sorted (caller frees the vector). */
char **lb_image_repo_tags(const struct lb_image *img);

/* The JSON object `inspect IMAGE` prints for this image, shaped like docker's (Id, RepoTags,
 * RepoDigests, Parent, Comment, Created, Author, Config{...}, Architecture, Os, Size,
 * RootFS{Type, Layers}, History, Metadata). New reference. */
json_t *lb_image_inspect_json(const struct lb_image *img);

#endif
