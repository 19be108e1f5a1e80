/*
 * cmd_geocode.c - `geobatch geocode --index INDEX [--PARAM=VALUE ...] [INPUT_FILE]`.
 * --index may be given several times, or name a directory: the indexes are one set
 * (geocode_set.h), geocoded as one index.
 *
 * Writes to stdout exactly the text the server puts in result_..._out.txt for the same job
 * (both go through batch.c). DESIGN: the main thread reads a chunk of rows (copied into one
 * arena), N worker threads geocode contiguous slices of it into their own buffers, and the
 * main thread writes the buffers in slice order: output order is input order whatever the
 * thread count, and memory is bounded by the chunk size, not the input size.
 */
#include "job/batch.h"
#include "cli/cmd.h"
#include "base/clock.h"
#include "base/conf.h"
#include "base/csv.h"
#include "base/mem.h"
#include "base/err.h"
#include "base/progress.h"
#include "geocode/geocode.h"
#include "geocode/geocode_set.h"
#include "index/index.h"
#include "base/log.h"
#include "text/norm.h"
#include "job/params.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_ROWS  8192
#define OUT_MAX     ((size_t)1 << 30) /* per slice buffer */
#define MAX_THREADS 64

/* Per-record latency histogram: bucket k holds records that took [2^k, 2^(k+1)) ns. */
#define LAT_BUCKETS 40
struct latency {
    uint64_t count[LAT_BUCKETS];
    uint64_t max_ns;
    uint64_t asked; /* and the indexes asked (an index set's members: gc_result.asked) */
};

struct slice {
    const struct batch *b;
    const struct batch_rowset *set;
    size_t from, to;
    struct buf out, nomatch;
    int rc;
    size_t matched, unmatched;
    size_t levels[GL_HOUSENUMBER + 1]; /* rows by their first candidate's level */
    struct latency *lat;               /* NULL unless --stats */
    struct batch_lanes *lanes;         /* its thread's, kept from chunk to chunk */
};

/* What the progress line and the summary show; rows and bytes change while it is drawn. */
struct geocode_progress {
    _Atomic uint64_t rows;  /* geocoded so far */
    _Atomic uint64_t bytes; /* of the input read so far */
    uint64_t total_bytes;   /* the input's size; 0 when it is not a regular file */
};

/* The status line: rows, rate, and with a file's size the share done and an ETA. */
static void geocode_draw(void *ctx, double secs, char *line, size_t cap)
{
    const struct geocode_progress *g = ctx;
    uint64_t rows = g->rows, bytes = g->bytes;
    char n[32], rate[32], eta[32];
    int len = snprintf(line, cap, "geocode: %s rows, %s rows/s", progress_num(n, sizeof(n), rows),
                       progress_num(rate, sizeof(rate), secs > 0 ? (uint64_t)(rows / secs) : 0));
    if (g->total_bytes && len > 0 && (size_t)len < cap) {
        progress_eta(eta, sizeof(eta), (double)bytes, (double)g->total_bytes, secs);
        snprintf(line + len, cap - (size_t)len, ", %.0f%%%s%s",
                 100.0 * (double)bytes / (double)g->total_bytes, eta[0] ? ", ETA " : "", eta);
    }
}

static void latency_add(struct latency *l, uint64_t ns)
{
    int k = 0;
    while (k + 1 < LAT_BUCKETS && (ns >> (k + 1)) != 0)
        k++;
    l->count[k]++;
    if (ns > l->max_ns)
        l->max_ns = ns;
}

/* The upper bound of the bucket holding quantile q (an over-estimate by at most 2x). */
static uint64_t latency_quantile(const struct latency *l, double q)
{
    uint64_t total = 0, seen = 0;
    for (int k = 0; k < LAT_BUCKETS; k++)
        total += l->count[k];
    for (int k = 0; k < LAT_BUCKETS; k++) {
        seen += l->count[k];
        if (total && (double)seen >= q * (double)total)
            return (uint64_t)2 << k;
    }
    return l->max_ns;
}

static void *slice_run(void *arg)
{
    struct slice *sl = arg;
    size_t n = sl->to - sl->from;
    struct batch_result *res = xmallocarray(n ? n : 1, sizeof(*res));
    uint64_t *ns = sl->lat ? xmallocarray(n ? n : 1, sizeof(*ns)) : NULL;
    sl->rc =
        batch_rows(sl->b, sl->lanes, sl->set, sl->from, sl->to, &sl->out, &sl->nomatch, res, ns);
    for (size_t k = 0; k < n && sl->rc == 0; k++) {
        if (ns) {
            latency_add(sl->lat, ns[k]);
            sl->lat->asked += (uint64_t)res[k].asked;
        }
        if (res[k].matched)
            sl->matched++;
        else
            sl->unmatched++;
        sl->levels[res[k].level <= GL_HOUSENUMBER ? res[k].level : GL_NONE]++;
    }
    free(ns);
    free(res);
    return NULL;
}

static int write_buf(FILE *fp, const struct buf *b)
{
    if (b->len && fwrite(b->data, 1, b->len, fp) != b->len)
        return -EIO;
    return 0;
}

/* Geocode the chunk of rows with n threads and write it out in order. */
static int run_chunk(const struct batch *b, const struct batch_rowset *ch, int nthreads,
                     struct batch_lanes *const *lanes, FILE *out, FILE *nomatch, size_t *matched,
                     size_t *unmatched, size_t *levels, struct latency *lat)
{
    struct latency lats[MAX_THREADS];
    struct slice sl[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int n = nthreads;
    size_t nrows = batch_rowset_count(ch);
    if ((size_t)n > nrows)
        n = nrows ? (int)nrows : 1;
    size_t per = (nrows + (size_t)n - 1) / (size_t)n;
    for (int t = 0; t < n; t++) {
        memset(&sl[t], 0, sizeof(sl[t]));
        sl[t].b = b;
        sl[t].set = ch;
        sl[t].from = (size_t)t * per;
        sl[t].to = sl[t].from + per > nrows ? nrows : sl[t].from + per;
        sl[t].lanes = lanes[t];
        buf_init(&sl[t].out, OUT_MAX);
        buf_init(&sl[t].nomatch, OUT_MAX);
        if (lat) {
            memset(&lats[t], 0, sizeof(lats[t]));
            sl[t].lat = &lats[t];
        }
    }
    for (int t = 1; t < n; t++)
        if (pthread_create(&tid[t], NULL, slice_run, &sl[t]) != 0)
            abort();
    slice_run(&sl[0]);
    for (int t = 1; t < n; t++)
        pthread_join(tid[t], NULL);
    int rc = 0;
    for (int t = 0; t < n; t++) {
        if (rc == 0)
            rc = sl[t].rc;
        if (rc == 0)
            rc = write_buf(out, &sl[t].out);
        if (rc == 0 && nomatch)
            rc = write_buf(nomatch, &sl[t].nomatch);
        *matched += sl[t].matched;
        *unmatched += sl[t].unmatched;
        for (int k = 0; k <= GL_HOUSENUMBER; k++)
            levels[k] += sl[t].levels[k];
        for (int k = 0; lat && k < LAT_BUCKETS; k++)
            lat->count[k] += lats[t].count[k];
        if (lat && lats[t].max_ns > lat->max_ns)
            lat->max_ns = lats[t].max_ns;
        if (lat)
            lat->asked += lats[t].asked;
        buf_release(&sl[t].out);
        buf_release(&sl[t].nomatch);
    }
    return rc;
}

struct param_ctx {
    struct job_params *p;
};

static int take_param(void *ctx, const char *name, const char *value, char *err, size_t errlen)
{
    struct param_ctx *pc = ctx;
    static const char *const known[] = {
        "indelim",
        "outdelim",
        "outcols",
        "outputcombined",
        "header",
        "mode",
        "maxresults",
        "minresults",
        "language",
        "countryfocus",
        "includeinputfields",
        "allowunknowninputcolumns",
        "includeinvalidinput",
        "outputcompressed",
        "mailto",
        "gen",
    };
    bool ok = false;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        ok |= strcasecmp(name, known[i]) == 0;
    if (!ok) {
        snprintf(err, errlen, "unknown option '--%s' (see --help)", name);
        return GB_EUSAGE;
    }
    if (!value) {
        snprintf(err, errlen, "--%s needs a value", name);
        return GB_EUSAGE;
    }
    return params_set(pc->p, name, value, err, errlen);
}

static void json_add_str(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

/* The address fields of a --query candidate, in their order. */
static const struct {
    enum gc_field f;
    const char *key;
} query_fields[] = {{GF_HOUSENUMBER, "houseNumber"},
                    {GF_STREET, "street"},
                    {GF_DISTRICT, "district"},
                    {GF_CITY, "city"},
                    {GF_POSTCODE, "postalCode"},
                    {GF_COUNTY, "county"},
                    {GF_STATE, "state"},
                    {GF_COUNTRY3, "country"},
                    {GF_LOCATION_ID, "locationId"}};

/* --query: one free-form string, candidates as JSON on stdout. */
static int run_query(const struct gc_set *set, const struct job_params *p, const char *text,
                     const char *country)
{
    struct gc_query q = {.search_text = text,
                         .country = country,
                         .country_focus = p->countryfocus,
                         .max_results = p->maxresults};
    struct gc_result *res = xmalloc(sizeof(*res)), *tmp = xmalloc(sizeof(*tmp));
    int rc = gc_set_forward(set, &q, res, tmp);
    free(tmp);
    if (rc < 0) {
        fprintf(stderr, "geobatch geocode: %s\n", gb_strerror(rc));
        free(res);
        return CMD_FAIL;
    }
    json_t *arr = json_array();
    for (int i = 0; i < res->n; i++) {
        const struct gc_candidate *c = &res->c[i];
        json_t *o = json_object();
        char label[1024];
        gc_label(c, label, sizeof(label));
        json_object_set_new(o, "seqNumber", json_integer(i + 1));
        json_object_set_new(o, "latitude", json_real(c->lat));
        json_object_set_new(o, "longitude", json_real(c->lon));
        json_object_set_new(o, "matchLevel", json_string(gc_level_name(c->level)));
        json_add_str(o, "matchType", gc_type_name(c->type));
        json_object_set_new(o, "matchCode", json_string(gc_code_name(c->code)));
        json_object_set_new(o, "relevance", json_real(c->relevance));
        json_add_str(o, "locationLabel", label);
        for (size_t k = 0; k < sizeof(query_fields) / sizeof(query_fields[0]); k++)
            json_add_str(o, query_fields[k].key, gc_field(c, query_fields[k].f));
        json_array_append_new(arr, o);
    }
    char *s = json_dumps(arr, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    printf("%s\n", s ? s : "[]");
    free(s);
    json_decref(arr);
    free(res);
    return CMD_OK;
}

/* The summary line after a geocode shown with progress: rows, time, rows per match level. */
static void geocode_summary(uint64_t rows, const size_t *levels, size_t invalid, double secs)
{
    char n[32], rate[32], line[1024];
    int len = snprintf(line, sizeof(line), "geobatch geocode: %s rows in %.1f s (%s rows/s):",
                       progress_num(n, sizeof(n), rows), secs,
                       progress_num(rate, sizeof(rate), secs > 0 ? (uint64_t)(rows / secs) : 0));
    const char *sep = "";
    for (int k = GL_HOUSENUMBER; k >= GL_NONE && len > 0 && (size_t)len < sizeof(line); k--) {
        if (!levels[k])
            continue;
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s %s %s", sep,
                        k == GL_NONE ? "NOMATCH" : gc_level_name((enum gc_level)k),
                        progress_num(n, sizeof(n), levels[k]));
        sep = ",";
    }
    if (invalid && len > 0 && (size_t)len < sizeof(line))
        snprintf(line + len, sizeof(line) - (size_t)len, "; invalid lines %s",
                 progress_num(n, sizeof(n), invalid));
    fprintf(stderr, "%s\n", line);
}

/* Geocode every row after the header with nthreads threads of lanes each (0: as
 * batch_lanes_new chooses for an index of index_bytes), CHUNK_ROWS at a time: the result header
 * and lines to stdout, unmatched rows to nomatch (when not combined), invalid lines to errors,
 * figures to stderr with stats. With show, a status line (rows, rate, ETA when in is a regular
 * file) while it works and a summary line at the end. Return CMD_OK or CMD_FAIL (the message
 * printed). */
static int geocode_rows(struct batch *b, struct csv_reader *r, const struct job_params *p, FILE *in,
                        FILE *errors, FILE *nomatch, int nthreads, int lanes, uint64_t index_bytes,
                        bool stats, bool show)
{
    int status = CMD_OK;
    struct csv_row row;
    struct batch_rowset *ch = batch_rowset_new();
    struct batch_lanes *lane_sets[MAX_THREADS]; /* each thread's, for the whole input */
    for (int t = 0; t < nthreads; t++)
        lane_sets[t] = batch_lanes_new((size_t)lanes, index_bytes);
    struct buf hb, eb;
    buf_init(&hb, 1 << 20);
    buf_init(&eb, 1 << 20);
    int rc = batch_header(b, &hb);
    if (rc == 0)
        rc = write_buf(stdout, &hb);
    if (rc == 0 && nomatch && !p->outputcombined)
        rc = write_buf(nomatch, &hb);
    buf_release(&hb);
    size_t matched = 0, unmatched = 0, invalid = 0, levels[GL_HOUSENUMBER + 1] = {0};
    struct latency lat;
    memset(&lat, 0, sizeof(lat));
    uint64_t started = clock_ns();
    struct geocode_progress gp = {0};
    struct stat st;
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
        gp.total_bytes = (uint64_t)st.st_size;
    struct progress *prog = progress_start(show, geocode_draw, &gp);
    while (rc == 0) {
        int more = csv_next(r, &row);
        if (more < 0) {
            progress_message(prog, "geobatch geocode: read error: %s", gb_strerror(more));
            rc = more;
            break;
        }
        if (more == 1 && row.error) {
            invalid++;
            if (errors) {
                buf_reset(&eb);
                batch_error_line(&row, &eb);
                rc = write_buf(errors, &eb);
            }
            continue;
        }
        if (more == 1)
            batch_rowset_add(ch, &row);
        size_t nrows = batch_rowset_count(ch);
        if (nrows == CHUNK_ROWS || (more == 0 && nrows > 0)) {
            rc = run_chunk(b, ch, nthreads, lane_sets, stdout, p->outputcombined ? NULL : nomatch,
                           &matched, &unmatched, levels, stats ? &lat : NULL);
            gp.rows = matched + unmatched;
            off_t pos = gp.total_bytes ? ftello(in) : -1;
            if (pos >= 0)
                gp.bytes = (uint64_t)pos;
            batch_rowset_clear(ch);
        }
        if (more == 0)
            break;
    }
    buf_release(&eb);
    if (rc == 0 && fflush(stdout) != 0)
        rc = -EIO;
    double shown = progress_stop(prog);
    if (show && rc == 0)
        geocode_summary(matched + unmatched, levels, invalid, shown);
    if (rc < 0) {
        fprintf(stderr, "geobatch geocode: %s\n", gb_strerror(rc));
        status = CMD_FAIL;
    }
    log_debug("geocode done matched=%zu unmatched=%zu invalid=%zu", matched, unmatched, invalid);
    if (stats) {
        double secs = (double)(clock_ns() - started) / 1e9;
        size_t rows = matched + unmatched;
        fprintf(stderr,
                "rows=%zu matched=%zu unmatched=%zu invalid=%zu threads=%d seconds=%.3f "
                "rows_per_s=%.0f latency_us_p50<=%.1f p99<=%.1f p999<=%.1f max=%.1f "
                "indexes_asked_per_row=%.2f\n",
                rows, matched, unmatched, invalid, nthreads, secs, secs > 0 ? rows / secs : 0.0,
                latency_quantile(&lat, 0.5) / 1e3, latency_quantile(&lat, 0.99) / 1e3,
                latency_quantile(&lat, 0.999) / 1e3, lat.max_ns / 1e3,
                rows ? (double)lat.asked / (double)rows : 0.0);
    }
    batch_rowset_free(ch);
    for (int t = 0; t < nthreads; t++)
        batch_lanes_free(lane_sets[t]);
    return status;
}

/* --stats, once the checksums have read every page: how much of the index is in memory and
 * how much of that the kernel maps in 2 MiB pages (index_pages: at country size 4 KiB pages
 * slow the rows down; docs/scale.md). */
static void print_pages(const struct gc_set *set)
{
    size_t resident, huge, recached;
    if (cmd_index_pages(set, &resident, &huge, &recached) < 0) {
        fprintf(stderr, "index_resident_mb=unknown index_2mib_pages_pct=unknown\n");
        return;
    }
    fprintf(stderr, "index_resident_mb=%.1f index_2mib_pages_pct=%.0f index_recached=%zu\n",
            (double)resident / 1048576, resident ? 100.0 * (double)huge / (double)resident : 0.0,
            recached);
}

int cmd_geocode(int argc, char **argv)
{
    struct conf_strs indexes = {.n = 0};
    const char *errors_path = NULL, *query = NULL, *nomatch_path = NULL;
    const char *country = NULL;
    long threads = 0, lanes = 0;
    bool stats = false, progress = false, quiet = false;
    struct job_params p;
    params_init(&p);
    struct param_ctx pc = {&p};
    const struct conf_opt opts[] = {
        {"index", CONF_STRS, &indexes, "INDEX",
         "the index to geocode against (required); several --index, or a directory of *.gbx "
         "files, are geocoded as one index",
         0, 0},
        {"errors", CONF_STR, &errors_path, "FILE",
         "write invalid input lines here, as 'Line Number:N <line>' (default: not written)", 0, 0},
        {"no-matches", CONF_STR, &nomatch_path, "FILE",
         "with --outputcombined=false: write the unmatched rows here, as the server's "
         "result_..._err.txt (default: not written)",
         0, 0},
        {"threads", CONF_LONG, &threads, "N", "geocoding threads (default: all cores)", 1,
         MAX_THREADS},
        {"lanes", CONF_LONG, &lanes, "N", BATCH_LANES_HELP, 1, BATCH_LANES_MAX},
        {"query", CONF_STR, &query, "TEXT",
         "geocode this one free-form address instead of a file; print its candidates as JSON", 0,
         0},
        {"country", CONF_STR, &country, "CODE",
         "with --query: its country (ISO 3166 alpha-2 or alpha-3 code, or name)", 0, 0},
        {"stats", CONF_BOOL, &stats, NULL,
         "print rows, rows/s, per-record latency (p50, p99, p99.9, max; with several lanes a "
         "row's time includes the other lanes' steps) and the indexes asked a row (an index set's "
         "members) to stderr, and at the end how much of the index is in memory and in 2 MiB "
         "pages",
         0, 0},
        {"progress", CONF_BOOL, &progress, NULL,
         "show the rows done, the rate and an ETA on stderr while geocoding, and a summary "
         "line (rows per match level, time) at the end (default: when stderr is a terminal)",
         0, 0},
        {"quiet", CONF_BOOL, &quiet, NULL, "neither progress nor summary, even on a terminal", 0,
         0},
        {NULL},
    };
    const struct conf_spec spec = {
        .usage = "geobatch geocode --index INDEX [--PARAM=VALUE ...] [INPUT_FILE]",
        .summary = "Geocode a HERE 6.2 input file (stdin when no file) and write the result text "
                   "that the server\nputs in result_..._out.txt for the same job.",
        .opts = opts,
        .unknown = take_param,
        .ctx = &pc,
        .unknown_help =
            "HERE job parameters (names in any case; the values and defaults of the API, "
            "docs/api.md):\n"
            "  --outcols=LIST             the output columns, comma-separated (required for a "
            "file)\n"
            "  --indelim=D --outdelim=D   | ; : , or TAB (default |; outdelim defaults to "
            "indelim)\n"
            "  --outputcombined=BOOL      unmatched rows in the result too (true) or apart "
            "(false)\n"
            "  --header=BOOL              write the header line (true)\n"
            "  --mode=MODE                retrieveAddresses or retrieveAreas: reverse geocode "
            "recId|prox\n"
            "  --maxresults=N             candidates per row (10)\n"
            "  --language=L --countryfocus=ISO --includeinputfields=BOOL\n"
            "  --allowunknowninputcolumns=BOOL --includeinvalidinput=BOOL\n"
            "  also accepted: --minresults --outputcompressed --mailto --gen",
    };
    char *pos[2];
    int npos = 0;
    int rc = cmd_parse(&spec, argc, argv, pos, 1, &npos);
    if (rc >= 0)
        return rc;
    if (progress && quiet) {
        fprintf(stderr, "geobatch geocode: --progress and --quiet contradict each other\n");
        return CMD_USAGE;
    }
    if (indexes.n == 0) {
        fprintf(stderr, "geobatch geocode: --index INDEX is required\n");
        return CMD_USAGE;
    }
    if (country && !query) {
        fprintf(stderr, "geobatch geocode: --country goes with --query (the rows of a file name "
                        "their country in a column)\n");
        return CMD_USAGE;
    }
    if (country && !norm_country(country, strlen(country))) {
        fprintf(stderr,
                "geobatch geocode: --country '%s': not a country (an ISO 3166 code such as LI "
                "or LIE, or a name)\n",
                country);
        return CMD_USAGE;
    }
    char err[512] = "";
    if (!query && params_check(&p, err, sizeof(err)) < 0) {
        fprintf(stderr, "geobatch geocode: %s\n", err);
        return CMD_USAGE;
    }
    if ((rc = cmd_norm_init("geocode")) >= 0)
        return rc;
    struct gc_set *set = NULL;
    rc = gc_set_open(&set, indexes.v, indexes.n, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch geocode: %s\n", err);
        return CMD_FAIL;
    }
    struct cmd_verify verify; /* the checksums, while the rows are geocoded */
    cmd_verify_start_set(&verify, set, NULL, NULL);
    int status = CMD_OK;
    FILE *in = stdin, *errors = NULL, *nomatch = NULL;
    struct csv_reader *r = NULL;
    struct batch *b = NULL;
    if (query) {
        status = run_query(set, &p, query, country);
        goto out;
    }
    if (npos == 1 && !(in = fopen(pos[0], "r"))) {
        fprintf(stderr, "geobatch geocode: cannot open %s: %s\n", pos[0], strerror(errno));
        status = CMD_FAIL;
        goto out;
    }
    if (errors_path && !(errors = fopen(errors_path, "w"))) {
        fprintf(stderr, "geobatch geocode: cannot create %s: %s\n", errors_path, strerror(errno));
        status = CMD_FAIL;
        goto out;
    }
    if (nomatch_path && !(nomatch = fopen(nomatch_path, "w"))) {
        fprintf(stderr, "geobatch geocode: cannot create %s: %s\n", nomatch_path, strerror(errno));
        status = CMD_FAIL;
        goto out;
    }
    rc = csv_reader_new(&r, p.indelim, NULL, csv_read_file, in);
    if (rc < 0) {
        fprintf(stderr, "geobatch geocode: %s\n", gb_strerror(rc));
        status = CMD_FAIL;
        goto out;
    }
    struct csv_row row;
    rc = csv_next(r, &row);
    if (rc <= 0) {
        fprintf(stderr, "geobatch geocode: %s\n",
                rc == 0 ? "empty input: the first line must be a header" : gb_strerror(rc));
        status = CMD_FAIL;
        goto out;
    }
    rc = batch_new_set(&b, set, &p, &row, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch geocode: line %zu: %s\n", row.lineno, err);
        status = CMD_FAIL;
        goto out;
    }
    int nthreads = threads > 0 ? (int)threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    status = geocode_rows(b, r, &p, in, errors, nomatch, nthreads, (int)lanes, gc_set_size(set),
                          stats, progress_wanted(progress, quiet));
out:
    batch_free(b);
    csv_reader_free(r);
    if (in && in != stdin)
        fclose(in);
    if (errors && fclose(errors) != 0 && status == CMD_OK)
        status = CMD_FAIL;
    if (nomatch && fclose(nomatch) != 0 && status == CMD_OK)
        status = CMD_FAIL;
    if (cmd_verify_join(&verify, "geocode") >= 0)
        status = CMD_FAIL;
    if (stats)
        print_pages(set);
    gc_set_close(set);
    return status;
}
