/*
 * batch.c - one HERE 6.2 job's rows through the geocoder into result text (see batch.h).
 *
 * The layout is spec §6.3: recId|SeqNumber|seqLength, then the outcols in the order asked,
 * then (includeInputFields) the input columns, prefixed "in:" where a name clashes with an
 * output column. A row without a match is one line with SeqNumber 0, seqLength 0, matchLevel
 * NOMATCH and every other column empty; a row whose fields are all empty is FAILED.
 */
#include "job/batch.h"
#include "base/err.h"
#include "base/mem.h"
#include "geocode/geocode.h"
#include "geocode/geocode_set.h"
#include "job/input.h"
#include "text/norm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct batch {
    const struct index *ix;
    const struct gc_set *set; /* batch_new_set: several indexes as one, else NULL */
    struct job_params p;
    struct input_header hdr;
    bool echo_prefix[256]; /* includeInputFields: this input column clashes with an outcol */
};

struct batch_scratch {
    struct gc_result res;
    struct gc_result *set_tmp; /* the members' answers of a set, allocated on first use */
    char label[1024];
};

int batch_new(struct batch **out, const struct index *ix, const struct job_params *p,
              const struct csv_row *header, char *err, size_t errlen)
{
    int rc = params_check(p, err, errlen);
    if (rc < 0)
        return rc;
    struct batch *b = calloc(1, sizeof(*b));
    if (!b)
        return GB_EINTERNAL;
    b->ix = ix;
    b->p = *p;
    rc = input_header_parse(header, p->allowunknowninputcolumns, &b->hdr, err, errlen);
    if (rc < 0) {
        free(b);
        return rc;
    }
    if (p->mode != MODE_GEOCODE && b->hdr.idx[INPUT_PROX] < 0) {
        snprintf(err, errlen, "reverse geocoding (mode) needs a prox column");
        input_header_release(&b->hdr);
        free(b);
        return GB_ECOLUMN;
    }
    for (size_t i = 0; i < b->hdr.ncols && i < 256; i++) {
        const char *name =
            b->hdr.col[i] >= 0 ? input_col_name((enum input_col)b->hdr.col[i]) : b->hdr.names[i];
        bool clash = strcasecmp(name, "recId") == 0 || strcasecmp(name, "SeqNumber") == 0 ||
                     strcasecmp(name, "seqLength") == 0;
        for (size_t k = 0; k < p->n_outcols && !clash; k++)
            clash = strcasecmp(name, outcol_name(p->outcols[k])) == 0;
        b->echo_prefix[i] = clash;
    }
    *out = b;
    return 0;
}

int batch_new_set(struct batch **out, const struct gc_set *set, const struct job_params *p,
                  const struct csv_row *header, char *err, size_t errlen)
{
    int rc = batch_new(out, gc_set_index(set, 0), p, header, err, errlen);
    if (rc == 0 && gc_set_count(set) > 1)
        (*out)->set = set;
    return rc;
}

void batch_free(struct batch *b)
{
    if (!b)
        return;
    input_header_release(&b->hdr);
    free(b);
}

struct batch_scratch *batch_scratch_new(void)
{
    return calloc(1, sizeof(struct batch_scratch));
}

void batch_scratch_free(struct batch_scratch *s)
{
    if (s)
        free(s->set_tmp);
    free(s);
}

/* The input columns echoed by includeInputFields: all but recId. */
static bool echoed(const struct batch *b, size_t i)
{
    return b->hdr.col[i] != INPUT_RECID;
}

static int put(struct buf *out, const char *s, char delim)
{
    return csv_put_field(out, s, strlen(s), delim);
}

int batch_header(const struct batch *b, struct buf *out)
{
    if (!b->p.header)
        return 0;
    char d = b->p.outdelim;
    int rc = buf_puts(out, "recId");
    rc = rc ? rc : buf_putc(out, d);
    rc = rc ? rc : buf_puts(out, "SeqNumber");
    rc = rc ? rc : buf_putc(out, d);
    rc = rc ? rc : buf_puts(out, "seqLength");
    for (size_t k = 0; rc == 0 && k < b->p.n_outcols; k++) {
        rc = buf_putc(out, d);
        rc = rc ? rc : put(out, outcol_name(b->p.outcols[k]), d);
    }
    if (b->p.includeinputfields) {
        for (size_t i = 0; rc == 0 && i < b->hdr.ncols; i++) {
            if (!echoed(b, i))
                continue;
            const char *name = b->hdr.col[i] >= 0 ? input_col_name((enum input_col)b->hdr.col[i])
                                                  : b->hdr.names[i];
            char tmp[300];
            snprintf(tmp, sizeof(tmp), "%s%s", b->echo_prefix[i] ? "in:" : "", name);
            rc = buf_putc(out, d);
            rc = rc ? rc : put(out, tmp, d);
        }
    }
    return rc ? rc : buf_putc(out, '\n');
}

/* Coordinates with up to 7 decimals, trailing zeros dropped (41.8843193, 42.02535). */
/* "%.7f" without the trailing zeros (one kept after the point), "0.0" for minus zero. Every
 * coordinate the index holds is a whole number of 1e-7 degrees, which this writes with integer
 * arithmetic: below 200 degrees the product v * 1e7 is within 2.4e-7 of a unit of its exact
 * value (half an ulp below 2^31), so far from a rounding tie (more than 1e-6 of a unit) the
 * rounded product is what printf rounds the exact value to; anything else goes to printf. */
static void fmt_coord(char *out, size_t cap, double v)
{
    double u = v * 1e7, r = nearbyint(u);
    if (isfinite(u) && fabs(u) < 2e9 && fabs(fabs(u - r) - 0.5) > 1e-6 && cap >= 32) {
        long long n = llround(u);
        unsigned long long a = n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;
        char *p = out;
        if (n < 0)
            *p++ = '-';
        p += sprintf(p, "%llu", a / 10000000ull);
        *p++ = '.';
        unsigned long long f = a % 10000000ull;
        int digits = 7;
        while (digits > 1 && f % 10 == 0) {
            f /= 10;
            digits--;
        }
        for (int k = digits - 1; k >= 0; k--, f /= 10)
            p[k] = (char)('0' + f % 10);
        p[digits] = '\0';
        return;
    }
    snprintf(out, cap, "%.7f", v);
    char *dot = strchr(out, '.');
    if (!dot)
        return;
    char *e = out + strlen(out) - 1;
    while (e > dot + 1 && *e == '0')
        *e-- = '\0';
    if (strcmp(out, "-0.0") == 0)
        snprintf(out, cap, "0.0");
}

static void fmt_quality(char *out, size_t cap, double v)
{
    if (v < 0)
        out[0] = '\0';
    else
        snprintf(out, cap, "%.2f", v);
}

/* The value of one output column for candidate c ("" for c == NULL except matchLevel). */
static const char *value_of(struct batch_scratch *s, enum outcol col, const struct gc_candidate *c,
                            const char *level_word, int seq, int seqlen, const char *recid,
                            char *tmp, size_t cap)
{
    tmp[0] = '\0';
    if (col == OC_RECID)
        return recid;
    if (col == OC_MATCH_LEVEL && !c)
        return level_word;
    if (col == OC_SEQNUMBER || col == OC_SEQLENGTH) {
        snprintf(tmp, cap, "%d", col == OC_SEQNUMBER ? seq : seqlen);
        return tmp;
    }
    if (!c)
        return "";
    static const enum gc_mq mq_of[] = {
        [OC_MQ_COUNTRY] = MQ_COUNTRY,         [OC_MQ_STATE] = MQ_STATE,
        [OC_MQ_COUNTY] = MQ_COUNTY,           [OC_MQ_CITY] = MQ_CITY,
        [OC_MQ_DISTRICT] = MQ_DISTRICT,       [OC_MQ_STREET] = MQ_STREET,
        [OC_MQ_HOUSENUMBER] = MQ_HOUSENUMBER, [OC_MQ_BUILDING] = MQ_BUILDING,
        [OC_MQ_POSTALCODE] = MQ_POSTCODE,
    };
    switch (col) {
    case OC_DISPLAY_LAT:
        fmt_coord(tmp, cap, c->lat);
        return tmp;
    case OC_DISPLAY_LON:
        fmt_coord(tmp, cap, c->lon);
        return tmp;
    case OC_NAV_LAT:
    case OC_LAT:
        fmt_coord(tmp, cap, c->nav_lat);
        return tmp;
    case OC_NAV_LON:
    case OC_LON:
        fmt_coord(tmp, cap, c->nav_lon);
        return tmp;
    case OC_MV_TL_LAT:
        fmt_coord(tmp, cap, c->tl_lat);
        return tmp;
    case OC_MV_TL_LON:
        fmt_coord(tmp, cap, c->tl_lon);
        return tmp;
    case OC_MV_BR_LAT:
        fmt_coord(tmp, cap, c->br_lat);
        return tmp;
    case OC_MV_BR_LON:
        fmt_coord(tmp, cap, c->br_lon);
        return tmp;
    case OC_LOCATION_LABEL:
    case OC_ADDRESS_LINES:
        gc_label(c, s->label, sizeof(s->label));
        return s->label;
    case OC_HOUSENUMBER:
        return c->house_number;
    case OC_STREET:
        return c->street;
    case OC_DISTRICT:
        return c->district;
    case OC_CITY:
        return c->city;
    case OC_POSTALCODE:
        return c->postcode;
    case OC_COUNTY:
        return c->county;
    case OC_STATE:
        return c->state;
    case OC_COUNTRY: {
        const char *iso3 = c->country[0] ? norm_country_iso3(c->country) : NULL;
        return iso3 ? iso3 : "";
    }
    case OC_ADDR_DETAILS_COUNTRY: {
        const char *name = c->country[0] ? norm_country_name(c->country) : NULL;
        return name ? name : "";
    }
    case OC_LOCATION_ID:
        return c->location_id;
    case OC_RELEVANCE:
        snprintf(tmp, cap, "%.2f", c->relevance);
        return tmp;
    case OC_MATCH_LEVEL:
        return gc_level_name(c->level);
    case OC_MATCH_TYPE:
        return gc_type_name(c->type);
    case OC_MATCH_CODE:
        return gc_code_name(c->code);
    case OC_MQ_STREET: /* one column: an intersection's lower of its two streets' */
        fmt_quality(tmp, cap,
                    c->level == GL_INTERSECTION && c->mq_street2 >= 0
                        ? fmin(c->mq[MQ_STREET], c->mq_street2)
                        : c->mq[MQ_STREET]);
        return tmp;
    case OC_MQ_COUNTRY:
    case OC_MQ_STATE:
    case OC_MQ_COUNTY:
    case OC_MQ_CITY:
    case OC_MQ_DISTRICT:
    case OC_MQ_HOUSENUMBER:
    case OC_MQ_BUILDING:
    case OC_MQ_POSTALCODE:
        fmt_quality(tmp, cap, c->mq[mq_of[col]]);
        return tmp;
    case OC_DISTANCE:
        if (c->distance >= 0)
            snprintf(tmp, cap, "%.0f", c->distance);
        return tmp;
    default:
        return "";
    }
}

static int write_line(const struct batch *b, struct batch_scratch *s, const struct csv_row *row,
                      const struct gc_candidate *c, const char *level_word, int seq, int seqlen,
                      struct buf *out)
{
    char d = b->p.outdelim;
    size_t recid_len;
    const char *recid = input_field(&b->hdr, row, INPUT_RECID, &recid_len);
    size_t mark = out->len;
    char tmp[64];
    int rc = csv_put_field(out, recid, recid_len, d);
    snprintf(tmp, sizeof(tmp), "%c%d%c%d", d, seq, d, seqlen);
    rc = rc ? rc : buf_puts(out, tmp);
    for (size_t k = 0; rc == 0 && k < b->p.n_outcols; k++) {
        const char *v =
            value_of(s, b->p.outcols[k], c, level_word, seq, seqlen, recid, tmp, sizeof(tmp));
        rc = buf_putc(out, d);
        rc = rc ? rc : put(out, v, d);
    }
    if (b->p.includeinputfields)
        for (size_t i = 0; rc == 0 && i < b->hdr.ncols && i < row->nfields; i++) {
            if (!echoed(b, i))
                continue;
            rc = buf_putc(out, d);
            rc = rc ? rc : csv_put_field(out, row->fields[i], row->lens[i], d);
        }
    rc = rc ? rc : buf_putc(out, '\n');
    if (rc < 0) {
        out->len = mark; /* never half a line */
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}

static const char *field(const struct batch *b, const struct csv_row *row, enum input_col c)
{
    return input_field(&b->hdr, row, c, NULL);
}

/* "lat,lon[,radius]" */
static int parse_prox(const char *s, double *lat, double *lon, double *radius)
{
    char *end;
    *lat = strtod(s, &end);
    if (end == s || *end != ',')
        return GB_EPARAM;
    s = end + 1;
    *lon = strtod(s, &end);
    if (end == s)
        return GB_EPARAM;
    while (*end == ' ')
        end++;
    *radius = GC_DEFAULT_RADIUS_M;
    if (*end == ',') {
        s = end + 1;
        *radius = strtod(s, &end);
        if (end == s || !(*radius >= 0))
            return GB_EPARAM;
        while (*end == ' ')
            end++;
    }
    if (*end != '\0' || !isfinite(*lat) || !isfinite(*lon) || fabs(*lat) > 90 || fabs(*lon) > 180)
        return GB_EPARAM;
    return 0;
}

/* The second result a set geocodes its members into (allocation failure aborts). */
static struct gc_result *set_tmp(struct batch_scratch *s)
{
    if (!s->set_tmp)
        s->set_tmp = xmalloc(sizeof(*s->set_tmp));
    return s->set_tmp;
}

int batch_row(const struct batch *b, struct batch_scratch *s, const struct csv_row *row,
              struct buf *out, struct buf *nomatch, struct batch_result *res)
{
    res->matched = false;
    res->candidates = 0;
    res->level = GL_NONE;
    res->asked = 0;
    bool all_empty = true;
    for (size_t i = 0; i < row->nfields && i < b->hdr.ncols; i++)
        if (b->hdr.col[i] != INPUT_RECID && b->hdr.col[i] >= 0 && row->lens[i] > 0)
            all_empty = false;
    const char *failed = NULL;
    int rc = 0;
    s->res.n = 0;
    if (all_empty)
        failed = "FAILED";
    else if (b->p.mode != MODE_GEOCODE) {
        double lat, lon, radius;
        if (parse_prox(field(b, row, INPUT_PROX), &lat, &lon, &radius) < 0)
            failed = "FAILED";
        else if (b->p.mode == MODE_RETRIEVE_AREAS)
            rc = b->set ? gc_set_reverse_areas(b->set, lat, lon, &s->res, set_tmp(s))
                        : geocode_reverse_areas(b->ix, lat, lon, &s->res);
        else
            rc = b->set ? gc_set_reverse(b->set, lat, lon, radius, b->p.maxresults, &s->res,
                                         set_tmp(s))
                        : geocode_reverse(b->ix, lat, lon, radius, b->p.maxresults, &s->res);
    } else {
        struct gc_query q = {
            .search_text = field(b, row, INPUT_SEARCHTEXT),
            .street = field(b, row, INPUT_STREET),
            .house_number = field(b, row, INPUT_HOUSENUMBER),
            .postcode = field(b, row, INPUT_POSTALCODE),
            .city = field(b, row, INPUT_CITY),
            .district = field(b, row, INPUT_DISTRICT),
            .county = field(b, row, INPUT_COUNTY),
            .state = field(b, row, INPUT_STATE),
            .country = field(b, row, INPUT_COUNTRY),
            .country_focus = b->p.countryfocus,
            .max_results = b->p.maxresults,
        };
        rc = b->set ? gc_set_forward(b->set, &q, &s->res, set_tmp(s))
                    : geocode_forward(b->ix, &q, &s->res);
        res->asked = s->res.asked;
    }
    if (rc < 0)
        failed = "FAILED";
    if (failed || s->res.n == 0) {
        struct buf *dst = b->p.outputcombined || !nomatch ? out : nomatch;
        res->candidates = 1;
        return write_line(b, s, row, NULL, failed ? failed : "NOMATCH", 0, 0, dst);
    }
    res->matched = true;
    res->level = s->res.c[0].level;
    for (int i = 0; i < s->res.n; i++) {
        rc = write_line(b, s, row, &s->res.c[i], NULL, i + 1, s->res.n, out);
        if (rc < 0)
            return rc;
        res->candidates++;
    }
    return 0;
}

int batch_error_line(const struct csv_row *row, struct buf *out)
{
    return input_error_line(out, row->lineno, row->raw, row->raw_len);
}
