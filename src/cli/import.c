/* import.c — `layerbox import FILE|- [REPOSITORY[:TAG]] [-m MSG] [-c CHANGE]...`: a root file
 * system tar (plain, gzip or zstd) becomes a one-layer image; prints its full ID
 * ("sha256:<64 hex>") as docker does. URLs are refused: download the file first.
 *
 * Sits on: image/archive.h (lb_archive_import), image/config.h (the -c changes, via import).
 * Interface: lb_cmd_import
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "image/archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char import_usage[] =
    "Usage:  layerbox import [OPTIONS] file|- [REPOSITORY[:TAG]]\n"
    "\n"
    "Import the contents from a tarball (plain, gzip or zstd) to create a filesystem image.\n"
    "The layer is stored uncompressed, so its digest is its DiffID.\n"
    "\n"
    "Options:\n"
    "  -c, --change list      Apply Dockerfile instruction to the created image (CMD,\n"
    "                         ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER,\n"
    "                         VOLUME, WORKDIR)\n"
    "  -m, --message string   Set commit message for imported image\n"
    "  -h, --help             Print this help\n";

int lb_cmd_import(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    _cleanup_strv_ char **changes = lb_xmalloc(sizeof(char *));
    const char *message = NULL;
    const struct lb_cli_opt opts[] = {
        {"change", 'c', .list = &changes}, {"message", 'm', .value = &message}, {0}};
    int r = lb_cli_options(argc, argv, import_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, 2, err) < 0)
        return -1;
    const char *source = argv[optind];
    const char *ref = optind + 1 < argc ? argv[optind + 1] : NULL;
    if (lb_str_has_prefix(source, "http://") || lb_str_has_prefix(source, "https://"))
        return lb_error_set(err, 0,
                            "importing from a URL is not supported: download '%s' and "
                            "import the file",
                            source);
    _cleanup_close_ int fd = -1;
    if (strcmp(source, "-") != 0) {
        fd = open(source, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return lb_error_set(err, errno, "cannot open '%s'", source);
    }
    struct lb_store *store = NULL;
    if (lb_cli_store(cli, &store, err) < 0)
        return -1;
    struct lb_import_opts io = {
        .ref = ref, .message = message, .changes = changes, .source = source};
    struct lb_digest id;
    if (lb_archive_import(store, fd >= 0 ? fd : STDIN_FILENO, &io, &id, err) < 0)
        return -1;
    printf("%s\n", id.str);
    return 0;
}
