/* info.c — `layerbox info`: where the store is and what is in it. The numbers can be checked by
 * hand: Images = distinct manifests in ROOT/images/index.json, Blobs = files in
 * ROOT/images/blobs/sha256, Layer records = directories in ROOT/layers.
 *
 * Sits on: image/store.h (lb_store_count), layer/driver.h (lb_driver_select: which driver and
 * why), core/human.h; cli/output.h for --format.
 * Interface: lb_cmd_info
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"
#include "layer/driver.h"

#include <stdio.h>
#include <string.h>

static const char info_usage[] =
    "Usage:  layerbox info [OPTIONS]\n"
    "\n"
    "Display store-wide information: the root directory, the storage driver, and how many\n"
    "images, blobs and layer records the store holds.\n"
    "\n"
    "Options:\n"
    "  -f, --format string   Format the output using the given Go template\n"
    "                        (fields: .RootDir .Driver .DriverReason .Images .Blobs\n"
    "                        .BlobsSize .Layers;\n"
    "                        'json' prints them as JSON)\n"
    "  -h, --help            Print this help\n";

int lb_cmd_info(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *format = NULL;
    const struct lb_cli_opt opts[] = {{"format", 'f', .value = &format}, {0}};
    int r = lb_cli_options(argc, argv, info_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 0, 0, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    struct lb_store_counts counts;
    if (lb_store_count(s, &counts, err) < 0)
        return -1;
    /* The store's driver and why: a new store gets one chosen (and recorded) here. */
    const struct lb_driver *driver = NULL;
    _cleanup_free_ char *why = NULL;
    if (lb_driver_select(s->root_fd, s->root, cli->storage_driver, &driver, &why, err) < 0)
        return -1;
    const char *reason = why; /* "overlay: recorded in …" → "recorded in …" */
    if (lb_str_has_prefix(reason, driver->name) && reason[strlen(driver->name)] == ':')
        reason += strlen(driver->name) + 2;

    if (format != NULL && *format != '\0') {
        _cleanup_json_ json_t *j =
            lb_out_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "RootDir", s->root, "Driver",
                        driver->name, "DriverReason", reason, "Images", (json_int_t)counts.images,
                        "Blobs", (json_int_t)counts.blobs, "BlobsSize",
                        (json_int_t)counts.blob_bytes, "Layers", (json_int_t)counts.layers);
        return lb_out_object(format, j, err) < 0 ? -1 : 0;
    }

    char size[32];
    printf("Root Dir: %s\n", s->root);
    printf("Storage Driver: %s (%s)\n", driver->name, reason);
    printf("Images: %zu\n", counts.images);
    printf("Blobs: %zu\n", counts.blobs);
    printf("Blobs Size: %s (%lld bytes)\n",
           lb_human_size(size, sizeof(size), (double)counts.blob_bytes),
           (long long)counts.blob_bytes);
    printf("Layers: %zu\n", counts.layers);
    return 0;
}
