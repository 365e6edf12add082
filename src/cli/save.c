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
    size_t n = (size_t)(argc - optind);
    struct lb_image **imgs = lb_xmalloc(n * sizeof(*imgs));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        imgs[i] = lb_store_resolve(store, argv[optind + (int)i], err);
        if (imgs[i] == NULL)
            rc = -1;
    }
    struct save_job job = {store, imgs, argv + optind, n, fmt};
    if (rc == 0)
        rc = lb_cli_output_write(out, write_save, &job, err);
    lb_image_list_free(imgs, n);
    return rc;
}
