/* human.h — sizes and times as docker prints them, and RFC 3339 timestamps as OCI stores them. */
#ifndef LB_CORE_HUMAN_H
#define LB_CORE_HUMAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"

/* docker's units.HumanSizeWithPrecision(size, 3): decimal units, "%.3g": "0B", "999B", "1.5kB",
 * "4.26MB". Writes into buf (32 bytes is always enough). Returns buf. */
char *lb_human_size(char *buf, size_t bufsz, double bytes);

/* docker's units.HumanDuration: "Less than a second", "3 seconds", "About a minute",
 * "5 minutes", "About an hour", "3 hours", "4 days", "2 weeks", "3 months", "56 years". */
char *lb_human_duration(char *buf, size_t bufsz, double seconds);

/* A point in time with nanoseconds, as OCI configs record "created". */
struct lb_time {
    int64_t sec;
    int32_t nsec;
};

/* Parse RFC 3339 ("2024-01-02T03:04:05.123456789Z", "...+02:00"). */
int lb_time_parse(struct lb_time *out, const char *s, struct lb_error **err);

/* Format as UTC RFC 3339 with nanoseconds trimmed as Go's time.RFC3339Nano does:
 * "2024-01-02T03:04:05.1234Z", "1970-01-01T00:00:00Z". Writes into buf (40 bytes). */
char *lb_time_format(char *buf, size_t bufsz, struct lb_time t);

/* Now, from CLOCK_REALTIME. */
struct lb_time lb_time_now(void);

#endif
