/* qcache.c — see qcache.h. One list of entries per tensor, guarded by one mutex;
 * the quantizing itself happens outside the lock. GPTQ copies are made from the
 * calibration the cache owns; each entry remembers which calibration it came
 * from, so a copy that finishes after a new calibration arrived is never used. */
#include "model/qcache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/sysmem.h"
#include "quant/types.h"

typedef enum EntryState { ENTRY_BUILDING, ENTRY_READY } EntryState;

typedef struct Entry {
    Format fmt;
    unsigned calib_gen; /* GPTQ: the calibration it was built from */
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
    bool *edited;  /* (n_tensors) float copy differs from the file */
    Calibration *calib; /* owned; NULL when none */
    unsigned calib_gen; /* bumped by every qcache_set_calibration */
    GptqOptions gptq;
};

QuantCache *qcache_new(const Model *m, Pool *pool) {
    QuantCache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->lists = calloc((size_t)m->n_tensors + 1, sizeof *c->lists);
    c->edited = calloc((size_t)m->n_tensors + 1, sizeof *c->edited);
    if (!c->lists || !c->edited) {
        free(c->lists);
        free(c->edited);
        free(c);
        return NULL;
    }
    c->gptq = (GptqOptions){GPTQ_DAMP_DEFAULT, GPTQ_BLOCK_DEFAULT};
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
    if (e->q.sp_row)
        bytes += ((size_t)e->q.rows + 1) * sizeof(int64_t) + (size_t)e->q.n_outliers * (sizeof(uint32_t) + sizeof(float));
    return bytes + (size_t)e->q.n_groups * (sizeof(float) + (e->q.zeros ? sizeof(int32_t) : 0));
}

static void entry_free(Entry *e) {
    if (!e->borrowed) qtensor_free(&e->q);
    free(e);
}

/* Drops the ready entries of one tensor (all, or only GPTQ ones); the lock is held. */
static void drop_locked(QuantCache *c, int tensor, bool gptq_only) {
    Entry **link = &c->lists[tensor];
    while (*link) {
        Entry *e = *link;
        if (e->state == ENTRY_BUILDING || (gptq_only && e->fmt.method != METHOD_GPTQ)) {
            link = &e->next; /* someone is still making it, or not concerned: leave it */
            continue;
        }
        *link = e->next;
        c->memory -= entry_memory(e);
        entry_free(e);
    }
}

void qcache_invalidate(QuantCache *c, int tensor) {
    pthread_mutex_lock(&c->mu);
    drop_locked(c, tensor, false);
    pthread_mutex_unlock(&c->mu);
}

void qcache_mark_edited(QuantCache *c, int tensor, bool edited) {
    pthread_mutex_lock(&c->mu);
    c->edited[tensor] = edited;
    drop_locked(c, tensor, false);
    pthread_mutex_unlock(&c->mu);
}

void qcache_set_calibration(QuantCache *c, Calibration *cal) {
    Calibration *next = NULL;
    if (cal) {
        next = malloc(sizeof *next);
        if (next) {
            *next = *cal;
            memset(cal, 0, sizeof *cal);
        } else {
            calib_free(cal); /* out of memory: the cache ends up without one */
        }
    }
    pthread_mutex_lock(&c->mu);
    Calibration *old = c->calib;
    c->calib = next;
    c->calib_gen++;
    for (int i = 0; i < c->m->n_tensors; i++) drop_locked(c, i, true);
    pthread_mutex_unlock(&c->mu);
    calib_free(old);
    free(old);
}

const Calibration *qcache_calibration(const QuantCache *c) {
    return c->calib;
}

bool qcache_gptq_is_rtn(const QuantCache *c, int tensor) {
    return c->calib && calib_site(c->calib, tensor) == NULL;
}

void qcache_set_gptq_options(QuantCache *c, const GptqOptions *opt) {
    pthread_mutex_lock(&c->mu);
    c->gptq = *opt;
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
    free(c->edited);
    calib_free(c->calib);
    free(c->calib);
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

/* F32, or the file's own storage type on rows it fits: no copy needed (unless
 * the float copy was edited and no longer is the file's values). */
static bool build_borrowed(const ModelTensor *t, Format f, bool edited, QTensor *q) {
    if (format_has_modifiers(f)) return false; /* pruned, split or GPTQ: always made here */
    bool f32 = f.kind == FORMAT_GGML && f.type == GGML_TYPE_F32;
    bool stored = !edited && f.kind == FORMAT_GGML && f.type == t->file_type && format_fits_gguf(f, t->cols) &&
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

/* A GPTQ copy from calibration cal (read-only here; the caller keeps it alive). */
static Status build_gptq(QuantCache *c, const Calibration *cal, GptqOptions opt, int tensor, Format f,
                         const Progress *progress, QTensor *q, Error *err) {
    const ModelTensor *t = &c->m->tensors[tensor];
    char name[FORMAT_NAME_MAX];
    if (!cal)
        return error_set(err, ST_USAGE, "'%s' weighs rounding errors by calibration activations: calibrate first",
                         format_name(f, name, sizeof name));
    if (!calib_site(cal, tensor)) { /* looked up, never multiplied: GPTQ's objective is the weight error */
        Status st = qtensor_quantize(q, t->f32, t->rows, t->cols, format_with_method(f, METHOD_RTN), c->pool, err);
        if (st == ST_OK) q->fmt = f;
        return st;
    }
    int64_t n = 0;
    const double *h = calib_hessian(cal, tensor, &n);
    if (!h || n != t->cols)
        return error_set(err, ST_USAGE, "its inputs were calibrated without the statistics GPTQ needs "
                         "(calibrate with this tensor's format in the plan)");
    return gptq_quantize(q, t->f32, t->rows, t->cols, h, f, &opt, c->pool, progress, NULL, err);
}

Status qcache_get(QuantCache *c, int tensor, Format f, const QTensor **out, Error *err) {
    return qcache_get_progress(c, tensor, f, NULL, out, err);
}

Status qcache_get_progress(QuantCache *c, int tensor, Format f, const Progress *progress,
                           const QTensor **out, Error *err) {
    const ModelTensor *t = &c->m->tensors[tensor];
    if (!t->f32) return error_set(err, ST_USAGE, "tensor '%s' is not used by the model", t->name);
    const bool gptq = f.method == METHOD_GPTQ;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        Entry *e = c->lists[tensor];
        while (e && !(format_equal(e->fmt, f) && (!gptq || e->calib_gen == c->calib_gen))) e = e->next;
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
    if (!build_borrowed(t, f, c->edited[tensor], &probe)) {
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
    e->calib_gen = c->calib_gen;
    e->state = ENTRY_BUILDING;
    e->next = c->lists[tensor];
    c->lists[tensor] = e;
    const bool edited = c->edited[tensor];
    const Calibration *cal = c->calib; /* replaced only when no other thread uses the cache */
    const GptqOptions opt = c->gptq;
    pthread_mutex_unlock(&c->mu);

    Status st = ST_OK;
    if (build_borrowed(t, f, edited, &e->q)) e->borrowed = true;
    else if (gptq) st = build_gptq(c, cal, opt, tensor, f, progress, &e->q, err);
    else st = qtensor_quantize(&e->q, t->f32, t->rows, t->cols, f, c->pool, err);
    if (st != ST_OK && st != ST_CANCELLED) error_prefix(err, "tensor '%s'", t->name);

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

Status qcache_prepare(QuantCache *c, const Plan *p, const Progress *progress, Error *err) {
    int n = 0, k = 0;
    for (int i = 0; i < c->m->n_tensors; i++) n += plan_is_quantizable(&c->m->tensors[i]);
    for (int i = 0; i < c->m->n_tensors; i++) {
        if (!plan_is_quantizable(&c->m->tensors[i])) continue;
        const Format f = p->fmt[i];
        char stage[96];
        snprintf(stage, sizeof stage, "%s %s", f.method == METHOD_GPTQ ? "GPTQ" : "quantizing", c->m->tensors[i].name);
        if (!progress_update(progress, (double)k / n, stage)) return error_set(err, ST_CANCELLED, "cancelled");
        /* one tensor's build mapped into the plan's [k/n, (k+1)/n) */
        ProgressSpan span;
        Progress inner = progress_span(&span, progress, (double)k / n, (double)(k + 1) / n, stage);
        const QTensor *q;
        Status st = qcache_get_progress(c, i, f, &inner, &q, err);
        if (st != ST_OK) return st;
        k++;
    }
    return ST_OK;
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
