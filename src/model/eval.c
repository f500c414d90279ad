/* eval.c — token sets from text, quality of a plan against FP32, decode speed.
 *
 * Called by `quantlab eval`, by the TUI's Compare screen (on its worker thread)
 * and by the sensitivity scan (sensitivity.c). Everything here runs the model on
 * this machine; no figure is looked up or estimated.
 *
 * The two protocols, step by step, so figures can be compared with the outside
 * references (shared/models/reference_outputs/perplexity.txt for llama2.c; the
 * llama.cpp logs in shared/reference/ for llama-perplexity):
 *
 * EVAL_LLAMA2C — the harness behind perplexity.txt, around llama2.c's forward():
 *   1. Split the text on every "\n\n" (left to right, like Python's str.split);
 *      strip ' ', '\t', '\r', '\n' from both ends of each piece; skip empty pieces.
 *   2. Encode each piece with BOS and without EOS (dummy-prefix space, byte
 *      fallback); cut it to the model's context, min(context_length,
 *      RUNSTATE_MAX_CTX) tokens (llama2.c's seq_len; never needed for
 *      tinystories_val.txt).
 *   3. Each piece is its own sequence from position 0: the logits at position
 *      pos score token pos+1, for pos = 0 .. n-2.
 *   4. mean_nll = sum nll / sum (n-1); ppl = exp(mean_nll);
 *      bits per byte = sum nll / ln 2 / sum bytes(stripped piece). (A piece cut
 *      in step 2 counts only the bytes its kept tokens stand for, so the figure
 *      stays bits per scored byte.)
 *   FP32 stories260K: 100 pieces 4.1844, all 4300 pieces of tinystories_val 5.3711.
 *
 * EVAL_WINDOWED — llama.cpp's llama-perplexity (examples/perplexity/perplexity.cpp,
 * functions perplexity() and kl_divergence(); the -f option in common/arg.cpp):
 *   1. One '\n' at the very end of the file is dropped (-f does this), then the
 *      whole text is tokenized with BOS (llama_tokenize(ctx, text, true); special
 *      tokens are not parsed, so "<|endoftext|>" is plain text).
 *   2. n_chunk = n_tokens / n_ctx: non-overlapping chunks, tokens [i*n_ctx,
 *      (i+1)*n_ctx); the incomplete tail is dropped. (`--chunks N` caps n_chunk;
 *      here max_tokens does, in whole chunks.)
 *   3. Each chunk starts with an empty KV cache and its first token replaced by
 *      BOS.
 *   4. first = n_ctx/2; the logits at positions first .. n_ctx-2 score tokens
 *      first+1 .. n_ctx-1: n_ctx-1-first predictions per chunk (63 at n_ctx 128).
 *   5. PPL = exp(mean nll); KL divergence, "same top p" and Δp per scored token.
 *   One difference: llama-perplexity refuses texts of fewer than 2*n_ctx tokens;
 *   here one whole chunk is enough. Texts it accepts give the same chunks.
 *   FP32 stories260K at n_ctx 128 with F32 KV cache: small text 6.8453 (14 chunks,
 *   882 predictions), tinystories_val.txt 4.9693 (3070 chunks).
 *
 * Per scored token, in double, with lse = log sum exp(logits) (ops_logsumexp):
 *   nll    = lse - logit[tok]                                  (each model)
 *   KL     = sum_i p_b(i) (log p_b(i) - log p_p(i))            (base || plan)
 *            computed as sum_i p_b(i) (e^-d - 1 + d), d = log p_b(i) - log p_p(i):
 *            the same number (sum_i p_b e^-d = sum_i p_p = 1), but every term is
 *            >= 0, so rounding can never make a token's KL negative, and two equal
 *            distributions give exactly 0. llama-perplexity skips base
 *            probabilities below e^-16 (its base file cannot store them); this
 *            sums all of them.
 *   top-1  = argmax of the base logits == argmax of the plan logits (first on ties)
 *   Δp     = p_plan(tok) - p_base(tok); RMS Δp = sqrt(mean Δp²)
 *   KL median, p99: llama-perplexity's percentile (linear interpolation at
 *   fraction*(n-1)) over the per-token values kept as floats, as it keeps them.
 */
#include "model/eval.h"

#include "base/checked.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/utf8.h"
#include "model/ops.h"
#include "model/sampler.h"

/* ====================================================================== */
/* Token sets                                                              */
/* ====================================================================== */

void evalset_free(EvalSet *s) {
    if (!s) return;
    free(s->seq_start);
    free(s->tokens);
    memset(s, 0, sizeof *s);
}

/* Refuses what is not text: empty, NUL bytes, invalid UTF-8, mostly control
 * characters. Names the first bad byte. */
static Status check_text(const char *text, size_t len, const char *name, Error *err) {
    if (len == 0) return error_set(err, ST_FORMAT, "%s: empty text", name);
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return error_set(err, ST_FORMAT, "%s: not text (NUL byte at offset %zu)", name,
                         (size_t)(nul - text));
    if (!utf8_valid(text, len)) {
        size_t i = 0;
        uint32_t cp;
        for (size_t k; i < len && (k = utf8_decode(text + i, len - i, &cp)) != 0;) i += k;
        return error_set(err, ST_FORMAT, "%s: not UTF-8 text (byte 0x%02x at offset %zu)", name,
                         (unsigned)(unsigned char)text[i], i);
    }
    /* Valid UTF-8 can still be binary (a file of escape codes): refuse when more
     * than one byte in ten is an ASCII control other than \t \n \v \f \r. */
    size_t controls = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && (c < '\t' || c > '\r')) || c == 0x7f) controls++;
    }
    if (controls > len / 10)
        return error_set(err, ST_FORMAT, "%s: looks binary, not text (%zu of its %zu bytes are control characters)",
                         name, controls, len);
    return ST_OK;
}

/* A growing token array. */
typedef struct TokenBuf {
    int *v;
    size_t n, cap;
} TokenBuf;

static bool tokbuf_reserve(TokenBuf *b, size_t extra) {
    if (b->n + extra <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra) {
        if (cap > SIZE_MAX / 2 / sizeof(int)) return false;
        cap *= 2;
    }
    int *v = realloc(b->v, cap * sizeof *v);
    if (!v) return false;
    b->v = v;
    b->cap = cap;
    return true;
}

static bool is_strip(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next "\n\n" in [p, end), or NULL. */
static const char *find_blank_line(const char *p, const char *end) {
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || nl + 1 >= end) return NULL;
        if (nl[1] == '\n') return nl;
        p = nl + 1;
    }
    return NULL;
}

/* Bytes of text behind ids[1..n): their pieces' bytes, less the dummy-prefix
 * space the encoder put before the text. For a piece cut to the context, so that
 * bits per byte divides by the text that was scored (for a whole piece this is
 * its length, what llama2.c's protocol counts). */
static int64_t kept_bytes(const Tokenizer *t, const int *ids, int n) {
    int64_t bytes = 0;
    for (int i = 1; i < n; i++) bytes += t->pieces[ids[i]].len;
    if (t->add_space_prefix && n > 1 && bytes > 0) bytes--;
    return bytes;
}

static Status build_llama2c(EvalSet *s, const Model *m, const char *text, size_t len,
                            const char *name, int64_t max_tokens, Error *err) {
    const int cap = m->cfg.context_length < RUNSTATE_MAX_CTX ? m->cfg.context_length : RUNSTATE_MAX_CTX;
    if (cap < 2)
        return error_set(err, ST_USAGE, "%s: a context of %d tokens leaves nothing to predict",
                         m->path, m->cfg.context_length);
    TokenBuf toks = {0}, starts = {0};
    Status st = ST_OK;
    int64_t total = 0;
    const char *p = text, *end = text + len;
    for (;;) {
        const char *sep = find_blank_line(p, end);
        const char *a = p, *b = sep ? sep : end;
        while (a < b && is_strip(*a)) a++;
        while (b > a && is_strip(b[-1])) b--;
        if (b > a) {
            if (max_tokens > 0 && s->n_seqs > 0 && total >= max_tokens) break;
            int *ids = NULL, n = 0;
            if ((st = tokenizer_encode(&m->tok, a, (size_t)(b - a), true, false, &ids, &n, err))) {
                error_prefix(err, "%s", name);
                goto fail;
            }
            s->n_text_tokens += n;
            int keep = n;
            if (keep > cap) keep = cap;
            if (max_tokens > 0 && total + keep > max_tokens) {
                if (s->n_seqs > 0) { /* whole pieces only, except a lone first piece */
                    free(ids);
                    s->n_text_tokens -= n;
                    break;
                }
                keep = (int)max_tokens;
            }
            if (keep < n) s->n_truncated++;
            if (total + keep > INT32_MAX - 1 || !tokbuf_reserve(&toks, (size_t)keep) ||
                !tokbuf_reserve(&starts, 2)) {
                free(ids);
                st = total + keep > INT32_MAX - 1
                         ? error_set(err, ST_LIMIT, "%s: more than %d tokens; give a shorter text", name, INT32_MAX - 1)
                         : error_set(err, ST_NOMEM, "%s: out of memory for the tokens", name);
                goto fail;
            }
            starts.v[starts.n++] = (int)total;
            memcpy(toks.v + toks.n, ids, (size_t)keep * sizeof *ids);
            toks.n += (size_t)keep;
            total += keep;
            s->n_seqs++;
            s->n_predictions += keep - 1;
            s->n_bytes += keep < n ? kept_bytes(&m->tok, ids, keep) : b - a;
            if (keep > s->max_len) s->max_len = keep;
            free(ids);
        }
        if (!sep) break;
        p = sep + 2;
    }
    if (s->n_seqs == 0) {
        st = error_set(err, ST_FORMAT, "%s: no text to score (only blank lines and spaces)", name);
        goto fail;
    }
    if (!tokbuf_reserve(&starts, 1)) {
        st = error_set(err, ST_NOMEM, "%s: out of memory for the tokens", name);
        goto fail;
    }
    starts.v[starts.n++] = (int)total;
    s->tokens = toks.v;
    s->seq_start = starts.v;
    s->n_ctx = cap;
    s->score_from = 0;
    return ST_OK;
fail:
    free(toks.v);
    free(starts.v);
    return st;
}

static Status build_windowed(EvalSet *s, const Model *m, const char *text, size_t len,
                             const char *name, int n_ctx, int64_t max_tokens, Error *err) {
    if (n_ctx < 4 || n_ctx > RUNSTATE_MAX_CTX)
        return error_set(err, ST_USAGE, "a chunk of %d tokens is outside 4..%d", n_ctx, RUNSTATE_MAX_CTX);
    if (len > 0 && text[len - 1] == '\n') len--; /* as llama.cpp's -f reads a file */
    int *ids = NULL, n = 0;
    Status st = tokenizer_encode(&m->tok, text, len, true, false, &ids, &n, err);
    if (st) {
        error_prefix(err, "%s", name);
        return st;
    }
    s->n_text_tokens = n;
    int64_t keep = n;
    if (max_tokens > 0 && keep > max_tokens) keep = max_tokens;
    int n_chunk = (int)(keep / n_ctx);
    if (n_chunk == 0) {
        free(ids);
        if (keep < n)
            return error_set(err, ST_USAGE, "%s: a cap of %lld tokens makes no whole %d-token chunk",
                             name, (long long)max_tokens, n_ctx);
        return error_set(err, ST_FORMAT, "%s: %d tokens make no whole %d-token chunk "
                         "(a longer text or a smaller context is needed)", name, n, n_ctx);
    }
    s->seq_start = malloc(((size_t)n_chunk + 1) * sizeof *s->seq_start);
    if (!s->seq_start) {
        free(ids);
        return error_set(err, ST_NOMEM, "%s: out of memory for the tokens", name);
    }
    for (int i = 0; i <= n_chunk; i++) s->seq_start[i] = i * n_ctx;
    for (int i = 0; i < n_chunk; i++) ids[i * n_ctx] = m->tok.bos_id; /* each chunk starts at BOS */
    s->tokens = ids; /* the dropped tail stays allocated; it is never read */
    s->n_seqs = n_chunk;
    s->n_ctx = n_ctx;
    s->max_len = n_ctx;
    s->score_from = n_ctx / 2;
    s->n_predictions = (int64_t)n_chunk * (n_ctx - 1 - n_ctx / 2);
    s->n_bytes = 0;
    return ST_OK;
}

Status evalset_from_text(EvalSet *s, const Model *m, const char *text, size_t len,
                         const char *name, EvalProtocol protocol, int n_ctx, int64_t max_tokens,
                         Error *err) {
    memset(s, 0, sizeof *s);
    s->protocol = protocol;
    if (max_tokens < 0) return error_set(err, ST_USAGE, "a token cap of %lld is negative", (long long)max_tokens);
    Status st = check_text(text, len, name, err);
    if (st) return st;
    if (protocol == EVAL_LLAMA2C)
        st = build_llama2c(s, m, text, len, name, max_tokens, err);
    else
        st = build_windowed(s, m, text, len, name, n_ctx, max_tokens, err);
    if (st == ST_OK && s->n_predictions == 0)
        st = error_set(err, ST_USAGE, "%s: a cap of %lld tokens leaves nothing to predict", name,
                       (long long)max_tokens);
    if (st) {
        evalset_free(s);
        s->protocol = protocol;
    }
    return st;
}

/* ====================================================================== */
/* Order statistics                                                        */
/* ====================================================================== */

static void swap_f(float *a, float *b) {
    float t = *a;
    *a = *b;
    *b = t;
}

/* nth_element: afterwards v[k] holds the value a full sort would put there, with
 * nothing greater before it and nothing smaller after it. Pivots are picked by a
 * fixed xorshift sequence (same result every run) and the partition is three-way,
 * so long runs of equal values (every KL exactly 0 for a model against itself)
 * cost one pass: expected O(n) on any input. */
static void select_nth(float *v, size_t n, size_t k) {
    size_t lo = 0, hi = n;
    uint64_t rng = 0x9e3779b97f4a7c15u;
    while (hi - lo > 1) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        const float pivot = v[lo + (size_t)(rng % (hi - lo))];
        size_t lt = lo, i = lo, gt = hi; /* [lo,lt) < pivot, [lt,i) == pivot, [gt,hi) > pivot */
        while (i < gt) {
            if (v[i] < pivot)
                swap_f(&v[lt++], &v[i++]);
            else if (v[i] > pivot)
                swap_f(&v[i], &v[--gt]);
            else
                i++;
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return;
    }
}

double eval_percentile(float *values, size_t n, double fraction) {
    if (n == 0) return 0.0;
    if (fraction < 0) fraction = 0;
    if (fraction > 1) fraction = 1;
    double p = fraction * (double)(n - 1);
    size_t ip = (size_t)p;
    if (ip > n - 1) ip = n - 1;
    double frac = p - (double)ip;
    select_nth(values, n, ip);
    double lo = values[ip];
    if (frac <= 0 || ip + 1 >= n) return lo;
    float next = values[ip + 1]; /* the next value in sorted order: the smallest after ip */
    for (size_t i = ip + 2; i < n; i++)
        if (values[i] < next) next = values[i];
    return (1 - frac) * lo + frac * (double)next;
}

/* ====================================================================== */
/* Quality                                                                 */
/* ====================================================================== */

/* One sequence's sums; combined in sequence order so the totals never depend on
 * which thread ran what. */
typedef struct SeqSums {
    double nll_base, nll_plan, kl, dp2;
    double kl_max, kl_min;
    int64_t top1;
} SeqSums;

typedef struct QualityJob {
    const Weights *base, *plan;
    const EvalSet *set;
    const Progress *progress;
    const char *stage;
    Pool *inner_pool;         /* for the RunStates' matrix products (NULL when sequences run in parallel) */
    EvalBaseCache *cache;     /* FP32 logits to read (ready) or to fill; NULL or empty: none */
    const int64_t *first_pred; /* (n_seqs) index of each sequence's first prediction */
    SeqSums *sums;            /* (n_seqs) */
    float *kl_values;         /* (n_predictions) */
    atomic_int next_seq;
    atomic_bool stop;
    pthread_mutex_t lock;     /* guards everything below, and progress reports */
    Status status;
    Error err;
    int64_t preds_done;
    double last_reported;
} QualityJob;

static void job_fail(QualityJob *job, Status st, const Error *e) {
    pthread_mutex_lock(&job->lock);
    if (job->status == ST_OK) {
        job->status = st;
        if (e) job->err = *e;
    }
    pthread_mutex_unlock(&job->lock);
    atomic_store(&job->stop, true);
}

/* Reports after a sequence, at most about once per 1% of the predictions. */
static void job_report(QualityJob *job, int64_t preds) {
    pthread_mutex_lock(&job->lock);
    job->preds_done += preds;
    double done = (double)job->preds_done / (double)job->set->n_predictions;
    bool cancel = false;
    if (done - job->last_reported >= 0.01 || job->preds_done == job->set->n_predictions) {
        job->last_reported = done;
        cancel = !progress_update(job->progress, done, job->stage);
    }
    pthread_mutex_unlock(&job->lock);
    if (cancel) {
        Error e;
        error_set(&e, ST_CANCELLED, "evaluation cancelled");
        job_fail(job, ST_CANCELLED, &e);
    }
}

/* Scores one position: the base logits lb and the plan logits lp (or NULL)
 * predicting token tok. Returns the name of the model whose logits are not
 * finite ("FP32", "planned"), or NULL when all is well. */
static const char *score_position(const float *lb, const float *lp, int vocab, int tok, SeqSums *ss,
                           float *kl_out) {
    const double lse_b = ops_logsumexp(lb, vocab);
    if (!isfinite(lse_b)) return "FP32";
    const double nll_b = lse_b - (double)lb[tok];
    ss->nll_base += nll_b;
    if (!lp) return NULL;
    const double lse_p = ops_logsumexp(lp, vocab);
    if (!isfinite(lse_p)) return "planned";
    const double nll_p = lse_p - (double)lp[tok];
    ss->nll_plan += nll_p;
    double kl = 0.0;
    for (int i = 0; i < vocab; i++) {
        const double logp_b = (double)lb[i] - lse_b;
        const double d = logp_b - ((double)lp[i] - lse_p);
        const double term = exp(logp_b) * (expm1(-d) + d); /* >= 0 in exact arithmetic */
        if (term > 0) kl += term;
    }
    if (!isfinite(kl)) return "planned"; /* a plan logit of -inf where FP32 has probability */
    const double dp = exp(-nll_p) - exp(-nll_b);
    ss->kl += kl;
    ss->dp2 += dp * dp;
    if (kl > ss->kl_max) ss->kl_max = kl;
    if (kl < ss->kl_min) ss->kl_min = kl;
    if (sampler_argmax(lb, vocab) == sampler_argmax(lp, vocab)) ss->top1++;
    *kl_out = (float)kl;
    return NULL;
}

static Status run_sequence(QualityJob *job, RunState *rb, RunState *rp, int seq, Error *err) {
    const EvalSet *set = job->set;
    const int vocab = job->base->model->cfg.vocab_size;
    const int *tok = set->tokens + set->seq_start[seq];
    const int n = set->seq_start[seq + 1] - set->seq_start[seq];
    SeqSums ss = {0, 0, 0, 0, 0, INFINITY, 0};
    float *kl_out = job->kl_values ? job->kl_values + job->first_pred[seq] : NULL;
    EvalBaseCache *cache = job->cache && job->cache->logits ? job->cache : NULL;
    float *cached = cache ? cache->logits + (size_t)job->first_pred[seq] * (size_t)vocab : NULL;
    for (int pos = 0; pos + 1 < n; pos++) { /* the last token predicts nothing scored */
        if (atomic_load_explicit(&job->stop, memory_order_relaxed)) return ST_CANCELLED;
        if (progress_cancelled(job->progress))
            return error_set(err, ST_CANCELLED, "evaluation cancelled");
        const float *lb = NULL;
        if (!cache || !cache->ready) lb = model_forward(job->base, rb, tok[pos], pos);
        const float *lp = job->plan ? model_forward(job->plan, rp, tok[pos], pos) : NULL;
        if (pos < set->score_from) continue;
        if (cache) { /* read FP32 from the cache, or keep it for the next plan */
            if (cache->ready) lb = cached;
            else memcpy(cached, lb, (size_t)vocab * sizeof *cached);
            cached += vocab;
        }
        float kl = 0;
        const char *bad = score_position(lb, lp, vocab, tok[pos + 1], &ss, &kl);
        if (bad)
            return error_set(err, ST_FORMAT, "the %s model gave a non-finite logit at position %d of sequence %d: "
                             "its figures cannot be measured", bad, pos, seq + 1);
        if (kl_out) *kl_out++ = kl;
    }
    job->sums[seq] = ss;
    return ST_OK;
}

/* Predictions scored in sequence i. */
static int64_t seq_predictions(const EvalSet *set, int i) {
    int64_t n = set->seq_start[i + 1] - set->seq_start[i] - 1 - set->score_from;
    return n > 0 ? n : 0;
}

/* One worker: its own RunStates, sequences taken in turn from a shared counter.
 * The first failure (or cancellation) is recorded and stops the others. */
static void quality_worker(void *ctx, int task, int n_tasks) {
    (void)task;
    (void)n_tasks;
    QualityJob *job = ctx;
    const ModelConfig *c = &job->base->model->cfg;
    RunState rb = {0}, rp = {0};
    Error e = {ST_OK, ""};
    Status st = runstate_init(&rb, c, job->set->max_len, job->inner_pool, &e);
    if (st == ST_OK && job->plan) st = runstate_init(&rp, c, job->set->max_len, job->inner_pool, &e);
    while (st == ST_OK) {
        int seq = atomic_fetch_add(&job->next_seq, 1);
        if (seq >= job->set->n_seqs || atomic_load(&job->stop)) break;
        st = run_sequence(job, &rb, job->plan ? &rp : NULL, seq, &e);
        if (st == ST_OK) job_report(job, seq_predictions(job->set, seq));
    }
    if (st != ST_OK) job_fail(job, st, &e); /* only the first failure is kept */
    runstate_free(&rb);
    runstate_free(&rp);
}

void eval_base_cache_init(EvalBaseCache *c, const EvalSet *set, int vocab) {
    memset(c, 0, sizeof *c);
    size_t bytes;
    if (set->n_predictions <= 0 || vocab <= 0 ||
        !checked_mul_size((size_t)set->n_predictions, (size_t)vocab * sizeof(float), &bytes) ||
        bytes > EVAL_CACHE_MAX_BYTES)
        return;
    c->logits = malloc(bytes);
    if (!c->logits) return; /* no cache: slower, not wrong */
    c->n_predictions = set->n_predictions;
    c->vocab = vocab;
}

void eval_base_cache_free(EvalBaseCache *c) {
    if (!c) return;
    free(c->logits);
    memset(c, 0, sizeof *c);
}

Status eval_quality(const Weights *base, const Weights *plan, const EvalSet *set, Pool *pool,
                    const Progress *progress, QualityResult *out, Error *err) {
    return eval_quality_cached(base, plan, set, NULL, pool, progress, out, err);
}

Status eval_quality_cached(const Weights *base, const Weights *plan, const EvalSet *set,
                           EvalBaseCache *cache, Pool *pool, const Progress *progress,
                           QualityResult *out, Error *err) {
    assert(base && set && out);
    assert(!cache || !cache->logits ||
           (cache->n_predictions == set->n_predictions && cache->vocab == base->model->cfg.vocab_size));
    assert(!plan || plan->model == base->model);
    const double t0 = clock_now();
    const Model *m = base->model;
    if (set->n_seqs < 1 || set->n_predictions < 1)
        return error_set(err, ST_USAGE, "the evaluation set has nothing to score");
    const int64_t n_tokens = set->seq_start[set->n_seqs];
    for (int64_t i = 0; i < n_tokens; i++)
        if (set->tokens[i] < 0 || set->tokens[i] >= m->cfg.vocab_size)
            return error_set(err, ST_USAGE, "token %d of the evaluation set is outside %s's vocabulary of %d",
                             set->tokens[i], m->path, m->cfg.vocab_size);
    const char *stage = plan ? "FP32 vs plan" : "FP32";
    if (!progress_update(progress, 0.0, stage)) return error_set(err, ST_CANCELLED, "evaluation cancelled");

    QualityJob job;
    memset(&job, 0, sizeof job);
    job.base = base;
    job.plan = plan;
    job.set = set;
    job.progress = progress;
    job.stage = stage;
    job.cache = cache;
    atomic_init(&job.next_seq, 0);
    atomic_init(&job.stop, false);
    job.status = ST_OK;
    int64_t *first = malloc((size_t)set->n_seqs * sizeof *first);
    job.sums = calloc((size_t)set->n_seqs, sizeof *job.sums);
    job.kl_values = plan ? malloc((size_t)set->n_predictions * sizeof *job.kl_values) : NULL;
    if (!first || !job.sums || (plan && !job.kl_values) || pthread_mutex_init(&job.lock, NULL) != 0) {
        free(first);
        free(job.sums);
        free(job.kl_values);
        return error_set(err, ST_NOMEM, "out of memory for %lld predictions", (long long)set->n_predictions);
    }
    int64_t acc = 0;
    for (int i = 0; i < set->n_seqs; i++) {
        first[i] = acc;
        acc += seq_predictions(set, i);
    }
    assert(acc == set->n_predictions);
    job.first_pred = first;

    /* Independent sequences on separate threads when there are enough of them
     * (no hand-off per matrix product: best for small models); otherwise one
     * sequence at a time with the pool splitting each matrix product. */
    const int n_threads = pool ? pool_threads(pool) : 1;
    if (n_threads > 1 && set->n_seqs >= n_threads) {
        job.inner_pool = NULL;
        pool_run(pool, quality_worker, &job, n_threads);
    } else {
        job.inner_pool = pool;
        quality_worker(&job, 0, 1);
    }

    Status st = job.status;
    if (st == ST_OK && cache && cache->logits) cache->ready = true; /* every scored row is in */
    if (st != ST_OK) {
        if (err) *err = job.err;
        if (err && err->msg[0] == '\0') error_set(err, st, "evaluation cancelled");
    } else {
        QualityResult r;
        memset(&r, 0, sizeof r);
        double nll_b = 0, nll_p = 0, kl = 0, dp2 = 0, kl_max = 0, kl_min = INFINITY;
        int64_t top1 = 0;
        for (int i = 0; i < set->n_seqs; i++) { /* fixed order: same sums on any thread count */
            const SeqSums *s = &job.sums[i];
            nll_b += s->nll_base;
            nll_p += s->nll_plan;
            kl += s->kl;
            dp2 += s->dp2;
            top1 += s->top1;
            if (s->kl_max > kl_max) kl_max = s->kl_max;
            if (seq_predictions(set, i) > 0 && s->kl_min < kl_min) kl_min = s->kl_min;
        }
        const double n = (double)set->n_predictions;
        r.n_predictions = set->n_predictions;
        r.nll_base = nll_b / n;
        r.ppl_base = exp(r.nll_base);
        r.bpb_base = set->n_bytes > 0 ? nll_b / log(2.0) / (double)set->n_bytes : 0.0;
        if (plan) {
            r.nll_plan = nll_p / n;
            r.ppl_plan = exp(r.nll_plan);
            r.bpb_plan = set->n_bytes > 0 ? nll_p / log(2.0) / (double)set->n_bytes : 0.0;
            r.kl_mean = kl / n;
            r.kl_max = kl_max;
            r.kl_min = kl_min;
            r.kl_median = eval_percentile(job.kl_values, (size_t)set->n_predictions, 0.5);
            r.kl_p99 = eval_percentile(job.kl_values, (size_t)set->n_predictions, 0.99);
            r.top1_agree = (double)top1 / n;
            r.rms_dp = sqrt(dp2 / n);
        }
        r.seconds = clock_now() - t0;
        *out = r;
    }
    pthread_mutex_destroy(&job.lock);
    free(first);
    free(job.sums);
    free(job.kl_values);
    return st;
}

/* ====================================================================== */
/* Speed                                                                   */
/* ====================================================================== */

Status eval_speed(const Weights *w, Pool *pool, int n_tokens, double *tokens_per_s, Error *err) {
    const Model *m = w->model;
    if (n_tokens < 1 || n_tokens > RUNSTATE_MAX_CTX)
        return error_set(err, ST_USAGE, "a speed run of %d tokens is outside 1..%d", n_tokens, RUNSTATE_MAX_CTX);
    if (m->tok.bos_id < 0) return error_set(err, ST_USAGE, "%s: the vocabulary has no BOS token to start from", m->path);
    RunState s;
    Status st = runstate_init(&s, &m->cfg, n_tokens, pool, err);
    if (st) return st;
    const int vocab = m->cfg.vocab_size;
    model_forward(w, &s, m->tok.bos_id, 0); /* warm-up: caches, page faults; position 0 is redone */
    int token = m->tok.bos_id;
    const double t0 = clock_now();
    for (int pos = 0; pos < n_tokens; pos++) token = sampler_argmax(model_forward(w, &s, token, pos), vocab);
    const double secs = clock_now() - t0;
    runstate_free(&s);
    *tokens_per_s = secs > 0 ? n_tokens / secs : 0.0;
    return ST_OK;
}
