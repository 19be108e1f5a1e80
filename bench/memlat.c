/*
 * memlat.c - the machine's memory as the geocoder meets it at country size: reads at random
 * in an area of a given size (anonymous, asked for 2 MiB pages): the time of one read whose
 * address comes from the line before (a binary search's halvings, a hash slot and the entry it
 * names), and the time a read takes when they are independent (rows interleaved on
 * coroutines: as many in flight as the core allows). Three more: what a second read in the
 * 4 KiB page of the one before costs (a street's record and then its addresses, were they
 * together); what a read costs whose line was asked for (prefetch) long before, with work
 * between (a lane's read, asked for before it stepped aside: 0 where the ask did all); and the
 * same for reads asked for BURST at a time, a burst ahead, as a lane's sweep asks for its lines
 * together before it steps aside (the same work a read). Each the median of three. `make
 * bench-scale` prints it beside the 18.5 M / 0.1 M ratios, which follow these times more than
 * the code: at 0.1 M the index is a few megabytes, at 18.5 M 1.3 GB.
 *
 *   memlat MIB...    one line each: area_mib=N chain_ns=… independent_ns=… same_page_ns=…
 *                    asked_ns=… burst_ns=…
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define LINE  64
#define HUGE2 ((size_t)2 << 20)

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static volatile uint64_t sink; /* the reads' sum, so that none is left out */

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* x, which the compiler can no longer see through: a read's address made from it waits for x. */
static uint64_t opaque(uint64_t x)
{
    __asm__("" : "+r"(x));
    return x;
}

/* Work that takes a while and reads no memory: a chain of multiplications. */
static uint64_t work(uint64_t x, int steps)
{
    for (int k = 0; k < steps; k++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x;
}

static double median3(const double *v)
{
    double lo = v[0] < v[1] ? v[0] : v[1], hi = v[0] < v[1] ? v[1] : v[0];
    return v[2] < lo ? lo : v[2] > hi ? hi : v[2];
}

/* An area of n lines, each holding the index of the next in one random cycle (Sattolo's
 * shuffle), so that a walk reads every line once in an order no prefetcher can guess. */
static uint32_t *cycle_area(size_t n, void **map, size_t *maplen)
{
    size_t bytes = (n * LINE + HUGE2 - 1) & ~(HUGE2 - 1);
    *maplen = bytes + HUGE2; /* room to start on a 2 MiB boundary */
    *map = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (*map == MAP_FAILED)
        return NULL;
    uint32_t *a = (uint32_t *)(((uintptr_t)*map + HUGE2 - 1) & ~(uintptr_t)(HUGE2 - 1));
#ifdef MADV_HUGEPAGE
    (void)madvise(a, bytes, MADV_HUGEPAGE);
#endif
    const size_t step = LINE / sizeof(uint32_t);
    for (size_t i = 0; i < n; i++)
        a[i * step] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) { /* Sattolo */
        size_t j = next_random() % i;
        uint32_t t = a[i * step];
        a[i * step] = a[j * step];
        a[j * step] = t;
    }
    return a;
}

/* An area's lines (cycle_area) and the lines of reads made ahead: reads + AHEAD of them. */
struct area {
    const uint32_t *a;
    const uint32_t *line;
    size_t reads;
};

enum { STEP = LINE / sizeof(uint32_t), AHEAD = 8, STEPS = 200, BURST = 8 };

/* ns a read that waits for the line before, walking the cycle from *at. */
static double chain_ns(const struct area *ar, uint32_t *at)
{
    double t0 = now_s();
    for (size_t i = 0; i < ar->reads; i++)
        *at = ar->a[(size_t)*at * STEP];
    double ns = (now_s() - t0) / (double)ar->reads * 1e9;
    sink = *at;
    return ns;
}

/* ns a read when none waits for another. */
static double independent_ns(const struct area *ar)
{
    uint64_t sum = 0;
    double t0 = now_s();
    for (size_t i = 0; i < ar->reads; i++)
        sum += ar->a[(size_t)ar->line[i] * STEP];
    double ns = (now_s() - t0) / (double)ar->reads * 1e9;
    sink = sum;
    return ns;
}

/* ns the second of two reads in one 4 KiB page costs: the chain again, each step after a read of
 * the line half a page away that it waits for, less chain (one step of the chain alone). */
static double same_page_ns(const struct area *ar, uint32_t *at, double chain)
{
    const size_t pairs = ar->reads / 4, half_page = 4096 / LINE / 2; /* 64 lines a page */
    double t0 = now_s();
    for (size_t i = 0; i < pairs; i++) {
        uint32_t v = ar->a[((size_t)*at ^ half_page) * STEP];
        *at = ar->a[(size_t)(*at + (uint32_t)(opaque(v) - v)) * STEP];
    }
    double ns = (now_s() - t0) / (double)pairs * 1e9 - chain;
    sink = *at;
    return ns;
}

/* ns per step of reads asked for AHEAD steps before they are made, each step a stretch of work
 * whose end its read's address waits for; the lines are taken modulo span. */
static double asked_step_ns(const struct area *ar, size_t span)
{
    const size_t asks = ar->reads / 8;
    uint64_t x = sink;
    double t0 = now_s();
    for (size_t i = 0; i < asks; i++) {
        __builtin_prefetch(&ar->a[(size_t)(ar->line[i + AHEAD] % span) * STEP]);
        x = work(x, STEPS);
        uint32_t v = ar->a[(ar->line[i] % span + (size_t)(opaque(x) - x)) * STEP];
        x += opaque(v) - v;
    }
    double ns = (now_s() - t0) / (double)asks * 1e9;
    sink = x;
    return ns;
}

/* ns a read of reads asked for BURST at a time, one burst ahead, each read after the work
 * of a step of asked_step_ns; the lines taken modulo span. */
static double burst_read_ns(const struct area *ar, size_t span)
{
    const size_t bursts = ar->reads / 8 / BURST;
    uint64_t x = sink;
    double t0 = now_s();
    for (size_t b = 0; b < bursts; b++) {
        const uint32_t *next = &ar->line[(b + 1) * BURST], *now = &ar->line[b * BURST];
        for (size_t k = 0; k < BURST; k++)
            __builtin_prefetch(&ar->a[(size_t)(next[k] % span) * STEP]);
        for (size_t k = 0; k < BURST; k++) {
            x = work(x, STEPS);
            uint32_t v = ar->a[(now[k] % span + (size_t)(opaque(x) - x)) * STEP];
            x += opaque(v) - v;
        }
    }
    double ns = (now_s() - t0) / (double)(bursts * BURST) * 1e9;
    sink = x;
    return ns;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: memlat MIB...\n");
        return 2;
    }
    for (int k = 1; k < argc; k++) {
        size_t mib = strtoull(argv[k], NULL, 10);
        size_t n = mib * ((size_t)1 << 20) / LINE;
        if (n < 2 || n > UINT32_MAX) {
            fprintf(stderr, "memlat: %s: from 1 to 262143 MiB\n", argv[k]);
            return 2;
        }
        void *map;
        size_t maplen;
        uint32_t *a = cycle_area(n, &map, &maplen);
        const size_t reads = 4000000;
        uint32_t *line = malloc(reads * sizeof(*line)); /* independent reads' lines, made ahead */
        if (!a || !line) {
            fprintf(stderr, "memlat: %zu MiB: out of memory\n", mib);
            return 1;
        }
        for (size_t i = 0; i < reads; i++)
            line[i] = (uint32_t)(next_random() % n);
        struct area ar = {a, line, reads - AHEAD};
        uint32_t at = 0;
        for (size_t i = 0; i < n && i < reads; i++) /* warm the page tables a little */
            at = a[(size_t)at * STEP];
        double chain[3], indep[3], page[3], asked[3], burst[3];
        for (int r = 0; r < 3; r++) {
            chain[r] = chain_ns(&ar, &at);
            indep[r] = independent_ns(&ar);
            page[r] = same_page_ns(&ar, &at, chain[r]);
            /* less the same work reading one line, always cached */
            asked[r] = asked_step_ns(&ar, n) - asked_step_ns(&ar, 1);
            burst[r] = burst_read_ns(&ar, n) - burst_read_ns(&ar, 1);
        }
        free(line);
        printf("area_mib=%zu chain_ns=%.0f independent_ns=%.1f same_page_ns=%.0f asked_ns=%.0f "
               "burst_ns=%.0f\n",
               mib, median3(chain), median3(indep), median3(page), median3(asked), median3(burst));
        munmap(map, maplen);
    }
    return 0;
}
