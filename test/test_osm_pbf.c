/*
 * test_osm_pbf.c - the PBF reader (osm_pbf.h), the node store (osm_nodes.h), and the importer
 * built on them against the readosm one.
 *
 * PBF files are written here by a small protobuf writer (every field named after the format's
 * .proto files), so each test states the objects it expects literally. Bad input: every prefix
 * of a file (truncation), every byte of it flipped, and one file per limit or unsupported
 * feature, each with the error it must give. The real extracts in $GB_SHARED/data/osm are
 * imported with readosm (the reader before this one) and with this reader on 1 and 3 threads;
 * every emitted record (every field, in order) must be the same.
 */
#include "base/err.h"
#include "base/log.h"
#include "import/import.h"
#include "import/import_osm.h"
#include "import/osm_nodes.h"
#include "import/osm_pbf.h"
#include "record/record.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"

/* readosm 1.1.0 does not free its expat parser when the XML is malformed: not ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libexpat.so\n";
}

static const char *tmp_dir(void)
{
    const char *t = getenv("GB_TMP");
    return t && *t ? t : "/tmp";
}

/* ---- a protobuf writer ------------------------------------------------------------------- */

struct wb {
    unsigned char *p;
    size_t n, cap;
};

static void put(struct wb *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put_varint(struct wb *b, uint64_t v)
{
    unsigned char c[10];
    size_t n = 0;
    do {
        c[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c[n] |= 0x80;
        n++;
    } while (v);
    put(b, c, n);
}

static uint64_t zz(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void put_uint(struct wb *b, unsigned field, uint64_t v)
{
    put_varint(b, (uint64_t)field << 3);
    put_varint(b, v);
}

static void put_bytes(struct wb *b, unsigned field, const void *d, size_t n)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    put(b, d, n);
}

static void put_msg(struct wb *b, unsigned field, struct wb *sub)
{
    put_bytes(b, field, sub->p, sub->n);
    free(sub->p);
    memset(sub, 0, sizeof(*sub));
}

/* ---- OSM objects and blocks -------------------------------------------------------------- */

struct tnode {
    int64_t id, lat, lon; /* lat, lon in 1e-7 degrees */
    const char *tags[7];  /* key, value, ..., NULL */
};

struct tway {
    int64_t id;
    int64_t refs[8];
    int nref;
    const char *tags[7];
};

struct tmember {
    int type;
    int64_t id;
    const char *role;
};

struct trel {
    int64_t id;
    struct tmember m[6];
    int nm;
    const char *tags[9];
};

/* A PrimitiveBlock under construction: its string table and groups. */
struct tblock {
    const char *str[256];
    int nstr;
    struct wb groups;
    int granularity;          /* 0: not written (the default, 100) */
    int64_t lat_off, lon_off; /* written when not 0 */
};

static unsigned sid(struct tblock *tb, const char *s)
{
    for (int i = 0; i < tb->nstr; i++)
        if (strcmp(tb->str[i], s) == 0)
            return (unsigned)i;
    assert_true(tb->nstr < 256);
    tb->str[tb->nstr] = s;
    return (unsigned)tb->nstr++;
}

static void tblock_init(struct tblock *tb)
{
    memset(tb, 0, sizeof(*tb));
    sid(tb, ""); /* index 0: the empty string, as writers do */
}

static void add_dense(struct tblock *tb, const struct tnode *nd, size_t n)
{
    struct wb ids = {0}, lats = {0}, lons = {0}, kv = {0}, dense = {0}, group = {0};
    int64_t pid = 0, plat = 0, plon = 0;
    bool any_tags = false;
    for (size_t i = 0; i < n; i++) {
        put_varint(&ids, zz(nd[i].id - pid));
        put_varint(&lats, zz(nd[i].lat - plat));
        put_varint(&lons, zz(nd[i].lon - plon));
        pid = nd[i].id, plat = nd[i].lat, plon = nd[i].lon;
        for (int t = 0; nd[i].tags[t]; t += 2) {
            put_varint(&kv, sid(tb, nd[i].tags[t]));
            put_varint(&kv, sid(tb, nd[i].tags[t + 1]));
            any_tags = true;
        }
        put_varint(&kv, 0);
    }
    put_msg(&dense, 1, &ids);
    put_msg(&dense, 8, &lats);
    put_msg(&dense, 9, &lons);
    if (any_tags)
        put_msg(&dense, 10, &kv);
    free(kv.p);
    put_msg(&group, 2, &dense);
    put_msg(&tb->groups, 2, &group);
}

static void put_tags(struct tblock *tb, struct wb *msg, const char *const *tags)
{
    struct wb k = {0}, v = {0};
    for (int t = 0; tags[t]; t += 2) {
        put_varint(&k, sid(tb, tags[t]));
        put_varint(&v, sid(tb, tags[t + 1]));
    }
    if (k.n) {
        put_msg(msg, 2, &k);
        put_msg(msg, 3, &v);
    }
}

static void add_ways(struct tblock *tb, const struct tway *w, size_t n)
{
    struct wb group = {0};
    for (size_t i = 0; i < n; i++) {
        struct wb msg = {0}, refs = {0};
        put_uint(&msg, 1, (uint64_t)w[i].id);
        put_tags(tb, &msg, w[i].tags);
        int64_t prev = 0;
        for (int r = 0; r < w[i].nref; r++) {
            put_varint(&refs, zz(w[i].refs[r] - prev));
            prev = w[i].refs[r];
        }
        put_msg(&msg, 8, &refs);
        put_msg(&group, 3, &msg);
    }
    put_msg(&tb->groups, 2, &group);
}

static void add_rels(struct tblock *tb, const struct trel *r, size_t n)
{
    struct wb group = {0};
    for (size_t i = 0; i < n; i++) {
        struct wb msg = {0}, roles = {0}, ids = {0}, types = {0};
        put_uint(&msg, 1, (uint64_t)r[i].id);
        put_tags(tb, &msg, r[i].tags);
        int64_t prev = 0;
        for (int m = 0; m < r[i].nm; m++) {
            put_varint(&roles, sid(tb, r[i].m[m].role));
            put_varint(&ids, zz(r[i].m[m].id - prev));
            put_varint(&types, (uint64_t)r[i].m[m].type);
            prev = r[i].m[m].id;
        }
        put_msg(&msg, 8, &roles);
        put_msg(&msg, 9, &ids);
        put_msg(&msg, 10, &types);
        put_msg(&group, 4, &msg);
    }
    put_msg(&tb->groups, 2, &group);
}

/* The PrimitiveBlock's bytes (granularity and offsets after the groups, as writers put them). */
static struct wb tblock_bytes(struct tblock *tb)
{
    struct wb blk = {0}, st = {0};
    for (int i = 0; i < tb->nstr; i++)
        put_bytes(&st, 1, tb->str[i], strlen(tb->str[i]));
    put_msg(&blk, 1, &st);
    put(&blk, tb->groups.p, tb->groups.n);
    free(tb->groups.p);
    tb->groups = (struct wb){0};
    if (tb->granularity)
        put_uint(&blk, 17, (uint64_t)tb->granularity);
    if (tb->lat_off)
        put_uint(&blk, 19, (uint64_t)tb->lat_off);
    if (tb->lon_off)
        put_uint(&blk, 20, (uint64_t)tb->lon_off);
    return blk;
}

enum { STORE_ZLIB, STORE_RAW };

/* Append a whole block (length, BlobHeader, Blob) of type holding data to file. */
static void put_blob(struct wb *file, const char *type, const struct wb *data, int how)
{
    struct wb blob = {0}, hdr = {0};
    if (how == STORE_RAW) {
        put_bytes(&blob, 1, data->p, data->n);
    } else {
        uLongf zn = compressBound(data->n);
        unsigned char *z = malloc(zn);
        assert_int_equal(compress2(z, &zn, data->p, data->n, 6), Z_OK);
        put_uint(&blob, 2, data->n);
        put_bytes(&blob, 3, z, zn);
        free(z);
    }
    put_bytes(&hdr, 1, type, strlen(type));
    put_uint(&hdr, 3, blob.n);
    unsigned char len[4] = {(unsigned char)(hdr.n >> 24), (unsigned char)(hdr.n >> 16),
                            (unsigned char)(hdr.n >> 8), (unsigned char)hdr.n};
    put(file, len, 4);
    put(file, hdr.p, hdr.n);
    put(file, blob.p, blob.n);
    free(hdr.p);
    free(blob.p);
}

/* A file's OSMHeader block, requiring these features (NULL-terminated). */
static void put_header(struct wb *file, const char *const *features)
{
    struct wb hb = {0};
    for (int i = 0; features[i]; i++)
        put_bytes(&hb, 4, features[i], strlen(features[i]));
    put_bytes(&hb, 16, "test_osm_pbf", 12);
    put_blob(file, "OSMHeader", &hb, STORE_ZLIB);
    free(hb.p);
}

static const char *const std_features[] = {"OsmSchema-V0.6", "DenseNodes", NULL};

static void put_block(struct wb *file, struct tblock *tb, int how)
{
    struct wb data = tblock_bytes(tb);
    put_blob(file, "OSMData", &data, how);
    free(data.p);
}

static char *write_tmp(const char *name, const struct wb *b)
{
    char *path = malloc(512);
    snprintf(path, 512, "%s/%s", tmp_dir(), name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
    fclose(f);
    return path;
}

/* ---- the sample file ---------------------------------------------------------------------- */

static const struct tnode sample_nodes[] = {
    {1, 471234567, 95123456, {NULL}},
    {2, 471234999, 95124000, {"addr:housenumber", "12", "addr:street", "Äulestrasse", NULL}},
    {5, -338765432, -1512345678, {"place", "village", "name", "Südort", NULL}},
    {7, 471235500, 95125000, {NULL}},
};
static const struct tway sample_ways[] = {
    {10, {1, 2, 7}, 3, {"highway", "residential", "name", "Äulestrasse", NULL}},
    {11, {7, 1}, 2, {NULL}},
};
static const struct trel sample_rels[] = {
    {100,
     {{1, 10, "outer"}, {0, 5, "label"}, {2, 101, ""}, {3, 9, "odd type"}},
     4,
     {"type", "boundary", "boundary", "administrative", "admin_level", "8", "name", "Ort", NULL}},
};

static size_t sample_ends[4]; /* where each block of the sample file ends */

/* header, nodes (zlib), ways (raw), relations (zlib) */
static struct wb sample_file(void)
{
    struct wb f = {0};
    put_header(&f, std_features);
    sample_ends[0] = f.n;
    struct tblock tb;
    tblock_init(&tb);
    add_dense(&tb, sample_nodes, 4);
    put_block(&f, &tb, STORE_ZLIB);
    sample_ends[1] = f.n;
    tblock_init(&tb);
    add_ways(&tb, sample_ways, 2);
    put_block(&f, &tb, STORE_RAW);
    sample_ends[2] = f.n;
    tblock_init(&tb);
    add_rels(&tb, sample_rels, 1);
    put_block(&f, &tb, STORE_ZLIB);
    sample_ends[3] = f.n;
    return f;
}

/* ---- decoding ---------------------------------------------------------------------------- */

static void check_tags(const struct osm_tag *t, int n, const char *const *want)
{
    int k = 0;
    for (; want[2 * k]; k++) {
        assert_true(k < n);
        assert_string_equal(t[k].key, want[2 * k]);
        assert_string_equal(t[k].value, want[2 * k + 1]);
    }
    assert_int_equal(n, k);
}

static void test_decode_sample(void **state)
{
    (void)state;
    struct wb f = sample_file();
    char *path = write_tmp("pbf-sample.osm.pbf", &f);
    struct osm_pbf *pbf = NULL;
    char err[256] = "";
    assert_int_equal(osm_pbf_open(&pbf, path, err, sizeof(err)), 0);
    assert_int_equal(osm_pbf_nblocks(pbf), 3);
    struct osm_pbf_decoder *d = osm_pbf_decoder_new();
    struct osm_pbf_block b = {0};
    unsigned all = OSM_PBF_NODES | OSM_PBF_WAYS | OSM_PBF_RELATIONS;

    assert_int_equal(osm_pbf_block_decode(pbf, d, 0, all, &b, err, sizeof(err)), 0);
    assert_int_equal(b.index, 0);
    assert_int_equal(b.kinds, OSM_PBF_NODES);
    assert_int_equal(b.nnode, 4);
    assert_int_equal(b.ngroup, 1);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(b.nodes[i].id, sample_nodes[i].id);
        assert_true(b.nodes[i].latitude == sample_nodes[i].lat / 1e7);
        assert_true(b.nodes[i].longitude == sample_nodes[i].lon / 1e7);
        check_tags(b.nodes[i].tags, b.nodes[i].tag_count, sample_nodes[i].tags);
    }

    assert_int_equal(osm_pbf_block_decode(pbf, d, 1, all, &b, err, sizeof(err)), 0);
    assert_int_equal(b.kinds, OSM_PBF_WAYS);
    assert_int_equal(b.nway, 2);
    assert_int_equal(b.ways[0].id, 10);
    assert_int_equal(b.ways[0].node_ref_count, 3);
    assert_int_equal(b.ways[0].node_refs[2], 7);
    assert_int_equal(b.ways[1].node_refs[1], 1);
    check_tags(b.ways[0].tags, b.ways[0].tag_count, sample_ways[0].tags);
    assert_int_equal(b.ways[1].tag_count, 0);

    /* Asked only for nodes: the relations are noted, not decoded. */
    assert_int_equal(osm_pbf_block_decode(pbf, d, 2, OSM_PBF_NODES, &b, err, sizeof(err)), 0);
    assert_int_equal(b.kinds, OSM_PBF_RELATIONS);
    assert_int_equal(b.nrel, 0);
    assert_int_equal(osm_pbf_block_decode(pbf, d, 2, all, &b, err, sizeof(err)), 0);
    assert_int_equal(b.nrel, 1);
    const struct osm_relation *r = &b.rels[0];
    assert_int_equal(r->id, 100);
    assert_int_equal(r->member_count, 4);
    assert_int_equal(r->members[0].member_type, OSM_MEMBER_WAY);
    assert_int_equal(r->members[0].id, 10);
    assert_string_equal(r->members[0].role, "outer");
    assert_int_equal(r->members[1].member_type, OSM_MEMBER_NODE);
    assert_string_equal(r->members[1].role, "label");
    assert_int_equal(r->members[2].member_type, OSM_MEMBER_RELATION);
    assert_int_equal(r->members[2].id, 101);
    assert_string_equal(r->members[2].role, "");
    assert_int_equal(r->members[3].member_type, OSM_MEMBER_OTHER);
    check_tags(r->tags, r->tag_count, sample_rels[0].tags);

    osm_pbf_block_release(&b);
    osm_pbf_decoder_free(d);
    osm_pbf_close(pbf);
    remove(path);
    free(path);
    free(f.p);
}

/* Granularity and offsets: (offset + granularity * v) nanodegrees; plain (non-dense) nodes. */
static void test_granularity_and_plain_nodes(void **state)
{
    (void)state;
    struct tblock tb;
    tblock_init(&tb);
    tb.granularity = 1000;
    tb.lat_off = 5000;
    tb.lon_off = -7000;
    struct wb group = {0}, node = {0};
    put_uint(&node, 1, zz(42));
    put_tags(&tb, &node, (const char *const[]){"name", "Plain", NULL});
    put_uint(&node, 8, zz(47123456));
    put_uint(&node, 9, zz(-9512345));
    put_msg(&group, 1, &node);
    put_msg(&tb.groups, 2, &group);
    struct wb data = tblock_bytes(&tb);
    struct osm_pbf_block b = {0};
    char err[256];
    assert_int_equal(osm_pbf_block_parse(data.p, data.n, OSM_PBF_NODES, &b, err, sizeof(err)), 0);
    assert_int_equal(b.nnode, 1);
    assert_int_equal(b.nodes[0].id, 42);
    assert_true(b.nodes[0].latitude == (5000 + 1000 * 47123456LL) / 1e9);
    assert_true(b.nodes[0].longitude == (-7000 + 1000 * -9512345LL) / 1e9);
    check_tags(b.nodes[0].tags, b.nodes[0].tag_count, (const char *const[]){"name", "Plain", NULL});
    osm_pbf_block_release(&b);
    free(data.p);
}

/* ---- the pipeline: same sequence on any number of threads --------------------------------- */

struct seq {
    int64_t ids[4096];
    size_t n;
    size_t stop_after; /* 0: never */
    bool marked;       /* mark_ids prepared the blocks: check every object's mark */
    unsigned threads;  /* what osm_pbf_run() was given: the workers' numbers are below it */
};

/* A mark from an object's id, as a preparer would work one out. */
static unsigned id_mark(int64_t id)
{
    return (unsigned)(id % 251) + 1;
}

static void mark_ids(const void *ctx, unsigned worker, struct osm_pbf_block *b)
{
    const struct seq *s = ctx;
    assert_true(worker < (s->threads > 1 ? s->threads : 1));
    for (size_t i = 0; i < b->nnode; i++)
        b->nodes[i].mark = id_mark(b->nodes[i].id);
    for (size_t i = 0; i < b->nway; i++)
        b->ways[i].mark = id_mark(b->ways[i].id);
}

static int collect(void *ctx, const struct osm_pbf_block *b)
{
    struct seq *s = ctx;
    for (size_t g = 0; g < b->ngroup; g++)
        for (size_t i = b->groups[g].first; i < b->groups[g].first + b->groups[g].count; i++) {
            assert_true(s->n < 4096);
            s->ids[s->n++] = b->groups[g].kind == OSM_PBF_NODES  ? b->nodes[i].id
                             : b->groups[g].kind == OSM_PBF_WAYS ? -b->ways[i].id
                                                                 : -1000000 - b->rels[i].id;
            if (b->groups[g].kind == OSM_PBF_NODES)
                assert_int_equal(b->nodes[i].mark, s->marked ? id_mark(b->nodes[i].id) : 0);
            if (b->groups[g].kind == OSM_PBF_WAYS)
                assert_int_equal(b->ways[i].mark, s->marked ? id_mark(b->ways[i].id) : 0);
        }
    return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static void test_threads_same_order(void **state)
{
    (void)state;
    struct wb f = {0};
    put_header(&f, std_features);
    for (int k = 0; k < 40; k++) {
        struct tblock tb;
        tblock_init(&tb);
        struct tnode nd[30];
        for (int i = 0; i < 30; i++)
            nd[i] = (struct tnode){k * 100 + i + 1, i * 1000, -i * 1000, {NULL}};
        add_dense(&tb, nd, 30);
        if (k % 3 == 0) {
            struct tway w = {k + 1, {1, 2}, 2, {"highway", "x", NULL}};
            add_ways(&tb, &w, 1);
        }
        put_block(&f, &tb, k % 2 ? STORE_RAW : STORE_ZLIB);
    }
    char *path = write_tmp("pbf-threads.osm.pbf", &f);
    struct osm_pbf *pbf = NULL;
    char err[256] = "";
    assert_int_equal(osm_pbf_open(&pbf, path, err, sizeof(err)), 0);
    size_t order[40];
    for (size_t i = 0; i < 40; i++)
        order[i] = 39 - i; /* any order: here backwards */
    static struct seq one, many;
    memset(&one, 0, sizeof(one));
    unsigned all = OSM_PBF_NODES | OSM_PBF_WAYS;
    assert_int_equal(osm_pbf_run(pbf, order, 40, all, 1, NULL, collect, &one, err, sizeof(err)), 0);
    assert_int_equal(one.n, 40 * 30 + 14);
    for (unsigned t = 1; t <= 5; t++) { /* the preparer's marks reach the consumer */
        memset(&many, 0, sizeof(many));
        many.marked = true;
        many.threads = t;
        assert_int_equal(
            osm_pbf_run(pbf, order, 40, all, t, mark_ids, collect, &many, err, sizeof(err)), 0);
        assert_int_equal(many.n, one.n);
        assert_memory_equal(many.ids, one.ids, one.n * sizeof(int64_t));
    }
    for (unsigned t = 2; t <= 5; t++) {
        memset(&many, 0, sizeof(many));
        assert_int_equal(
            osm_pbf_run(pbf, order, 40, all, t, NULL, collect, &many, err, sizeof(err)), 0);
        assert_int_equal(many.n, one.n);
        assert_memory_equal(many.ids, one.ids, one.n * sizeof(int64_t));
        /* Stopping early leaves no thread behind (and no leak under ASan). */
        memset(&many, 0, sizeof(many));
        many.stop_after = 100;
        assert_int_equal(
            osm_pbf_run(pbf, order, 40, all, t, NULL, collect, &many, err, sizeof(err)), 0);
        assert_true(many.n >= 100 && many.n < 140);
    }
    osm_pbf_close(pbf);
    remove(path);
    free(path);
    free(f.p);
}

/* ---- bad files ---------------------------------------------------------------------------- */

/* Open path and decode every block on threads threads; return the first error (0: none). */
static int read_all(const char *path, unsigned threads, char *err, size_t errlen)
{
    struct osm_pbf *pbf = NULL;
    int rc = osm_pbf_open(&pbf, path, err, errlen);
    if (rc < 0)
        return rc;
    size_t n = osm_pbf_nblocks(pbf);
    size_t *order = malloc((n ? n : 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    static struct seq s;
    memset(&s, 0, sizeof(s));
    rc = osm_pbf_run(pbf, order, n, OSM_PBF_NODES | OSM_PBF_WAYS | OSM_PBF_RELATIONS, threads, NULL,
                     collect, &s, err, errlen);
    free(order);
    osm_pbf_close(pbf);
    return rc;
}

/* Every prefix of the sample file that ends inside a block is refused as truncated, naming the
 * file (the empty one too: it has no OSMHeader); one that ends between blocks is a valid file. */
static void test_truncated_everywhere(void **state)
{
    (void)state;
    struct wb f = sample_file();
    char path[512];
    snprintf(path, sizeof(path), "%s/pbf-trunc.osm.pbf", tmp_dir());
    for (size_t len = 0; len < f.n; len++) {
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(f.p, 1, len, fp), len);
        fclose(fp);
        char err[256] = "";
        int rc = read_all(path, len % 2 ? 2 : 1, err, sizeof(err));
        bool whole = len == sample_ends[0] || len == sample_ends[1] || len == sample_ends[2];
        if (rc != (whole ? 0 : GB_ECORRUPT))
            fail_msg("prefix of %zu bytes: rc=%d err=%s", len, rc, err);
        if (!whole)
            assert_non_null(strstr(err, path));
    }
    remove(path);
    free(f.p);
}

/* Every byte flipped in turn: an error or a (different) valid file, never a crash or a hang. */
static void test_corrupted_everywhere(void **state)
{
    (void)state;
    struct wb f = sample_file();
    char path[512];
    snprintf(path, sizeof(path), "%s/pbf-flip.osm.pbf", tmp_dir());
    size_t failed = 0;
    for (size_t i = 0; i < f.n; i++) {
        for (int pat = 0; pat < 2; pat++) {
            unsigned char keep = f.p[i];
            f.p[i] = pat ? (unsigned char)(keep ^ 0xff) : (unsigned char)(keep + 1);
            FILE *fp = fopen(path, "wb");
            assert_non_null(fp);
            assert_int_equal(fwrite(f.p, 1, f.n, fp), f.n);
            fclose(fp);
            f.p[i] = keep;
            char err[256] = "";
            int rc = read_all(path, 2, err, sizeof(err));
            if (rc < 0) {
                failed++;
                assert_non_null(strstr(err, "osm: "));
            }
        }
    }
    assert_true(failed > f.n / 2); /* most flips break something the reader checks */
    remove(path);
    free(f.p);
}

/* One bad file, written to a temp path: its open or read must fail with rc and err saying
 * what. */
static void expect_bad(const struct wb *f, int want_rc, const char *want_msg)
{
    char *path = write_tmp("pbf-bad.osm.pbf", f);
    char err[512] = "";
    int rc = read_all(path, 2, err, sizeof(err));
    if (rc != want_rc || !strstr(err, want_msg))
        fail_msg("rc=%d (want %d) err=[%s] (want [%s])", rc, want_rc, err, want_msg);
    remove(path);
    free(path);
}

static void test_limits_and_unsupported(void **state)
{
    (void)state;
    struct tblock tb;
    /* lzma and zstd blobs are refused by name */
    static const struct {
        unsigned field;
        const char *name;
    } comp[] = {{4, "lzma"}, {6, "lz4"}, {7, "zstd"}};
    for (size_t c = 0; c < 3; c++) {
        struct wb f = {0}, blob = {0}, hdr = {0};
        put_header(&f, std_features);
        put_uint(&blob, 2, 10);
        put_bytes(&blob, comp[c].field, "0123456789", 10);
        put_bytes(&hdr, 1, "OSMData", 7);
        put_uint(&hdr, 3, blob.n);
        unsigned char len[4] = {0, 0, 0, (unsigned char)hdr.n};
        put(&f, len, 4);
        put(&f, hdr.p, hdr.n);
        put(&f, blob.p, blob.n);
        expect_bad(&f, GB_EFORMAT, comp[c].name);
        free(f.p), free(blob.p), free(hdr.p);
    }
    /* an unknown required feature */
    {
        struct wb f = {0};
        put_header(&f, (const char *const[]){"OsmSchema-V0.6", "HistoricalInformation", NULL});
        expect_bad(&f, GB_EFORMAT, "HistoricalInformation");
        free(f.p);
    }
    /* no OSMHeader first */
    {
        struct wb f = {0};
        tblock_init(&tb);
        add_dense(&tb, sample_nodes, 1);
        put_block(&f, &tb, STORE_RAW);
        expect_bad(&f, GB_ECORRUPT, "OSMHeader");
        free(f.p);
    }
    /* a BlobHeader length over 64 KiB, and a blob size over 32 MiB */
    {
        struct wb f = {0};
        put_header(&f, std_features);
        unsigned char big[4] = {0, 1, 0, 1};
        put(&f, big, 4);
        for (int i = 0; i < 70000; i++)
            put(&f, "x", 1);
        expect_bad(&f, GB_ECORRUPT, "64 KiB");
        free(f.p);
        f = (struct wb){0};
        put_header(&f, std_features);
        struct wb hdr = {0};
        put_bytes(&hdr, 1, "OSMData", 7);
        put_uint(&hdr, 3, (33u << 20));
        unsigned char len[4] = {0, 0, 0, (unsigned char)hdr.n};
        put(&f, len, 4);
        put(&f, hdr.p, hdr.n);
        expect_bad(&f, GB_ECORRUPT, "32 MiB");
        free(f.p), free(hdr.p);
    }
    /* raw_size that does not match what the zlib data inflates to */
    for (int delta = -1; delta <= 1; delta += 2) {
        struct wb f = {0}, blob = {0}, hdr = {0};
        put_header(&f, std_features);
        tblock_init(&tb);
        add_dense(&tb, sample_nodes, 4);
        struct wb data = tblock_bytes(&tb);
        uLongf zn = compressBound(data.n);
        unsigned char *z = malloc(zn);
        assert_int_equal(compress2(z, &zn, data.p, data.n, 6), Z_OK);
        put_uint(&blob, 2, data.n + (size_t)(long)delta);
        put_bytes(&blob, 3, z, zn);
        put_bytes(&hdr, 1, "OSMData", 7);
        put_uint(&hdr, 3, blob.n);
        unsigned char len[4] = {0, 0, 0, (unsigned char)hdr.n};
        put(&f, len, 4);
        put(&f, hdr.p, hdr.n);
        put(&f, blob.p, blob.n);
        expect_bad(&f, GB_ECORRUPT, "raw_size");
        free(f.p), free(blob.p), free(hdr.p), free(data.p), free(z);
    }
    /* a raw_size over 32 MiB */
    {
        struct wb f = {0}, blob = {0}, hdr = {0};
        put_header(&f, std_features);
        put_uint(&blob, 2, 40u << 20);
        put_bytes(&blob, 3, "x", 1);
        put_bytes(&hdr, 1, "OSMData", 7);
        put_uint(&hdr, 3, blob.n);
        unsigned char len[4] = {0, 0, 0, (unsigned char)hdr.n};
        put(&f, len, 4);
        put(&f, hdr.p, hdr.n);
        put(&f, blob.p, blob.n);
        expect_bad(&f, GB_ECORRUPT, "raw_size");
        free(f.p), free(blob.p), free(hdr.p);
    }
    /* a string index past the table, and dense arrays of different lengths */
    {
        struct tblock t2;
        tblock_init(&t2);
        struct wb group = {0}, way = {0}, k = {0}, v = {0};
        put_uint(&way, 1, 5);
        put_varint(&k, 7);
        put_varint(&v, 0);
        put_msg(&way, 2, &k);
        put_msg(&way, 3, &v);
        put_msg(&group, 3, &way);
        put_msg(&t2.groups, 2, &group);
        struct wb f = {0};
        put_header(&f, std_features);
        put_block(&f, &t2, STORE_ZLIB);
        expect_bad(&f, GB_ECORRUPT, "string index out of range");
        free(f.p);

        tblock_init(&t2);
        struct wb dense = {0}, ids = {0}, lats = {0};
        put_varint(&ids, zz(1));
        put_varint(&ids, zz(1));
        put_varint(&lats, zz(1));
        put_msg(&dense, 1, &ids);
        put_msg(&dense, 8, &lats);
        group = (struct wb){0};
        put_msg(&group, 2, &dense);
        put_msg(&t2.groups, 2, &group);
        f = (struct wb){0};
        put_header(&f, std_features);
        put_block(&f, &t2, STORE_RAW);
        expect_bad(&f, GB_ECORRUPT, "differ in number");
        free(f.p);
    }
}

/* ---- the node store ------------------------------------------------------------------------ */

/* Kilobytes of the node files' mappings that are resident (/proc/self/smaps: their pages this
 * process has mapped), or 0 where there is no smaps. */
static size_t node_file_rss_kb(void)
{
    FILE *fp = fopen("/proc/self/smaps", "r");
    if (!fp)
        return 0;
    char line[512];
    bool in = false;
    size_t kb = 0, v;
    while (fgets(line, sizeof(line), fp)) {
        bool head = (line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f');
        if (head) /* a mapping's first line: its address range (the keys are capitalised) */
            in = strstr(line, "gb-nodes-") != NULL;
        else if (in && sscanf(line, "Rss: %zu kB", &v) == 1)
            kb += v;
    }
    fclose(fp);
    return kb;
}

/* The mappings of node files in this process (/proc/self/maps), or -1 where there is none. */
static int node_file_maps(void)
{
    FILE *fp = fopen("/proc/self/maps", "r");
    if (!fp)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), fp))
        n += strstr(line, "gb-nodes-") != NULL;
    fclose(fp);
    return n;
}

static void test_nodes_sorted_on_disk(void **state)
{
    (void)state;
    /* 200,000 nodes (587 blocks: the write buffer goes to the file twice), ids with gaps and
     * one jump past 2^32; a map budget of 64 KiB so that lookups unmap again and again. */
    struct osm_nodes *s = osm_nodes_new(tmp_dir(), 64 << 10);
    const size_t n = 200000;
    for (size_t i = 0; i < n; i++) {
        int64_t id = (int64_t)(i * 3 + 1) + (i >= n / 2 ? ((int64_t)1 << 33) : 0);
        assert_int_equal(osm_nodes_add(s, id, (int32_t)i, -(int32_t)i), 0);
    }
    struct osm_nodes_stats st;
    osm_nodes_stats(s, &st);
    assert_int_equal(st.nodes, n);
    assert_false(st.in_memory);
    assert_true(st.file_bytes >= 512 * 4096);
    for (size_t k = 0; k < 3 * n; k += 7) {
        size_t i = (k * 7919) % n; /* scattered order */
        int64_t id = (int64_t)(i * 3 + 1) + (i >= n / 2 ? ((int64_t)1 << 33) : 0);
        int32_t lat = 0, lon = 0;
        assert_true(osm_nodes_get(s, id, &lat, &lon));
        assert_int_equal(lat, (int32_t)i);
        assert_int_equal(lon, -(int32_t)i);
        assert_false(osm_nodes_get(s, id + 1, &lat, &lon));
        /* what the lookups keep mapped stays within the budget, one 64 KiB window here (two
         * at most where the kernel's fault-around window straddles two of the store's),
         * whatever the kernel maps at a fault: 6.18 maps whole large folios of the page
         * cache, 1 MiB when the file was written a megabyte at a time */
        if (k % 7000 == 0)
            assert_true(node_file_rss_kb() <= 128);
    }
    int32_t lat, lon;
    assert_false(osm_nodes_get(s, 0, &lat, &lon));
    assert_false(osm_nodes_get(s, -5, &lat, &lon));
    assert_false(osm_nodes_get(s, (int64_t)1 << 40, &lat, &lon));
    osm_nodes_stats(s, &st);
    assert_true(st.unmaps > 0);
    assert_true(st.ram_bytes < 200 * 1024 + 2 * 1024 * 1024); /* index and buffers, not nodes */
    osm_nodes_free(s);
}

/* The id of node i of the sealed-store test: gaps, and a jump past 2^32 halfway. */
static int64_t sealed_id(size_t i, size_t n)
{
    return (int64_t)(i * 3 + 1) + (i >= n / 2 ? ((int64_t)1 << 33) : 0);
}

struct reader_job {
    struct osm_nodes_reader *r;
    size_t n, wrong;
};

/* Every node and the id after each, through a reader, on a thread of its own. */
static void *read_all_nodes(void *arg)
{
    struct reader_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        int32_t lat = 0, lon = 0;
        if (!osm_nodes_reader_get(j->r, sealed_id(i, j->n), &lat, &lon) || lat != (int32_t)i ||
            lon != -(int32_t)i || osm_nodes_reader_get(j->r, sealed_id(i, j->n) + 1, &lat, &lon))
            j->wrong++;
    }
    return NULL;
}

/* A sealed store (the block being filled closed short) answers through readers on two other
 * threads, as the store's own lookups do, at the same time; the readers share one mapping of
 * the file and its small budget (each drops what the other mapped, again and again); a node
 * added after that unseals it (no new reader), and a store in memory has none. */
static void test_nodes_sealed_readers(void **state)
{
    (void)state;
    struct osm_nodes *s = osm_nodes_new(tmp_dir(), 64 << 10);
    const size_t n = 100001; /* the last block is not full */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(osm_nodes_add(s, sealed_id(i, n), (int32_t)i, -(int32_t)i), 0);
    assert_null(osm_nodes_reader_new(s, 0)); /* not sealed yet */
    assert_int_equal(osm_nodes_seal(s), 0);
    struct reader_job jobs[2];
    pthread_t tid[2];
    for (int t = 0; t < 2; t++) {
        jobs[t] = (struct reader_job){osm_nodes_reader_new(s, 64 << 10), n, 0};
        assert_non_null(jobs[t].r);
        assert_int_equal(pthread_create(&tid[t], NULL, read_all_nodes, &jobs[t]), 0);
    }
    for (size_t i = 0; i < n; i += 97) { /* the store's own lookups meanwhile */
        int32_t lat = 0, lon = 0;
        assert_true(osm_nodes_get(s, sealed_id(i, n), &lat, &lon));
        assert_int_equal(lat, (int32_t)i);
    }
    for (int t = 0; t < 2; t++) {
        assert_int_equal(pthread_join(tid[t], NULL), 0);
        assert_int_equal(jobs[t].wrong, 0);
    }
    int maps = node_file_maps(); /* the store's own and the readers' one */
    if (maps >= 0)
        assert_int_equal(maps, 2);
    for (int t = 0; t < 2; t++)
        osm_nodes_reader_free(jobs[t].r);
    if (maps >= 0)
        assert_int_equal(node_file_maps(), 1);
    struct osm_nodes_stats st;
    osm_nodes_stats(s, &st);
    assert_true(st.unmaps > 0); /* the readers' drops count too */
    int64_t next = sealed_id(n - 1, n) + 10;
    assert_int_equal(osm_nodes_add(s, next, 5, 6), 0);
    assert_null(osm_nodes_reader_new(s, 0));
    int32_t lat, lon;
    assert_true(osm_nodes_get(s, next, &lat, &lon));
    assert_int_equal(lat, 5);
    osm_nodes_free(s);

    s = osm_nodes_new(NULL, 0);
    assert_int_equal(osm_nodes_add(s, 9, 1, 1), 0);
    assert_int_equal(osm_nodes_add(s, 3, 1, 1), 0); /* out of order: in memory */
    assert_int_equal(osm_nodes_seal(s), GB_ESTATE);
    assert_null(osm_nodes_reader_new(s, 0));
    osm_nodes_free(s);
}

static void test_nodes_unsorted_in_memory(void **state)
{
    (void)state;
    struct osm_nodes *s = osm_nodes_new(NULL, 0);
    for (int64_t id = 1; id <= 1000; id++)
        assert_int_equal(osm_nodes_add(s, id * 2, (int32_t)id, 0), 0);
    int32_t lat, lon;
    assert_true(osm_nodes_get(s, 1000, &lat, &lon)); /* a lookup between the adds */
    assert_int_equal(lat, 500);
    assert_int_equal(osm_nodes_add(s, 7, 77, 7), 0); /* out of order */
    struct osm_nodes_stats st;
    osm_nodes_stats(s, &st);
    assert_true(st.in_memory);
    assert_true(osm_nodes_get(s, 7, &lat, &lon));
    assert_int_equal(lat, 77);
    assert_true(osm_nodes_get(s, 2000, &lat, &lon));
    assert_int_equal(lat, 1000);
    assert_false(osm_nodes_get(s, 3, &lat, &lon));
    osm_nodes_free(s);
}

/* A node file that cannot be made is an error naming the directory, not a crash. */
static void test_nodes_no_tmpdir(void **state)
{
    (void)state;
    struct osm_nodes *s = osm_nodes_new("/nonexistent/gb-dir", 0);
    int rc = 0;
    for (int64_t id = 1; id < 200000 && rc == 0; id++)
        rc = osm_nodes_add(s, id, 1, 1);
    assert_int_equal(rc, -ENOENT);
    assert_non_null(strstr(osm_nodes_error(s), "/nonexistent/gb-dir"));
    osm_nodes_free(s);
}

/* ---- the importer: this reader against readosm ---------------------------------------------- */

/* A sink that hashes every field of every record, in order. */
struct hash_sink {
    uint64_t h;
    size_t n;
};

static void mix(struct hash_sink *hs, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        hs->h = (hs->h ^ c[i]) * 0x100000001b3ULL;
}

static void mix_str(struct hash_sink *hs, const char *s)
{
    if (s)
        mix(hs, s, strlen(s) + 1);
    else
        mix(hs, "\xff", 1);
}

static int hash_emit(void *ctx, const struct record *r)
{
    struct hash_sink *hs = ctx;
    hs->n++;
    mix(hs, &r->kind, sizeof(r->kind));
    mix(hs, &r->lat, sizeof(r->lat));
    mix(hs, &r->lon, sizeof(r->lon));
    const char *s[] = {r->number, r->street, r->unit,    r->postcode, r->city,     r->district,
                       r->county, r->state,  r->country, r->name,     r->source_id};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        mix_str(hs, s[i]);
    for (size_t i = 0; i < r->n_alt; i++)
        mix_str(hs, r->alt_names[i]);
    mix(hs, &r->rank, sizeof(r->rank));
    for (size_t i = 0; i < r->n_geom; i++)
        mix(hs, &r->geom[i], sizeof(r->geom[i]));
    mix(hs, &r->from, sizeof(r->from));
    mix(hs, &r->to, sizeof(r->to));
    mix(hs, &r->parity, sizeof(r->parity));
    return 0;
}

/* Import path with these settings; return the hash of what came out (rc must be 0). Not
 * readosm, threads 3: the pending objects go to their temp file after 4 KiB, the node file is
 * mapped 64 KiB at a time, and the join's spools keep 64 KiB each (a memory of 1 byte): the join
 * looks up ranges of 64 KiB of the node file, and its spools go to temporary files. */
static struct hash_sink import_hash(const char *path, unsigned threads, bool readosm,
                                    enum osm_join_mode join, size_t *skipped)
{
    bool small = !readosm && threads == 3;
    const struct import_osm_opts opts = {.threads = threads,
                                         .pbf_readosm = readosm,
                                         .tmpdir = tmp_dir(),
                                         .pend_buffer = small ? 4096 : 0,
                                         .map_budget = small ? 65536 : 0,
                                         .join = join,
                                         .memory = small ? 1 : 0};
    import_osm_configure(&opts);
    struct hash_sink hs = {0xcbf29ce484222325ULL, 0};
    struct rec_sink sink = {hash_emit, &hs};
    struct import_stats st;
    memset(&st, 0, sizeof(st));
    char err[512] = "";
    int rc = import_osm(path, FMT_OSM_PBF, &sink, &st, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s (threads=%u readosm=%d): rc=%d %s", path, threads, readosm, rc, err);
    assert_int_equal(st.records, hs.n);
    *skipped = st.skipped;
    const struct import_osm_opts dflt = {0};
    import_osm_configure(&dflt);
    return hs;
}

/* path imports the same with readosm and with this reader on 1 and 3 threads (and small
 * buffers), the ways' points looked up or joined. */
static void same_three_ways(const char *path)
{
    static const struct {
        unsigned threads;
        bool readosm;
        enum osm_join_mode join;
    } ways[] = {{1, true, OSM_JOIN_NEVER},
                {1, false, OSM_JOIN_NEVER},
                {3, false, OSM_JOIN_NEVER},
                {1, false, OSM_JOIN_ALWAYS},
                {3, false, OSM_JOIN_ALWAYS}};
    size_t s0;
    struct hash_sink a = import_hash(path, ways[0].threads, ways[0].readosm, ways[0].join, &s0);
    printf("# %s: %zu records, hash %016llx\n", strrchr(path, '/') + 1, a.n,
           (unsigned long long)a.h);
    for (size_t i = 1; i < sizeof(ways) / sizeof(ways[0]); i++) {
        size_t s;
        struct hash_sink b = import_hash(path, ways[i].threads, ways[i].readosm, ways[i].join, &s);
        if (a.h != b.h || a.n != b.n || s0 != s)
            fail_msg("%s: readosm %zu records %016llx skipped %zu; %u threads, %s: %zu %016llx %zu",
                     path, a.n, (unsigned long long)a.h, s0, ways[i].threads,
                     ways[i].join == OSM_JOIN_ALWAYS ? "joined" : "looked up", b.n,
                     (unsigned long long)b.h, s);
    }
}

/* same_three_ways() on file f written as name in the test directory (then removed); f freed. */
static void same_three_ways_of(const char *name, struct wb *f)
{
    char *path = write_tmp(name, f);
    same_three_ways(path);
    remove(path);
    free(path);
    free(f->p);
}

static void test_real_extracts_same_as_readosm(void **state)
{
    (void)state;
    const char *shared = getenv("GB_SHARED");
    if (!shared)
        skip();
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/data/osm", shared);
    DIR *d = opendir(dir);
    assert_non_null(d);
    const char *asan = getenv("GB_ASAN");
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".pbf") != 0)
            continue;
        /* under ASan only the small ones: the big ones take minutes there */
        if (asan && *asan && !strstr(e->d_name, "universitat") && !strstr(e->d_name, "monaco"))
            continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        same_three_ways(p);
        files++;
    }
    closedir(d);
    assert_true(files >= 2);
}

/* Relations in the middle of the file (pass 1's scan from the end misses them: the file is read
 * again), and nodes out of order (the store moves to memory): same records as readosm. */
static void test_unsorted_file_same_as_readosm(void **state)
{
    (void)state;
    static const struct tnode nodes_b[] = {
        {20, 471000000, 95000000, {NULL}},
        {21, 471010000, 95000000, {NULL}},
        {22, 471010000, 95010000, {NULL}},
        {23, 471000000, 95010000, {"addr:housenumber", "3", "addr:street", "Weg", NULL}},
    };
    static const struct tnode nodes_a[] = {
        {30, 471020000, 95020000, {"addr:housenumber", "9", "addr:street", "Gasse", NULL}},
        {3, 471005000, 95005000, {"place", "village", "name", "Dorf", NULL}},
    };
    static const struct tway ways[] = {
        {50, {20, 21, 22, 23, 20}, 5, {NULL}},
        {51, {20, 22}, 2, {"highway", "residential", "name", "Weg", NULL}},
        {52, {21, 23, 30}, 3, {"addr:housenumber", "5", "addr:street", "Weg", NULL}},
    };
    static const struct trel rels[] = {
        {7,
         {{1, 50, "outer"}},
         1,
         {"type", "boundary", "boundary", "administrative", "admin_level", "8", "name", "Dorf",
          NULL}},
        {8, {{0, 23, ""}, {1, 52, ""}}, 2, {"type", "site", "addr:housenumber", "11", NULL}},
    };
    for (int variant = 0; variant < 2; variant++) {
        struct wb f = {0};
        put_header(&f, std_features);
        struct tblock tb;
        tblock_init(&tb);
        add_dense(&tb, nodes_b, 4);
        put_block(&f, &tb, STORE_ZLIB);
        if (variant == 0) { /* relations first, nodes after ways: misplaced relations */
            tblock_init(&tb);
            add_rels(&tb, rels, 1);
            put_block(&f, &tb, STORE_ZLIB);
        }
        tblock_init(&tb);
        add_ways(&tb, ways, 3);
        put_block(&f, &tb, STORE_ZLIB);
        tblock_init(&tb);
        add_dense(&tb, nodes_a, 2); /* ids 30 then 3: out of order */
        put_block(&f, &tb, STORE_RAW);
        tblock_init(&tb);
        add_rels(&tb, variant == 0 ? rels + 1 : rels, variant == 0 ? 1 : 2);
        put_block(&f, &tb, STORE_ZLIB);
        same_three_ways_of("pbf-unsorted.osm.pbf", &f);
    }
}

/* A block that holds nodes and ways, then blocks of ways that use its nodes: the node store is
 * sealed only after the nodes of a block are in it (at a block of ways alone), so every way
 * finds them with 3 threads as with 1 and through readosm. */
static void test_mixed_block_same_as_readosm(void **state)
{
    (void)state;
    static const struct tnode nodes[] = {
        {1, 471000000, 95000000, {NULL}},
        {2, 471010000, 95000000, {NULL}},
        {3, 471010000, 95010000, {"addr:housenumber", "7", "addr:street", "Ring", NULL}},
        {4, 471000000, 95010000, {NULL}},
    };
    struct wb f = {0};
    put_header(&f, std_features);
    struct tblock tb;
    tblock_init(&tb);
    add_dense(&tb, nodes, 4);
    static const struct tway first[] = {
        {10, {1, 2}, 2, {"highway", "residential", "name", "Ring", NULL}}};
    add_ways(&tb, first, 1);
    put_block(&f, &tb, STORE_ZLIB);
    for (int k = 0; k < 12; k++) { /* more blocks than are decoded ahead */
        struct tway w = {11 + k,
                         {1 + k % 4, 1 + (k + 1) % 4, 1 + (k + 2) % 4},
                         3,
                         {"addr:housenumber", k % 2 ? "1" : "2", "addr:street", "Ring", NULL}};
        tblock_init(&tb);
        add_ways(&tb, &w, 1);
        put_block(&f, &tb, STORE_ZLIB);
    }
    same_three_ways_of("pbf-mixed.osm.pbf", &f);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_sample),
        cmocka_unit_test(test_granularity_and_plain_nodes),
        cmocka_unit_test(test_threads_same_order),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_corrupted_everywhere),
        cmocka_unit_test(test_limits_and_unsupported),
        cmocka_unit_test(test_nodes_sorted_on_disk),
        cmocka_unit_test(test_nodes_sealed_readers),
        cmocka_unit_test(test_nodes_unsorted_in_memory),
        cmocka_unit_test(test_nodes_no_tmpdir),
        cmocka_unit_test(test_unsorted_file_same_as_readosm),
        cmocka_unit_test(test_mixed_block_same_as_readosm),
        cmocka_unit_test(test_real_extracts_same_as_readosm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
