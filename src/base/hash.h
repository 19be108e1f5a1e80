/*
 * hash.h - FNV-1a, the one string hash of geobatch.
 *
 * The 32-bit form is part of the index file format (its hash tables are keyed by it), so it must
 * never change; the 64-bit form is for in-memory use only.
 */
#ifndef GEOBATCH_HASH_H
#define GEOBATCH_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV32_SEED  2166136261u
#define HASH_FNV32_PRIME 16777619u
#define HASH_FNV64_SEED  0xcbf29ce484222325ULL
#define HASH_FNV64_PRIME 0x100000001b3ULL

/* One byte into a running 32-bit FNV-1a hash h (start from HASH_FNV32_SEED). */
static inline uint32_t hash_fnv1a_byte(uint32_t h, unsigned char c)
{
    return (h ^ c) * HASH_FNV32_PRIME;
}

/* n bytes into a running 32-bit FNV-1a hash h: the hash of what h hashed, then p[n]. */
static inline uint32_t hash_fnv1a_on(uint32_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = hash_fnv1a_byte(h, s[i]);
    return h;
}

/* 32-bit FNV-1a of n bytes. */
static inline uint32_t hash_fnv1a(const void *p, size_t n)
{
    return hash_fnv1a_on(HASH_FNV32_SEED, p, n);
}

/* 64-bit FNV-1a of the NUL-terminated s, continuing from h (HASH_FNV64_SEED to start). */
static inline uint64_t hash_fnv1a64_str(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * HASH_FNV64_PRIME;
    return h;
}

#endif
