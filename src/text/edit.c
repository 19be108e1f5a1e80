/*
 * edit.c - OSA edit distance, bit-parallel and by the banded table (see edit.h).
 *
 * The bit-parallel form (H. Hyyrö, "A bit-vector algorithm for computing Levenshtein and
 * Damerau edit distances", 2003) keeps one column of the DP table as vertical deltas in two
 * words: bit i of VP (VN) is set when cell i of the column is one more (less) than the cell
 * above it. PM is the set of pattern positions equal to the text byte; TR marks the positions
 * where a transposition of the previous and current text bytes is possible. The distance is the
 * bottom cell, followed through the horizontal delta of the last row.
 */
#include "text/edit.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

/* The bit-parallel OSA distance of pattern p[m] (1 to 64 bytes) and text t[n], read from
 * their ends when rev (the distance of two strings is that of the two reversed); with each, also
 * each[j] for j in [0, n]: the distance of p and the first (rev: the last) j bytes of t. Values
 * over max are max + 1. */
static inline int osa_scan(const unsigned char *p, size_t m, const unsigned char *t, size_t n,
                           int max, bool rev, int *each)
{
    /* peq[c]: positions of byte c in p; only the bytes of p are written, and `has` says which */
    uint64_t peq[256];
    uint64_t has[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < m; i++) {
        unsigned char c = rev ? p[m - 1 - i] : p[i];
        if (!(has[c >> 6] >> (c & 63) & 1)) {
            has[c >> 6] |= 1ull << (c & 63);
            peq[c] = 0;
        }
        peq[c] |= 1ull << i;
    }
    uint64_t vp = ~0ull, vn = 0, d0 = 0, pm_old = 0, last = 1ull << (m - 1);
    int dist = (int)m;
    if (each)
        each[0] = dist > max ? max + 1 : dist;
    for (size_t j = 0; j < n; j++) {
        unsigned char c = rev ? t[n - 1 - j] : t[j];
        uint64_t pm = (has[c >> 6] >> (c & 63) & 1) ? peq[c] : 0;
        uint64_t tr = (((~d0) & pm) << 1) & pm_old;
        d0 = (((pm & vp) + vp) ^ vp) | pm | vn | tr;
        uint64_t hp = vn | ~(d0 | vp), hn = d0 & vp;
        dist += (hp & last) != 0;
        dist -= (hn & last) != 0;
        hp = (hp << 1) | 1;
        hn <<= 1;
        vp = hn | ~(d0 | hp);
        vn = hp & d0;
        pm_old = pm;
        if (each)
            each[j + 1] = dist > max ? max + 1 : dist;
    }
    return dist > max ? max + 1 : dist;
}

void edit_osa_tails(const char *a, size_t la, const char *b, size_t lb, int max, int *each)
{
    assert(la >= 1 && la <= 64);
    (void)osa_scan((const unsigned char *)a, la, (const unsigned char *)b, lb, max, true, each);
}

int edit_osa(const char *a, size_t la, const char *b, size_t lb, int max)
{
    if (max < 0)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)max)
        return max + 1;
    if (la > lb) { /* the distance is symmetric: the shorter is the pattern */
        const char *s = a;
        a = b;
        b = s;
        size_t n = la;
        la = lb;
        lb = n;
    }
    if (la == 0)
        return lb > (size_t)max ? max + 1 : (int)lb;
    if (la > 64)
        return edit_osa_dp(a, la, b, lb, max);
    return osa_scan((const unsigned char *)a, la, (const unsigned char *)b, lb, max, false, NULL);
}

int edit_osa_dp(const char *a, size_t la, const char *b, size_t lb, int max)
{
    enum { FAR = 1 << 20, CAP = 256 };
    if (la > CAP || lb > CAP || max < 0)
        return max + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)max)
        return max + 1;
    /* three rows suffice: a transposition reads two rows up */
    static_assert(CAP < FAR, "FAR is beyond any distance");
    int rows[3][CAP + 2];
    size_t w = (size_t)max;
    for (size_t i = 0; i <= la; i++) {
        int *d = rows[i % 3], *d1 = rows[(i + 2) % 3], *d2 = rows[(i + 1) % 3];
        size_t lo = i > w ? i - w : 0, hi = i + w < lb ? i + w : lb;
        if (lo > 0)
            d[lo - 1] = FAR;
        if (hi < lb)
            d[hi + 1] = FAR;
        int rowmin = FAR;
        for (size_t j = lo; j <= hi; j++) {
            int v;
            if (i == 0)
                v = (int)j;
            else if (j == 0)
                v = (int)i;
            else {
                int cost = a[i - 1] != b[j - 1];
                v = d1[j - 1] + cost;
                if (d1[j] + 1 < v) /* FAR just past the band of row i - 1 */
                    v = d1[j] + 1;
                if (d[j - 1] + 1 < v)
                    v = d[j - 1] + 1;
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                    d2[j - 2] + 1 < v)
                    v = d2[j - 2] + 1;
            }
            d[j] = v;
            if (v < rowmin)
                rowmin = v;
        }
        if (rowmin > max)
            return max + 1;
    }
    int v = rows[la % 3][lb];
    return v > max ? max + 1 : v;
}
