/*
 * geocode_cross.c - intersections: "Franklin St & Fulton St, San Francisco" is the point where
 * two streets of one town meet (HERE's match level "intersection"). Each street is read as a
 * query of its own, with the query's other parts (its town, postcode, state); of the pairs of
 * their answers' streets, the pair that meets nearest is the answer: where their ways meet
 * (geometry from OSM), else where the lines through their addresses near each other cross
 * (address points only). Two streets that do not meet (parallel, or far apart) are no
 * intersection, and the query is read as before.
 */
#include "geocode/geocode_int.h"
#include "index/index.h"
#include "record/geo.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
    CROSS_STREETS = 16, /* streets of one side's answer weighed */
    CROSS_POINTS = 512, /* points of one street weighed (its way's, else its addresses) */
    CROSS_TEXT = 1024,  /* bytes of a side's query */
};

#define WAYS_MEET_M     15.0  /* two ways this close meet */
#define NEAR_PAIR_M     150.0 /* two streets' addresses this close may meet */
#define LOCAL_M         200.0 /* the addresses that show a street's direction at the crossing */
#define CROSS_FROM_M    100.0 /* the crossing lies this close to the streets' nearest points */
#define MIN_ANGLE_DEG   25.0  /* lines closer to parallel do not cross */
#define SAME_CROSSING_M 100.0 /* two meetings this close are one crossing */
#define METRES_PER_DEG  111320.0

/* ---- the text ---- */

/* Words that join two streets' names: English, German ("Sonnenstraße Ecke
 * Schwanthalerstraße"), French. */
static const char *const joins[] = {"and", "at", "und", "ecke", "et"};

/* The length of a separator between two streets' names at byte p of t, whose part ends at
 * end (0: none): "&", "@", "/" (not beside a digit: "1075/47"), or a word of joins[]. */
static size_t separator_at(const char *t, size_t p, size_t end)
{
    char c = t[p];
    bool space_before = p > 0 && strchr(" /&", t[p - 1]) != NULL; /* "Sonnenstr./Ecke" */
    if (c == '&' || c == '@')
        return 1;
    if (c == '/')
        return p > 0 && p + 1 < end && !isdigit((unsigned char)t[p - 1]) &&
                       !isdigit((unsigned char)t[p + 1])
                   ? 1
                   : 0;
    for (size_t k = 0; k < sizeof(joins) / sizeof(joins[0]); k++) {
        const char *w = joins[k];
        size_t n = strlen(w);
        if (space_before && p + n < end && t[p + n] == ' ' && strncasecmp(t + p, w, n) == 0)
            return n;
    }
    return 0;
}

/* Whether [a, b) of t holds a letter. */
static bool has_letter(const char *t, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (isalpha((unsigned char)t[i]) || (unsigned char)t[i] >= 0x80)
            return true;
    return false;
}

/* The first separator of text with a letter before it and after it in its part (commas end
 * parts): its offset into *at and length into *len, and the part's bounds into *a and *b. */
static bool find_separator(const char *t, size_t *a, size_t *b, size_t *at, size_t *len)
{
    size_t n = strlen(t);
    for (size_t start = 0; start < n;) {
        const char *comma = memchr(t + start, ',', n - start);
        size_t end = comma ? (size_t)(comma - t) : n;
        for (size_t p = start; p < end; p++) {
            size_t l = separator_at(t, p, end);
            for (size_t q = p + l; l && q < end;) { /* "Sonnenstr./Ecke", "& at" as one */
                while (q < end && t[q] == ' ')
                    q++;
                size_t more = q < end ? separator_at(t, q, end) : 0;
                if (!more)
                    break;
                l = q + more - p;
                q += more;
            }
            if (l && has_letter(t, start, p) && has_letter(t, p + l, end)) {
                *a = start;
                *b = end;
                *at = p;
                *len = l;
                return true;
            }
        }
        start = end + 1;
    }
    return false;
}

/* [a, b) of t without the spaces at its ends, appended to out (used bytes of cap): false when
 * it does not fit. */
static bool append_trimmed(char *out, size_t cap, size_t *used, const char *t, size_t a, size_t b)
{
    while (a < b && t[a] == ' ')
        a++;
    while (b > a && t[b - 1] == ' ')
        b--;
    if (*used + (b - a) + 1 > cap)
        return false;
    memcpy(out + *used, t + a, b - a);
    *used += b - a;
    out[*used] = '\0';
    return true;
}

/* Whether the first answer of out is a street whose name holds the separator [at, at + len)
 * of t as a word ("Martha and Mary Lane", "Rue du 8 Mai 1945 / Place X" not). */
static bool name_holds_separator(const struct gc_result *out, const char *t, size_t at, size_t len)
{
    if (out->n == 0 || out->c[0].level != GL_STREET)
        return false;
    const char *name = out->c[0].street;
    for (size_t p = 0; name[p]; p++)
        if ((p == 0 || name[p - 1] == ' ') && strncasecmp(name + p, t + at, len) == 0 &&
            (name[p + len] == ' ' || name[p + len] == '\0'))
            return true;
    return false;
}

/* ---- one side: a street read alone ---- */

struct side {
    uint32_t street[CROSS_STREETS];
    int n;
    double mq[MQ__COUNT];
    double words_over;
    const char *city, *state;
};

/* Read q alone into out and keep its answer's streets and match qualities in *s. */
static void read_side(struct gctx *g, const struct index *ix, const struct gc_query *q,
                      struct gc_result *out, struct side *s)
{
    s->n = 0;
    if (gc_read(g, ix, q, out) < 0 || out->n == 0 || out->c[0].level < GL_STREET)
        return;
    s->n = gc_answer_streets(g, s->street, CROSS_STREETS);
    memcpy(s->mq, out->c[0].mq, sizeof(s->mq));
    s->words_over = out->c[0].words_over;
    s->city = out->c[0].city;
    s->state = out->c[0].state;
}

/* ---- where two streets meet ---- */

/* Points in metres on a plane around lat0, lon0; break[i]: no segment from point i - 1. */
struct pts {
    double x[CROSS_POINTS], y[CROSS_POINTS];
    bool brk[CROSS_POINTS];
    int n;
    bool way; /* a way's points (segments), else addresses */
};

struct plane {
    double lat0, lon0, kx;
};

static void to_plane(const struct plane *p, int32_t lat, int32_t lon, double *x, double *y)
{
    *x = (fix2deg(lon) - p->lon0) * p->kx;
    *y = (fix2deg(lat) - p->lat0) * METRES_PER_DEG;
}

/* Street s's way points, else its addresses, on plane p (up to CROSS_POINTS). */
static void street_points(const struct index_view *v, const struct ix_street *s,
                          const struct plane *p, struct pts *o)
{
    o->n = 0;
    o->way = s->geom_count >= 2;
    if (o->way) {
        bool brk = true;
        for (uint32_t i = 0; i < s->geom_count && o->n < CROSS_POINTS; i++) {
            const struct ix_point *pt = &v->points[s->geom_first + i];
            if (pt->lat == IX_PART_BREAK) {
                brk = true;
                continue;
            }
            to_plane(p, pt->lat, pt->lon, &o->x[o->n], &o->y[o->n]);
            o->brk[o->n++] = brk;
            brk = false;
        }
        return;
    }
    for (uint32_t i = 0; i < s->addr_count && o->n < CROSS_POINTS; i++) {
        const struct ix_addr *ad = &v->addrs[s->addr_first + i];
        to_plane(p, ad->lat, ad->lon, &o->x[o->n], &o->y[o->n]);
        o->brk[o->n++] = true;
    }
}

/* The point of segment [a, b] nearest to p: its parameter in [0, 1]. */
static double seg_param(double ax, double ay, double bx, double by, double px, double py)
{
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    if (l2 <= 0)
        return 0;
    double t = ((px - ax) * dx + (py - ay) * dy) / l2;
    return t < 0 ? 0 : t > 1 ? 1 : t;
}

/* Where two ways' segments come nearest: the distance, and the midpoint into *x, *y. */
static double ways_nearest(const struct pts *a, const struct pts *b, double *x, double *y)
{
    double best = 2 * WAYS_MEET_M; /* farther is no meeting: pairs beyond it are skipped */
    for (int i = 1; i < a->n; i++) {
        if (a->brk[i])
            continue;
        for (int j = 1; j < b->n; j++) {
            if (b->brk[j])
                continue;
            /* nearest points of two segments: one of the four ends against the other
             * segment, or a crossing */
            double ax = a->x[i - 1], ay = a->y[i - 1], bx = a->x[i], by = a->y[i];
            double cx = b->x[j - 1], cy = b->y[j - 1], dx = b->x[j], dy = b->y[j];
            if (fmin(ax, bx) > fmax(cx, dx) + best || fmin(cx, dx) > fmax(ax, bx) + best ||
                fmin(ay, by) > fmax(cy, dy) + best || fmin(cy, dy) > fmax(ay, by) + best)
                continue; /* their boxes farther apart than the nearest found */
            double den = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx);
            if (den != 0) {
                double t = ((cx - ax) * (dy - cy) - (cy - ay) * (dx - cx)) / den;
                double u = ((cx - ax) * (by - ay) - (cy - ay) * (bx - ax)) / den;
                if (t >= 0 && t <= 1 && u >= 0 && u <= 1) {
                    *x = ax + t * (bx - ax);
                    *y = ay + t * (by - ay);
                    return 0;
                }
            }
            const double ends[4][6] = {{ax, ay, cx, cy, dx, dy},
                                       {bx, by, cx, cy, dx, dy},
                                       {cx, cy, ax, ay, bx, by},
                                       {dx, dy, ax, ay, bx, by}};
            for (int k = 0; k < 4; k++) {
                const double *e = ends[k];
                double t = seg_param(e[2], e[3], e[4], e[5], e[0], e[1]);
                double qx = e[2] + t * (e[4] - e[2]), qy = e[3] + t * (e[5] - e[3]);
                double d = hypot(e[0] - qx, e[1] - qy);
                if (d < best) {
                    best = d;
                    *x = (e[0] + qx) / 2;
                    *y = (e[1] + qy) / 2;
                }
            }
        }
    }
    return best;
}

/* The direction (unit vector) of the points of s within LOCAL_M of (cx, cy): their principal
 * axis, through their mean (*mx, *my). False when they are fewer than two or lie within 10 m. */
static bool local_axis(const struct pts *s, double cx, double cy, double *mx, double *my,
                       double *ux, double *uy)
{
    double sx = 0, sy = 0;
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (hypot(s->x[i] - cx, s->y[i] - cy) <= LOCAL_M) {
            sx += s->x[i];
            sy += s->y[i];
            n++;
        }
    if (n < 2)
        return false;
    *mx = sx / n;
    *my = sy / n;
    double xx = 0, yy = 0, xy = 0;
    for (int i = 0; i < s->n; i++)
        if (hypot(s->x[i] - cx, s->y[i] - cy) <= LOCAL_M) {
            double dx = s->x[i] - *mx, dy = s->y[i] - *my;
            xx += dx * dx;
            yy += dy * dy;
            xy += dx * dy;
        }
    double angle = 0.5 * atan2(2 * xy, xx - yy);
    *ux = cos(angle);
    *uy = sin(angle);
    double spread = 0;
    for (int i = 0; i < s->n; i++)
        if (hypot(s->x[i] - cx, s->y[i] - cy) <= LOCAL_M) {
            double along = fabs((s->x[i] - *mx) * *ux + (s->y[i] - *my) * *uy);
            spread = along > spread ? along : spread;
        }
    return spread >= 10;
}

/* Where two streets known by points meet: near their nearest two points, the crossing of the
 * lines that their points near there follow. Its distance from those points into *x, *y,
 * INFINITY when they do not meet. */
static double points_cross(const struct pts *a, const struct pts *b, double *x, double *y)
{
    double near = INFINITY, cx = 0, cy = 0;
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++) {
            double d = hypot(a->x[i] - b->x[j], a->y[i] - b->y[j]);
            if (d < near) {
                near = d;
                cx = (a->x[i] + b->x[j]) / 2;
                cy = (a->y[i] + b->y[j]) / 2;
            }
        }
    if (near > NEAR_PAIR_M)
        return INFINITY;
    double amx, amy, aux, auy, bmx, bmy, bux, buy;
    if (!local_axis(a, cx, cy, &amx, &amy, &aux, &auy) ||
        !local_axis(b, cx, cy, &bmx, &bmy, &bux, &buy))
        return INFINITY;
    double den = aux * buy - auy * bux; /* the sine of the angle between the lines */
    if (fabs(den) < sin(MIN_ANGLE_DEG * M_PI / 180))
        return INFINITY;
    double t = ((bmx - amx) * buy - (bmy - amy) * bux) / den;
    *x = amx + t * aux;
    *y = amy + t * auy;
    double d = hypot(*x - cx, *y - cy);
    return d <= CROSS_FROM_M ? d : INFINITY;
}

/* Where streets sa and sb meet, into *lat, *lon: how far from the evidence (0 where ways
 * cross), INFINITY when they do not. */
static double streets_meet(const struct index_view *v, const struct ix_street *sa,
                           const struct ix_street *sb, double *lat, double *lon)
{
    if (sa->country[0] != sb->country[0] || sa->country[1] != sb->country[1] ||
        gc_extent_gap_m(sa, sb) > NEAR_PAIR_M)
        return INFINITY; /* another town's, or too far apart to meet: nothing read */
    struct plane p = {fix2deg(sa->lat), fix2deg(sa->lon), 0};
    p.kx = METRES_PER_DEG * cos(p.lat0 * M_PI / 180);
    struct pts a, b;
    street_points(v, sa, &p, &a);
    street_points(v, sb, &p, &b);
    double x = 0, y = 0, d;
    if (a.way && b.way) {
        d = ways_nearest(&a, &b, &x, &y);
        if (d > WAYS_MEET_M)
            return INFINITY;
    } else {
        d = points_cross(&a, &b, &x, &y);
        if (!isfinite(d))
            return INFINITY;
    }
    *lat = p.lat0 + y / METRES_PER_DEG;
    *lon = p.lon0 + x / p.kx;
    return d;
}

/* ---- the answer ---- */

/* Two streets that meet: the sides' streets i and j, where, and how far from the evidence. */
struct meet {
    int i, j;
    double lat, lon, d;
};

/* e into m (n of them, nearest first), unless a meeting this close is there already (the same
 * crossing through other parts of the streets): the new count. */
static int meet_add(struct meet *m, int n, const struct meet *e)
{
    for (int k = 0; k < n; k++)
        if (geo_approx_distance_m(m[k].lat, m[k].lon, e->lat, e->lon) < SAME_CROSSING_M) {
            if (!(e->d < m[k].d))
                return n;
            memmove(&m[k], &m[k + 1], (size_t)(n - k - 1) * sizeof(*m)); /* e takes its place */
            n--;
            break;
        }
    if (n == GC_MAX_CANDIDATES && !(e->d < m[n - 1].d))
        return n;
    int k = n < GC_MAX_CANDIDATES ? n++ : n - 1;
    for (; k > 0 && e->d < m[k - 1].d; k--)
        m[k] = m[k - 1];
    m[k] = *e;
    return n;
}

static void cross_out(struct gctx *g, const struct ix_street *sa, const struct ix_street *sb,
                      const struct side *a, const struct side *b, double lat, double lon,
                      struct gc_candidate *o)
{
    const struct index_view *v = g->v;
    const struct ix_street *town = *ix_str(v, sb->city) || !*ix_str(v, sa->city) ? sb : sa;
    gc_init_out(o);
    gc_fill_from_street(v, o, town);
    snprintf(o->street_buf, sizeof(o->street_buf), "%s & %s", ix_str(v, sa->name),
             ix_str(v, sb->name));
    o->street = o->street_buf;
    o->lat = o->nav_lat = lat;
    o->lon = o->nav_lon = lon;
    gc_set_view(o, 100);
    o->level = GL_INTERSECTION;
    gc_postcode_town_out(g->ix, o);
    o->type = GT_NONE;
    o->code = GC_EXACT;
    for (int i = 0; i < MQ__COUNT; i++) /* the town's parts as the side that named them read */
        o->mq[i] = b->mq[i] >= 0 ? b->mq[i] : a->mq[i];
    o->mq[MQ_STREET] = fmin(a->mq[MQ_STREET], b->mq[MQ_STREET]); /* the relevance's */
    o->mq[MQ_HOUSENUMBER] = -1;
    o->words_over = fmax(a->words_over, b->words_over);
    o->relevance = gc_relevance(o);
    o->mq[MQ_STREET] = a->mq[MQ_STREET]; /* each street's, as written: "streets": [a, b] */
    o->mq_street2 = b->mq[MQ_STREET];
    gc_location_id(o->location_id, sizeof(o->location_id), 'X', sa->id, sb->id);
}

int gc_intersection(struct gctx *g, const struct index *ix, const struct gc_query *q,
                    struct gc_result *out, int rc)
{
    if (rc < 0 || (out->n > 0 && out->c[0].level >= GL_HOUSENUMBER))
        return rc;
    char ta[CROSS_TEXT], tb[CROSS_TEXT];
    struct gc_query qa = *q, qb = *q;
    size_t a, b, at, len;
    bool structured = !is_blank(q->street);
    if (structured) { /* the street field holds both */
        size_t ua = 0, ub = 0;
        if (!find_separator(q->street, &a, &b, &at, &len) ||
            !append_trimmed(ta, sizeof(ta), &ua, q->street, 0, at) ||
            !append_trimmed(tb, sizeof(tb), &ub, q->street, at + len, strlen(q->street)))
            return rc;
        qa.street = ta;
        qb.street = tb;
    } else {
        const char *t = q->search_text;
        if (is_blank(t) || !find_separator(t, &a, &b, &at, &len))
            return rc;
        /* B: its words and the parts after; A: the parts before, its words and those after */
        size_t used = 0;
        if (!append_trimmed(tb, sizeof(tb), &used, t, at + len, strlen(t)))
            return rc;
        used = 0;
        if (!append_trimmed(ta, sizeof(ta), &used, t, 0, at) ||
            !append_trimmed(ta, sizeof(ta), &used, t, b, strlen(t)))
            return rc;
        qa.search_text = ta;
        qb.search_text = tb;
    }
    if (name_holds_separator(out, structured ? q->street : q->search_text, at, len))
        return rc; /* "Martha and Mary Lane": one street's name */
    qa.max_results = qb.max_results = GC_MAX_CANDIDATES;
    /* the answer so far (up to its candidates: not the geocoder's scratch), given back when
     * there is no intersection; the candidates' own buffers come back to their addresses */
    static_assert(offsetof(struct gc_result, scratch) >= offsetof(struct gc_result, c),
                  "gc_result: the scratch after the candidates");
    unsigned char first[offsetof(struct gc_result, scratch)];
    memcpy(first, out, sizeof(first));
    struct side sa, sb;
    read_side(g, ix, &qb, out, &sb);
    if (sb.n == 1 && !structured && b == strlen(q->search_text)) {
        /* nothing after the intersection's part: A in the town B was found in (where B is
         * in several towns, A in all of its own) */
        size_t used = strlen(ta);
        int n = snprintf(ta + used, sizeof(ta) - used, ", %s%s%s", sb.city, *sb.state ? ", " : "",
                         sb.state);
        if (n < 0 || (size_t)n >= sizeof(ta) - used)
            sb.n = 0;
    }
    if (sb.n > 0)
        read_side(g, ix, &qa, out, &sa);
    const struct index_view *v = g->v;
    struct meet m[GC_MAX_CANDIDATES];
    int n = 0;
    for (int i = 0; sb.n > 0 && i < sa.n; i++)
        for (int j = 0; j < sb.n; j++) {
            struct meet e = {.i = i, .j = j};
            e.d = streets_meet(v, &v->streets[sa.street[i]], &v->streets[sb.street[j]], &e.lat,
                               &e.lon);
            if (isfinite(e.d))
                n = meet_add(m, n, &e);
        }
    if (n == 0) { /* no intersection: the first answer, the context q's again */
        int again = gc_read(g, ix, q, out);
        memcpy(out, first, sizeof(first));
        return again < 0 ? again : rc;
    }
    gc_start_result(out);
    int max = q->max_results < 1 ? 1 : q->max_results > n ? n : q->max_results;
    for (int k = 0; k < max; k++) {
        cross_out(g, &v->streets[sa.street[m[k].i]], &v->streets[sb.street[m[k].j]], &sa, &sb,
                  m[k].lat, m[k].lon, &out->c[k]);
        out->c[k].code = n > 1 ? GC_AMBIGUOUS : GC_EXACT;
    }
    out->n = max;
    return 0;
}
