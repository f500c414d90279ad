/* gguf_lookup.c — finding keys and tensors in a parsed GgufFile, typed
 * getters, and converting a tensor to float.
 *
 * Called by the model loader, the tokenizer, `quantlab info` and the tests, on
 * a GgufFile that gguf_parse()/gguf_open() (gguf_read.c) has already checked:
 * every tensor's type is known, its data lies inside the buffer and its row
 * length is a whole number of blocks, so nothing here re-validates the file.
 */
#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/utf8.h"
#include "gguf/gguf.h"
#include "quant/types.h"

/* ----------------------------------------------------------------- lookups */

const GgufKv *gguf_find_kv(const GgufFile *f, const char *key) {
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (strcmp(f->kv[i].key, key) == 0) return &f->kv[i];
    return NULL;
}

int64_t gguf_find_tensor_index(const GgufFile *f, const char *name) {
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return (int64_t)i;
    return -1;
}

const GgufTensorInfo *gguf_find_tensor(const GgufFile *f, const char *name) {
    int64_t i = gguf_find_tensor_index(f, name);
    return i < 0 ? NULL : &f->tensors[i];
}

/* An integer value as (negative?, magnitude); false for non-integer types. */
static bool value_integer(const GgufValue *v, bool *neg, uint64_t *mag) {
    int64_t s;
    switch (v->type) {
    case GGUF_TYPE_UINT8: *neg = false, *mag = v->v.u8; return true;
    case GGUF_TYPE_UINT16: *neg = false, *mag = v->v.u16; return true;
    case GGUF_TYPE_UINT32: *neg = false, *mag = v->v.u32; return true;
    case GGUF_TYPE_UINT64: *neg = false, *mag = v->v.u64; return true;
    case GGUF_TYPE_INT8: s = v->v.i8; break;
    case GGUF_TYPE_INT16: s = v->v.i16; break;
    case GGUF_TYPE_INT32: s = v->v.i32; break;
    case GGUF_TYPE_INT64: s = v->v.i64; break;
    default: return false;
    }
    *neg = s < 0;
    *mag = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
    return true;
}

bool gguf_get_u64(const GgufFile *f, const char *key, uint64_t *out) {
    const GgufKv *kv = gguf_find_kv(f, key);
    bool neg;
    uint64_t mag;
    if (!kv || !value_integer(&kv->value, &neg, &mag) || (neg && mag != 0)) return false;
    *out = mag;
    return true;
}

bool gguf_get_u32(const GgufFile *f, const char *key, uint32_t *out) {
    uint64_t v;
    if (!gguf_get_u64(f, key, &v) || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

bool gguf_get_f32(const GgufFile *f, const char *key, float *out) {
    const GgufKv *kv = gguf_find_kv(f, key);
    if (!kv) return false;
    if (kv->value.type == GGUF_TYPE_FLOAT32) {
        *out = kv->value.v.f32;
        return true;
    }
    if (kv->value.type == GGUF_TYPE_FLOAT64) {
        double d = kv->value.v.f64;
        if (isfinite(d) && fabs(d) > FLT_MAX) return false; /* would become infinite */
        *out = (float)d;
        return true;
    }
    return false;
}

const char *gguf_get_str(const GgufFile *f, const char *key) {
    const GgufKv *kv = gguf_find_kv(f, key);
    return kv && kv->value.type == GGUF_TYPE_STRING ? kv->value.v.str.data : NULL;
}

const void *gguf_get_arr(const GgufFile *f, const char *key, GgufValueType elem, uint64_t *n) {
    const GgufKv *kv = gguf_find_kv(f, key);
    if (!kv || kv->value.type != GGUF_TYPE_ARRAY || kv->value.v.arr.type != elem) return NULL;
    *n = kv->value.v.arr.n;
    return kv->value.v.arr.data;
}

/* ---------------------------------------------------------------- to float */

Status gguf_tensor_to_float(const GgufFile *f, const GgufTensorInfo *t, float *dst, Error *err) {
    assert(f && t && t->data && dst);
    const TypeTraits *tt = type_traits(t->type);
    char esc[80];
    if (!tt || !tt->to_float)
        return error_set(err, ST_UNSUPPORTED,
                         "%s: tensor '%s' is of type %s, which quantlab can read but not convert "
                         "to float", f->name, utf8_escape(esc, sizeof esc, t->name, strlen(t->name)),
                         type_name(t->type));
    const uint8_t *src = t->data;
    uint64_t blocks = t->n_elements / (uint64_t)tt->block_size;
    /* Block structs need their natural alignment; a file with a small
     * general.alignment can put a tensor at an odd address. Then convert
     * through an aligned scratch buffer. */
    if ((uintptr_t)src % sizeof(uint64_t) == 0) {
        tt->to_float(src, dst, (int64_t)t->n_elements);
        return ST_OK;
    }
    uint64_t scratch[2048]; /* 16 KiB */
    uint64_t per = sizeof scratch / tt->type_size;
    for (uint64_t b = 0; b < blocks; b += per) {
        uint64_t k = blocks - b < per ? blocks - b : per;
        memcpy(scratch, src + b * tt->type_size, (size_t)(k * tt->type_size));
        tt->to_float(scratch, dst + b * (uint64_t)tt->block_size, (int64_t)(k * (uint64_t)tt->block_size));
    }
    return ST_OK;
}
