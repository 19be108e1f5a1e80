/*
 * log.h - leveled one-line logging with key=value fields.
 *
 * Each call writes one whole line to stderr with a single write(), so lines from several
 * threads never interleave:  2026-11-28T18:50:00.123Z info job done id=abc rows=10
 * A call below the current level costs one comparison: arguments are not formatted.
 * Thread safety: log_set_level() is meant for start-up; the log_* macros may be called from
 * any thread.
 */
#ifndef GEOBATCH_LOG_H
#define GEOBATCH_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_OFF = 4 };

extern enum log_level log_level_current;

/* Set the lowest level that is written. */
void log_set_level(enum log_level level);

/* Parse "debug", "info", "warn", "error" or "off". Return 0 and set *out, or GB_EPARAM. */
int log_level_parse(const char *name, enum log_level *out);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* While a status line is on the terminal (base/progress.h), every log line first erases it
 * ("\r\033[K") so the two never share a line. */
void log_set_status_line(bool on);

#define log_at(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) >= log_level_current)                                                            \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

#endif
