/* json.c — every JSON document layerbox reads passes through here, with a size limit and a
 * clear error naming the document, so a malformed or oversized manifest in an archive is a
 * one-line error rather than a crash or an out-of-memory.
 *
 * Interface: lb_json_parse, lb_json_load_at, lb_json_dump, lb_json_dump_pretty, lb_json_write_at,
 *            lb_json_replace_at,
 *            lb_json_str, lb_json_int, lb_json_obj, lb_json_arr, lb_json_from_strv,
 *            lb_json_to_strv
 */
#include "core/json.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/util.h"

#include <string.h>

json_t *lb_json_parse(const char *buf, size_t len, const char *what, struct lb_error **err)
{
    if (len > LB_JSON_MAX_SIZE) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is too large (%zu bytes, limit %u)", what, len,
                      LB_JSON_MAX_SIZE);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        lb_error_setk(err, LB_EKIND_INVALID, 0, "%s is not valid JSON: %s at line %d", what,
                      je.text, je.line);
        return NULL;
    }
    return j;
}

json_t *lb_json_load_at(int dirfd, const char *path, struct lb_error **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (lb_read_file_at(dirfd, path, LB_JSON_MAX_SIZE, &buf, &len, err) < 0)
        return NULL;
    return lb_json_parse(buf, len, path, err);
}

char *lb_json_dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        lb_oom();
    return s;
}

char *lb_json_dump_pretty(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(4) | JSON_ENCODE_ANY);
    if (s == NULL)
        lb_oom();
    return s;
}

int lb_json_write_at(int dirfd, const char *name, const json_t *j, struct lb_error **err)
{
    return lb_json_replace_at(dirfd, name, j, LB_DURABLE, err);
}

int lb_json_replace_at(int dirfd, const char *name, const json_t *j, enum lb_durability durability,
                       struct lb_error **err)
{
    _cleanup_free_ char *s = lb_json_dump(j);
    return lb_replace_file_at(dirfd, name, s, strlen(s), 0644, durability, err);
}

const char *lb_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

json_int_t lb_json_int(const json_t *obj, const char *key, json_int_t def)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_integer(v) ? json_integer_value(v) : def;
}

json_t *lb_json_obj(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_object(v) ? v : NULL;
}

json_t *lb_json_arr(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_array(v) ? v : NULL;
}

json_t *lb_json_from_strv(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

char **lb_json_to_strv(const json_t *arr)
{
    if (!json_is_array(arr))
        return NULL;
    size_t n = json_array_size(arr);
    char **v = lb_xmalloc((n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(arr, i);
        if (!json_is_string(s)) {
            lb_strv_free(v);
            return NULL;
        }
        v[i] = lb_xstrdup(json_string_value(s));
    }
    return v;
}
