/*
 * err.c - messages and names for the error codes of err.h.
 */
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *gb_strerror(int rc)
{
    switch (rc) {
#define GB_ERR_MSG(name, value, msg)                                                               \
    case name:                                                                                     \
        return msg;
        GB_ERR_TABLE(GB_ERR_MSG)
#undef GB_ERR_MSG
    default:
        break;
    }
    if (rc == 0)
        return "success";
    if (rc < 0 && rc > -4096)
        return strerror(-rc);
    return "unknown error";
}

const char *gb_errname(int rc)
{
    switch (rc) {
#define GB_ERR_NAME(name, value, msg)                                                              \
    case name:                                                                                     \
        return #name;
        GB_ERR_TABLE(GB_ERR_NAME)
#undef GB_ERR_NAME
    default:
        break;
    }
    if (rc == 0)
        return "OK";
    if (rc < 0 && rc > -4096) {
        const char *n = strerrorname_np(-rc);
        return n ? n : "EUNKNOWN";
    }
    return "EUNKNOWN";
}

void gb_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
