/* image.c — `layerbox image mount IMAGE` / `layerbox image umount IMAGE` (as podman's): look at
 * an image as the one file system its layers stack up to, without running anything.
 *
 *   mount    the image's layers, top first, through the store's driver (overlay: a read-only
 *            union mount; vfs: a copy) at ROOT/mounts/<image-id>/merged; prints that path.
 *            Mounting again only counts (ROOT/mounts/<image-id>/count) and prints the same path.
 *   umount   takes one count away; the last one unmounts and removes ROOT/mounts/<image-id>.
 *            -f unmounts whatever the count.
 *
 * The count is read and written under the store lock, so two mounts racing cannot both mount.
 * It describes mounts made since boot: a count whose mount is gone (after a reboot) starts
 * again from 1, and a mount (or a vfs copy) left without a count is undone and made again.
 *
 * Sits on: image/store.h (resolve, lock), layer/driver.h (select, mount, counts),
 *          layer/layers.h (is every layer unpacked?), layer/chainid.h.
 * Interface: lb_cmd_image
 */
#include "cli/cli.h"
#include "core/cleanup.h"
#include "core/explain.h"
#include "core/fs.h"
#include "core/util.h"
#include "layer/chainid.h"
#include "layer/driver.h"
#include "layer/layers.h"

#include <stdio.h>
#include <string.h>

static const char image_usage[] =
    "Usage:  layerbox image COMMAND\n"
    "\n"
    "Manage images.\n"
    "\n"
    "Commands:\n"
    "  mount IMAGE    Mount an image's layers as one read-only file system and print where\n"
    "  umount IMAGE   Undo an 'image mount' (alias: unmount)\n"
    "\n"
    "Run 'layerbox image COMMAND --help' for more information on a command.\n";

static const char mount_usage[] =
    "Usage:  layerbox image mount IMAGE\n"
    "\n"
    "Mount the union of an image's layers at ROOT/mounts/<image-id>/merged and print that\n"
    "path. With the overlay driver it is a read-only overlayfs mount of the unpacked layers;\n"
    "with vfs it is a copy (writable, and thrown away by 'image umount'). Each mount is\n"
    "counted: mounting twice needs two 'image umount's.\n"
    "\n"
    "Options:\n"
    "  -h, --help   Print this help\n";

static const char umount_usage[] =
    "Usage:  layerbox image umount [OPTIONS] IMAGE\n"
    "\n"
    "Undo one 'image mount' of IMAGE; the last one unmounts it (vfs: removes the copy).\n"
    "Prints the image ID.\n"
    "\n"
    "Options:\n"
    "  -f, --force  Unmount even if the image was mounted more than once\n"
    "  -h, --help   Print this help\n";

/* What both subcommands need: the store, its driver, the image, its layers top first and the
 * mount point. */
struct image_mount {
    struct lb_store *store;
    const struct lb_driver *driver;
    struct lb_image *img;
    struct lb_digest *chains; /* TOP FIRST, as the drivers want them */
    char *rel;                /* mounts/<hex> */
    char *merged;             /* ROOT/mounts/<hex>/merged */
};

/* Unlock the store and free what image_mount_open made. */
static void image_mount_close(struct image_mount *m)
{
    lb_store_unlock(m->store);
    lb_image_free(m->img);
    free(m->chains);
    free(m->rel);
    free(m->merged);
}

static struct lb_mount_request mount_request(const struct image_mount *m)
{
    return (struct lb_mount_request){.root_fd = m->store->root_fd,
                                     .root = m->store->root,
                                     .layers = m->chains,
                                     .n_layers = m->img->n_layers,
                                     .target = m->merged};
}

/* Resolve arg and work out its chain IDs. The store lock must be held. */
static int image_mount_prepare(struct image_mount *m, struct lb_cli *cli, const char *arg,
                               struct lb_error **err)
{
    _cleanup_free_ char *why = NULL;
    if (lb_driver_select(m->store->root_fd, m->store->root, cli->storage_driver, &m->driver, &why,
                         err) < 0)
        return -1;
    lb_explain("driver", "%s", why);
    m->img = lb_store_resolve(m->store, arg, err);
    if (m->img == NULL)
        return -1;
    size_t n = m->img->n_layers;
    m->chains = lb_xmalloc((n + 1) * sizeof(*m->chains)); /* top first, as drivers take them */
    for (size_t i = 0; i < n; i++)
        m->chains[i] = m->img->layers[n - 1 - i].chain_id;
    m->rel = lb_image_mount_relpath(&m->img->id);
    m->merged = lb_xasprintf("%s/%s/merged", m->store->root, m->rel);
    return 0;
}

/* Lock the store and prepare m for arg: what both subcommands start with. On success the caller
 * ends with image_mount_close; on failure there is nothing to close. */
static int image_mount_open(struct image_mount *m, struct lb_cli *cli, const char *arg,
                            struct lb_error **err)
{
    *m = (struct image_mount){0};
    if (lb_cli_store(cli, &m->store, err) < 0 || lb_store_lock(m->store, err) < 0)
        return -1;
    if (image_mount_prepare(m, cli, arg, err) < 0) {
        image_mount_close(m);
        return -1;
    }
    return 0;
}

static int do_mount(struct lb_cli *cli, const char *arg, struct lb_error **err)
{
    struct image_mount m;
    if (image_mount_open(&m, cli, arg, err) < 0)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < m.img->n_layers; i++) {
        if (!lb_layers_exists(m.store->root_fd, &m.chains[i])) {
            lb_error_set(err, 0, "image %s has layers that are not unpacked: load it again", arg);
            goto out;
        }
    }
    unsigned long count = 0;
    bool mounted = false;
    if (lb_image_mount_count(m.store->root_fd, &m.img->id, &count, err) < 0 ||
        lb_mkdir_p(m.merged, 0700, err) < 0 ||
        lb_driver_is_mounted(m.driver, m.merged, &mounted, err) < 0)
        goto out;
    struct lb_mount_request req = mount_request(&m);
    if (count > 0 && mounted) {
        if (lb_image_mount_set_count(m.store->root_fd, &m.img->id, count + 1, err) < 0)
            goto out;
        lb_explain("mount", "%s is already mounted at %s: mount count %lu → %lu", arg, m.merged,
                   count, count + 1);
    } else {
        /* Left over without a count (a crash between mount and count): undo it first. */
        if (mounted && m.driver->umount(&req, err) < 0)
            goto out;
        if (m.driver->mount(&req, err) < 0) {
            struct lb_error *e = NULL;
            lb_image_mount_set_count(m.store->root_fd, &m.img->id, 0, &e);
            lb_error_free(e);
            lb_rm_tree_at(m.store->root_fd, m.rel, &e);
            lb_error_free(e);
            lb_error_wrap(err, "mounting image %s", arg);
            goto out;
        }
        if (lb_image_mount_set_count(m.store->root_fd, &m.img->id, 1, err) < 0) {
            struct lb_error *e = NULL;
            m.driver->umount(&req, &e);
            lb_error_free(e);
            goto out;
        }
    }
    printf("%s\n", m.merged);
    rc = 0;
out:
    image_mount_close(&m);
    return rc;
}

static int do_umount(struct lb_cli *cli, const char *arg, bool force, struct lb_error **err)
{
    struct image_mount m;
    if (image_mount_open(&m, cli, arg, err) < 0)
        return -1;
    int rc = -1;
    unsigned long count = 0;
    if (lb_image_mount_count(m.store->root_fd, &m.img->id, &count, err) < 0)
        goto out;
    if (count == 0) {
        lb_error_set(err, 0, "image %s is not mounted", arg);
        goto out;
    }
    if (count > 1 && !force) {
        if (lb_image_mount_set_count(m.store->root_fd, &m.img->id, count - 1, err) < 0)
            goto out;
        lb_explain("mount", "%s stays mounted at %s: mount count %lu → %lu", arg, m.merged, count,
                   count - 1);
    } else {
        bool mounted = false;
        if (lb_driver_is_mounted(m.driver, m.merged, &mounted, err) < 0)
            goto out;
        struct lb_mount_request req = mount_request(&m);
        if (mounted && m.driver->umount(&req, err) < 0) {
            lb_error_wrap(err, "unmounting image %s", arg);
            goto out;
        }
        if (lb_image_mount_set_count(m.store->root_fd, &m.img->id, 0, err) < 0 ||
            lb_rm_tree_at(m.store->root_fd, m.rel, err) < 0)
            goto out;
    }
    printf("%s\n", lb_digest_hex(&m.img->id));
    rc = 0;
out:
    image_mount_close(&m);
    return rc;
}

static int cmd_mount(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    int r = lb_cli_options(argc, argv, mount_usage, NULL, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, 1, err) < 0)
        return -1;
    return do_mount(cli, argv[optind], err);
}

static int cmd_umount(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    bool force = false;
    const struct lb_cli_opt opts[] = {{"force", 'f', .flag = &force}, {0}};
    int r = lb_cli_options(argc, argv, umount_usage, opts, err);
    if (r <= 0)
        return r;
    if (lb_cli_nargs(argc, argv, 1, 1, err) < 0)
        return -1;
    return do_umount(cli, argv[optind], force, err);
}

int lb_cmd_image(struct lb_cli *cli, int argc, char **argv, struct lb_error **err)
{
    static const struct {
        const char *name;
        const char *full; /* argv[0] of the subcommand, so its errors say "layerbox image x" */
        lb_cmd_fn fn;
    } subs[] = {
        {"mount", "image mount", cmd_mount},
        {"umount", "image umount", cmd_umount},
        {"unmount", "image umount", cmd_umount},
    };
    if (argc < 2)
        return lb_cli_usage_error(err, argv[0], "\"image\" requires a command: mount or umount");
    if (argv[1][0] == '-') {
        /* An option before the subcommand: only --help, with the usual errors for the rest. */
        char *opt_argv[] = {argv[0], argv[1], NULL};
        int r = lb_cli_options(2, opt_argv, image_usage, NULL, err);
        if (r <= 0)
            return r;
    }
    for (size_t i = 0; i < LB_ARRAY_SIZE(subs); i++) {
        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        _cleanup_free_ char **sub_argv = lb_xmalloc((size_t)argc * sizeof(*sub_argv));
        sub_argv[0] = (char *)subs[i].full;
        for (int k = 2; k < argc; k++)
            sub_argv[k - 1] = argv[k];
        sub_argv[argc - 1] = NULL;
        optind = 0; /* the subcommand parses its own options */
        return subs[i].fn(cli, argc - 1, sub_argv, err);
    }
    return lb_cli_usage_error(err, argv[0], "unknown command '%s' for 'layerbox image'", argv[1]);
}
