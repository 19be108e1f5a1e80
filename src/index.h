/*
 * index.h - the geocoding index: one immutable file, built by index_build_*, mapped read-only
 * by index_open() and shared by every thread without locks.
 * docs/index-format.md describes the file byte by byte.
 */
#ifndef GEOBATCH_INDEX_H
#define GEOBATCH_INDEX_H

#define INDEX_FORMAT_VERSION 1

#endif
