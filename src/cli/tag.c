/* tag.c — `layerbox tag SOURCE TARGET`: add a name to an image. A tag is a pointer in
 * images/index.json, nothing more: no blob is copied, the image ID does not change, and a name
 * that pointed at another image simply moves (that image keeps its other names, or shows as
 * <none> in `layerbox images`).
 *
 * Errors as docker reports them: a missing SOURCE is "no such image" and an invalid TARGET is
 * "invalid reference format"; both exit with 1 (docker's client rejects a bad TARGET before
 * asking the daemon, with exit code 1, not the usage code 125). A TARGET with a digest is refused,
 * as docker does: a digest names content, it cannot be pointed elsewhere.
 *
 * Sits on: image/store.h (resolve, tag), image/reference.h.
 * Interface: lb_cmd_tag
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "image/reference.h"

static const char tag_usage[] =
    "Usage:  layerbox tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n"
    "\n"
    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE. SOURCE_IMAGE is a name, an image ID\n"
    "or a unique ID prefix; TARGET_IMAGE gets the tag \"latest\" when none is given. A name that\n"
    "pointed at another image moves to this one.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

int lb_cmd_tag(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    int r = lb_cli_options(argc, argv, tag_usage, NULL, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 2, 2, err) < 0)
        return -1;
    const char *source = argv[optind], *target = argv[optind + 1];

    /* Check TARGET before touching the store, so a typo changes nothing. */
    struct lb_reference ref = {0};
    if (lb_reference_parse(&ref, target, 0, err) < 0)
        return -1;
    if (ref.digest != NULL) {
        lb_reference_release(&ref);
        return lb_error_setk(err, LB_EKIND_INVALID, 0,
                             "refusing to create a tag with a digest reference: '%s'", target);
    }
    _cleanup_free_ char *full = lb_reference_string(&ref);
    lb_reference_release(&ref);

    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;
    if (lb_store_lock(s, err) < 0)
        return -1;
    int rc = -1;
    struct lb_image *img = lb_store_resolve(s, source, err);
    if (img != NULL)
        rc = lb_store_tag(s, img, full, err);
    lb_store_unlock(s);
    lb_image_free(img);
    return rc;
}
