/* inspect.c — `layerbox inspect NAME...`: everything the store knows about containers and images,
 * as the JSON array docker prints (4-space indentation): a container (looked for first, as docker
 * does) from lb_lifecycle_inspect_json, an image from lb_image_inspect_json.
 * With --format, the Go template runs on each object and prints one line per image
 * ('{{.Id}}', '{{json .Config}}', '{{range .RootFS.Layers}}…{{end}}').
 *
 * As docker does, every argument is tried: what was found is printed (an empty "[]" when
 * nothing was), then one "no such object" line per argument that is neither a container nor an
 * image, and the exit code is 1.
 *
 * Sits on: container/lifecycle.h, container/container.h (resolve, liveness check),
 *          image/store.h (resolve), image/image.h (lb_image_inspect_json), cli/output.h.
 * Interface: lb_cmd_inspect
 */
#include "cli/cli.h"
#include "cli/output.h"
#include "core/cleanup.h"
#include "core/json.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

static const char inspect_usage[] =
    "Usage:  layerbox inspect [OPTIONS] NAME|ID [NAME|ID...]\n"
    "\n"
    "Display detailed information on containers or images, as a JSON array.\n"
    "\n"
    "Options:\n"
    "  -f, --format string   Format the output using the given Go template, once per object\n"
    "                        ('json': each image as one line of JSON)\n"
    "  -h, --help            Print this help\n";

/* docker resolves containers first (ID, name, unique prefix), then images. An argument that
 * is an ambiguous container prefix, or a container record that cannot be read, is that error. */
static json_t *inspect_one(struct lb_store *s, const char *arg, struct lb_error **err)
{
    struct lb_error *e = NULL;
    struct lb_container *c = lb_container_resolve(s, arg, &e);
    if (c == NULL && e->kind != LB_EKIND_NOT_FOUND && e->kind != LB_EKIND_USAGE) {
        *err = e;
        return NULL;
    }
    lb_error_free(e);
    if (c != NULL) {
        if (lb_container_check(s, c, err) < 0) {
            lb_container_free(c);
            return NULL;
        }
        json_t *j = lb_lifecycle_inspect_json(s, c);
        lb_container_free(c);
        return j;
    }
    struct lb_image *img = lb_store_resolve(s, arg, err);
    if (img == NULL) {
        /* neither a container nor an image: docker's generic inspect says "No such object" */
        if (*err != NULL && (*err)->kind == LB_EKIND_NOT_FOUND) {
            lb_error_clear(err);
            lb_error_setk(err, LB_EKIND_NOT_FOUND, 0, "no such object: '%s'", arg);
        }
        return NULL;
    }
    json_t *j = lb_image_inspect_json(img);
    lb_image_free(img);
    return j;
}

int lb_cmd_inspect(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    const char *format = NULL;
    const struct lb_cli_opt opts[] = {{"format", 'f', .value = &format}, {0}};
    int r = lb_cli_options(argc, argv, inspect_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, -1, err) < 0)
        return -1;

    bool templated = format != NULL && *format != '\0';
    struct lb_out out = {0};
    if (templated && lb_out_init(&out, format, NULL, LB_OUT_NO_TABLE, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0) {
        lb_out_release(&out);
        return -1;
    }

    _cleanup_json_ json_t *all = json_array();
    struct lb_error *last = NULL;
    for (int i = optind; i < argc; i++) {
        struct lb_error *e = NULL;
        json_t *j = inspect_one(s, argv[i], &e);
        if (j == NULL) {
            lb_cli_keep_last(&last, e);
            continue;
        }
        if (templated && lb_out_row(&out, j, &e) < 0) {
            /* a template error is the same for every image: stop here */
            json_decref(j);
            lb_cli_keep_last(&last, e);
            break;
        }
        json_array_append_new(all, j);
    }

    int rc = 0;
    if (templated) {
        struct lb_error *e = NULL;
        if (lb_out_flush(&out, NULL, &e) < 0)
            lb_cli_keep_last(&last, e);
        lb_out_release(&out);
    } else {
        _cleanup_free_ char *text = lb_json_dump_pretty(all);
        printf("%s\n", text);
    }
    if (last != NULL) {
        *err = last;
        rc = -1;
    }
    return rc;
}
