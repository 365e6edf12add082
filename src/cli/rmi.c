/* rmi.c — `layerbox rmi [-f] IMAGE...`: take names away from images, and delete an image once
 * nothing names it. This is where "a tag is only a pointer" becomes visible: removing one of two
 * tags prints "Untagged:" and keeps the image; removing the last one also prints "Deleted:".
 *
 * docker's rules (daemon/images/image_delete.go), which layerbox follows:
 *   - IMAGE given as a name: untag that name; when it was the last one, delete the image.
 *   - IMAGE given as an ID (or a prefix): an image with one name loses it and is deleted; an image
 *     with several names is a conflict unless -f, which untags them all and deletes it.
 *   - An image used by a container is never deleted; -f only takes its names away.
 *   - Every argument is tried; the command fails (exit 1) if any of them failed.
 *
 * Sits on: image/store.h (resolve, untag, delete, the image-user seam), image/reference.h.
 * Interface: lb_cmd_rmi
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/util.h"
#include "image/reference.h"

#include <stdio.h>
#include <string.h>

static const char rmi_usage[] =
    "Usage:  layerbox rmi [OPTIONS] IMAGE [IMAGE...]\n"
    "\n"
    "Remove one or more images: each name given is untagged, and an image is deleted (its\n"
    "blobs and layers freed) once no name points at it. An image ID removes every name when\n"
    "the image has just one, and needs -f when it has several.\n"
    "\n"
    "Options:\n"
    "  -f, --force   Remove an image with several names by ID; untag an image in use\n"
    "  -h, --help    Print this help\n";

/* "docker.io/library/busybox:latest" → "busybox:latest" for messages (falls back to the input). */
static char *familiar(const char *full_ref)
{
    struct lb_reference ref = {0};
    struct lb_error *e = NULL;
    if (lb_reference_parse(&ref, full_ref, LB_REFERENCE_NO_DEFAULT_TAG, &e) < 0) {
        lb_error_free(e);
        return lb_xstrdup(full_ref);
    }
    char *s = lb_reference_familiar_string(&ref);
    lb_reference_release(&ref);
    return s;
}

/* The full stored name arg stands for when it names img ("busybox" → "docker.io/library/
 * busybox:latest"), else NULL: then arg addressed the image by its ID. */
static char *arg_as_name(const char *arg, const struct lb_image *img)
{
    struct lb_reference ref = {0};
    struct lb_error *e = NULL;
    if (lb_reference_parse(&ref, arg, 0, &e) < 0) {
        lb_error_free(e);
        return NULL;
    }
    char *full = lb_reference_string(&ref);
    lb_reference_release(&ref);
    if (!lb_image_has_name(img, full)) {
        free(full);
        return NULL;
    }
    return full;
}

/* Who uses the image (a container name or ID), asked through the store's seam; NULL: nobody. */
static char *image_user(struct lb_store *s, const struct lb_image *img)
{
    return s->user_fn ? s->user_fn(s->user_data, &img->id) : NULL;
}

/* Untag every name of img; print "Untagged:" lines only after each change is made. */
static int untag_all(struct lb_store *s, const struct lb_image *img, struct lb_error **err)
{
    for (size_t k = 0; img->names && img->names[k]; k++) {
        if (lb_store_untag(s, img->names[k], err) < 0)
            return -1;
        _cleanup_free_ char *f = familiar(img->names[k]);
        printf("Untagged: %s\n", f);
    }
    return 0;
}

/* Delete the image with all its names (one store change), then report what went. */
static int delete_image(struct lb_store *s, const struct lb_image *img, struct lb_error **err)
{
    if (lb_store_delete_image(s, img, err) < 0)
        return -1;
    for (size_t k = 0; img->names && img->names[k]; k++) {
        _cleanup_free_ char *f = familiar(img->names[k]);
        printf("Untagged: %s\n", f);
    }
    printf("Deleted: %s\n", img->id.str);
    return 0;
}

static int conflict(struct lb_error **err, const struct lb_image *img, const char *why)
{
    return lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                         "conflict: unable to delete %.12s (must be forced) - %s",
                         lb_digest_hex(&img->id), why);
}

/* One argument, under the store lock. */
static int rmi_one(struct lb_store *s, const char *arg, bool force, struct lb_error **err)
{
    struct lb_image *img = lb_store_resolve(s, arg, err);
    if (img == NULL)
        return -1;
    int rc = -1;
    _cleanup_free_ char *name = arg_as_name(arg, img);
    _cleanup_free_ char *user = NULL;
    size_t nnames = lb_strv_len(img->names);

    if (name != NULL) {
        if (nnames > 1) { /* other names keep the image alive */
            if (lb_store_untag(s, name, err) < 0)
                goto out;
            _cleanup_free_ char *f = familiar(name);
            printf("Untagged: %s\n", f);
            rc = 0;
            goto out;
        }
        user = image_user(s, img);
        if (user && !force) {
            lb_error_setk(err, LB_EKIND_CONFLICT, 0,
                          "conflict: unable to remove repository reference '%s' (must force) - "
                          "image is being used by container '%s'",
                          arg, user);
            goto out;
        }
        if (user) { /* -f: the name goes, the image stays for its container */
            rc = untag_all(s, img, err);
            goto out;
        }
        rc = delete_image(s, img, err);
        goto out;
    }

    /* Addressed by ID. */
    if (nnames > 1 && !force) {
        conflict(err, img, "image is referenced in multiple repositories");
        goto out;
    }
    user = image_user(s, img);
    if (user && !force) {
        _cleanup_free_ char *why = lb_xasprintf("image is being used by container '%s'", user);
        conflict(err, img, why);
        goto out;
    }
    if (user) {
        rc = untag_all(s, img, err);
        goto out;
    }
    rc = delete_image(s, img, err);
out:
    lb_image_free(img);
    return rc;
}

int lb_cmd_rmi(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool force = false;
    const struct lb_cli_opt opts[] = {{"force", 'f', .flag = &force}, {0}};
    int r = lb_cli_options(argc, argv, rmi_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, -1, err) < 0)
        return -1;
    struct lb_store *s = NULL;
    if (lb_cli_store(cli, &s, err) < 0)
        return -1;

    /* docker tries every argument and reports all failures; the last one goes back to main.c,
     * the earlier ones are printed here the same way. */
    struct lb_error *last = NULL;
    for (int i = optind; i < argc; i++) {
        struct lb_error *e = NULL;
        if (lb_store_lock(s, &e) == 0) {
            rmi_one(s, argv[i], force, &e);
            lb_store_unlock(s);
        }
        if (e != NULL)
            lb_cli_keep_last(&last, e);
    }
    if (last == NULL)
        return 0;
    *err = last;
    return -1;
}
