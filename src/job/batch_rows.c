/*
 * batch_rows.c - many rows of a job through batch_row(), interleaved: rows copied out of their
 * reader (batch_rowset), and lanes (batch_lanes) that geocode several of them at once on
 * coroutines of one thread (base/co.h), each stepping aside where its next read would wait for
 * memory. Each lane writes into its own buffers; the rows' lines are then appended in row
 * order, so the output is the bytes batch_row() gives one row after another.
 */
#include "job/batch.h"
#include "base/clock.h"
#include "base/co.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(BATCH_LANES_MAX == CO_MAX, "batch.h's BATCH_LANES_MAX is base/co.h's CO_MAX");

#define ROW_FIELDS 256 /* fields of a row that batch_row() sees, as the CLI always had */

/* ---- rows copied out of a reader ---- */

struct stored_row {
    size_t lineno;
    size_t nfields;
    size_t first; /* its first field in off[] and len[] */
};

struct batch_rowset {
    struct stored_row *rows;
    size_t nrows, cap_rows;
    struct buf arena;  /* field bytes, each NUL-terminated */
    size_t *off, *len; /* per field: offset in arena, length */
    size_t nf, capf;
};

struct batch_rowset *batch_rowset_new(void)
{
    struct batch_rowset *s = xcalloc(1, sizeof(*s));
    buf_init(&s->arena, (size_t)1 << 40);
    return s;
}

void batch_rowset_free(struct batch_rowset *s)
{
    if (!s)
        return;
    free(s->rows);
    free(s->off);
    free(s->len);
    buf_release(&s->arena);
    free(s);
}

void batch_rowset_clear(struct batch_rowset *s)
{
    s->nrows = 0;
    s->nf = 0;
    buf_reset(&s->arena);
}

size_t batch_rowset_count(const struct batch_rowset *s)
{
    return s->nrows;
}

void batch_rowset_add(struct batch_rowset *s, const struct csv_row *row)
{
    VEC_GROW(s->rows, s->nrows, s->cap_rows);
    struct stored_row *r = &s->rows[s->nrows++];
    r->lineno = row->lineno;
    r->nfields = row->nfields < ROW_FIELDS ? row->nfields : ROW_FIELDS;
    r->first = s->nf;
    for (size_t i = 0; i < r->nfields; i++) {
        if (s->nf == s->capf) {
            s->capf = s->capf ? s->capf * 2 : 4096;
            s->off = xreallocarray(s->off, s->capf, sizeof(size_t));
            s->len = xreallocarray(s->len, s->capf, sizeof(size_t));
        }
        s->off[s->nf] = s->arena.len;
        s->len[s->nf] = row->lens[i];
        if (buf_append(&s->arena, row->fields[i], row->lens[i]) < 0 ||
            buf_putc(&s->arena, '\0') < 0)
            abort(); /* callers bound the rows, the reader their lines */
        s->nf++;
    }
}

/* Row i of s as batch_row() takes it, its field pointers in fields[ROW_FIELDS]. */
static void rowset_row(const struct batch_rowset *s, size_t i, struct csv_row *row, char **fields)
{
    const struct stored_row *r = &s->rows[i];
    memset(row, 0, sizeof(*row));
    row->lineno = r->lineno;
    row->nfields = r->nfields;
    for (size_t k = 0; k < r->nfields; k++)
        fields[k] = s->arena.data + s->off[r->first + k];
    row->fields = fields;
    row->lens = s->len + r->first;
}

/* ---- lanes ---- */

/* One coroutine's rows: their output, and for each row where its lines end in it. */
struct lane_row {
    size_t row, out_end, nomatch_end;
};

struct lane {
    struct batch_scratch *s;
    struct buf out, nomatch;
    struct lane_row *rows;
    size_t n, cap;
};

struct batch_lanes {
    struct co_group *co; /* NULL: one row after another */
    size_t n;
    struct lane lane[CO_MAX];
    /* the rows being geocoded, for the coroutines */
    const struct batch *b;
    const struct batch_rowset *set;
    struct buf *out, *nomatch;
    struct batch_result *res;
    uint64_t *ns;
    size_t from, to, next;
    int rc;
};

struct batch_lanes *batch_lanes_new(size_t lanes, uint64_t index_bytes)
{
    struct batch_lanes *l = xcalloc(1, sizeof(*l));
    if (lanes == 0) /* interleave where the index is too large for the caches */
        lanes = index_bytes >= BATCH_LANES_MIN_INDEX ? BATCH_LANES_AUTO : 1;
    l->n = lanes > CO_MAX ? CO_MAX : lanes;
    if (l->n > 1 && !(l->co = co_group_new(l->n)))
        l->n = 1; /* no stack switch here, or no memory for the stacks */
    for (size_t i = 0; i < l->n; i++) {
        struct lane *ln = &l->lane[i];
        if (!(ln->s = batch_scratch_new()))
            abort(); /* out of memory */
        buf_init(&ln->out, (size_t)1 << 40);
        buf_init(&ln->nomatch, (size_t)1 << 40);
    }
    return l;
}

void batch_lanes_free(struct batch_lanes *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct lane *ln = &l->lane[i];
        batch_scratch_free(ln->s);
        buf_release(&ln->out);
        buf_release(&ln->nomatch);
        free(ln->rows);
    }
    co_group_free(l->co);
    free(l);
}

/* Row i of the rows being geocoded into out and nomatch (its result and time in l). */
static int one_row(struct batch_lanes *l, struct batch_scratch *s, size_t i, struct buf *out,
                   struct buf *nomatch)
{
    char *fields[ROW_FIELDS];
    struct csv_row row;
    rowset_row(l->set, i, &row, fields);
    uint64_t t0 = l->ns ? clock_ns() : 0;
    int rc = batch_row(l->b, s, &row, out, nomatch, &l->res[i - l->from]);
    if (l->ns)
        l->ns[i - l->from] = clock_ns() - t0;
    return rc;
}

/* Coroutine i: the next row not yet taken, as long as there is one. */
static void lane_run(void *arg, size_t i)
{
    struct batch_lanes *l = arg;
    struct lane *ln = &l->lane[i];
    while (l->next < l->to && l->rc == 0) {
        size_t r = l->next++;
        const struct stored_row *sr = &l->set->rows[r];
        if (sr->nfields) { /* the row's fields, written long ago by the reading thread */
            __builtin_prefetch(&l->set->len[sr->first]);
            __builtin_prefetch(l->set->arena.data + l->set->off[sr->first]);
            co_wait(&l->set->off[sr->first]);
        }
        int rc = one_row(l, ln->s, r, &ln->out, l->nomatch ? &ln->nomatch : NULL);
        if (rc < 0 && l->rc == 0)
            l->rc = rc;
        VEC_GROW(ln->rows, ln->n, ln->cap);
        ln->rows[ln->n++] = (struct lane_row){r, ln->out.len, ln->nomatch.len};
    }
}

/* The lanes' lines in row order: each lane's rows are ascending. */
static int merge_lanes(struct batch_lanes *l)
{
    size_t at[CO_MAX] = {0};
    for (size_t r = l->from; r < l->next; r++)
        for (size_t i = 0; i < l->n; i++) {
            struct lane *ln = &l->lane[i];
            if (at[i] == ln->n || ln->rows[at[i]].row != r)
                continue;
            size_t k = at[i]++;
            const struct lane_row *lr = &ln->rows[k];
            size_t o0 = k ? lr[-1].out_end : 0, n0 = k ? lr[-1].nomatch_end : 0;
            int rc = buf_append(l->out, ln->out.data + o0, lr->out_end - o0);
            if (rc == 0 && l->nomatch)
                rc = buf_append(l->nomatch, ln->nomatch.data + n0, lr->nomatch_end - n0);
            if (rc < 0)
                return rc;
            break;
        }
    return 0;
}

int batch_rows(const struct batch *b, struct batch_lanes *l, const struct batch_rowset *set,
               size_t from, size_t to, struct buf *out, struct buf *nomatch,
               struct batch_result *res, uint64_t *ns)
{
    l->b = b;
    l->set = set;
    l->out = out;
    l->nomatch = nomatch;
    l->res = res;
    l->ns = ns;
    l->from = from;
    l->to = to;
    l->next = from;
    l->rc = 0;
    if (!l->co || to - from < 2) {
        for (size_t i = from; i < to && l->rc == 0; i++)
            l->rc = one_row(l, l->lane[0].s, i, out, nomatch);
        return l->rc;
    }
    for (size_t i = 0; i < l->n; i++) {
        struct lane *ln = &l->lane[i];
        ln->n = 0;
        buf_reset(&ln->out);
        buf_reset(&ln->nomatch);
    }
    co_run(l->co, l->n, lane_run, l);
    int rc = l->rc;
    if (rc == 0)
        rc = merge_lanes(l);
    return rc;
}
