/* load.c — `layerbox load [-i FILE|DIR] [-q]`: images from a docker-archive, an OCI archive or an
 * OCI layout directory (plain, gzip or zstd), read from a file or standard input. Nothing enters
 * the store before every digest and DiffID in the archive has been checked.
 *
 * As docker: one "Loaded image: NAME" line per tag, "Loaded image ID: sha256:…" for an untagged
 * image, -q still prints them (it only silences progress, which layerbox has none of), and a
 * terminal on stdin without -i is refused ("requested load from stdin, but stdin is empty").
 *
 * Sits on: image/archive.h (lb_archive_load). Interface: lb_cmd_load
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "image/archive.h"

#include <stdio.h>
#include <unistd.h>

static const char load_usage[] =
    "Usage:  layerbox load [OPTIONS]\n"
    "\n"
    "Load images from a tar archive or an OCI layout directory, read from a file or STDIN.\n"
    "Accepts docker-archive (docker save, podman save) and OCI archives, plain, gzip or zstd\n"
    "compressed. Every blob's size and digest and every layer's DiffID is verified before\n"
    "anything is added to the store.\n"
    "\n"
    "Options:\n"
    "  -i, --input string   Read from tar archive file or OCI layout directory, instead of STDIN\n"
    "  -q, --quiet          Suppress the load output (accepted for docker compatibility; the\n"
    "                       \"Loaded image\" lines are still printed, as docker does)\n"
    "  -h, --help           Print this help\n";

int lb_cmd_load(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *input = NULL;
    const struct lb_cli_opt opts[] = {
        {"input", 'i', .value = &input},
        {"quiet", 'q', .flag = NULL}, /* accepted, and nothing to silence */
        {0},
    };
    int r = lb_cli_options(argc, argv, load_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 0, 0, err) < 0)
        return -1;
    if (input == NULL && isatty(STDIN_FILENO))
        return lb_error_set(err, 0, "requested load from stdin, but stdin is empty (use -i FILE)");
    struct lb_store *store = NULL;
    if (lb_cli_store(cli, &store, err) < 0)
        return -1;
    _cleanup_strv_ char **lines = NULL;
    if (lb_archive_load(store, input, &lines, err) < 0)
        return -1;
    for (size_t i = 0; lines && lines[i]; i++)
        printf("%s\n", lines[i]);
    return 0;
}
