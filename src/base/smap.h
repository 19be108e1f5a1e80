/*
 * smap.h - a string-to-uint32 hash map for builders (open addressing, keys copied into one
 * growing arena). Not for the read path: the index has its own on-disk tables.
 *
 * A map whose keys the caller already stores (smap_init_ext: a string table that interns)
 * keeps no copy: a key's value is where the caller keeps it, and the map reads the key there.
 */
#ifndef GEOBATCH_SMAP_H
#define GEOBATCH_SMAP_H

#include <stddef.h>
#include <stdint.h>

/* An entry: what a lookup that finds its slot reads, on one line. */
struct smap_entry {
    uint32_t len;   /* of its key */
    uint32_t off;   /* of its key in arena (a map of smap_init_ext: unused) */
    uint32_t value; /* a map of smap_init_ext: also where its key is */
};

struct smap {
    uint32_t *slots; /* entry index + 1, 0 = empty */
    size_t nslots;   /* power of two */
    struct smap_entry *e;
    size_t n, cap;
    char *arena;
    size_t arena_len, arena_cap;
    const char *const *ext; /* smap_init_ext: key e is at *ext + (value[e] << ext_shift) */
    unsigned ext_shift;
    struct fmem *fm; /* smap_use: where its arrays live (NULL: the heap) */
};

void smap_init(struct smap *m);

/* A map of keys the caller stores: the key whose value is v lies, NUL-terminated or not, at
 * (*base) + (v << shift), where *base may move between calls (a growing buffer). Insert with
 * smap_put, the key already stored there and value its reference. */
void smap_init_ext(struct smap *m, const char *const *base, unsigned shift);
/* Keep the map's arrays in fm (base/fmem.h: they may move to temporary files), from now on;
 * the map is empty. */
struct fmem;
void smap_use(struct smap *m, struct fmem *fm);
void smap_release(struct smap *m);

/* Find key; return a pointer to its value or NULL. */
uint32_t *smap_get(const struct smap *m, const char *key, size_t len);

/* Find or insert key (value set to 'value' when inserted; in a map of smap_init_ext, the
 * key must be stored where value says). Return a pointer to the value;
 * *inserted tells which happened. */
uint32_t *smap_put(struct smap *m, const char *key, size_t len, uint32_t value, int *inserted);

#endif
