/*
 * fuzz_osm_pbf.c - libFuzzer target for the PBF reader (import/osm_pbf.h).
 *
 * Each input is used twice: as a whole .osm.pbf file (written to a temp file, opened, and every
 * block decoded, once on the calling thread and once on three worker threads: both runs must
 * see the same objects, or fail with the same error), and as one PrimitiveBlock given to the
 * protobuf decoder directly, so that the fuzzer reaches the decoder without having to build
 * valid framing and zlib streams around it. A consumer reads every string, tag, ref and member
 * of every block, so that ASan sees any pointer that leaves the block's storage. The whole
 * importer runs on PBF input in fuzz_import.
 */
#include "base/log.h"
#include "import/osm_pbf.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_INPUT (256u << 10)

static char dir[64];
static char path[96];

/* What a run saw: a digest of every object, and how many. */
struct seen {
    uint64_t h;
    size_t n;
};

static void mix(struct seen *s, uint64_t v)
{
    s->h = (s->h ^ v) * 0x100000001b3ULL;
}

static void mix_str(struct seen *s, const char *p)
{
    for (; *p; p++)
        mix(s, (unsigned char)*p);
    mix(s, 0);
}

static void mix_tags(struct seen *s, const struct osm_tag *t, int n)
{
    for (int i = 0; i < n; i++) {
        mix_str(s, t[i].key);
        mix_str(s, t[i].value);
    }
}

static int consume(void *ctx, const struct osm_pbf_block *b)
{
    struct seen *s = ctx;
    mix(s, b->index);
    mix(s, b->kinds);
    for (size_t g = 0; g < b->ngroup; g++) {
        const struct osm_pbf_group *gr = &b->groups[g];
        for (size_t i = gr->first; i < gr->first + gr->count; i++) {
            s->n++;
            if (gr->kind == OSM_PBF_NODES) {
                const struct osm_node *nd = &b->nodes[i];
                uint64_t lat, lon;
                memcpy(&lat, &nd->latitude, 8);
                memcpy(&lon, &nd->longitude, 8);
                mix(s, (uint64_t)nd->id);
                mix(s, lat);
                mix(s, lon);
                mix_tags(s, nd->tags, nd->tag_count);
            } else if (gr->kind == OSM_PBF_WAYS) {
                const struct osm_way *w = &b->ways[i];
                mix(s, (uint64_t)w->id);
                for (int k = 0; k < w->node_ref_count; k++)
                    mix(s, (uint64_t)w->node_refs[k]);
                mix_tags(s, w->tags, w->tag_count);
            } else {
                const struct osm_relation *r = &b->rels[i];
                mix(s, (uint64_t)r->id);
                for (int k = 0; k < r->member_count; k++) {
                    mix(s, (uint64_t)r->members[k].id);
                    mix(s, (uint64_t)(int64_t)r->members[k].member_type);
                    mix_str(s, r->members[k].role);
                }
                mix_tags(s, r->tags, r->tag_count);
            }
        }
    }
    return 0;
}

static void write_file(const uint8_t *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, data + done, n - done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    close(fd);
}

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_OFF);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gbfuzzpbf.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof(path), "%s/in.osm.pbf", dir);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    const unsigned all = OSM_PBF_NODES | OSM_PBF_WAYS | OSM_PBF_RELATIONS;

    /* 1. the input as a PrimitiveBlock */
    struct osm_pbf_block b = {0};
    char err[256];
    struct seen one = {0xcbf29ce484222325ULL, 0};
    if (osm_pbf_block_parse(data, size, all, &b, err, sizeof(err)) == 0)
        consume(&one, &b);
    else if (!memchr(err, '\0', sizeof(err)))
        __builtin_trap();
    osm_pbf_block_release(&b);

    /* 2. the input as a file, on one thread and on three */
    write_file(data, size);
    struct osm_pbf *f = NULL;
    if (osm_pbf_open(&f, path, err, sizeof(err)) < 0)
        return 0;
    size_t n = osm_pbf_nblocks(f);
    size_t *order = malloc((n ? n : 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    struct seen a = {0xcbf29ce484222325ULL, 0}, c = a;
    char err_a[256] = "", err_c[256] = "";
    int rc_a = osm_pbf_run(f, order, n, all, 1, NULL, consume, &a, err_a, sizeof(err_a));
    int rc_c = osm_pbf_run(f, order, n, all, 3, NULL, consume, &c, err_c, sizeof(err_c));
    if (rc_a != rc_c || a.h != c.h || a.n != c.n || strcmp(err_a, err_c) != 0)
        __builtin_trap(); /* the threads changed what the consumer saw, or the error */
    free(order);
    osm_pbf_close(f);
    return 0;
}
