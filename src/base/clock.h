/*
 * clock.h - the monotonic clock in nanoseconds, for durations (never the time of day); the
 * deadline of a timed wait.
 */
#ifndef GEOBATCH_BASE_CLOCK_H
#define GEOBATCH_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ms milliseconds from now on clock id: the deadline of a pthread_cond_timedwait() on a
 * condition variable of that clock (CLOCK_REALTIME unless set otherwise). */
static inline struct timespec clock_after_ms(clockid_t id, long ms)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif
