/*
 * index.c - open an index file read-only, map it, and verify it before anyone reads it.
 *
 * index_open() checks the header, every section's bounds and CRC, and every reference stored
 * in the tables (string offsets, array indexes, ranges). After that the geocoder may follow
 * any reference without checking it again: a truncated or corrupted file is refused here with
 * a message, never a crash later. The mapping is immutable and shared by all threads.
 */
#include "index/index.h"
#include "base/co.h"
#include "base/crc.h"
#include "base/err.h"
#include "base/fmap.h"
#include "base/fsio.h"
#include "base/hash.h"
#include "base/mem.h"
#include "index/index_format.h"
#include "index/index_near.h"
#include "text/norm.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

struct hash_filter;
struct street_towns;
struct key_cache;
static void key_cache_free(struct key_cache *c);
struct key_filters {
    struct hash_filter *street, *place, *pc; /* the key tables'; each NULL when out of memory */
    struct key_cache *street_keys, *place_keys, *pc_keys; /* the tables, keys inline (or NULL) */
    struct hash_filter *city;                             /* the streets' city keys */
    struct hash_filter *town, *town_prefix; /* their city and district keys, first 4 bytes */
    struct hash_filter *place_prefix;       /* the first 4 bytes of the places' keys */
    struct street_towns *street_town;       /* their (key, country, city key) stretches */
};
struct state_keys;
static void state_keys_free(struct state_keys *sk);

struct index {
    void *map;
    size_t size;
    struct index_view v;
    char path[GB_PATH_MAX]; /* for messages */
    bool recached;          /* fmap_open dropped the file's cached pages */
    /* built on first use (or by index_warm()), under cache_lock: towns and areas by grid cell
     * (index_near.h, near()) and the filters of the three key tables (key_filters()); FUZZY's
     * directory holds its own */
    _Atomic(void *) grid;   /* struct near_grids */
    _Atomic(void *) keys;   /* struct key_filters */
    _Atomic(void *) states; /* struct state_keys */
    pthread_mutex_t cache_lock;
};

void index_identity(const struct index *ix, char *out, size_t cap)
{
    const struct ix_header *h = ix->map;
    snprintf(out, cap, "%08x-%llx", h->header_crc, (unsigned long long)h->file_size);
}

const struct index_view *index_view(const struct index *ix)
{
    return &ix->v;
}

static const size_t entry_size[IXS__COUNT] = {
    [IXS_STRINGS] = 1, /* times 2^string_shift */
    [IXS_SOURCES] = sizeof(struct ix_source),
    [IXS_STREETS] = sizeof(struct ix_street),
    [IXS_STREET_HASH] = sizeof(uint32_t),
    [IXS_FUZZY] = sizeof(struct ix_fuzzy),
    [IXS_ADDRS] = sizeof(struct ix_addr),
    [IXS_INTERPS] = sizeof(struct ix_interp),
    [IXS_POINTS] = sizeof(struct ix_point),
    [IXS_PLACES] = sizeof(struct ix_place),
    [IXS_PLACE_HASH] = sizeof(uint32_t),
    [IXS_POSTCODES] = sizeof(struct ix_postcode),
    [IXS_PC_HASH] = sizeof(uint32_t),
    [IXS_ADMINS] = sizeof(struct ix_admin),
    [IXS_CELLS] = sizeof(struct ix_cell),
    [IXS_CELL_ADDRS] = sizeof(uint32_t),
    [IXS_COUNTRIES] = sizeof(struct ix_country),
    [IXS_SCELLS] = sizeof(struct ix_cell),
    [IXS_SCELL_STREETS] = sizeof(uint32_t),
    [IXS_PC_RANGES] = sizeof(struct ix_range),
    [IXS_PC_STREETS] = sizeof(uint32_t),
    [IXS_FUZZY_DIR] = sizeof(struct ix_fuzzy_bucket),
    [IXS_PLACE_INFO] = sizeof(struct ix_place_info),
};

static const char *const section_names[IXS__COUNT] = {
    "strings",         "sources",        "streets",      "street hash",     "fuzzy",
    "addresses",       "interpolations", "points",       "places",          "place hash",
    "postcodes",       "postcode hash",  "admins",       "cells",           "cell addresses",
    "countries",       "street cells",   "cell streets", "postcode ranges", "postcode streets",
    "fuzzy directory", "place info",
};

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        gb_errf(err, errlen, __VA_ARGS__);                                                         \
        return GB_ECORRUPT;                                                                        \
    } while (0)

static int str_ok(const struct index_view *v, uint32_t off)
{
    return ((uint64_t)off << v->str_shift) < v->strings_len;
}

/* Check every reference held by the tables. */
static int check_refs(const struct index_view *v, char *err, size_t errlen)
{
    if (v->strings_len == 0 || v->strings[v->strings_len - 1] != '\0' || v->strings[0] != '\0')
        FAIL("strings section is not NUL-terminated");
    for (size_t i = 0; i < v->n_sources; i++)
        if (!str_ok(v, v->sources[i].name))
            FAIL("source %zu: bad name", i);
    for (size_t i = 0; i < v->n_streets; i++) {
        const struct ix_street *s = &v->streets[i];
        if (!str_ok(v, s->key) || !str_ok(v, s->name) || !str_ok(v, s->city) ||
            !str_ok(v, s->city_key) || !str_ok(v, s->district) || !str_ok(v, s->district_key) ||
            !str_ok(v, s->postcode) || !str_ok(v, s->county) || !str_ok(v, s->state))
            FAIL("street %zu: string out of bounds", i);
        if (s->addr_count &&
            (s->addr_first >= v->n_addrs || s->addr_count > v->n_addrs - s->addr_first))
            FAIL("street %zu: address range out of bounds", i);
        if (s->interp_count &&
            (s->interp_first >= v->n_interps || s->interp_count > v->n_interps - s->interp_first))
            FAIL("street %zu: interpolation range out of bounds", i);
        if (s->geom_count &&
            (s->geom_first >= v->n_points || s->geom_count > v->n_points - s->geom_first))
            FAIL("street %zu: geometry out of bounds", i);
        size_t run = s->flags >> IXS_RUN_SHIFT; /* exactly its run, which it starts */
        if (run && ((i > 0 && v->streets[i - 1].key == s->key) || run > v->n_streets - i ||
                    v->streets[i + run - 1].key != s->key ||
                    (i + run < v->n_streets && v->streets[i + run].key == s->key)))
            FAIL("street %zu: run length %zu is not its run's", i, run);
    }
    for (size_t i = 0; i < v->n_street_hash; i++)
        if (v->street_hash[i] != IX_NONE && v->street_hash[i] >= v->n_streets)
            FAIL("street hash slot %zu out of bounds", i);
    size_t nb = (size_t)1 << v->fuzzy_bits;
    if (v->fuzzy_bits < 1 || v->fuzzy_bits > 31 || v->n_fuzzy_dir != nb + 1)
        FAIL("fuzzy directory of %zu entries is not 2^k + 1", v->n_fuzzy_dir);
    for (size_t b = 0; b <= nb; b++)
        if (v->fuzzy_dir[b].first > v->n_fuzzy || (!b && v->fuzzy_dir[b].first) ||
            (b && v->fuzzy_dir[b].first < v->fuzzy_dir[b - 1].first) ||
            (b == nb && (v->fuzzy_dir[b].first != v->n_fuzzy || v->fuzzy_dir[b].bits)))
            FAIL("fuzzy directory bucket %zu out of bounds", b);
    /* the buckets cover the entries from 0 to the end, each once: every entry in order, in
     * the bucket of its top bits, and each bucket's bits exactly its entries' (a bit missing
     * would hide an entry from a lookup) */
    for (size_t b = 0; b < nb; b++) {
        uint32_t bits = 0;
        for (size_t i = v->fuzzy_dir[b].first; i < v->fuzzy_dir[b + 1].first; i++) {
            const struct ix_fuzzy *f = &v->fuzzy[i];
            if (f->street >= v->n_streets || (i && f->hash < f[-1].hash))
                FAIL("fuzzy entry %zu out of bounds or out of order", i);
            if (ix_fuzzy_bucket_of(f->hash, v->fuzzy_bits) != b)
                FAIL("fuzzy entry %zu not in its directory bucket", i);
            bits |= ix_fuzzy_bit(f->hash, v->fuzzy_bits);
        }
        if (bits != v->fuzzy_dir[b].bits)
            FAIL("fuzzy directory bucket %zu: bits not its entries'", b);
    }
    for (size_t i = 0; i < v->n_postcodes; i++) {
        const struct ix_range *r = &v->pc_ranges[i];
        if (r->count && (r->first >= v->n_pc_streets || r->count > v->n_pc_streets - r->first))
            FAIL("postcode %zu: street range out of bounds", i);
    }
    for (size_t i = 0; i < v->n_pc_streets; i++)
        if (v->pc_streets[i] >= v->n_streets)
            FAIL("postcode street %zu out of bounds", i);
    for (size_t i = 0; i < v->n_addrs; i++) {
        const struct ix_addr *a = &v->addrs[i];
        if (a->street >= v->n_streets || !str_ok(v, a->raw) || !str_ok(v, a->postcode))
            FAIL("address %zu: reference out of bounds", i);
        if ((a->flags & IXA_NO_SOURCE) && a->id != i)
            FAIL("address %zu: without a source id, its id is not its index", i);
        if (a->suffix[2] != '\0' && memchr(a->suffix, '\0', 3) == NULL) {
            /* a full 3-letter suffix is allowed; readers use strnlen */
        }
    }
    for (size_t i = 0; i < v->n_interps; i++) {
        const struct ix_interp *it = &v->interps[i];
        if (it->street >= v->n_streets || !str_ok(v, it->postcode) || it->geom_count < 2 ||
            it->geom_first >= v->n_points || it->geom_count > v->n_points - it->geom_first)
            FAIL("interpolation %zu: reference out of bounds", i);
    }
    for (size_t i = 0; i < v->n_places; i++) {
        const struct ix_place *p = &v->places[i];
        if (!str_ok(v, p->key) || !str_ok(v, p->name) || !str_ok(v, p->city) ||
            !str_ok(v, p->county) || !str_ok(v, p->state))
            FAIL("place %zu: string out of bounds", i);
    }
    if (!v->place_info)
        FAIL("place info: not one entry per place");
    for (size_t i = 0; i < v->n_place_hash; i++)
        if (v->place_hash[i] != IX_NONE && v->place_hash[i] >= v->n_places)
            FAIL("place hash slot %zu out of bounds", i);
    for (size_t i = 0; i < v->n_postcodes; i++) {
        const struct ix_postcode *p = &v->postcodes[i];
        if (!str_ok(v, p->key) || !str_ok(v, p->name) || !str_ok(v, p->city))
            FAIL("postcode %zu: string out of bounds", i);
    }
    for (size_t i = 0; i < v->n_pc_hash; i++)
        if (v->pc_hash[i] != IX_NONE && v->pc_hash[i] >= v->n_postcodes)
            FAIL("postcode hash slot %zu out of bounds", i);
    for (size_t i = 0; i < v->n_admins; i++) {
        const struct ix_admin *a = &v->admins[i];
        if (!str_ok(v, a->name))
            FAIL("admin %zu: string out of bounds", i);
        if (a->geom_count &&
            (a->geom_first >= v->n_points || a->geom_count > v->n_points - a->geom_first))
            FAIL("admin %zu: geometry out of bounds", i);
    }
    for (size_t i = 0; i < v->n_scells; i++) {
        const struct ix_cell *c = &v->scells[i];
        if (c->first >= v->n_scell_streets || c->count > v->n_scell_streets - c->first)
            FAIL("street cell %zu out of bounds", i);
    }
    for (size_t i = 0; i < v->n_scell_streets; i++)
        if (v->scell_streets[i] >= v->n_streets)
            FAIL("cell street %zu out of bounds", i);
    for (size_t i = 0; i < v->n_cells; i++) {
        const struct ix_cell *c = &v->cells[i];
        if (c->first >= v->n_cell_addrs || c->count > v->n_cell_addrs - c->first)
            FAIL("cell %zu out of bounds", i);
    }
    for (size_t i = 0; i < v->n_cell_addrs; i++)
        if (v->cell_addrs[i] >= v->n_addrs)
            FAIL("cell address %zu out of bounds", i);
    /* hash tables must have a power-of-two size with at least one empty slot */
    const size_t hs[3] = {v->n_street_hash, v->n_place_hash, v->n_pc_hash};
    for (int k = 0; k < 3; k++)
        if (hs[k] == 0 || (hs[k] & (hs[k] - 1)) != 0)
            FAIL("hash table size %zu is not a power of two", hs[k]);
    return 0;
}

/* Check the header of a file of size bytes. Return 0, or GB_ECORRUPT / GB_EVERSION with a
 * message in msg. */
static int check_header(const struct ix_header *h, size_t size, char *msg, size_t msglen)
{
    if (memcmp(h->magic, IX_MAGIC, 8) != 0) {
        gb_errf(msg, msglen, "not a geobatch index (bad magic)");
        return GB_ECORRUPT;
    }
    if (h->endian == __builtin_bswap32(IX_ENDIAN_MARK)) {
        gb_errf(msg, msglen, "built on a machine of another byte order");
        return GB_EVERSION;
    }
    if (h->endian != IX_ENDIAN_MARK) {
        gb_errf(msg, msglen, "corrupt header (byte-order mark)");
        return GB_ECORRUPT;
    }
    if (h->format_version < INDEX_FORMAT_VERSION) {
        gb_errf(msg, msglen,
                "index format %u, this geobatch reads format %d: import the data again "
                "(geobatch import)",
                h->format_version, INDEX_FORMAT_VERSION);
        return GB_EVERSION;
    }
    if (h->format_version != INDEX_FORMAT_VERSION) {
        gb_errf(msg, msglen,
                "index format %u, this geobatch reads format %d: a newer geobatch "
                "built it",
                h->format_version, INDEX_FORMAT_VERSION);
        return GB_EVERSION;
    }
    if (h->norm_version != NORM_VERSION) {
        gb_errf(msg, msglen,
                "built by normaliser %u, this geobatch has normaliser %d: "
                "import again",
                h->norm_version, NORM_VERSION);
        return GB_EVERSION;
    }
    if (h->n_sections != IXS__COUNT || h->file_size != size) {
        gb_errf(msg, msglen, "truncated or extended: header says %llu bytes, file has %zu",
                (unsigned long long)h->file_size, size);
        return GB_ECORRUPT;
    }
    struct ix_header copy = *h;
    copy.header_crc = 0;
    if (crc_update(0, &copy, sizeof(copy)) != h->header_crc) {
        gb_errf(msg, msglen, "header checksum mismatch");
        return GB_ECORRUPT;
    }
    if (h->string_shift > IX_MAX_STRING_SHIFT) {
        gb_errf(msg, msglen, "string unit 2^%u bytes is not 1, 2, 4 or 8", h->string_shift);
        return GB_ECORRUPT;
    }
    return 0;
}

/* Check every section's bounds and CRC; its start into base[] and entry count into count[].
 * Return 0, or GB_ECORRUPT with a message naming the section in msg. */
/* The CRC-32 of section i of the mapped file against its table entry. Return 0 or GB_ECORRUPT
 * with a message. */
static int check_crc(const struct ix_header *h, const void *map, int i, char *msg, size_t msglen)
{
    const struct ix_section *s = &h->sect[i];
    if (crc_update(0, (const unsigned char *)map + s->off, s->len) != s->crc) {
        gb_errf(msg, msglen, "section '%s' checksum mismatch", section_names[i]);
        return GB_ECORRUPT;
    }
    return 0;
}

static int check_sections(const struct ix_header *h, const void *map, size_t size, bool crcs,
                          const void *base[IXS__COUNT], size_t count[IXS__COUNT], char *msg,
                          size_t msglen)
{
    for (int i = 0; i < IXS__COUNT; i++) {
        const struct ix_section *s = &h->sect[i];
        /* STRINGS counts units of 2^string_shift bytes (checked by check_header) */
        size_t esize = i == IXS_STRINGS ? (size_t)1 << h->string_shift : entry_size[i];
        if (s->off < sizeof(*h) || s->off % 8 != 0 || s->off > size || s->len > size - s->off ||
            s->len % esize != 0 || s->len / esize != s->count) {
            gb_errf(msg, msglen, "section '%s' out of bounds", section_names[i]);
            return GB_ECORRUPT;
        }
        if (crcs && check_crc(h, map, i, msg, msglen) < 0)
            return GB_ECORRUPT;
        base[i] = (const unsigned char *)map + s->off;
        count[i] = i == IXS_STRINGS ? (size_t)s->len : s->count;
    }
    return 0;
}

/* The view's pointers and counts from the checked sections. */
static void fill_view(struct index_view *v, const struct ix_header *h,
                      const void *const base[IXS__COUNT], const size_t count[IXS__COUNT])
{
    v->hdr = h;
    v->str_shift = h->string_shift;
    v->strings = base[IXS_STRINGS];
    v->strings_len = count[IXS_STRINGS]; /* bytes */
    v->sources = base[IXS_SOURCES];
    v->n_sources = count[IXS_SOURCES];
    v->streets = base[IXS_STREETS];
    v->n_streets = count[IXS_STREETS];
    v->street_hash = base[IXS_STREET_HASH];
    v->n_street_hash = count[IXS_STREET_HASH];
    v->fuzzy = base[IXS_FUZZY];
    v->n_fuzzy = count[IXS_FUZZY];
    v->addrs = base[IXS_ADDRS];
    v->n_addrs = count[IXS_ADDRS];
    v->interps = base[IXS_INTERPS];
    v->n_interps = count[IXS_INTERPS];
    v->points = base[IXS_POINTS];
    v->n_points = count[IXS_POINTS];
    v->places = base[IXS_PLACES];
    v->n_places = count[IXS_PLACES];
    v->place_hash = base[IXS_PLACE_HASH];
    v->n_place_hash = count[IXS_PLACE_HASH];
    v->postcodes = base[IXS_POSTCODES];
    v->n_postcodes = count[IXS_POSTCODES];
    v->pc_hash = base[IXS_PC_HASH];
    v->n_pc_hash = count[IXS_PC_HASH];
    v->admins = base[IXS_ADMINS];
    v->n_admins = count[IXS_ADMINS];
    v->cells = base[IXS_CELLS];
    v->n_cells = count[IXS_CELLS];
    v->cell_addrs = base[IXS_CELL_ADDRS];
    v->n_cell_addrs = count[IXS_CELL_ADDRS];
    v->countries = base[IXS_COUNTRIES];
    v->n_countries = count[IXS_COUNTRIES];
    v->scells = base[IXS_SCELLS];
    v->n_scells = count[IXS_SCELLS];
    v->scell_streets = base[IXS_SCELL_STREETS];
    v->n_scell_streets = count[IXS_SCELL_STREETS];
    v->pc_ranges = base[IXS_PC_RANGES];
    v->pc_streets = base[IXS_PC_STREETS];
    v->n_pc_streets = count[IXS_PC_STREETS];
    v->place_info = count[IXS_PLACE_INFO] == count[IXS_PLACES] ? base[IXS_PLACE_INFO] : NULL;
    v->fuzzy_dir = base[IXS_FUZZY_DIR];
    v->n_fuzzy_dir = count[IXS_FUZZY_DIR];
    v->fuzzy_bits = 0;
    while (v->fuzzy_bits < 32 && ((size_t)1 << v->fuzzy_bits) + 1 < v->n_fuzzy_dir)
        v->fuzzy_bits++;
}

/* index_open() and index_open_lazy(): with or without the sections' checksums. */
static int open_index(struct index **out, const char *path, bool crcs, char *err, size_t errlen)
{
    int rc = 0;
    struct index *ix = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        gb_errf(err, errlen, "cannot open index %s: %s", path, gb_strerror(rc));
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        gb_errf(err, errlen, "cannot stat index %s: %s", path, gb_strerror(rc));
        goto out;
    }
    if ((size_t)st.st_size < sizeof(struct ix_header)) {
        gb_errf(err, errlen, "%s: not a geobatch index (too short: %lld bytes)", path,
                (long long)st.st_size);
        rc = GB_ECORRUPT;
        goto out;
    }
    ix = xcalloc(1, sizeof(*ix));
    pthread_mutex_init(&ix->cache_lock, NULL);
    ix->size = (size_t)st.st_size;
    /* in 2 MiB pages where the kernel gives them: a query's reads are scattered over the whole
     * file, and at country size each would also miss the TLB (docs/scale.md, "The index in
     * 2 MiB pages"); a large index cached in 4 KiB pieces is read again (base/fmap.h) */
    ix->map = fmap_open(fd, ix->size, INDEX_RECACHE_MIN, &ix->recached);
    if (ix->map == MAP_FAILED) {
        rc = -errno;
        ix->map = NULL;
        gb_errf(err, errlen, "cannot map index %s: %s", path, gb_strerror(rc));
        goto out;
    }
    const struct ix_header *h = ix->map;
    const void *base[IXS__COUNT];
    size_t count[IXS__COUNT];
    char msg[200] = "";
    rc = check_header(h, ix->size, msg, sizeof(msg));
    if (rc == 0)
        rc = check_sections(h, ix->map, ix->size, crcs, base, count, msg, sizeof(msg));
    if (rc == 0) {
        fill_view(&ix->v, h, base, count);
        rc = check_refs(&ix->v, msg, sizeof(msg));
    }
    if (rc < 0) {
        gb_errf(err, errlen, "%s: %s", path, msg);
        goto out;
    }
    snprintf(ix->path, sizeof(ix->path), "%s", path);
    *out = ix;
    ix = NULL;
out:
    close(fd);
    index_close(ix);
    return rc;
}

int index_open(struct index **out, const char *path, char *err, size_t errlen)
{
    return open_index(out, path, true, err, errlen);
}

int index_open_lazy(struct index **out, const char *path, char *err, size_t errlen)
{
    return open_index(out, path, false, err, errlen);
}

int index_verify_checksums(const struct index *ix, char *err, size_t errlen)
{
    char msg[200] = "";
    for (int i = 0; i < IXS__COUNT; i++)
        if (check_crc(ix->v.hdr, ix->map, i, msg, sizeof(msg)) < 0) {
            gb_errf(err, errlen, "%s: %s", ix->path, msg);
            return GB_ECORRUPT;
        }
    return 0;
}

int index_pages(const struct index *ix, size_t *resident, size_t *huge)
{
    return fmap_pages(ix->map, resident, huge);
}

bool index_recached(const struct index *ix)
{
    return ix->recached;
}

uint64_t index_size(const struct index *ix)
{
    return ix->size;
}

void index_close(struct index *ix)
{
    if (!ix)
        return;
    if (ix->map)
        munmap(ix->map, ix->size);
    near_grids_free(atomic_load(&ix->grid));
    struct key_filters *kf = atomic_load(&ix->keys);
    if (kf) {
        free(kf->street);
        key_cache_free(kf->street_keys);
        key_cache_free(kf->place_keys);
        key_cache_free(kf->pc_keys);
        free(kf->place);
        free(kf->pc);
        free(kf->city);
        free(kf->town);
        free(kf->town_prefix);
        free(kf->place_prefix);
        free(kf->street_town);
        free(kf);
    }
    state_keys_free(atomic_load(&ix->states));
    pthread_mutex_destroy(&ix->cache_lock);
    free(ix);
}

void index_counts(const struct index *ix, struct index_counts *out)
{
    const struct ix_header *h = ix->v.hdr;
    out->addresses = h->counts[0];
    out->streets = h->counts[1];
    out->interps = h->counts[2];
    out->places = h->counts[3];
    out->postcodes = h->counts[4];
    out->admins = h->counts[5];
}

/* The cache in *slot of ix, built by build() for the first caller that finds it empty (NULL
 * when that ran out of memory: callers then do without it, and the next one tries again). The
 * caches are the process's own; the mapping stays read-only. */
static void *cached(struct index *ix, _Atomic(void *) *slot,
                    void *(*build)(const struct index_view *v))
{
    void *c = atomic_load(slot);
    if (!c) {
        pthread_mutex_lock(&ix->cache_lock);
        c = atomic_load(slot);
        if (!c) {
            c = build(&ix->v);
            atomic_store(slot, c);
        }
        pthread_mutex_unlock(&ix->cache_lock);
    }
    return c;
}

/*
 * A bitmap of hashes, one bit a hash at about 8 bits an element: a lookup whose hash has its
 * bit clear has no element to find and reads nothing else, and the bit of every hash added is
 * set, so a lookup never misses an element because of the filter. Built from the mapping on
 * first use, like the grids (a per-process cache of what the file holds), in front of the
 * street, place and postcode hash tables (a free-form query looks up about 8 word spans as
 * street names and 5 as places, most of which are none; each probe of a table is a read of its
 * slot, and when the slot holds another key, of that entry and its key string: cache misses at
 * country size): 1.3 MB for the three tables at 18.5 M addresses. (FUZZY's directory holds
 * the bits of its buckets' hashes in the file, ix_fuzzy_bucket.)
 */
#define FILTER_MIN_BITS 10
#define FILTER_MAX_BITS 30 /* 128 MiB */

struct hash_filter {
    unsigned bits;
    uint64_t word[];
};

static size_t filter_bit(const struct hash_filter *f, uint32_t hash)
{
    /* the hash's top bits (FNV-1a's best mixed; a key table's slot is its low bits) */
    return hash >> (32 - f->bits);
}

/* The word of f that holds hash's bit. */
static const uint64_t *filter_word(const struct hash_filter *f, uint32_t hash)
{
    return &f->word[filter_bit(f, hash) >> 6];
}

/* In interleaved geocoding (base/co.h): ask for the words of the n hashes, and step aside
 * while they arrive. */
static void filter_ask(const struct hash_filter *f, const uint32_t *hash, size_t n)
{
    if (!co_running || !f || n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        __builtin_prefetch(filter_word(f, hash[i]));
    co_pass();
}

/* Whether hash may have been added to f (always, for no filter). */
static bool filter_has(const struct hash_filter *f, uint32_t hash)
{
    if (!f)
        return true;
    return *filter_word(f, hash) >> (filter_bit(f, hash) & 63) & 1;
}

static void filter_add(struct hash_filter *f, uint32_t hash)
{
    size_t b = filter_bit(f, hash);
    f->word[b >> 6] |= (uint64_t)1 << (b & 63);
}

/* An empty filter for n hashes, or NULL when out of memory (then every hash is looked up). */
static struct hash_filter *filter_new(size_t n)
{
    unsigned bits = FILTER_MIN_BITS;
    while (bits < FILTER_MAX_BITS && ((size_t)1 << bits) < 8 * n)
        bits++;
    /* probed at random: in 2 MiB pages where it is large (mem_table_calloc) */
    struct hash_filter *f = mem_table_calloc(sizeof(*f) + ((size_t)1 << bits) / 8);
    if (f)
        f->bits = bits;
    return f;
}

/* One key table as hash_probe() reads it: key_field is the offset of the key string in one
 * entry of arr. */
struct key_table {
    const uint32_t *slot;
    size_t nslots;
    const void *arr;
    size_t stride, key_field;
};

static uint32_t key_off(const struct key_table *t, uint32_t e)
{
    return *(const uint32_t *)((const char *)t->arr + (size_t)e * t->stride + t->key_field);
}

static struct key_table street_table(const struct index_view *v)
{
    return (struct key_table){v->street_hash, v->n_street_hash, v->streets,
                              sizeof(struct ix_street), offsetof(struct ix_street, key)};
}

static struct key_table place_table(const struct index_view *v)
{
    return (struct key_table){v->place_hash, v->n_place_hash, v->places, sizeof(struct ix_place),
                              offsetof(struct ix_place, key)};
}

static struct key_table pc_table(const struct index_view *v)
{
    return (struct key_table){v->pc_hash, v->n_pc_hash, v->postcodes, sizeof(struct ix_postcode),
                              offsetof(struct ix_postcode, key)};
}

/*
 * A key table with its keys inline: a slot of 32 bytes holds an entry (the first of its key's
 * run), the key's length and its first KEY_INLINE bytes, so that a probe reads one line where
 * the file's table reads three (its slot, the entry, the key string). Only a key longer than
 * KEY_INLINE reads its string, for the rest. Linear probing in a power of two of slots, at
 * most half of them used. Built for a table of key_cache_min slots or more (a smaller one,
 * its entries and keys mostly stay in the caches: the file's table is read there), up to
 * KEY_CACHE_MAX bytes of slots, and where memory allows.
 */
#define KEY_INLINE    27
#define KEY_CACHE_MAX ((size_t)1 << 30)
static _Atomic size_t key_cache_min = (size_t)1 << 18;

void index_key_cache_min(size_t slots)
{
    atomic_store(&key_cache_min, slots);
}

struct key_slot {
    uint32_t e1; /* entry + 1; 0: a free slot */
    uint8_t len; /* the key's length, 255 for 255 and more */
    char key[KEY_INLINE];
};
static_assert(sizeof(struct key_slot) == 32, "key_slot: two a cache line");
struct key_cache {
    size_t mask;
    struct key_slot *slot; /* at a multiple of 32 bytes in mem: no slot straddles two lines */
    void *mem;
};

static void key_cache_free(struct key_cache *c)
{
    if (c)
        free(c->mem);
    free(c);
}

static struct key_cache *key_cache_new(size_t keys)
{
    size_t n = 16;
    while (n < 2 * keys)
        n *= 2;
    if (n > KEY_CACHE_MAX / sizeof(struct key_slot))
        return NULL;
    struct key_cache *c = calloc(1, sizeof(*c));
    if (c && (c->mem = mem_table_calloc(sizeof(struct key_slot) * (n + 1)))) {
        c->slot = (struct key_slot *)(((uintptr_t)c->mem + 31) & ~(uintptr_t)31);
        c->mask = n - 1;
        return c;
    }
    free(c);
    return NULL;
}

static void key_cache_put(struct key_cache *c, uint32_t hash, uint32_t e, const char *k, size_t len)
{
    size_t i = hash & c->mask;
    while (c->slot[i].e1)
        i = (i + 1) & c->mask;
    struct key_slot *s = &c->slot[i];
    s->e1 = e + 1;
    s->len = (uint8_t)(len < 255 ? len : 255);
    memcpy(s->key, k, len < KEY_INLINE ? len : KEY_INLINE);
}

/* The filter of the keys table t holds, n entries in arr (every entry's key is in the table,
 * the first entry of each key in a slot: entries were checked at open), NULL when out of
 * memory; and, with keys, the table with its keys inline (*keys NULL when it is not built: see
 * struct key_cache). The entries are read in order, each key once where entries of one key are
 * together (they are in the three tables): the key strings, laid out in the order of the
 * entries that name them, are then read in the order they are stored, not in the table's
 * (random) order. */
static struct hash_filter *table_filter(const struct index_view *v, const struct key_table *t,
                                        size_t n, struct key_cache **keys)
{
    struct hash_filter *f = filter_new(t->nslots / 2); /* slots: at least twice the keys */
    struct key_cache *c =
        keys && t->nslots >= atomic_load(&key_cache_min) ? key_cache_new(t->nslots / 2) : NULL;
    uint32_t last = 0;
    for (size_t e = 0; (f || c) && e < n; e++) {
        uint32_t off = key_off(t, (uint32_t)e);
        if (e > 0 && off == last)
            continue;
        const char *k = ix_str(v, off);
        size_t len = strlen(k);
        uint32_t hash = ix_key_hash(k, len);
        if (f)
            filter_add(f, hash);
        if (c)
            key_cache_put(c, hash, (uint32_t)e, k, len);
        last = off;
    }
    if (keys)
        *keys = c;
    return f;
}

/* A set of distinct values, none 0: open addressing in cap slots (a power of two, doubled
 * when half full; 0 marks a free one), n of them used. */
struct value_set {
    uint64_t *slot;
    size_t cap, n;
};

/* Put v (not 0) into the cap slots; return whether it is new there. */
static bool value_put(uint64_t *slot, size_t cap, uint64_t v)
{
    size_t h = (size_t)((v * 0x9E3779B97F4A7C15u) >> 32) & (cap - 1);
    while (slot[h] && slot[h] != v)
        h = (h + 1) & (cap - 1);
    bool fresh = !slot[h];
    slot[h] = v;
    return fresh;
}

/* Add v (not 0) to s; false when memory ran out (then s holds nothing: slot NULL). */
static bool value_add(struct value_set *s, uint64_t v)
{
    if (!s->slot || 2 * (s->n + 1) > s->cap) {
        size_t cap = s->slot ? 2 * s->cap : 1024;
        uint64_t *big = calloc(cap, sizeof(*big));
        for (size_t i = 0; big && s->slot && i < s->cap; i++)
            if (s->slot[i])
                value_put(big, cap, s->slot[i]);
        free(s->slot);
        s->slot = big;
        s->cap = cap;
        if (!big)
            return false;
    }
    s->n += value_put(s->slot, s->cap, v);
    return true;
}

/* The distinct string offsets of the streets' city keys into *city (when not NULL) and of
 * their city and district keys into *town, in one pass over the streets; both slot NULL when
 * memory ran out (a partial set would make a filter that misses keys). */
static void town_key_sets(const struct index_view *v, struct value_set *city,
                          struct value_set *town)
{
    *town = (struct value_set){NULL, 0, 0};
    if (city)
        *city = *town;
    uint32_t last[2] = {0, 0};
    for (size_t e = 0; e < v->n_streets; e++)
        for (int f = 0; f < 2; f++) {
            uint32_t off = f ? v->streets[e].district_key : v->streets[e].city_key;
            if (off == 0 || off == last[f])
                continue;
            last[f] = off;
            if (!value_add(town, off) || (!f && city && !value_add(city, off))) {
                free(town->slot);
                town->slot = NULL;
                if (city) {
                    free(city->slot);
                    city->slot = NULL;
                }
                return;
            }
        }
}

bool index_each_town_key(const struct index *ix, void (*fn)(const char *key, void *arg), void *arg)
{
    struct value_set set;
    town_key_sets(&ix->v, NULL, &set);
    for (size_t i = 0; set.slot && i < set.cap; i++)
        if (set.slot[i])
            fn(ix_str(&ix->v, (uint32_t)set.slot[i]), arg);
    free(set.slot);
    return set.slot != NULL;
}

/* The filter of the streets' city keys, from their distinct keys (town_key_sets). A town's
 * streets are many, its key one string: the keys are counted first, so that the filter has
 * its 8 bits a key, not a street (39,423 towns' keys among 1.3 M streets at 18.5 M addresses:
 * 64 KB). */
static struct hash_filter *city_filter(const struct index_view *v, const struct value_set *set)
{
    struct hash_filter *f = set->slot ? filter_new(set->n) : NULL;
    for (size_t i = 0; f && i < set->cap; i++)
        if (set->slot[i]) {
            const char *k = ix_str(v, (uint32_t)set->slot[i]);
            filter_add(f, ix_key_hash(k, strlen(k)));
        }
    return f;
}

/* The filters of the streets' city and district keys (*town) and of those keys' first four
 * bytes (*prefix, keys of four bytes or more), from their distinct keys (town_key_sets): each
 * NULL when memory ran out. 64 bits a key or more (one key in 64 or fewer passes that is not
 * there; 512 KB each at 18.5 M addresses), as a query's hypotheses ask each several times
 * (gc_hyp_bound). */
static void town_filters(const struct index_view *v, const struct value_set *set,
                         struct hash_filter **town, struct hash_filter **prefix)
{
    *town = set->slot ? filter_new(8 * set->n) : NULL;
    *prefix = set->slot ? filter_new(8 * set->n) : NULL;
    for (size_t i = 0; set->slot && i < set->cap; i++)
        if (set->slot[i]) {
            const char *k = ix_str(v, (uint32_t)set->slot[i]);
            size_t len = strlen(k);
            if (*town)
                filter_add(*town, ix_key_hash(k, len));
            if (*prefix && len >= 4)
                filter_add(*prefix, ix_key_hash(k, 4));
        }
}

/*
 * The keys of the streets' states as the scorer reads them (run_is_state: norm_key of the
 * state in the languages of the query's country): a filter of the hashes of each country's
 * code and its streets' states' keys, made with that country's lists. A state of a street of
 * unknown country could be read in any country's: then every key may be one (unknown).
 * Built on first use once the normaliser's lists are loaded (until then every key may be one).
 */
struct state_keys {
    bool unknown;
    struct hash_filter *f;
};

static void state_keys_free(struct state_keys *sk)
{
    if (sk) {
        free(sk->f);
        free(sk);
    }
}

/* The hash of country cc (two bytes) and key (len bytes). */
static uint32_t state_key_hash(const char cc[2], const char *key, size_t len)
{
    uint32_t h = HASH_FNV32_SEED;
    for (int i = 0; i < 2; i++) /* upper case: "li" is "LI" */
        h = hash_fnv1a_byte(h, (unsigned char)(cc[i] >= 'a' && cc[i] <= 'z' ? cc[i] - 32 : cc[i]));
    return hash_fnv1a_on(h, key, len);
}

static void *state_keys_build(const struct index_view *v)
{
    if (!norm_ready())
        return NULL; /* keys made without the lists would not be the scorer's: later */
    struct value_set set = {NULL, 0, 0}; /* state offset << 16 | country */
    uint64_t last = 0;
    for (size_t e = 0; e < v->n_streets; e++) {
        const struct ix_street *s = &v->streets[e];
        uint64_t pair = (uint64_t)s->state << 16 | (uint64_t)(uint8_t)s->country[0] << 8 |
                        (uint8_t)s->country[1];
        if (s->state == 0 || pair == last)
            continue;
        last = pair;
        if (!value_add(&set, pair))
            return NULL;
    }
    struct state_keys *sk = calloc(1, sizeof(*sk));
    if (sk)
        sk->f = filter_new(8 * set.n); /* few: 64 bits a key */
    for (size_t i = 0; sk && sk->f && i < set.cap; i++) {
        if (!set.slot[i])
            continue;
        char cc[3] = {(char)(set.slot[i] >> 8 & 0xff), (char)(set.slot[i] & 0xff), '\0'};
        const char *st = ix_str(v, (uint32_t)(set.slot[i] >> 16));
        char key[NORM_MAX];
        int k = cc[0] ? norm_key(st, strlen(st), cc, key, sizeof(key)) : 0;
        if (!cc[0])
            sk->unknown = true;
        else if (k > 0)
            filter_add(sk->f, state_key_hash(cc, key, (size_t)k));
    }
    free(set.slot);
    return sk;
}

/* The hash of a street name in a town, from the two keys' ix_key_hash(): mixed, so that its
 * top bits (filter_bit) depend on both. */
static uint32_t street_town_hash(uint32_t key_hash, uint32_t town_hash)
{
    uint32_t h = key_hash ^ (town_hash * 0x9E3779B1u);
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

/*
 * The streets' (key, country, city key) stretches by the hash of their (key, city key) pair
 * (street_town_hash): a slot is the pair's hash (high 32 bits) and the stretch's first street
 * plus one (low 32 bits; 0 is empty), in open addressing with linear probing, at most 5/8 full.
 * A pair the index does not have is one slot's line (two when its probe runs past it), as a
 * filter's bit would be; one it has is that line, the street and its city key string, where a
 * binary search of the name's run read two lines a step. 16 MB at 18.5 M addresses (1.29 M
 * streets). A run's streets are in (country, city key) order: a stretch starts where the key,
 * the country or the city key changes. A town's key is one interned string that many streets
 * name: its hash is remembered by offset (a town is hashed about once, not once a street).
 */
struct street_towns {
    unsigned bits;
    uint64_t slot[];
};

/* Put entry (hash << 32 | street + 1) into the first free slot from its hash's. */
static void street_towns_put(struct street_towns *t, uint64_t entry)
{
    size_t mask = ((size_t)1 << t->bits) - 1, i = (entry >> 32) & mask;
    while (t->slot[i])
        i = (i + 1) & mask;
    t->slot[i] = entry;
}

static struct street_towns *street_towns_build(const struct index_view *v)
{
    enum { MEMO_BITS = 18, AHEAD = 16 };
    uint64_t ahead[AHEAD];
    size_t n_ahead = 0, pos = 0;
    unsigned bits = 4;
    while (bits < 32 && ((size_t)5 << bits) / 8 < v->n_streets)
        bits++;
    struct street_towns *t = mem_table_calloc(sizeof(*t) + (sizeof(uint64_t) << bits));
    struct {
        uint32_t off, hash;
    } *memo = calloc((size_t)1 << MEMO_BITS, sizeof(*memo));
    if (!t || !memo || v->n_streets >= UINT32_MAX) { /* none: add_city scans the run */
        free(t);
        free(memo);
        return NULL;
    }
    t->bits = bits;
    size_t mask = ((size_t)1 << bits) - 1;
    uint32_t key = 0, city = 0, key_hash = 0;
    for (size_t e = 0; e < v->n_streets; e++) {
        const struct ix_street *s = &v->streets[e];
        if (s->key != key || e == 0) {
            const char *k = ix_str(v, s->key);
            key = s->key;
            key_hash = ix_key_hash(k, strlen(k));
            city = 0;
        }
        if (s->city_key == 0 ||
            (s->city_key == city && memcmp(s->country, v->streets[e - 1].country, 2) == 0))
            continue;
        city = s->city_key;
        size_t m = (city * 2654435761u) >> (32 - MEMO_BITS);
        if (memo[m].off != city) {
            const char *c = ix_str(v, city);
            memo[m].off = city;
            memo[m].hash = ix_key_hash(c, strlen(c));
        }
        /* each slot is a miss: asked for AHEAD stretches before it is filled */
        uint32_t h = street_town_hash(key_hash, memo[m].hash);
        __builtin_prefetch(&t->slot[h & mask], 1);
        if (n_ahead == AHEAD) /* the oldest, whose slot's line has come */
            street_towns_put(t, ahead[pos % AHEAD]);
        else
            n_ahead++;
        ahead[pos++ % AHEAD] = (uint64_t)h << 32 | (uint64_t)(e + 1);
    }
    for (size_t k = 0; k < n_ahead; k++) /* the last ones, in the order they came */
        street_towns_put(t, ahead[(pos - n_ahead + k) % AHEAD]);
    free(memo);
    return t;
}

/* The filter of the first four bytes of the places' keys (keys of four bytes or more), or
 * NULL when out of memory. A key's places are one stretch: each key is added once. */
static struct hash_filter *place_prefix_filter(const struct index_view *v)
{
    struct hash_filter *f = filter_new(v->n_places);
    uint32_t last = 0;
    for (size_t p = 0; f && p < v->n_places; p++) {
        uint32_t off = v->places[p].key;
        const char *k = ix_str(v, off);
        if (off == last || strnlen(k, 4) < 4)
            continue;
        last = off;
        filter_add(f, ix_key_hash(k, 4));
    }
    return f;
}

static void *key_filters_build(const struct index_view *v)
{
    struct key_filters *kf = calloc(1, sizeof(*kf));
    if (!kf)
        return NULL;
    struct key_table st = street_table(v), pl = place_table(v), pc = pc_table(v);
    kf->street = table_filter(v, &st, v->n_streets, &kf->street_keys);
    kf->place = table_filter(v, &pl, v->n_places, &kf->place_keys);
    kf->pc = table_filter(v, &pc, v->n_postcodes, &kf->pc_keys);
    struct value_set city, town;
    town_key_sets(v, &city, &town);
    kf->city = city_filter(v, &city);
    town_filters(v, &town, &kf->town, &kf->town_prefix);
    kf->place_prefix = place_prefix_filter(v);
    free(city.slot);
    free(town.slot);
    kf->street_town = street_towns_build(v);
    return kf;
}

/* The filters of ix's key tables; none (every key looked up) where memory ran out. */
static const struct key_filters *key_filters(const struct index *ix)
{
    static const struct key_filters none;
    struct index *mix = (struct index *)ix; /* a cache; the mapping stays read-only */
    const struct key_filters *kf = cached(mix, &mix->keys, key_filters_build);
    return kf ? kf : &none;
}

void index_warm(const struct index *ix)
{
    (void)key_filters(ix);
    (void)index_state_key_maybe(ix, "ZZ", "", 0); /* the state keys */
}

/* ---- lookups ---- */

/* Linear probing from the key's slot until the key or an empty slot: the scheme the builder
 * wrote the table with. hash is ix_key_hash(key, len); f the table's filter (or NULL). With
 * aside, each read that is likely a cache miss is a co_wait() (not when the caller has asked
 * for those lines already). */
static uint32_t hash_probe(const struct index_view *v, const struct key_table *t,
                           const struct hash_filter *f, uint32_t hash, const char *key, size_t len,
                           bool aside)
{
    if (aside && f)
        co_wait(filter_word(f, hash));
    if (!filter_has(f, hash))
        return IX_NONE;
    size_t mask = t->nslots - 1; /* a power of two, checked at open */
    size_t h = hash & mask;
    for (size_t probes = 0; probes < t->nslots; probes++) {
        if (aside)
            co_wait(&t->slot[h]);
        uint32_t e = t->slot[h];
        if (e == IX_NONE)
            return IX_NONE;
        if (aside)
            co_wait((const char *)t->arr + (size_t)e * t->stride + t->key_field);
        const char *k = ix_str(v, key_off(t, e));
        if (aside)
            co_wait(k);
        if (strncmp(k, key, len) == 0 && k[len] == '\0')
            return e;
        h = (h + 1) & mask;
    }
    return IX_NONE;
}

/* hash_probe() in c, the table t with its keys inline. */
static uint32_t cache_probe(const struct index_view *v, const struct key_table *t,
                            const struct key_cache *c, uint32_t hash, const char *key, size_t len,
                            bool aside)
{
    size_t inline_len = len < KEY_INLINE ? len : KEY_INLINE;
    for (size_t i = hash & c->mask;; i = (i + 1) & c->mask) {
        const struct key_slot *s = &c->slot[i];
        if (aside)
            co_wait(s);
        if (!s->e1)
            return IX_NONE;
        if (s->len != (len < 255 ? len : 255) || memcmp(s->key, key, inline_len) != 0)
            continue;
        if (len <= KEY_INLINE)
            return s->e1 - 1;
        const char *k = ix_str(v, key_off(t, s->e1 - 1)); /* the rest of a long key */
        if (aside)
            co_wait(k + KEY_INLINE);
        if (strncmp(k + KEY_INLINE, key + KEY_INLINE, len - KEY_INLINE) == 0 && k[len] == '\0')
            return s->e1 - 1;
    }
}

/* The entry of key in table t (its filter f): through its keys inline (c) where they are
 * built, else through the file's table. */
static uint32_t key_find(const struct index_view *v, const struct key_table *t,
                         const struct hash_filter *f, const struct key_cache *c, const char *key,
                         size_t len)
{
    uint32_t hash = ix_key_hash(key, len);
    if (!c)
        return hash_probe(v, t, f, hash, key, len, true);
    if (f)
        co_wait(filter_word(f, hash));
    return filter_has(f, hash) ? cache_probe(v, t, c, hash, key, len, true) : IX_NONE;
}

uint32_t index_street_first(const struct index *ix, const char *key, size_t len)
{
    struct key_table t = street_table(&ix->v);
    const struct key_filters *kf = key_filters(ix);
    return key_find(&ix->v, &t, kf->street, kf->street_keys, key, len);
}

void index_street_first_many(const struct index *ix, const char *const *key, const size_t *len,
                             size_t n, uint32_t *first, uint32_t *hash_out)
{
    enum { CHUNK = 64 };
    const struct index_view *v = &ix->v;
    const struct hash_filter *f = key_filters(ix)->street;
    const struct key_cache *c = key_filters(ix)->street_keys;
    struct key_table t = street_table(v);
    size_t mask = v->n_street_hash - 1;
    for (size_t at = 0; at < n; at += CHUNK, key += CHUNK, len += CHUNK, first += CHUNK) {
        size_t m = n - at < CHUNK ? n - at : CHUNK;
        uint32_t hash[CHUNK], e[CHUNK];
        bool maybe[CHUNK];
        /* the filter; then sweeps whose reads are in flight together: the slots of the keys
         * inline and the streets found (or the file's slots, the streets they name, the keys
         * of those streets, and the probes themselves, mostly in cached lines) */
        for (size_t i = 0; i < m; i++)
            hash[i] = ix_key_hash(key[i], len[i]);
        if (hash_out)
            memcpy(hash_out + at, hash, m * sizeof(*hash));
        filter_ask(f, hash, m);
        bool any = false;
        for (size_t i = 0; i < m; i++) {
            maybe[i] = filter_has(f, hash[i]);
            first[i] = IX_NONE;
            any |= maybe[i];
        }
        if (!any)
            continue; /* no key there: nothing to read */
        if (c) {      /* the slots, then the first street of each key found (its run's length) */
            for (size_t i = 0; i < m; i++)
                if (maybe[i])
                    __builtin_prefetch(&c->slot[hash[i] & c->mask]);
            co_pass();
            bool found = false;
            for (size_t i = 0; i < m; i++) {
                if (maybe[i])
                    first[i] = cache_probe(v, &t, c, hash[i], key[i], len[i], false);
                if (first[i] != IX_NONE) {
                    __builtin_prefetch(&v->streets[first[i]].flags);
                    found = true;
                }
            }
            if (found)
                co_pass();
            continue;
        }
        for (size_t i = 0; i < m; i++)
            if (maybe[i])
                __builtin_prefetch(&v->street_hash[hash[i] & mask]);
        co_pass();
        for (size_t i = 0; i < m; i++) { /* the key, and the run's length beside it (flags) */
            e[i] = maybe[i] ? v->street_hash[hash[i] & mask] : IX_NONE;
            if (e[i] != IX_NONE && e[i] < v->n_streets) {
                __builtin_prefetch(&v->streets[e[i]].key);
                __builtin_prefetch(&v->streets[e[i]].flags);
            }
        }
        co_pass();
        for (size_t i = 0; i < m; i++)
            if (e[i] != IX_NONE && e[i] < v->n_streets)
                __builtin_prefetch(ix_str(v, v->streets[e[i]].key));
        co_pass();
        for (size_t i = 0; i < m; i++)
            if (maybe[i])
                first[i] = hash_probe(v, &t, NULL, hash[i], key[i], len[i], false);
    }
}

double index_place_importance(const struct index *ix, uint32_t p)
{
    const struct index_view *v = &ix->v;
    if (p >= v->n_places)
        return 0;
    const struct ix_place_info *in = &v->place_info[p];
    double bonus = in->capital == RANK_COUNTRY  ? 1.0
                   : in->capital == RANK_STATE  ? 0.5
                   : in->capital == RANK_COUNTY ? 0.2
                                                : 0.0;
    if (!in->population && !bonus)
        return 0;
    /* a place found by another of its names counts as one ten times smaller: "Manchester" is
     * the English city, not a Richmond that once had a Manchester in it */
    double alt = in->flags & IXP_ALT_NAME ? 1.0 : 0.0;
    double imp = (in->population ? log10(1.0 + in->population) : 0.0) + bonus - alt;
    return imp > 0.01 ? imp : 0.01;
}

static void *grids_build(const struct index_view *v)
{
    return near_grids_build(v);
}

/* The grids of ix (NULL: callers find nothing near). */
static const struct near_grids *near(const struct index *ix)
{
    struct index *mix = (struct index *)ix; /* a cache; the mapping stays read-only */
    return cached(mix, &mix->grid, grids_build);
}

uint32_t index_city_nearest(const struct index *ix, double lat, double lon, double radius_m,
                            double *d)
{
    return near_city(near(ix), &ix->v, lat, lon, radius_m, d);
}

const uint32_t *index_areas_near(const struct index *ix, double lat, double lon, size_t *n,
                                 const uint32_t **big, size_t *nbig)
{
    return near_areas(near(ix), lat, lon, n, big, nbig);
}

uint32_t index_place_first(const struct index *ix, const char *key, size_t len)
{
    struct key_table t = place_table(&ix->v);
    const struct key_filters *kf = key_filters(ix);
    return key_find(&ix->v, &t, kf->place, kf->place_keys, key, len);
}

bool index_place_prefix_maybe(const struct index *ix, const char *key, size_t len)
{
    return len >= 4 && filter_has(key_filters(ix)->place_prefix, ix_key_hash(key, 4));
}

/* The first of n entries of size bytes at arr, sorted by the string whose offset is the
 * uint32_t at byte key_at of each, whose string is key or sorts after it (a binary search). */
static uint32_t sorted_from(const struct index_view *v, const void *arr, size_t n, size_t size,
                            size_t key_at, const char *key, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t off;
        memcpy(&off, (const char *)arr + mid * size + key_at, sizeof(off));
        if (strncmp(ix_str(v, off), key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

uint32_t index_place_from(const struct index *ix, const char *key, size_t len)
{
    const struct index_view *v = &ix->v;
    return sorted_from(v, v->places, v->n_places, sizeof(*v->places),
                       offsetof(struct ix_place, key), key, len);
}

uint32_t index_street_from(const struct index *ix, const char *key, size_t len)
{
    const struct index_view *v = &ix->v;
    return sorted_from(v, v->streets, v->n_streets, sizeof(*v->streets),
                       offsetof(struct ix_street, key), key, len);
}

bool index_city_key_maybe(const struct index *ix, const char *key, size_t len)
{
    return filter_has(key_filters(ix)->city, ix_key_hash(key, len));
}

bool index_town_key_maybe(const struct index *ix, const char *key, size_t len)
{
    return filter_has(key_filters(ix)->town, ix_key_hash(key, len));
}

bool index_town_prefix_maybe(const struct index *ix, const char *key, size_t len)
{
    return len >= 4 && filter_has(key_filters(ix)->town_prefix, ix_key_hash(key, 4));
}

bool index_state_key_maybe(const struct index *ix, const char cc[2], const char *key, size_t len)
{
    struct index *mix = (struct index *)ix; /* a cache; the mapping stays read-only */
    const struct state_keys *sk = cached(mix, &mix->states, state_keys_build);
    return !sk || sk->unknown || filter_has(sk->f, state_key_hash(cc, key, len));
}

/* Keep the n (<= cap) lowest stretches of out ascending, with r among them if it is low enough. */
static size_t keep_lowest(struct ix_range *out, size_t n, size_t cap, struct ix_range r)
{
    if (n == cap && r.first > out[n - 1].first)
        return n;
    size_t k = n < cap ? n++ : n - 1;
    for (; k > 0 && out[k - 1].first > r.first; k--)
        out[k] = out[k - 1];
    out[k] = r;
    return n;
}

/* The streets from e (before hi) that have its city key and its country. */
static struct ix_range town_stretch(const struct index_view *v, uint32_t e, uint32_t hi)
{
    uint32_t end = e + 1;
    while (end < hi && v->streets[end].city_key == v->streets[e].city_key &&
           memcmp(v->streets[end].country, v->streets[e].country, 2) == 0)
        end++;
    return (struct ix_range){e, end - e};
}

size_t index_street_town(const struct index *ix, uint32_t lo, uint32_t hi, uint32_t key_hash,
                         const char *town, uint32_t town_hash, struct ix_range *out, size_t cap)
{
    const struct index_view *v = &ix->v;
    const struct street_towns *t = key_filters(ix)->street_town;
    size_t n = 0;
    if (cap == 0 || lo >= hi)
        return 0;
    if (!t) { /* no table (memory was short): the run read street by street */
        for (uint32_t e = lo; e < hi && n < cap; e++) {
            if (strcmp(ix_str(v, v->streets[e].city_key), town) != 0)
                continue;
            out[n++] = town_stretch(v, e, hi);
            e += out[n - 1].count - 1;
        }
        return n;
    }
    uint32_t h = street_town_hash(key_hash, town_hash);
    size_t mask = ((size_t)1 << t->bits) - 1;
    co_wait(&t->slot[h & mask]);
    for (size_t i = h & mask; t->slot[i]; i = (i + 1) & mask) {
        uint64_t s = t->slot[i];
        uint32_t e = (uint32_t)s - 1;
        if ((uint32_t)(s >> 32) != h || e < lo || e >= hi)
            continue;
        co_wait(&v->streets[e].city_key);
        const char *c = ix_str(v, v->streets[e].city_key);
        co_wait(c);
        if (strcmp(c, town) == 0)
            n = keep_lowest(out, n, cap, town_stretch(v, e, hi));
    }
    return n;
}

uint32_t index_postcode_first(const struct index *ix, const char *key, size_t len)
{
    struct key_table t = pc_table(&ix->v);
    const struct key_filters *kf = key_filters(ix);
    return key_find(&ix->v, &t, kf->pc, kf->pc_keys, key, len);
}

void index_street_run_prefetch(const struct index *ix, uint32_t first)
{
    __builtin_prefetch(&ix->v.streets[first].flags); /* not read: a miss here would stall */
}

uint32_t index_street_run_end(const struct index *ix, uint32_t first)
{
    const struct index_view *v = &ix->v;
    uint32_t run = v->streets[first].flags >> IXS_RUN_SHIFT;
    if (run)
        return first + run; /* checked at open */
    uint32_t key = v->streets[first].key;
    /* equal keys are one interned string (STRINGS holds each once): equal offsets are the run */
    size_t lo = first + 1, step = 1, hi = lo;
    while (hi < v->n_streets && v->streets[hi].key == key) { /* gallop past the run */
        lo = hi + 1;
        hi = first + (step *= 2);
    }
    if (hi > v->n_streets)
        hi = v->n_streets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->streets[mid].key == key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

const uint32_t *index_postcode_streets(const struct index *ix, uint32_t entry, uint32_t from,
                                       size_t *n)
{
    const struct index_view *v = &ix->v;
    if (entry >= v->n_postcodes) {
        *n = 0;
        return v->pc_streets;
    }
    const uint32_t *st = v->pc_streets + v->pc_ranges[entry].first;
    size_t a = 0, b = v->pc_ranges[entry].count, end = b;
    while (a < b) { /* the first street >= from */
        size_t m = a + (b - a) / 2;
        if (st[m] < from)
            a = m + 1;
        else
            b = m;
    }
    *n = end - a;
    return st + a;
}

void index_postcode_streets_prefetch(const struct index *ix, uint32_t entry)
{
    const struct index_view *v = &ix->v;
    if (!co_running || entry >= v->n_postcodes)
        return;
    co_wait(&v->pc_ranges[entry]);
    const uint32_t *st = v->pc_streets + v->pc_ranges[entry].first;
    size_t n = v->pc_ranges[entry].count;
    /* the middles of a binary search's first four halvings (one line when n is small) */
    for (size_t d = 2; d <= 16; d *= 2)
        for (size_t k = 1; k < d; k += 2)
            __builtin_prefetch(&st[n * k / d]);
    co_pass();
}

/* The FUZZY entries of hash within [lo, hi), its directory bucket. */
static const struct ix_fuzzy *fuzzy_in_bucket(const struct index_view *v, uint32_t hash, size_t lo,
                                              size_t hi, size_t *n)
{
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->fuzzy[mid].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < v->n_fuzzy && v->fuzzy[end].hash == hash)
        end++;
    *n = end - lo;
    return v->fuzzy + lo;
}

void index_fuzzy_find_hashes(const struct index *ix, const uint32_t *hash, size_t n,
                             const struct ix_fuzzy **first, size_t *count)
{
    const struct index_view *v = &ix->v;
    unsigned k = v->fuzzy_bits;
    /* FUZZY is sorted by hash: the directory gives a hash's bucket and whether the bucket may
     * hold it (its bits), a binary search within it the first entry not below the hash, then
     * the run of equal ones. Two sweeps, so that the reads of one sweep are in flight
     * together: the buckets (count SIZE_MAX: the hash's bit is set), then the searches in
     * the entries asked for */
    if (co_running && n > 0) {
        for (size_t i = 0; i < n; i++)
            __builtin_prefetch(&v->fuzzy_dir[ix_fuzzy_bucket_of(hash[i], k)]);
        co_pass();
    }
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const struct ix_fuzzy_bucket *bk = &v->fuzzy_dir[ix_fuzzy_bucket_of(hash[i], k)];
        first[i] = v->fuzzy;
        count[i] = bk->bits & ix_fuzzy_bit(hash[i], k) ? SIZE_MAX : 0;
        if (count[i])
            __builtin_prefetch(&v->fuzzy[bk->first]);
        any |= count[i] != 0;
    }
    if (!any)
        return; /* no variant there: nothing to read */
    co_pass();
    for (size_t i = 0; i < n; i++) {
        size_t bucket = ix_fuzzy_bucket_of(hash[i], k);
        if (count[i])
            first[i] = fuzzy_in_bucket(v, hash[i], v->fuzzy_dir[bucket].first,
                                       v->fuzzy_dir[bucket + 1].first, &count[i]);
    }
}

const struct ix_fuzzy *index_fuzzy_find(const struct index *ix, const char *key, size_t len,
                                        size_t *n)
{
    uint32_t hash = ix_key_hash(key, len);
    const struct ix_fuzzy *first;
    index_fuzzy_find_hashes(ix, &hash, 1, &first, n);
    return first;
}

/* qsort order of countries: most addresses first, then by code. */
static int country_by_addresses(const void *a, const void *b)
{
    const struct ix_country *x = *(const struct ix_country *const *)a;
    const struct ix_country *y = *(const struct ix_country *const *)b;
    if (x->addresses != y->addresses)
        return x->addresses > y->addresses ? -1 : 1;
    return memcmp(x->code, y->code, sizeof(x->code));
}

void index_describe(const struct index *ix, FILE *fp, const char *(*format_name)(int format),
                    bool verbose)
{
    const struct index_view *v = &ix->v;
    struct index_counts c;
    index_counts(ix, &c);
    fprintf(fp, "format %u normaliser %u bytes %llu\n", v->hdr->format_version,
            v->hdr->norm_version, (unsigned long long)v->hdr->file_size);
    fprintf(fp,
            "addresses %llu\nstreets %llu\ninterpolation_ranges %llu\nplaces %llu\n"
            "postcodes %llu\nadmin_areas %llu\n",
            (unsigned long long)c.addresses, (unsigned long long)c.streets,
            (unsigned long long)c.interps, (unsigned long long)c.places,
            (unsigned long long)c.postcodes, (unsigned long long)c.admins);
    /* the row without a code holds what has no country: not a country */
    const struct ix_country **with = xmallocarray(v->n_countries + 1, sizeof(*with));
    size_t nwith = 0, ncountries = 0;
    uint32_t nowhere = 0;
    for (size_t i = 0; i < v->n_countries; i++) {
        const struct ix_country *k = &v->countries[i];
        if (!k->code[0]) {
            nowhere = k->addresses;
            continue;
        }
        ncountries++;
        if (k->addresses)
            with[nwith++] = k;
    }
    qsort(with, nwith, sizeof(*with), country_by_addresses);
    fprintf(fp, "countries %zu, with addresses %zu:", ncountries, nwith);
    for (size_t i = 0; i < nwith && i < INDEX_DESCRIBE_TOP; i++)
        fprintf(fp, " %.2s=%u", with[i]->code, with[i]->addresses);
    if (nwith > INDEX_DESCRIBE_TOP)
        fprintf(fp, " and %zu more", nwith - INDEX_DESCRIBE_TOP);
    if (nowhere)
        fprintf(fp, " (%u without a country)", nowhere);
    fprintf(fp, "\n");
    free(with);
    for (size_t i = 0; i < v->n_sources; i++) {
        const struct ix_source *s = &v->sources[i];
        char when[32];
        time_t t = (time_t)s->mtime;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        char num[16];
        snprintf(num, sizeof(num), "%u", s->format);
        fprintf(fp, "source %s format=%s bytes=%llu date=%s records=%llu\n", ix_str(v, s->name),
                format_name ? format_name((int)s->format) : num, (unsigned long long)s->size, when,
                (unsigned long long)s->records);
    }
    for (size_t i = 0; verbose && i < v->n_countries; i++) {
        const struct ix_country *k = &v->countries[i];
        fprintf(fp, "country %.2s addresses=%u streets=%u places=%u postcodes=%u\n",
                k->code[0] ? k->code : "--", k->addresses, k->streets, k->places, k->postcodes);
    }
}
