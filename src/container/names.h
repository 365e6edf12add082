/* names.h — container names: the rule a --name must follow, and docker-like generated names
 * ("adjective_surname") for containers created without one.
 *
 * A name is `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most LB_NAME_MAX characters. docker shows names with
 * a leading '/' ("/web" in inspect) and accepts one on the command line; layerbox stores them
 * without it: callers strip one leading '/' (lb_names_strip_slash) before validating.
 * Uniqueness across the store is container.c's job (under the store lock). */
#ifndef LB_CONTAINER_NAMES_H
#define LB_CONTAINER_NAMES_H

#include <stdbool.h>

#include "core/error.h"

#define LB_NAME_MAX 253

/* Check a name (without a leading '/'). Errors are LB_EKIND_INVALID:
 *   "container name cannot be empty"
 *   "invalid container name 'x y': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
 *   "invalid container name 'aaaa…': longer than 253 characters" */
int lb_names_validate(const char *name, struct lb_error **err);

/* name without one leading '/' ("/web" → "web"); the same pointer moved, not a copy. */
const char *lb_names_strip_slash(const char *name);

/* A random "adjective_surname" (random bytes from getrandom). retry > 0 appends random digits
 * (one, plus one more for every 16 retries), as docker does after a collision, so a caller that
 * retries on "taken" always finds a free name. Caller frees. */
char *lb_names_generate(unsigned retry);

/* The word lists, for tests: *n gets the count. Static arrays. */
const char *const *lb_names_adjectives(unsigned *n);
const char *const *lb_names_surnames(unsigned *n);

#endif
