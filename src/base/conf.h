/*
 * conf.h - configuration from command-line flags, described by one table per command.
 *
 * Options are "--name=value" or "--name value" ("--flag" alone for booleans), names matched
 * case-insensitively so that HERE parameter spellings (--inDelim, --indelim) all work.
 * Options and positional arguments may come in any order; "--" ends the options.
 */
#ifndef GEOBATCH_CONF_H
#define GEOBATCH_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum conf_type {
    CONF_BOOL,   /* bool *: "--x", "--x=true|false|1|0|yes|no" in any case */
    CONF_LONG,   /* long *: decimal, range checked against min..max */
    CONF_STR,    /* const char **: points into argv */
    CONF_DOUBLE, /* double * */
    CONF_STRS,   /* struct conf_strs *: every value of a repeated option, in order */
};

/* The values of a CONF_STRS option (pointing into argv). */
#define CONF_STRS_MAX 256
struct conf_strs {
    const char *v[CONF_STRS_MAX];
    size_t n;
};

struct conf_opt {
    const char *name; /* without the leading "--" */
    enum conf_type type;
    void *dst;        /* where the value goes, typed as above */
    const char *arg;  /* placeholder shown in the usage ("N", "FILE"); NULL for booleans */
    const char *help; /* one line */
    long min, max;    /* CONF_LONG bounds; both 0 means any non-negative value */
};

/*
 * Called for an option that is not in the table; return 0 when it was taken, or a negative
 * code with a message in err. value is NULL when the option had no "=value".
 */
typedef int (*conf_unknown_fn)(void *ctx, const char *name, const char *value, char *err,
                               size_t errlen);

struct conf_spec {
    const char *usage;           /* "geobatch check INDEX" */
    const char *summary;         /* a paragraph printed under the usage line */
    const struct conf_opt *opts; /* terminated by an entry with name == NULL */
    conf_unknown_fn unknown;     /* NULL: unknown options are usage errors */
    void *ctx;                   /* passed to unknown */
    const char *unknown_help;    /* usage text describing what unknown accepts, or NULL */
};

#define CONF_HELP 1 /* conf_parse() return value when --help was given (usage printed) */

/*
 * Parse argv[1..argc-1]. Positional arguments are stored in pos[0..*npos-1] (at most maxpos).
 * Return 0 on success, CONF_HELP after printing the usage to stdout for -h/--help, or
 * GB_EUSAGE with a one-line message in err.
 */
int conf_parse(const struct conf_spec *spec, int argc, char **argv, char **pos, int maxpos,
               int *npos, char *err, size_t errlen);

/*
 * Apply the settings of a configuration file: one option a line, "key value" or "key=value"
 * (spaces around '=' allowed), the key an option's name without "--" (any case), the value
 * the rest of the line less its surrounding blanks (it may hold spaces and '#'); a line whose
 * first non-blank character is '#' and a blank line are ignored; a boolean key alone is true.
 * Values are set as conf_parse() sets them (a CONF_STRS key may repeat), so command-line
 * options parsed afterwards override the file (and add to a CONF_STRS list). CONF_STR values
 * point into *buf, which the caller frees (free()) after its last use of them; set on success
 * only. The key "config" is refused (no nesting). Files are at most 1 MiB.
 * Return 0, -errno when the file cannot be read, or GB_EUSAGE with "PATH:LINE: message" in
 * err.
 */
int conf_file_apply(const struct conf_spec *spec, const char *path, char **buf, char *err,
                    size_t errlen);

/*
 * The value of option --name in argv[1..argc-1] ("--name=V" or "--name V", name in any case;
 * the last one given; none after "--"), or NULL.
 */
const char *conf_find(int argc, char **argv, const char *name);

/* Print the usage, summary and option table. */
void conf_usage(const struct conf_spec *spec, FILE *fp);

/* Parse a boolean word as HERE clients send it (true/false/1/0/yes/no, any case). */
int conf_parse_bool(const char *s, bool *out);

/* Parse a whole decimal long in [min, max]. Return 0 or GB_EPARAM. */
int conf_parse_long(const char *s, long min, long max, long *out);

#endif
