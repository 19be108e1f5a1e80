/*
 * progress.h - one status line on a terminal for the long commands (import, geocode), redrawn
 * in place ("\r<line>\033[K") four times a second by a thread of its own.
 *
 * DESIGN. The command keeps its figures where the draw function can read them (atomics, or
 * fields it changes between progress_lock() and progress_unlock()); the progress thread calls
 * draw every PROGRESS_TICK_MS under that lock and writes the line to stderr. Log lines erase
 * the status line before they are written (log_set_status_line), and the next tick draws it
 * again below them, so the two never mix. Nothing is drawn unless the command turned it on
 * (progress_wanted: stderr is a terminal, or --progress), so pipes and logs see no control
 * characters.
 */
#ifndef GEOBATCH_PROGRESS_H
#define GEOBATCH_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRESS_TICK_MS 250

/* Write the status line for secs seconds since progress_start into line[cap]. Called on the
 * progress thread with the lock held. */
typedef void progress_draw_fn(void *ctx, double secs, char *line, size_t cap);

struct progress;

/* Whether to show progress: --progress forces it on, --quiet off, else stderr is a terminal. */
bool progress_wanted(bool force_on, bool force_off);

/* Start drawing with draw(ctx) when on; when off (or no thread can be made) return NULL, which
 * every function below accepts and ignores. */
struct progress *progress_start(bool on, progress_draw_fn *draw, void *ctx);

/* Hold off the drawing while the command changes what draw reads. */
void progress_lock(struct progress *p);
void progress_unlock(struct progress *p);

/* Erase the line now (before the command prints a message of its own); the next tick redraws. */
void progress_clear(struct progress *p);

/* Print a message line (printf format, newline added) on stderr in place of the status line,
 * which the next tick draws below it; with p NULL, just print it. */
void progress_message(struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stop the thread, erase the line and free p; return the seconds since start. NULL: 0. */
double progress_stop(struct progress *p);

/* Seconds since start (0 for NULL). */
double progress_seconds(const struct progress *p);

/* How far this process has read the file at path (made absolute with realpath, into real):
 * the offset of a descriptor of ours open on it (Linux /proc/self/fdinfo), for inputs read
 * with read(), not pread() or mmap. Return true and set *pos, or false when none is open or
 * its offset is 0. */
bool progress_file_offset(const char *real, uint64_t *pos);

/* v with thousands separators ("1,234,567") into out[cap]; returns out. */
char *progress_num(char *out, size_t cap, uint64_t v);

/* An ETA for done of total after secs ("0:07", "1:02:03") into out[cap], "" when it cannot be
 * told yet (nothing done, or done >= total); returns out. */
char *progress_eta(char *out, size_t cap, double done, double total, double secs);

#endif
