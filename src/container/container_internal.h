/* container_internal.h — what the files of the container record share and nobody else uses.
 *
 * container.c (the record: create, load, list, save, rename, remove), record_json.c (its two
 * files as JSON), resolve.c (an argument to an ID) and liveness.c (running checked against /proc)
 * implement container.h between them; this header is the seam between those files. Not a
 * contract for other modules: include container.h instead. */
#ifndef LB_CONTAINER_CONTAINER_INTERNAL_H
#define LB_CONTAINER_CONTAINER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "container/container.h"

/* --- container.c: the records on disk ------------------------------------------------------ */

/* True when id is 64 lowercase hex characters: the only IDs a path is built from. */
bool lb_container_valid_id(const char *id);

/* The IDs of every record directory, sorted; a missing containers/ is an empty store. *out is a
 * NULL-terminated vector the caller frees (lb_strv_free), also after an error. */
int lb_container_list_ids(struct lb_store *s, char ***out, struct lb_error **err);

/* The names of the records in ids (parallel; "" where config.json cannot be read). Caller frees
 * (lb_strv_free). */
char **lb_container_read_names(struct lb_store *s, char *const *ids);

/* The ID of the record called name among (ids, names), skipping `self` (NULL = none); NULL when
 * the name is free. Points into ids. */
const char *lb_container_name_owner(char *const *ids, char *const *names, const char *name,
                                    const char *self);

/* LB_EKIND_NOT_FOUND "no such container: '<what>'". Returns -1. */
int lb_container_not_found(struct lb_error **err, const char *what);

/* Read containers/<id>/state.json into *st (an empty one is Created). */
int lb_container_read_state(struct lb_store *s, const char *id, struct lb_container_state *st,
                            struct lb_error **err);

/* lb_container_save_state for a caller that holds the store lock. */
int lb_container_save_state_locked(struct lb_store *s, const struct lb_container *c,
                                   struct lb_error **err);

/* --- record_json.c: config.json and state.json --------------------------------------------- */

/* config.json of a new record (new reference). */
json_t *lb_container_config_to_json(const char *id, const char *name, const struct lb_time *created,
                                    const struct lb_container_spec *spec);

/* state.json (new reference); times {0,0} are left out. */
json_t *lb_container_state_to_json(const struct lb_container_state *st);

/* Fill *st from state.json; a missing or mistyped key is LB_EKIND_INVALID naming it. */
int lb_container_state_from_json(struct lb_container_state *st, const json_t *j,
                                 struct lb_error **err);

/* A record from the two files' JSON; id is its directory's name, which config.json's "Id" must
 * equal. Errors name the file and the container. Caller frees (lb_container_free). */
struct lb_container *lb_container_record_from_json(const char *id, const json_t *config,
                                                   const json_t *state, struct lb_error **err);

#endif
