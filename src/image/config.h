/* config.h — the image config (OCI image-spec config.json) and the Dockerfile-style changes that
 * `import -c`, `commit -c` and (later) build apply to it. */
#ifndef LB_IMAGE_CONFIG_H
#define LB_IMAGE_CONFIG_H

#include <jansson.h>

#include "core/error.h"

/* Apply one change, e.g. `CMD ["sh"]`, `CMD sh -c x` (shell form → ["/bin/sh","-c","sh -c x"]),
 * `ENTRYPOINT …`, `ENV K=V K2=V2` / `ENV K V`, `WORKDIR /x`, `USER u[:g]`,
 * `LABEL k=v …`, `EXPOSE 80/tcp 53/udp`, `VOLUME /a` / `VOLUME ["/a","/b"]`, to the "config"
 * object of an image config (created when missing). Instruction names are case-insensitive.
 * Unknown or malformed instructions are LB_EKIND_INVALID errors naming the change and changing
 * nothing. */
int lb_config_apply_change(json_t *image_config, const char *change, struct lb_error **err);

/* Apply a NULL-terminated list of changes in order (changes may be NULL), as `import -c` and
 * `commit -c` do. docker's rule across the list: ENTRYPOINT clears CMD unless the same list sets
 * CMD, before or after it, so the last CMD given wins whatever the order. Stops at the first bad
 * change (the config may then be partly changed: apply to a copy when that matters). */
int lb_config_apply_changes(json_t *image_config, char *const *changes, struct lb_error **err);

#endif
