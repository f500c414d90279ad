/* calib.h — what the weight matrices see while the model reads a text.
 *
 * Runs the FP32 model over a calibration text and records, for every distinct
 * matrix input, the second moment H = sum over inputs x of x x^T (what GPTQ,
 * quant/gptq.h, weighs rounding errors with) and the range of the values (the
 * activation ranges the Layers screen shows). Inputs are observed through the
 * forward pass's observer hook (forward.h), so the numbers are those of the real
 * forward pass, token by token.
 *
 * Matrices that read the same vector share one site and one H: attn_q, attn_k
 * and attn_v read the normed residual; ffn_gate and ffn_up read the other normed
 * residual; attn_output, ffn_down and output read their own inputs. token_embd
 * is looked up, not multiplied, so it has no site (unless the classifier is tied
 * to it, when it has the classifier's). Memory: n^2 doubles per site with H —
 * stories260K 1.7 MB in all; a model of width 768 and feed-forward 2048 needs
 * 3 * 768^2 + 2048^2 doubles (about 48 MB) per block, so callers set a budget
 * (max_h_bytes) and collect H only for the matrices they will quantize with GPTQ.
 *
 * The inputs are those of the FP32 model (not of a model whose earlier layers
 * are already quantized): every matrix is calibrated on the same activations.
 * Sums are in double, in token order: the same text gives the same H bit for bit
 * on any thread count.
 */
#ifndef QL_MODEL_CALIB_H
#define QL_MODEL_CALIB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "base/progress.h"
#include "model/model.h"

struct EvalSet; /* eval.h (which includes this file through qcache.h) */

typedef struct CalibSite {
    int owner;           /* the tensor whose product reports this input (attn_q for q, k, v) */
    int64_t n;           /* input length */
    double *h;           /* (n, n) sum of x x^T, symmetric; NULL when not collected */
    int64_t count;       /* inputs seen (one per token) */
    float min, max;      /* smallest and largest value seen */
    float absmax;        /* max |x| */
    double sum_sq;       /* sum of x_i^2: RMS = sqrt(sum_sq / (count * n)) */
    float *chan_absmax;  /* (n) max |x_i| per input channel */
} CalibSite;

typedef struct Calibration {
    int n_tensors;
    int *site_of;        /* (n_tensors) a site index, or -1 (norms, token_embd) */
    int n_sites;
    CalibSite *sites;
    int64_t n_tokens;    /* forward passes run */
    int n_seqs;
    double seconds;
    char source[256];    /* the text's name, for reports */
} Calibration;

typedef struct CalibOptions {
    const bool *want_h;  /* (n_tensors) collect H for the sites these tensors read;
                            NULL: every site */
    double max_h_bytes;  /* refuse (ST_LIMIT, before running) when the wanted H
                            matrices would take more; 0: no limit */
} CalibOptions;

/* Bytes the H matrices of the wanted tensors' sites take (want NULL: all). */
double calib_h_bytes(const Model *m, const bool *want);

/* Runs every token of every sequence of `set` through the FP32 model and fills
 * *c. source names the text in reports. progress gets done in [0, 1] with stage
 * "calibrating"; pool (may be NULL) runs large matrix products and the H updates.
 * Errors: ST_LIMIT (budget), ST_NOMEM, ST_CANCELLED, ST_USAGE for an empty set or
 * tokens outside the vocabulary; *c is then empty (calib_free-safe). */
Status calib_run(Calibration *c, const Model *m, const struct EvalSet *set, const char *source,
                 const CalibOptions *opt, Pool *pool, const Progress *progress, Error *err);
void calib_free(Calibration *c);

/* The site tensor i reads, or NULL (no site, or i out of range). */
const CalibSite *calib_site(const Calibration *c, int tensor);

/* H for tensor i (n x n, *n set), or NULL when it was not collected. */
const double *calib_hessian(const Calibration *c, int tensor, int64_t *n);

#endif
