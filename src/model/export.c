/* export.c — see export.h. */
#include "model/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "quant/types.h"

static uint32_t ftype_of(uint32_t type) {
    switch (type) {
    case GGML_TYPE_F16: return 1;
    case GGML_TYPE_Q4_0: return 2;
    case GGML_TYPE_Q4_1: return 3;
    case GGML_TYPE_Q8_0: return 7;
    case GGML_TYPE_Q5_0: return 8;
    case GGML_TYPE_Q5_1: return 9;
    case GGML_TYPE_BF16: return 32;
    default: return 0;
    }
}

/* Why a planned format could not be written as it is. */
static const char *fallback_reason(Format planned) {
    if (planned.kind == FORMAT_TEACH) return "GGUF has no type for ";
    if (planned.split) return "GGUF cannot hold the FP16 outlier side list of ";
    return "rows of its length are not whole blocks of ";
}

uint32_t export_file_type(const Plan *p, const Model *m, Format fallback) {
    int counts[GGML_TYPE_COUNT] = {0};
    for (int i = 0; i < m->n_tensors; i++) {
        if (!plan_is_quantizable(&m->tensors[i])) continue;
        Format f = plan_export_format(&m->tensors[i], p->fmt[i], fallback);
        counts[f.type] += (int)m->tensors[i].n_elements / 1024 + 1; /* weight by size */
    }
    int best = GGML_TYPE_F32;
    for (int t = 0; t < GGML_TYPE_COUNT; t++)
        if (counts[t] > counts[best]) best = t;
    return ftype_of((uint32_t)best);
}

/* llama.cpp's tensor order: non-block tensors first, then by block number, and by
 * name within each. Sorts pointers into m->tensors (qsort has no context argument). */
static int tensor_order(const void *a, const void *b) {
    const ModelTensor *x = *(const ModelTensor *const *)a, *y = *(const ModelTensor *const *)b;
    int lx = x->layer, ly = y->layer;
    if (x->role == ROLE_OTHER && strncmp(x->name, "blk.", 4) == 0) lx = atoi(x->name + 4);
    if (y->role == ROLE_OTHER && strncmp(y->name, "blk.", 4) == 0) ly = atoi(y->name + 4);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x->name, y->name);
}

Status model_export_gguf(const Model *m, const Plan *p, QuantCache *c, Format fallback,
                         const char *path, ExportReport *report, Error *err) {
    memset(report, 0, sizeof *report);
    if (!(fallback.kind == FORMAT_GGML && (fallback.type == GGML_TYPE_F16 || fallback.type == GGML_TYPE_F32)))
        return error_set(err, ST_USAGE, "the fallback type must be f16 or f32");
    if (file_same(path, m->path))
        return error_set(err, ST_USAGE, "%s: that is the input model; quantlab never writes over it", path);

    const ModelTensor **order = malloc(((size_t)m->n_tensors + 1) * sizeof *order);
    GgufWriter *w = gguf_writer_new();
    Status st = ST_OK;
    if (!order || !w) st = error_set(err, ST_NOMEM, "out of memory");
    for (uint64_t i = 0; st == ST_OK && i < m->gguf.n_kv; i++) {
        const GgufKv *kv = &m->gguf.kv[i];
        if (strcmp(kv->key, "general.file_type") == 0 || strcmp(kv->key, "general.quantization_version") == 0)
            continue; /* rewritten below, at the end, as llama-quantize places them */
        st = gguf_writer_set_value(w, kv->key, &kv->value);
        if (st != ST_OK) error_set(err, st, "%s: cannot copy key '%s'", path, kv->key);
    }
    report->file_type = export_file_type(p, m, fallback);
    if (st == ST_OK) st = gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (st == ST_OK) st = gguf_writer_set_u32(w, "general.file_type", report->file_type);

    if (st == ST_OK) {
        for (int i = 0; i < m->n_tensors; i++) order[i] = &m->tensors[i];
        qsort(order, (size_t)m->n_tensors, sizeof *order, tensor_order);
    }
    for (int k = 0; st == ST_OK && k < m->n_tensors; k++) {
        const ModelTensor *t = order[k];
        const int i = (int)(t - m->tensors);
        uint64_t ne[4] = {(uint64_t)t->ne[0], (uint64_t)t->ne[1], (uint64_t)t->ne[2], (uint64_t)t->ne[3]};
        const void *data = t->file_data;
        size_t nbytes = t->file_bytes;
        uint32_t type = t->file_type;
        if (plan_is_quantizable(t)) {
            Format f = plan_export_format(t, p->fmt[i], fallback);
            if (!format_equal(f, p->fmt[i])) {
                char planned[FORMAT_NAME_MAX], used[FORMAT_NAME_MAX];
                format_name(p->fmt[i], planned, sizeof planned);
                format_name(f, used, sizeof used);
                if (report->n_fallback < EXPORT_MAX_NOTES)
                    snprintf(report->notes[report->n_fallback], sizeof report->notes[0],
                             "%s: written as %s (%s%s)", t->name, used, fallback_reason(p->fmt[i]), planned);
                report->n_fallback++;
            }
            const QTensor *q;
            if ((st = qcache_get(c, i, f, &q, err)) != ST_OK) break;
            data = q->blocks;
            nbytes = (size_t)t->rows * q->row_bytes;
            type = f.type;
        }
        st = gguf_writer_add_tensor(w, t->name, t->n_dims, ne, type, data, nbytes);
        if (st != ST_OK) error_set(err, st, "%s: cannot add tensor '%s'", path, t->name);
        report->tensor_bytes += (double)nbytes;
        report->n_tensors++;
    }
    if (st == ST_OK) st = gguf_writer_write_file(w, path, err);
    gguf_writer_delete(w);
    free(order);
    return st;
}
