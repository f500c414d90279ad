/* test_synth.c — synthetic models (model/synth.h): deterministic bytes, a file
 * quantlab loads and runs, the requested shapes, and weight statistics in the
 * ranges the generator's definition implies.
 *
 * Expected statistics are derived here from the definition in synth.h, not from
 * running the generator: for a matrix with intended standard deviation s, rows
 * scaled by r = exp(a z - a^2) (E[r^2] = 1, E[r^4] = exp(4 a^2)), unit-variance
 * Student-t(5) values T (E[T^4] = 9) and k outliers of +-m s, m ~ U[lo, hi):
 *   E[w^2] = s^2 ((n - k) + k E[m^2]) / n,  E[m^2] = (hi^3 - lo^3) / (3 (hi - lo)),
 * and the mean of w^2 over n values in R rows has a relative spread of about
 *   sqrt((E[r^4] E[T^4] - 1) / n + (E[r^4] - 1) / R).
 * The share of |w| > 3 s without outliers is E_z[P(|T| > 3 / r(z))], where for
 * Student-t(5) scaled to variance 1, with theta = atan(x sqrt(5/3) / sqrt(5)),
 *   P(|T| > x) = 1 - (2/pi) (theta + sin(theta) cos(theta) (1 + 2/3 cos^2(theta)))
 * (the closed form of the t(5) CDF); at r = 1 that is 1/3 - 7 sqrt(3) / (12 pi)
 * = 1.17 %, against 0.27 % for a normal distribution.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/utf8.h"
#include "lib/proc.h"
#include "model/forward.h"
#include "model/model.h"
#include "model/synth.h"

static char tmpdir[256];

/* dim 64 with grouped-query attention, rows of 172 (not a whole number of
 * 32-value blocks, like stories260K's ffn_down) and a vocabulary of 512. */
static SynthConfig tiny(uint64_t seed) {
    SynthConfig c = {64, 172, 3, 8, 4, 512, 256, seed};
    return c;
}

static uint8_t *make(const SynthConfig *c, Pool *pool, size_t *len) {
    uint8_t *buf = NULL;
    Error err = {0};
    Status st = synth_write_buffer(c, pool, &buf, len, &err);
    if (st != ST_OK) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, ST_OK);
    return buf;
}

static void test_synth_same_seed_same_bytes(void **state) {
    (void)state;
    SynthConfig c = tiny(7);
    size_t n1, n2, n3, n4;
    uint8_t *a = make(&c, NULL, &n1);
    uint8_t *b = make(&c, NULL, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    /* threads fill chunks in any order: the bytes do not change */
    Pool *pool = pool_new(3);
    assert_non_null(pool);
    uint8_t *p = make(&c, pool, &n3);
    assert_int_equal(n1, n3);
    assert_memory_equal(a, p, n1);
    pool_delete(pool);
    /* another seed, another vocabulary and other weights */
    c.seed = 8;
    uint8_t *d = make(&c, NULL, &n4);
    assert_true(n1 != n4 || memcmp(a, d, n1) != 0);
    free(a);
    free(b);
    free(p);
    free(d);
}

/* The file written through gguf_writer_write_file has the buffer's bytes and
 * opens with model_open; the buffer opens with model_open_buffer. */
static void test_synth_file_loads_with_requested_shapes(void **state) {
    (void)state;
    SynthConfig c = tiny(1);
    size_t len;
    uint8_t *buf = make(&c, NULL, &len);
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.gguf", tmpdir);
    Error err = {0};
    assert_int_equal(synth_write_file(&c, path, NULL, &err), ST_OK);
    size_t flen;
    char *file = proc_read_file(path, &flen);
    assert_non_null(file);
    assert_int_equal(flen, len);
    assert_memory_equal(file, buf, len);
    free(file);

    Model *mb = NULL, *mf = NULL;
    assert_int_equal(model_open_buffer(&mb, buf, len, "tiny", &err), ST_OK);
    assert_int_equal(model_open(&mf, path, NULL, &err), ST_OK);
    for (int k = 0; k < 2; k++) {
        const Model *m = k ? mf : mb;
        assert_string_equal(m->architecture, "llama");
        assert_int_equal(m->cfg.dim, 64);
        assert_int_equal(m->cfg.hidden_dim, 172);
        assert_int_equal(m->cfg.n_layers, 3);
        assert_int_equal(m->cfg.n_heads, 8);
        assert_int_equal(m->cfg.n_kv_heads, 4);
        assert_int_equal(m->cfg.kv_dim, 32);
        assert_int_equal(m->cfg.vocab_size, 512);
        assert_int_equal(m->cfg.context_length, 256);
        assert_int_equal(m->cfg.rope_dim, 8);
        assert_false(m->tied_output);
        assert_int_equal(m->n_tensors, 3 + 9 * 3);
        assert_int_equal(m->n_params, synth_weight_count(&c));
        const ModelTensor *down = &m->tensors[model_find_tensor(m, "blk.2.ffn_down.weight")];
        assert_int_equal(down->cols, 172);
        assert_int_equal(down->rows, 64);
        const ModelTensor *kt = &m->tensors[model_find_tensor(m, "blk.0.attn_k.weight")];
        assert_int_equal(kt->cols, 64);
        assert_int_equal(kt->rows, 32);
        assert_int_equal(m->tok.bos_id, 1);
        assert_int_equal(m->tok.eos_id, 2);
        assert_int_equal(m->tok.unk_id, 0);
    }
    /* same weights either way, and a forward pass gives finite logits */
    Weights w;
    RunState s;
    assert_int_equal(weights_init_f32(&w, mf, &err), ST_OK);
    assert_int_equal(runstate_init(&s, &mf->cfg, 4, NULL, &err), ST_OK);
    float *logits = model_forward(&w, &s, 1, 0);
    for (int i = 0; i < 512; i++) assert_true(isfinite(logits[i]));
    runstate_free(&s);
    weights_free(&w);
    model_close(mb);
    model_close(mf);
    free(buf);
}

/* A SentencePiece-style vocabulary: <unk> <s> </s>, 256 byte tokens, pieces
 * with falling scores, unique, valid UTF-8; text encodes with merges and
 * decodes back exactly. */
static void test_synth_vocabulary(void **state) {
    (void)state;
    SynthConfig c = tiny(3);
    size_t len;
    uint8_t *buf = make(&c, NULL, &len);
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open_buffer(&m, buf, len, "tiny", &err), ST_OK);
    uint64_t n = 0;
    const GgufString *tok = gguf_get_arr(&m->gguf, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, &n);
    const float *score = gguf_get_arr(&m->gguf, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, &n);
    const int32_t *type = gguf_get_arr(&m->gguf, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, &n);
    assert_non_null(tok);
    assert_non_null(score);
    assert_non_null(type);
    assert_int_equal(n, 512);
    assert_string_equal(tok[0].data, "<unk>");
    assert_int_equal(type[0], 2);
    assert_string_equal(tok[1].data, "<s>");
    assert_int_equal(type[1], 3);
    assert_string_equal(tok[2].data, "</s>");
    assert_int_equal(type[2], 3);
    for (int b = 0; b < 256; b++) {
        char want[8];
        snprintf(want, sizeof want, "<0x%02X>", b);
        assert_string_equal(tok[3 + b].data, want);
        assert_int_equal(type[3 + b], 6);
        assert_int_equal(m->tok.byte_ids[b], 3 + b);
    }
    int words = 0;
    for (uint64_t i = 259; i < n; i++) {
        assert_int_equal(type[i], 1);
        assert_true(utf8_valid(tok[i].data, tok[i].len));
        assert_true(tok[i].len > 0);
        if (i > 259) assert_true(score[i] < score[i - 1]);
        if (strncmp(tok[i].data, "\xe2\x96\x81", 3) == 0) words++;
        for (uint64_t j = 0; j < i; j++) /* 512^2 / 2 comparisons: fine */
            assert_false(tok[j].len == tok[i].len && memcmp(tok[j].data, tok[i].data, tok[i].len) == 0);
    }
    assert_true(words > 20);
    const char *text = "Once upon a time, the little robot said: \"hello\" 42 times.";
    int *ids = NULL, n_ids = 0;
    assert_int_equal(tokenizer_encode(&m->tok, text, strlen(text), true, false, &ids, &n_ids, &err), ST_OK);
    assert_true(n_ids > 1);
    assert_true(n_ids - 1 < (int)strlen(text)); /* some pieces merged */
    char out[256] = "";
    size_t o = 0;
    for (int i = 1; i < n_ids; i++) {
        size_t pl;
        const char *piece = tokenizer_decode(&m->tok, ids[i - 1], ids[i], &pl);
        assert_true(o + pl < sizeof out);
        memcpy(out + o, piece, pl);
        o += pl;
    }
    out[o] = '\0';
    assert_string_equal(out, text);
    free(ids);
    model_close(m);
    free(buf);
}

/* P(|T| > x) for Student-t(5) scaled to variance 1 (see the top of the file). */
static double t5_tail(double x) {
    const double th = atan(x * sqrt(5.0 / 3.0) / sqrt(5.0));
    const double c = cos(th);
    return 1.0 - 2.0 / M_PI * (th + sin(th) * c * (1.0 + 2.0 / 3.0 * c * c));
}

/* E_z[P(|T| r(z) > x)], z ~ N(0,1), by the midpoint rule over z in [-8, 8]. */
static double row_scaled_tail(double x) {
    const double a = SYNTH_ROW_SIGMA, h = 1e-3;
    double sum = 0.0;
    for (double z = -8.0 + h / 2; z < 8.0; z += h) {
        const double r = exp(a * z - a * a);
        sum += exp(-z * z / 2) / sqrt(2 * M_PI) * t5_tail(x / r) * h;
    }
    return sum;
}

static void test_synth_tail_formula_by_hand(void **state) {
    (void)state;
    /* at r = 1 the closed form above: 1/3 - 7 sqrt(3) / (12 pi) */
    assert_true(fabs(t5_tail(3.0) - (1.0 / 3.0 - 7.0 * sqrt(3.0) / (12.0 * M_PI))) < 1e-12);
    assert_true(fabs(t5_tail(0.0) - 1.0) < 1e-12);
    assert_true(fabs(t5_tail(3.0) - 0.011716) < 1e-5);
}

static void test_synth_weight_statistics(void **state) {
    (void)state;
    SynthConfig c = {128, 256, 4, 8, 8, 2048, 256, 11};
    size_t len;
    uint8_t *buf = make(&c, NULL, &len);
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open_buffer(&m, buf, len, "synth", &err), ST_OK);

    const double lo = SYNTH_OUTLIER_MIN, hi = SYNTH_OUTLIER_MAX;
    const double em2 = (hi * hi * hi - lo * lo * lo) / (3.0 * (hi - lo));
    const double er4 = exp(4.0 * SYNTH_ROW_SIGMA * SYNTH_ROW_SIGMA), et4 = 9.0;
    /* per role, pooled over the layers: sum of w^2 / s^2, its expectation and variance */
    double got[ROLE_COUNT] = {0}, want[ROLE_COUNT] = {0}, var[ROLE_COUNT] = {0};
    int64_t beyond3 = 0, pooled = 0;
    double norm_sum = 0.0;
    int norm_n = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        const float *w = t->f32;
        if (t->is_norm) {
            for (int64_t j = 0; j < t->n_elements; j++) {
                assert_true(w[j] >= (float)exp(-SYNTH_NORM_SIGMA * SYNTH_NORM_CLAMP) * 0.9999f);
                assert_true(w[j] <= (float)exp(SYNTH_NORM_SIGMA * SYNTH_NORM_CLAMP) * 1.0001f);
                norm_sum += w[j];
                norm_n++;
            }
            continue;
        }
        const double s = synth_std(&c, t->role);
        assert_true(s > 0);
        const int64_t n = t->n_elements, k = synth_outlier_count(n);
        double sum = 0, sum2 = 0, amax = 0;
        for (int64_t j = 0; j < n; j++) {
            sum += w[j];
            sum2 += (double)w[j] * w[j];
            if (fabs(w[j]) > amax) amax = fabs(w[j]);
            if (fabs(w[j]) > 3.0 * s) beyond3++;
        }
        pooled += n;
        got[t->role] += sum2 / (s * s);
        want[t->role] += (double)(n - k) + (double)k * em2;
        /* n values: sampling (E[r^4] E[T^4] - 1) n; shared row factors (E[r^4] - 1) n^2 / rows */
        var[t->role] += (er4 * et4 - 1.0) * (double)n + (er4 - 1.0) * (double)n * (double)n / (double)t->rows;
        /* mean: zero, within 6 standard errors */
        assert_true(fabs(sum / (double)n) < 6.0 * s * sqrt(1.0 + (double)k * em2 / (double)n) / sqrt((double)n));
        /* at least one outlier survives (they are placed last) */
        assert_true(amax >= lo * s * 0.9999);
    }
    for (int r = 0; r < ROLE_COUNT; r++) {
        if (want[r] == 0) continue;
        const double rel = sqrt(var[r]) / want[r];
        if (fabs(got[r] / want[r] - 1.0) > 5.0 * rel)
            fail_msg("role %d: mean square %.4f of the intended, expected 1 +- %.1f%%", r, got[r] / want[r], 500 * rel);
    }
    /* heavy tails: the share beyond 3 s is what the mixture predicts (outliers
     * add at most their count), far above a normal distribution's 0.27 % */
    const double share = (double)beyond3 / (double)pooled, expect = row_scaled_tail(3.0);
    assert_true(expect > 0.011 && expect < 0.03);
    if (fabs(share / expect - 1.0) > 0.2) fail_msg("share beyond 3 std %.4f%%, expected %.4f%%", 100 * share, 100 * expect);
    /* norms: lognormal around 1, mean exp(sigma^2 / 2) within 6 standard errors */
    const double sg = SYNTH_NORM_SIGMA, nmean = exp(sg * sg / 2);
    const double nsd = sqrt((exp(sg * sg) - 1) * exp(sg * sg)) / sqrt((double)norm_n);
    assert_true(fabs(norm_sum / norm_n - nmean) < 6 * nsd);
    model_close(m);
    free(buf);
}

/* The intended spreads are stories260K's: for each role, synth_std at
 * stories260K's shape is within 5 % of the RMS of that role's matrices in the
 * bundled model (the trained weights are the outside reference here). */
static void test_synth_spreads_follow_stories260k(void **state) {
    (void)state;
    Model *m = NULL;
    Error err = {0};
    assert_int_equal(model_open(&m, proc_data_path("assets/stories260K.gguf"), NULL, &err), ST_OK);
    SynthConfig c = {64, 172, 5, 8, 4, 512, 512, 1};
    double sum2[ROLE_COUNT] = {0};
    int64_t n[ROLE_COUNT] = {0};
    for (int i = 0; i < m->n_tensors; i++) {
        const ModelTensor *t = &m->tensors[i];
        if (t->is_norm || t->n_dims != 2) continue;
        for (int64_t j = 0; j < t->n_elements; j++) sum2[t->role] += (double)t->f32[j] * t->f32[j];
        n[t->role] += t->n_elements;
    }
    int roles = 0;
    for (int r = 0; r < ROLE_COUNT; r++) {
        if (!n[r]) continue;
        const double rms = sqrt(sum2[r] / (double)n[r]), s = synth_std(&c, (TensorRole)r);
        if (fabs(s / rms - 1.0) > 0.05) fail_msg("role %d: synth std %.4f, stories260K RMS %.4f", r, s, rms);
        roles++;
    }
    assert_int_equal(roles, 9); /* token_embd, output, q k v o, gate down up */
    model_close(m);
}

/* The default is stories110M's shape: about 110 million weights a token reads
 * (every matrix of the blocks and the classifier), 134 million in the file. */
static void test_synth_default_shape(void **state) {
    (void)state;
    SynthConfig c = synth_config_default();
    assert_int_equal(c.dim, 768);
    assert_int_equal(c.hidden_dim, 2048);
    assert_int_equal(c.n_layers, 12);
    assert_int_equal(c.n_heads, 12);
    assert_int_equal(c.vocab_size, 32000);
    /* 12 * (4 * 768^2 + 3 * 768 * 2048 + 2 * 768) + 2 * 32000 * 768 + 768 */
    assert_int_equal(synth_weight_count(&c), 134105856);
}

static void test_synth_bad_configs_are_refused(void **state) {
    (void)state;
    Error err = {0};
    SynthConfig c = tiny(1);
    c.n_heads = 7; /* does not divide 64 */
    assert_int_equal(synth_config_check(&c, &err), ST_USAGE);
    assert_non_null(strstr(err.msg, "--heads"));
    c = tiny(1);
    c.n_kv_heads = 3;
    assert_int_equal(synth_config_check(&c, &err), ST_USAGE);
    c = tiny(1);
    c.n_heads = 64; /* heads of 1: RoPE needs pairs */
    assert_int_equal(synth_config_check(&c, &err), ST_USAGE);
    c = tiny(1);
    c.vocab_size = synth_min_vocab() - 1;
    assert_int_equal(synth_config_check(&c, &err), ST_USAGE);
    c.vocab_size = synth_min_vocab();
    assert_int_equal(synth_config_check(&c, &err), ST_OK);
    c = tiny(1);
    c.dim = 65536;
    c.n_heads = 8;
    c.n_kv_heads = 8;
    c.hidden_dim = 1 << 20;
    c.n_layers = 1024; /* 2e14 weights */
    assert_int_equal(synth_config_check(&c, &err), ST_LIMIT);
    uint8_t *buf = (uint8_t *)&c;
    size_t len = 1;
    c = tiny(1);
    c.n_layers = 0;
    assert_int_equal(synth_write_buffer(&c, NULL, &buf, &len, &err), ST_USAGE);
    assert_null(buf);
    assert_int_equal(len, 0);
}

static int setup_tmp(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ql-synth-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synth_same_seed_same_bytes),
        cmocka_unit_test(test_synth_file_loads_with_requested_shapes),
        cmocka_unit_test(test_synth_vocabulary),
        cmocka_unit_test(test_synth_tail_formula_by_hand),
        cmocka_unit_test(test_synth_weight_statistics),
        cmocka_unit_test(test_synth_spreads_follow_stories260k),
        cmocka_unit_test(test_synth_default_shape),
        cmocka_unit_test(test_synth_bad_configs_are_refused),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
