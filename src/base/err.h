/*
 * err.h - the one error idiom of geobatch.
 *
 * Functions return int: 0 (or a count) on success, a negative number on failure. A failure is
 * either -errno from the system or one of the GB_E* codes below, which live in their own range
 * so that they never collide with errno values. gb_strerror() gives the message for both kinds.
 */
#ifndef GEOBATCH_ERR_H
#define GEOBATCH_ERR_H

#include <stddef.h>

/* X(name, value, message): the table of project error codes. */
#define GB_ERR_TABLE(X)                                                                            \
    X(GB_ECORRUPT, -10001, "file is corrupt")                                                      \
    X(GB_EVERSION, -10002, "built by another format or normaliser version")                        \
    X(GB_EFORMAT, -10003, "unknown or unsupported format")                                         \
    X(GB_ETOOLONG, -10004, "over its length limit")                                                \
    X(GB_EUTF8, -10005, "invalid UTF-8")                                                           \
    X(GB_EFIELDS, -10006, "wrong number of fields")                                                \
    X(GB_EQUOTE, -10007, "unterminated quote")                                                     \
    X(GB_EUSAGE, -10008, "usage error")                                                            \
    X(GB_ECOLUMN, -10009, "unknown column name")                                                   \
    X(GB_ELIMIT, -10010, "limit exceeded")                                                         \
    X(GB_ENOTFOUND, -10011, "not found")                                                           \
    X(GB_ESTATE, -10012, "not allowed in the current state")                                       \
    X(GB_EPARAM, -10013, "invalid parameter")                                                      \
    X(GB_EAUTH, -10014, "invalid credentials")                                                     \
    X(GB_EEMPTY, -10015, "empty input")                                                            \
    X(GB_EINTERNAL, -10016, "internal error")

enum gb_err {
#define GB_ERR_ENUM(name, value, msg) name = value,
    GB_ERR_TABLE(GB_ERR_ENUM)
#undef GB_ERR_ENUM
};

/* Return the message for rc (a GB_E* code or -errno); never NULL. */
const char *gb_strerror(int rc);

/* Return the symbolic name of rc ("GB_ECORRUPT", "ENOENT"...); never NULL. */
const char *gb_errname(int rc);

/* Write a message for humans into err[errlen] (printf format; cut to fit). Does nothing when
 * err is NULL or errlen 0, so callers pass their caller's buffer on without checking. */
void gb_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
