/*
 * console_assets.h - the web console's files (console/ in the source tree), built into the
 * binary: CMake runs scripts/embed_assets.cmake, which gzips each file (gzip -9n: no name, no
 * time, so the bytes depend on the content alone) and writes console_assets.c into the build
 * directory with this table. api_console.c serves it at /console.
 *
 * Threads: constant data.
 */
#ifndef GEOBATCH_CONSOLE_ASSETS_H
#define GEOBATCH_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
    const char *name;        /* the file name under console/ ("index.html") */
    const unsigned char *gz; /* its gzip bytes */
    size_t gz_len;           /* bytes of gz */
    size_t len;              /* bytes of the file itself */
};

extern const struct console_asset console_assets[];
extern const size_t console_nassets;

#endif
