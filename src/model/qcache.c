/* qcache.c — see qcache.h. One list of entries per tensor, guarded by one mutex;
 * the quantizing itself happens outside the lock. */
#include "model/qcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/sysmem.h"
#include "quant/types.h"

typedef enum EntryState { ENTRY_BUILDING, ENTRY_READY } EntryState;

typedef struct Entry {
    Format fmt;
    EntryState state;
    bool borrowed; /* blocks/dequant point into the model or its file: not ours to free */
    QTensor q;
    struct Entry *next;
} Entry;

struct QuantCache {
    const Model *m;
    Pool *pool;
    pthread_mutex_t mu;
    pthread_cond_t built;
    Entry **lists; /* (n_tensors) */
    size_t memory;
};

QuantCache *qcache_new(const Model *m, Pool *pool) {
    QuantCache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->lists = calloc((size_t)m->n_tensors + 1, sizeof *c->lists);
    if (!c->lists) {
        free(c);
        return NULL;
    }
    c->m = m;
    c->pool = pool;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->built, NULL);
    return c;
}

static size_t entry_memory(const Entry *e) {
    if (e->borrowed) return 0;
    size_t n = (size_t)e->q.rows * (size_t)e->q.cols;
    size_t bytes = e->q.blocks ? (size_t)e->q.rows * e->q.row_bytes : 0;
    if (e->q.codes) bytes += n;
    if (e->q.dequant) bytes += n * sizeof(float);
    return bytes + (size_t)e->q.n_groups * (sizeof(float) + (e->q.zeros ? sizeof(int32_t) : 0));
}

static void entry_free(Entry *e) {
    if (!e->borrowed) qtensor_free(&e->q);
    free(e);
}

void qcache_invalidate(QuantCache *c, int tensor) {
    pthread_mutex_lock(&c->mu);
    Entry **link = &c->lists[tensor];
    while (*link) {
        Entry *e = *link;
        if (e->state == ENTRY_BUILDING) { /* someone is still making it: leave it */
            link = &e->next;
            continue;
        }
        *link = e->next;
        c->memory -= entry_memory(e);
        entry_free(e);
    }
    pthread_mutex_unlock(&c->mu);
}

void qcache_delete(QuantCache *c) {
    if (!c) return;
    for (int i = 0; i < c->m->n_tensors; i++) {
        Entry *e = c->lists[i];
        while (e) {
            Entry *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    free(c->lists);
    pthread_cond_destroy(&c->built);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

size_t qcache_memory(const QuantCache *c) {
    return c->memory;
}

/* Bytes of the model's float copies (what every plan quantizes from). */
static double m_floats_bytes(const Model *m) {
    return 4.0 * (double)m->n_params;
}

/* F32, or the file's own storage type on rows it fits: no copy needed. */
static bool build_borrowed(const ModelTensor *t, Format f, QTensor *q) {
    bool f32 = f.kind == FORMAT_GGML && f.type == GGML_TYPE_F32;
    bool stored = f.kind == FORMAT_GGML && f.type == t->file_type && format_fits_gguf(f, t->cols) &&
                  type_traits(f.type) && type_traits(f.type)->to_float;
    if (!f32 && !stored) return false;
    memset(q, 0, sizeof *q);
    q->fmt = f;
    q->rows = t->rows;
    q->cols = t->cols;
    q->cols_padded = t->cols;
    q->bytes = format_tensor_bytes(f, t->rows, t->cols);
    q->row_bytes = f32 ? (size_t)t->cols * sizeof(float) : type_row_size(f.type, t->cols);
    q->blocks = f32 ? (void *)t->f32 : (void *)t->file_data;
    q->dequant = t->f32; /* the float copy is exactly the file's values decoded */
    return true;
}

Status qcache_get(QuantCache *c, int tensor, Format f, const QTensor **out, Error *err) {
    const ModelTensor *t = &c->m->tensors[tensor];
    if (!t->f32) return error_set(err, ST_USAGE, "tensor '%s' is not used by the model", t->name);
    pthread_mutex_lock(&c->mu);
    for (;;) {
        Entry *e = c->lists[tensor];
        while (e && !format_equal(e->fmt, f)) e = e->next;
        if (!e) break;
        if (e->state == ENTRY_READY) {
            *out = &e->q;
            pthread_mutex_unlock(&c->mu);
            return ST_OK;
        }
        pthread_cond_wait(&c->built, &c->mu); /* another thread is building it */
    }
    /* A new copy (codes or blocks, and its dequantized floats) must fit beside
     * the model's floats and the copies already made; nothing is evicted (jobs
     * may hold any entry), so refusing is what keeps a big model from taking
     * the machine down after a few presets. Borrowed entries cost nothing. */
    QTensor probe;
    if (!build_borrowed(t, f, &probe)) {
        uint64_t need = (uint64_t)m_floats_bytes(c->m) + c->memory +
                        (uint64_t)format_tensor_bytes(f, t->rows, t->cols) + (uint64_t)t->n_elements * 5;
        if (!sysmem_fits(need)) {
            pthread_mutex_unlock(&c->mu);
            char have[32], used[32];
            fmt_bytes(have, sizeof have, (double)sysmem_total());
            fmt_bytes(used, sizeof used, (double)c->memory);
            return error_set(err, ST_LIMIT,
                             "tensor '%s': no memory left for another quantized copy (%s of copies already; "
                             "this machine has %s)", t->name, used, have);
        }
    }
    Entry *e = calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&c->mu);
        return error_set(err, ST_NOMEM, "out of memory");
    }
    e->fmt = f;
    e->state = ENTRY_BUILDING;
    e->next = c->lists[tensor];
    c->lists[tensor] = e;
    pthread_mutex_unlock(&c->mu);

    Status st = ST_OK;
    if (build_borrowed(t, f, &e->q)) e->borrowed = true;
    else st = qtensor_quantize(&e->q, t->f32, t->rows, t->cols, f, c->pool, err);
    if (st != ST_OK) error_prefix(err, "tensor '%s'", t->name);

    pthread_mutex_lock(&c->mu);
    if (st == ST_OK) {
        e->state = ENTRY_READY;
        c->memory += entry_memory(e);
        *out = &e->q;
    } else {
        Entry **link = &c->lists[tensor];
        while (*link != e) link = &(*link)->next;
        *link = e->next;
        free(e);
    }
    pthread_cond_broadcast(&c->built);
    pthread_mutex_unlock(&c->mu);
    return st;
}

Status weights_init_plan(Weights *w, const Model *m, const Plan *p, QuantCache *c, Error *err) {
    Status st = weights_init_f32(w, m, err);
    if (st != ST_OK) return st;
    for (int i = 0; i < m->n_tensors; i++) {
        if (!plan_is_quantizable(&m->tensors[i])) continue;
        const QTensor *q;
        if ((st = qcache_get(c, i, p->fmt[i], &q, err)) != ST_OK) {
            weights_free(w);
            return st;
        }
        w->mats[i] = qtensor_view(q);
    }
    return ST_OK;
}
