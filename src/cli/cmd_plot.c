/* cmd_plot.c — `quantlab plot KIND -o FILE.png`: the explorer's pictures from the
 * command line, for slides and worksheets.
 *
 *   hist         one tensor's weights, the grid of its format, the rounded values
 *   error        that tensor's rounding-error histogram with RMSE / SQNR / max |err|
 *   sensitivity  mean KL from FP32 with one tensor at a time in --type (a bar each)
 *   frontier     bits per weight against mean KL for the presets and the given plan
 *
 * Every figure is measured here (sensitivity and frontier run the model on the
 * bundled evaluation text); the PNG is written to a temporary name and renamed,
 * never over the model, never over an existing file without --force.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "model/eval.h"
#include "model/qcache.h"
#include "plot/chart.h"
#include "plot/png_write.h"
#include "plot/tensor_plot.h"
#include "quant/inspect.h"

/* Tokens scored per run for sensitivity and frontier: enough for stable KL
 * rankings on a small model, a few seconds a run. */
enum { PLOT_DEFAULT_TOKENS = 2048 };

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    CLI_OPT_PLAN,
    CLI_OPT_TYPE,
    CLI_OPT_PRESET,
    {"output", 'o', "FILE", "the PNG to write (required)"},
    {"force", 0, NULL, "replace FILE if it exists"},
    {"tensor", 0, "NAME", "hist, error: the tensor (default: output.weight, or token_embd.weight when tied)"},
    {"block", 0, "N", "hist: the block whose levels are drawn (default 0, the first of the first row)"},
    {"log", 0, NULL, "counts (hist, error) or bars (sensitivity) on a logarithmic axis"},
    CLI_OPT_TEXT,
    {"max-tokens", 0, "N", "sensitivity, frontier: tokens of the text scored per run (default 2048; 0 = all)"},
    CLI_OPT_THREADS,
    CLI_OPT_HELP,
    {0},
};

typedef enum PlotKind { KIND_HIST, KIND_ERROR, KIND_SENSITIVITY, KIND_FRONTIER, KIND_COUNT } PlotKind;
static const char *const KIND_NAMES[KIND_COUNT] = {"hist", "error", "sensitivity", "frontier"};

/* ------------------------------------------------------- tensor charts */

static Status plot_tensor(const CliArgs *a, PlotKind kind, const Model *m, const Plan *p, const char *desc,
                          const char *out, Pool *pool, Error *err) {
    const char *name = cli_str(a, "tensor", NULL);
    int i = name ? model_find_tensor(m, name) : m->output;
    if (i < 0 || !m->tensors[i].f32)
        return error_set(err, ST_USAGE, "plot: %s has no tensor named '%s' (see quantlab info)", m->path,
                         name ? name : "output.weight");
    const ModelTensor *t = &m->tensors[i];
    Format f = plan_is_quantizable(t) ? p->fmt[i] : FORMAT_FP32;
    QuantCache *cache = qcache_new(m, pool);
    if (!cache) return error_set(err, ST_NOMEM, "out of memory");
    const QTensor *q;
    Status st = qcache_get(cache, i, f, &q, err);
    BlockInfo *info = NULL;
    if (st == ST_OK && !(info = calloc(1, sizeof *info))) st = error_set(err, ST_NOMEM, "out of memory");
    long block = 0;
    if (st == ST_OK) st = cli_int(a, "block", 0, INT32_MAX, 0, &block, err);
    if (st == ST_OK && block >= inspect_block_count(q))
        st = error_set(err, ST_USAGE, "plot: --block %ld: %s has blocks 0 to %lld", block, t->name,
                       (long long)inspect_block_count(q) - 1);
    if (st == ST_OK) st = inspect_block(q, t->f32, block, info, err);
    if (st != ST_OK) {
        free(info);
        qcache_delete(cache);
        return st;
    }
    WeightStats ws;
    stats_compute(t->f32, q->dequant, t->n_elements, pool, &ws);
    char fmt[64], shape[32], caption[512], levels[160];
    format_label(f, fmt, sizeof fmt);
    model_tensor_shape(t, shape, sizeof shape);
    snprintf(caption, sizeof caption, "model: %s   plan: %s, %.2f bits/weight   tensor: %s (%s), %.2f bits/weight",
             m->name, desc, plan_bits_per_weight(p, m), t->name, shape, q->bytes * 8.0 / (double)t->n_elements);
    switch (info->scope) {
    case INSPECT_SCOPE_TENSOR: snprintf(levels, sizeof levels, "%d levels (one scale for all)", info->n_levels); break;
    case INSPECT_SCOPE_ROW:
        snprintf(levels, sizeof levels, "%d levels of row %lld", info->n_levels, (long long)info->row);
        break;
    default:
        snprintf(levels, sizeof levels, "%d levels of block %ld (row %lld, %lld-%lld)", info->n_levels,
                 block, (long long)info->row, (long long)info->group_col,
                 (long long)(info->group_col + info->group_len - 1));
    }
    TensorPlot tp = {
        .tensor_name = t->name,
        .format_label = fmt,
        .orig = t->f32,
        .deq = q->dequant,
        .n = t->n_elements,
        .levels = info->levels,
        .n_levels = info->n_levels,
        .levels_name = levels,
        .log_scale = cli_has(a, "log"),
        .has_stats = true,
        .stats = ws,
        .caption = caption,
    };
    st = tensor_plot_png(out, kind == KIND_ERROR ? TENSOR_PLOT_ERRORS : TENSOR_PLOT_WEIGHTS, &tp, err);
    if (st == ST_USAGE) error_prefix(err, "plot %s", KIND_NAMES[kind]);
    if (st == ST_OK) printf("wrote %s: %s of %s in %s\n", out, kind == KIND_ERROR ? "rounding error" : "weights", t->name, fmt);
    free(info);
    qcache_delete(cache);
    return st;
}

/* ---------------------------------------------------- measured charts */

/* Bars of mean KL, one per tensor, most sensitive first. */
static Status plot_sensitivity(const CliArgs *a, const Model *m, Format target, const EvalSet *set,
                               const char *text_name, const char *out, Pool *pool, Error *err) {
    QuantCache *cache = qcache_new(m, pool);
    if (!cache) return error_set(err, ST_NOMEM, "out of memory");
    Progress progress = cli_progress("plot sensitivity");
    SensitivityItem *items = NULL;
    int n = 0;
    Status st = eval_sensitivity(m, cache, target, SENS_TENSOR, set, pool, &progress, &items, &n, err);
    cli_progress_end(&progress);
    BarItem *bars = NULL;
    char (*names)[64] = NULL;
    Canvas c = {0};
    if (st == ST_OK && n == 0) st = error_set(err, ST_USAGE, "plot sensitivity: %s has no matrix to quantize", m->path);
    if (st == ST_OK && (!(bars = calloc((size_t)n, sizeof *bars)) || !(names = calloc((size_t)n, sizeof *names))))
        st = error_set(err, ST_NOMEM, "out of memory");
    if (st == ST_OK) {
        for (int k = 0; k < n; k++) {
            model_tensor_short_name(items[k].name, names[k], sizeof names[k]);
            bars[k] = (BarItem){names[k], items[k].kl_mean};
        }
        char fmt[64], title[160], caption[512], b1[32];
        format_label(target, fmt, sizeof fmt);
        snprintf(title, sizeof title, "Which tensors %s hurts most", fmt);
        snprintf(caption, sizeof caption,
                 "model: %s   each bar: only that tensor in %s, the rest FP32   text: %s, %s predictions", m->name, fmt,
                 text_name, fmt_count(b1, sizeof b1, set->n_predictions));
        BarsSpec spec = {
            .items = bars,
            .n_items = n,
            .x_scale = cli_has(a, "log") ? CHART_LOG : CHART_LINEAR,
            .value_digits = 2,
            .labels = {title, "mean KL divergence from FP32 (nats)", NULL, caption},
        };
        st = canvas_init(&c, CHART_DEFAULT_W, CHART_DEFAULT_H, chart_colour(CHART_BACKGROUND), err);
        if (st == ST_OK) st = chart_bars(&c, &spec, NULL, err);
        if (st == ST_OK) st = plot_write_png(&c, out, err);
        if (st == ST_OK)
            printf("wrote %s: %d tensors, most sensitive %s (mean KL %.4g)\n", out, n, items[0].name, items[0].kl_mean);
    }
    canvas_free(&c);
    free(names);
    free(bars);
    free(items);
    qcache_delete(cache);
    return st;
}

typedef struct FrontierProgress {
    const char *label; /* the plan being measured */
    int index, count;
} FrontierProgress;

static void frontier_report(void *ctx, double done, const char *stage) {
    const FrontierProgress *fp = ctx;
    (void)stage;
    fprintf(stderr, "\rquantlab plot frontier: %3.0f%% %-40.40s", 100.0 * (fp->index + done) / fp->count, fp->label);
    fflush(stderr);
}

/* Bits per weight against mean KL for the presets and the given plan. */
static Status plot_frontier(const Model *m, const Plan *given, const char *given_desc, const EvalSet *set,
                            const char *text_name, const char *out, Pool *pool, Error *err) {
    /* one line for the whole run: each plan's share of it, named by the plan */
    Progress line = cli_progress("plot frontier");
    static const PlanPreset PRESETS[] = {PRESET_FP32, PRESET_FP16, PRESET_INT8, PRESET_INT4, PRESET_INT4_KEEP_EDGES,
                                         PRESET_Q4_K_M_LIKE};
    enum { N_PRESETS = sizeof PRESETS / sizeof PRESETS[0] };
    ScatterPoint pts[N_PRESETS + 1];
    char labels[N_PRESETS + 1][136];
    int n = 0, highlight = -1;
    Weights base = {0};
    QuantCache *cache = qcache_new(m, pool);
    Status st = cache ? weights_init_f32(&base, m, err) : error_set(err, ST_NOMEM, "out of memory");
    FrontierProgress fp = {NULL, 0, N_PRESETS + (given ? 1 : 0)};
    for (int k = 0; st == ST_OK && k < N_PRESETS + 1; k++) {
        Plan p = {0};
        bool is_given = k == N_PRESETS;
        if (is_given) {
            if (!given) break;
            if (highlight >= 0) break; /* the given plan is one of the presets */
            if ((st = plan_copy(&p, given, err)) != ST_OK) break;
            snprintf(labels[n], sizeof labels[n], "%s", given_desc);
        } else {
            if ((st = plan_preset(&p, m, PRESETS[k], err)) != ST_OK) break;
            snprintf(labels[n], sizeof labels[n], "%s", plan_preset_name(PRESETS[k]));
            if (given && plan_equal(&p, given)) highlight = n;
        }
        double kl = 0; /* FP32 against itself: the same floats, KL exactly 0 */
        bool f32 = !is_given && PRESETS[k] == PRESET_FP32;
        if (!f32) {
            Weights w = {0};
            QualityResult r;
            fp.label = labels[n];
            fp.index = k;
            Progress progress = {line.report ? frontier_report : NULL, &fp, NULL};
            st = weights_init_plan(&w, m, &p, cache, err);
            if (st == ST_OK) st = eval_quality(&base, &w, set, pool, &progress, &r, err);
            if (st == ST_OK) kl = r.kl_mean;
            weights_free(&w);
        }
        if (st == ST_OK) {
            pts[n] = (ScatterPoint){plan_bits_per_weight(&p, m), kl, labels[n]};
            if (is_given) highlight = n;
            n++;
        }
        plan_free(&p);
    }
    cli_progress_end(&line);
    Canvas c = {0};
    if (st == ST_OK) {
        bool log_y = true; /* KL spans orders of magnitude; FP32's 0 sits on the axis */
        for (int k = 0; k < n; k++)
            if (pts[k].y <= 0 && strcmp(labels[k], "fp32") != 0) log_y = false;
        char caption[512], b1[32], hl[160];
        snprintf(caption, sizeof caption, "model: %s   text: %s, %s predictions   FP32 (KL 0) sits on the bottom edge", m->name,
                 text_name, fmt_count(b1, sizeof b1, set->n_predictions));
        snprintf(hl, sizeof hl, "your plan: %s", given_desc);
        ScatterSpec spec = {
            .points = pts,
            .n_points = n,
            .highlight = highlight,
            .points_name = "presets",
            .highlight_name = highlight >= 0 ? hl : NULL,
            .frontier = true,
            .frontier_name = "Pareto frontier",
            .x_scale = CHART_LINEAR,
            .y_scale = log_y ? CHART_LOG : CHART_LINEAR,
            .labels = {"Size against quality: smaller is left, closer to FP32 is down", "bits per weight",
                       log_y ? "mean KL from FP32 (nats, log)" : "mean KL from FP32 (nats)", caption},
        };
        st = canvas_init(&c, CHART_DEFAULT_W, CHART_DEFAULT_H, chart_colour(CHART_BACKGROUND), err);
        if (st == ST_OK) st = chart_scatter(&c, &spec, NULL, err);
        if (st == ST_OK) st = plot_write_png(&c, out, err);
        if (st == ST_OK) {
            printf("wrote %s:\n", out);
            for (int k = 0; k < n; k++)
                printf("  %-24s %6.2f bits/weight  mean KL %.6f%s\n", labels[k], pts[k].x, pts[k].y,
                       k == highlight ? "  (your plan)" : "");
        }
    }
    canvas_free(&c);
    weights_free(&base);
    qcache_delete(cache);
    return st;
}

/* ------------------------------------------------------------ command */

Status cmd_plot(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "plot", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "plot KIND [-m FILE] [--plan P | --type T | --preset NAME] [--tensor NAME] -o FILE.png",
                       "Draws what the explorer shows as a PNG picture (1280x720, for slides).\n"
                       "KIND is one of:\n"
                       "  hist         the weights of --tensor, the grid of levels of its format (of --block)\n"
                       "               and the values they are rounded to; format from the plan (default q4_0)\n"
                       "  error        the rounding-error histogram of --tensor, with RMSE, SQNR, max |error|\n"
                       "  sensitivity  one bar per tensor: mean KL from FP32 with only that tensor in --type\n"
                       "               (default q4_0), measured on assets/eval.txt (or --text)\n"
                       "  frontier     bits per weight against mean KL for the presets fp32 fp16 int8 int4\n"
                       "               int4-keep-edges q4_k_m-like and your plan (highlighted), with the\n"
                       "               Pareto frontier; measured on assets/eval.txt (or --text)\n"
                       "A progress line appears on stderr only when stderr is a terminal.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos == 0)
        return error_set(err, ST_USAGE, "plot: say what to draw: hist, error, sensitivity or frontier (see quantlab plot --help)");
    if (a.n_pos > 1) return error_set(err, ST_USAGE, "plot: unexpected argument '%s'", a.pos[1]);
    PlotKind kind = KIND_COUNT;
    for (int k = 0; k < KIND_COUNT; k++)
        if (strcmp(a.pos[0], KIND_NAMES[k]) == 0) kind = (PlotKind)k;
    if (kind == KIND_COUNT) {
        char shown[48];
        snprintf(shown, sizeof shown, "%.40s", a.pos[0]);
        for (char *c = shown; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f) *c = '?';
        return error_set(err, ST_USAGE, "plot: unknown kind '%s' (hist, error, sensitivity or frontier)", shown);
    }
    const char *out = cli_str(&a, "output", NULL);
    if (!out || !*out) return error_set(err, ST_USAGE, "plot: give the picture to write with -o FILE.png");
    if (kind == KIND_SENSITIVITY && (cli_has(&a, "plan") || cli_has(&a, "preset")))
        return error_set(err, ST_USAGE, "plot sensitivity: takes --type (the format each tensor is tried in), not a plan");
    if (kind != KIND_HIST && cli_has(&a, "block"))
        return error_set(err, ST_USAGE, "plot %s: --block is for hist", KIND_NAMES[kind]);
    if ((kind == KIND_HIST || kind == KIND_ERROR) && (cli_has(&a, "max-tokens") || cli_has(&a, "text")))
        return error_set(err, ST_USAGE, "plot %s: --text and --max-tokens are for sensitivity and frontier",
                         KIND_NAMES[kind]);
    long max_tokens;
    if ((st = cli_int(&a, "max-tokens", 0, INT32_MAX, PLOT_DEFAULT_TOKENS, &max_tokens, err)) != ST_OK) return st;
    if (max_tokens == 1) return error_set(err, ST_USAGE, "plot: --max-tokens must be 0 (all) or at least 2");
    char model_path[4096];
    if ((st = cli_model_path(&a, false, model_path, sizeof model_path, err)) != ST_OK ||
        (st = cli_check_output(&a, out, model_path, err)) != ST_OK)
        return st;

    Model *m = NULL;
    Pool *pool = NULL;
    int n_threads;
    Plan p = {0};
    EvalSet set = {0};
    bool given = false;
    char desc[128], text_path[4096];
    if ((st = cli_make_pool(&a, &pool, &n_threads, err)) || (st = cli_open_model(&a, false, &m, err)) ||
        (st = cli_plan(&a, m, &p, &given, desc, sizeof desc, err)))
        goto done;
    if ((kind == KIND_SENSITIVITY || kind == KIND_FRONTIER) &&
        ((st = cli_text_path(&a, text_path, sizeof text_path, err)) ||
         (st = cli_eval_set(&a, m, max_tokens, &set, err))))
        goto done;
    switch (kind) {
    case KIND_HIST:
    case KIND_ERROR:
        if (!given) { /* nothing to see in FP32: the teaching default */
            plan_free(&p);
            if ((st = plan_init(&p, m, FORMAT_INT4, err))) goto done;
            snprintf(desc, sizeof desc, "q4_0 (the default)");
        }
        st = plot_tensor(&a, kind, m, &p, desc, out, pool, err);
        break;
    case KIND_SENSITIVITY: {
        Format target = FORMAT_INT4;
        if (given) { /* --type: every matrix in one format; take it from any matrix */
            for (int i = 0; i < m->n_tensors; i++)
                if (plan_is_quantizable(&m->tensors[i])) {
                    target = p.fmt[i];
                    break;
                }
        }
        st = plot_sensitivity(&a, m, target, &set, file_basename(text_path), out, pool, err);
        break;
    }
    case KIND_FRONTIER:
        st = plot_frontier(m, given ? &p : NULL, desc, &set, file_basename(text_path), out, pool, err);
        break;
    default: break;
    }
done:
    evalset_free(&set);
    plan_free(&p);
    model_close(m);
    pool_delete(pool);
    return st;
}
