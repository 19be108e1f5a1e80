/*
 * smap.c - see smap.h.
 */
#include "base/smap.h"
#include "base/fmem.h"
#include "base/hash.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

void smap_init(struct smap *m)
{
    memset(m, 0, sizeof(*m));
}

void smap_init_ext(struct smap *m, const char *const *base, unsigned shift)
{
    smap_init(m);
    m->ext = base;
    m->ext_shift = shift;
}

void smap_use(struct smap *m, struct fmem *fm)
{
    smap_release(m);
    m->fm = fm;
}

/* An array of the map grown to bytes (its new bytes zero in a map of smap_use), or freed. */
static void *arr_grow(const struct smap *m, void *p, size_t bytes)
{
    return m->fm ? fmem_realloc(m->fm, p, bytes) : xrealloc(p, bytes);
}

static void arr_free(const struct smap *m, void *p)
{
    if (m->fm)
        fmem_free(m->fm, p);
    else
        free(p);
}

void smap_release(struct smap *m)
{
    arr_free(m, m->slots);
    arr_free(m, m->e);
    arr_free(m, m->arena);
    const char *const *ext = m->ext;
    unsigned shift = m->ext_shift;
    struct fmem *fm = m->fm;
    smap_init(m);
    m->ext = ext;
    m->ext_shift = shift;
    m->fm = fm;
}

/* The bytes of entry e's key. */
static const char *key_at(const struct smap *m, const struct smap_entry *e)
{
    if (m->ext)
        return *m->ext + ((size_t)e->value << m->ext_shift);
    return m->arena + e->off;
}

static size_t find_slot(const struct smap *m, const char *key, size_t len, int *found)
{
    size_t mask = m->nslots - 1;
    size_t i = hash_fnv1a(key, len) & mask;
    for (;;) {
        uint32_t e = m->slots[i];
        if (e == 0) {
            *found = 0;
            return i;
        }
        const struct smap_entry *en = &m->e[e - 1];
        if (en->len == len && memcmp(key_at(m, en), key, len) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

uint32_t *smap_get(const struct smap *m, const char *key, size_t len)
{
    if (m->n == 0)
        return NULL;
    int found;
    size_t i = find_slot(m, key, len, &found);
    return found ? &m->e[m->slots[i] - 1].value : NULL;
}

static void grow(struct smap *m)
{
    size_t ns = m->nslots ? m->nslots * 2 : 1024;
    arr_free(m, m->slots);
    m->slots =
        m->fm ? fmem_realloc(m->fm, NULL, ns * sizeof(uint32_t)) : xcalloc(ns, sizeof(uint32_t));
    m->nslots = ns;
    for (size_t e = 0; e < m->n; e++) {
        size_t i = hash_fnv1a(key_at(m, &m->e[e]), m->e[e].len) & (ns - 1);
        while (m->slots[i])
            i = (i + 1) & (ns - 1);
        m->slots[i] = (uint32_t)e + 1;
    }
}

uint32_t *smap_put(struct smap *m, const char *key, size_t len, uint32_t value, int *inserted)
{
    if ((m->n + 1) * 2 > m->nslots)
        grow(m);
    int found;
    size_t i = find_slot(m, key, len, &found);
    if (found) {
        *inserted = 0;
        return &m->e[m->slots[i] - 1].value;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 1024;
        m->e = arr_grow(m, m->e, m->cap * sizeof(*m->e));
    }
    struct smap_entry *en = &m->e[m->n];
    en->len = (uint32_t)len;
    en->off = 0;
    en->value = value;
    if (!m->ext) {
        while (m->arena_len + len + 1 > m->arena_cap) {
            m->arena_cap = m->arena_cap ? m->arena_cap * 2 : 65536;
            m->arena = arr_grow(m, m->arena, m->arena_cap);
        }
        memcpy(m->arena + m->arena_len, key, len);
        m->arena[m->arena_len + len] = '\0';
        en->off = (uint32_t)m->arena_len;
        m->arena_len += len + 1;
    }
    m->slots[i] = (uint32_t)m->n + 1;
    m->n++;
    *inserted = 1;
    return &m->e[m->n - 1].value;
}
