/* json.h — JSON on jansson, with the limits and checks a store that reads untrusted archives needs.
 */
#ifndef LB_CORE_JSON_H
#define LB_CORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/fs.h"

/* The largest JSON document layerbox will parse (manifests, configs, index.json). */
#define LB_JSON_MAX_SIZE (8u * 1024u * 1024u)

/* Parse len bytes (at most LB_JSON_MAX_SIZE) into a new reference; `what` names the document in
 * errors ("manifest.json"). Returns NULL on error. */
json_t *lb_json_parse(const char *buf, size_t len, const char *what, struct lb_error **err);

/* Read and parse dirfd/path, refusing files above LB_JSON_MAX_SIZE. */
json_t *lb_json_load_at(int dirfd, const char *path, struct lb_error **err);

/* Serialise compactly, keys in insertion order. Caller frees. */
char *lb_json_dump(const json_t *j);

/* Serialise with 4-space indentation (for `inspect`). Caller frees. */
char *lb_json_dump_pretty(const json_t *j);

/* lb_atomic_write_at of the compact serialisation. */
int lb_json_write_at(int dirfd, const char *name, const json_t *j, struct lb_error **err);

/* lb_replace_file_at of the compact serialisation, with the given durability. */
int lb_json_replace_at(int dirfd, const char *name, const json_t *j, enum lb_durability durability,
                       struct lb_error **err);

/* Borrowed string member, or NULL when absent or not a string. */
const char *lb_json_str(const json_t *obj, const char *key);

/* Integer member, or def when absent or not an integer. */
json_int_t lb_json_int(const json_t *obj, const char *key, json_int_t def);

/* Borrowed object/array member, or NULL when absent or of another type. */
json_t *lb_json_obj(const json_t *obj, const char *key);
json_t *lb_json_arr(const json_t *obj, const char *key);

/* New JSON array of strings from a NULL-terminated vector (NULL → empty array). */
json_t *lb_json_from_strv(char *const *v);

/* NULL-terminated vector of the array's strings; NULL when arr is not an array of strings. */
char **lb_json_to_strv(const json_t *arr);

#endif
