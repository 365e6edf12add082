/* human.c — numbers for people: the exact size and age strings docker's CLI prints (go-units),
 * so students can put layerbox's output and docker's side by side.
 *
 * Interface: lb_human_size, lb_human_duration, lb_time_parse, lb_time_format, lb_time_now
 */
#include "core/human.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

char *lb_human_size(char *buf, size_t bufsz, double bytes)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    size_t i = 0;
    while (bytes >= 1000.0 && i < sizeof(units) / sizeof(units[0]) - 1) {
        bytes /= 1000.0;
        i++;
    }
    snprintf(buf, bufsz, "%.3g%s", bytes, units[i]);
    return buf;
}

char *lb_human_duration(char *buf, size_t bufsz, double seconds)
{
    long long s = (long long)seconds;
    long long minutes = s / 60;
    long long hours = (long long)(seconds / 3600.0 + 0.5);
    if (s < 1)
        snprintf(buf, bufsz, "Less than a second");
    else if (s == 1)
        snprintf(buf, bufsz, "1 second");
    else if (s < 60)
        snprintf(buf, bufsz, "%lld seconds", s);
    else if (minutes == 1)
        snprintf(buf, bufsz, "About a minute");
    else if (minutes < 60)
        snprintf(buf, bufsz, "%lld minutes", minutes);
    else if (hours == 1)
        snprintf(buf, bufsz, "About an hour");
    else if (hours < 48)
        snprintf(buf, bufsz, "%lld hours", hours);
    else if (hours < 24 * 7 * 2)
        snprintf(buf, bufsz, "%lld days", hours / 24);
    else if (hours < 24 * 30 * 2)
        snprintf(buf, bufsz, "%lld weeks", hours / 24 / 7);
    else if (hours < 24 * 365 * 2)
        snprintf(buf, bufsz, "%lld months", hours / 24 / 30);
    else
        snprintf(buf, bufsz, "%lld years", (long long)(seconds / 3600.0) / 24 / 365);
    return buf;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int lb_time_parse(struct lb_time *out, const char *s, struct lb_error **err)
{
    const char *p = s;
    int Y, M, D, h, m, sec;
    if (digits(&p, 4, &Y) < 0 || *p++ != '-' || digits(&p, 2, &M) < 0 || *p++ != '-' ||
        digits(&p, 2, &D) < 0 || (*p != 'T' && *p != 't' && *p != ' '))
        goto bad;
    p++;
    if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &m) < 0 || *p++ != ':' ||
        digits(&p, 2, &sec) < 0)
        goto bad;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) || h > 23 ||
        m > 59 || sec > 60)
        goto bad;
    int32_t nsec = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n < 9) {
                nsec = nsec * 10 + (*p - '0');
                n++;
            }
            p++;
        }
        if (n == 0)
            goto bad;
        for (; n < 9; n++)
            nsec *= 10;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
            goto bad;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        goto bad;
    }
    if (*p != '\0')
        goto bad;
    out->sec =
        days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec - offset;
    out->nsec = nsec;
    return 0;
bad:
    return lb_error_setk(err, LB_EKIND_INVALID, 0, "invalid timestamp '%s'", s);
}

char *lb_time_format(char *buf, size_t bufsz, struct lb_time t)
{
    time_t secs = (time_t)t.sec;
    struct tm tm;
    gmtime_r(&secs, &tm);
    char frac[16] = "";
    if (t.nsec > 0) {
        snprintf(frac, sizeof(frac), ".%09d", (int)t.nsec);
        size_t n = strlen(frac);
        while (n > 1 && frac[n - 1] == '0')
            frac[--n] = '\0';
    }
    snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

struct lb_time lb_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (struct lb_time){.sec = ts.tv_sec, .nsec = (int32_t)ts.tv_nsec};
}
