/* image.c — an image as the user sees it: ID, names, config, layers, history, and the
 * docker-shaped JSON that `inspect` prints.
 *
 * The concept: an image is read-only data. Its ID is the hash of its config; its names are
 * pointers kept elsewhere (index.json); its file system is the ordered stack of layers that
 * rootfs.diff_ids lists, bottom first.
 *
 * Interface: lb_image_free, lb_image_list_free, lb_image_created, lb_image_has_name,
 *            lb_image_repo_tags, lb_image_inspect_json
 */
#include "image/image.h"
#include "core/cleanup.h"
#include "core/human.h"
#include "core/json.h"
#include "core/util.h"
#include "image/reference.h"

#include <stdlib.h>
#include <string.h>

void lb_image_free(struct lb_image *img)
{
    if (img == NULL)
        return;
    for (size_t i = 0; i < img->n_layers; i++)
        free(img->layers[i].media_type);
    free(img->layers);
    json_decref(img->manifest_json);
    json_decref(img->config);
    lb_strv_free(img->names);
    free(img->parent);
    free(img);
}

void lb_image_list_free(struct lb_image **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        lb_image_free(v[i]);
    free(v);
}

int64_t lb_image_created(const struct lb_image *img)
{
    const char *c = lb_json_str(img->config, "created");
    struct lb_time t;
    struct lb_error *e = NULL;
    if (c == NULL || lb_time_parse(&t, c, &e) < 0) {
        lb_error_free(e);
        return 0;
    }
    return t.sec;
}

bool lb_image_has_name(const struct lb_image *img, const char *full_ref)
{
    return full_ref != NULL && lb_strv_contains(img->names, full_ref);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **lb_image_repo_tags(const struct lb_image *img)
{
    char **v = lb_xmalloc(sizeof(char *));
    for (size_t i = 0; img->names && img->names[i]; i++) {
        struct lb_reference ref = {0};
        struct lb_error *e = NULL;
        if (lb_reference_parse(&ref, img->names[i], 0, &e) < 0) {
            lb_error_free(e);
            lb_strv_push(&v, img->names[i]); /* show what is stored rather than hide it */
            continue;
        }
        if (ref.tag) {
            _cleanup_free_ char *fam = lb_reference_familiar_string(&ref);
            lb_strv_push(&v, fam);
        }
        lb_reference_release(&ref);
    }
    qsort(v, lb_strv_len(v), sizeof(char *), cmp_str);
    return v;
}

/* A member of the image's "config" object, or JSON null — docker prints null for unset fields. */
static json_t *cfg_or_null(const json_t *cfg, const char *key)
{
    json_t *v = cfg ? json_object_get(cfg, key) : NULL;
    return v ? json_incref(v) : json_null();
}

static json_t *cfg_string(const json_t *cfg, const char *key)
{
    const char *v = lb_json_str(cfg, key);
    return json_string(v ? v : "");
}

static json_t *inspect_config(const json_t *cfg)
{
    json_t *c = json_object();
    json_object_set_new(c, "Hostname", json_string(""));
    json_object_set_new(c, "Domainname", json_string(""));
    json_object_set_new(c, "User", cfg_string(cfg, "User"));
    json_object_set_new(c, "AttachStdin", json_false());
    json_object_set_new(c, "AttachStdout", json_false());
    json_object_set_new(c, "AttachStderr", json_false());
    json_object_set_new(c, "ExposedPorts", cfg_or_null(cfg, "ExposedPorts"));
    json_object_set_new(c, "Tty", json_false());
    json_object_set_new(c, "OpenStdin", json_false());
    json_object_set_new(c, "StdinOnce", json_false());
    json_object_set_new(c, "Env", cfg_or_null(cfg, "Env"));
    json_object_set_new(c, "Cmd", cfg_or_null(cfg, "Cmd"));
    json_object_set_new(c, "Image", json_string(""));
    json_object_set_new(c, "Volumes", cfg_or_null(cfg, "Volumes"));
    json_object_set_new(c, "WorkingDir", cfg_string(cfg, "WorkingDir"));
    json_object_set_new(c, "Entrypoint", cfg_or_null(cfg, "Entrypoint"));
    json_object_set_new(c, "OnBuild", cfg_or_null(cfg, "OnBuild"));
    json_object_set_new(c, "Labels", cfg_or_null(cfg, "Labels"));
    if (lb_json_str(cfg, "StopSignal"))
        json_object_set_new(c, "StopSignal", cfg_string(cfg, "StopSignal"));
    return c;
}

/* The config's "created", normalised as Go's RFC3339Nano prints it. */
static json_t *created_string(const json_t *config)
{
    const char *c = lb_json_str(config, "created");
    struct lb_time t = {0, 0};
    struct lb_error *e = NULL;
    if (c == NULL || lb_time_parse(&t, c, &e) < 0) {
        lb_error_free(e);
        return json_string(c ? c : "0001-01-01T00:00:00Z");
    }
    char buf[48];
    return json_string(lb_time_format(buf, sizeof(buf), t));
}

json_t *lb_image_inspect_json(const struct lb_image *img)
{
    const json_t *cfg = lb_json_obj(img->config, "config");
    json_t *o = json_object();
    json_object_set_new(o, "Id", json_string(img->id.str));
    _cleanup_strv_ char **tags = lb_image_repo_tags(img);
    json_object_set_new(o, "RepoTags", lb_json_from_strv(tags));
    json_object_set_new(o, "RepoDigests", json_array());
    json_object_set_new(o, "Parent", json_string(img->parent ? img->parent : ""));
    const char *comment = lb_json_str(img->config, "comment");
    json_object_set_new(o, "Comment", json_string(comment ? comment : ""));
    json_object_set_new(o, "Created", created_string(img->config));
    const char *author = lb_json_str(img->config, "author");
    json_object_set_new(o, "Author", json_string(author ? author : ""));
    json_object_set_new(o, "Config", inspect_config(cfg));
    const char *arch = lb_json_str(img->config, "architecture");
    json_object_set_new(o, "Architecture", json_string(arch ? arch : ""));
    const char *variant = lb_json_str(img->config, "variant");
    if (variant)
        json_object_set_new(o, "Variant", json_string(variant));
    const char *os = lb_json_str(img->config, "os");
    json_object_set_new(o, "Os", json_string(os ? os : ""));
    json_object_set_new(o, "Size", json_integer((json_int_t)img->size));
    json_t *layers = json_array();
    for (size_t i = 0; i < img->n_layers; i++)
        json_array_append_new(layers, json_string(img->layers[i].diff_id.str));
    json_object_set_new(o, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", layers));
    json_t *hist = lb_json_arr(img->config, "history");
    json_object_set_new(o, "History", hist ? json_incref(hist) : json_array());
    json_object_set_new(o, "Metadata", json_pack("{s:s}", "LastTagTime", "0001-01-01T00:00:00Z"));
    return o;
}
