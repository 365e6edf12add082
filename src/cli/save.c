/* save.c — `layerbox save [-o FILE] [--format docker-archive|oci-archive] IMAGE...`: images to
 * one tar, on standard output or in FILE. The file is written under a temporary name next to FILE
 * and renamed at the end, so a failed save leaves nothing behind (and an existing FILE intact).
 * As docker, a terminal on stdout is refused ("cowardly refusing to save to a terminal").
 *
 * Sits on: image/store.h (resolve), image/archive.h (lb_archive_save). Interface: lb_cmd_save
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "image/archive.h"
#include "image/image.h"
#include "image/reference.h"
#include "image/store.h"

#include <stdlib.h>
#include <string.h>

static const char save_usage[] =
    "Usage:  layerbox save [OPTIONS] IMAGE [IMAGE...]\n"
    "\n"
    "Save one or more images to a tar archive (streamed to STDOUT by default).\n"
    "docker-archive is docker 25's layout with uncompressed layers (docker, podman and skopeo\n"
    "load it); oci-archive is an OCI image layout with the blobs exactly as stored.\n"
    "\n"
    "Options:\n"
    "      --format string   docker-archive (default) or oci-archive\n"
    "  -o, --output string   Write to a file, instead of STDOUT\n"
    "  -h, --help            Print this help\n";

struct save_job {
    struct lb_store *store;
    struct lb_image **imgs;
    char **args;
    size_t n;
    enum lb_archive_format fmt;
};

static int write_save(int fd, void *data, struct lb_error **err)
{
    struct save_job *j = data;
    return lb_archive_save(j->store, j->imgs, j->args, j->n, j->fmt, fd, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* docker saves every tag of a repository named without a tag or digest ("busybox": all of
 * busybox's tags). The arguments, with such names expanded to each "repo:tag" the store has,
 * sorted; a name with no tag here is kept as it is (resolution then reports it). */
static char **expand_repositories(struct lb_store *s, char **args, size_t n, struct lb_error **err)
{
    struct lb_image **all = NULL;
    size_t n_all = 0;
    if (lb_store_list_images(s, &all, &n_all, err) < 0)
        return NULL;
    char **out = lb_xmalloc(sizeof(char *));
    out[0] = NULL;
    for (size_t i = 0; i < n; i++) {
        struct lb_reference ref = {0};
        struct lb_error *e = NULL;
        char **tags = lb_xmalloc(sizeof(char *));
        tags[0] = NULL;
        if (lb_reference_parse(&ref, args[i], LB_REFERENCE_NO_DEFAULT_TAG, &e) == 0 &&
            ref.tag == NULL && ref.digest == NULL) {
            _cleanup_free_ char *repo = lb_reference_name(&ref);
            size_t len = strlen(repo);
            for (size_t k = 0; k < n_all; k++)
                for (size_t t = 0; all[k]->names && all[k]->names[t]; t++) {
                    const char *name = all[k]->names[t];
                    if (strncmp(name, repo, len) == 0 && name[len] == ':' &&
                        !lb_strv_contains(tags, name))
                        lb_strv_push(&tags, name);
                }
        }
        lb_error_free(e);
        lb_reference_release(&ref);
        size_t nt = lb_strv_len(tags);
        if (nt == 0)
            lb_strv_push(&out, args[i]);
        qsort(tags, nt, sizeof(char *), cmp_str);
        for (size_t t = 0; t < nt; t++)
            lb_strv_push(&out, tags[t]);
        lb_strv_free(tags);
    }
    lb_image_list_free(all, n_all);
    return out;
}

int lb_cmd_save(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *out = NULL, *format = "docker-archive";
    const struct lb_cli_opt opts[] = {
        {"output", 'o', .value = &out}, {"format", 0, .value = &format}, {0}};
    int r = lb_cli_options(argc, argv, save_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, -1, err) < 0)
        return -1;
    enum lb_archive_format fmt;
    if (lb_archive_format_parse(&fmt, format, err) < 0)
        return lb_error_wrap(err, "--format");
    if (lb_cli_output_check(out, err) < 0)
        return -1;
    struct lb_store *store = NULL;
    if (lb_cli_store(cli, &store, err) < 0)
        return -1;
    _cleanup_strv_ char **args =
        expand_repositories(store, argv + optind, (size_t)(argc - optind), err);
    if (args == NULL)
        return -1;
    size_t n = lb_strv_len(args);
    struct lb_image **imgs = lb_xmalloc(n * sizeof(*imgs));
    size_t resolved = 0;
    int rc = 0;
    for (; resolved < n; resolved++) {
        imgs[resolved] = lb_store_resolve(store, args[resolved], err);
        if (imgs[resolved] == NULL) {
            rc = -1;
            break;
        }
    }
    struct save_job job = {store, imgs, args, n, fmt};
    if (rc == 0)
        rc = lb_cli_output_write(out, write_save, &job, err);
    lb_image_list_free(imgs, resolved);
    return rc;
}
