/* cmd_info.c — `quantlab info`: what is in a model file. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "quant/types.h"

static const CliOption OPTIONS[] = {
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    {"kv", 0, NULL, "also list every metadata key and value"},
    CLI_OPT_HELP,
    {0},
};

static void print_shape(char *buf, size_t size, const GgufTensorInfo *t) {
    int n = 0;
    buf[0] = '\0';
    for (uint32_t d = 0; d < t->n_dims && n >= 0 && (size_t)n < size; d++)
        n += snprintf(buf + n, size - (size_t)n, "%s%" PRIu64, d ? " x " : "", t->ne[d]);
}

static void print_model_summary(const Model *m) {
    const ModelConfig *c = &m->cfg;
    printf("model        %s (%s)\n", m->name, m->architecture);
    printf("shape        width %d, feed-forward %d, %d blocks, %d heads of %d", c->dim, c->hidden_dim,
           c->n_layers, c->n_heads, c->head_dim);
    if (c->n_kv_heads != c->n_heads) printf(" sharing %d key/value heads", c->n_kv_heads);
    printf("\nvocabulary   %d tokens (SentencePiece), BOS %d, EOS %d\n", c->vocab_size, m->tok.bos_id,
           m->tok.eos_id);
    printf("context      %d positions; RoPE on %d dims (base %g); RMSNorm eps %g\n", c->context_length,
           c->rope_dim, c->rope_freq_base, c->norm_eps);
    const ModelTensor *out = &m->tensors[m->output], *emb = &m->tensors[m->token_embd];
    if (m->tied_output)
        printf("classifier   tied: the output layer reuses token_embd.weight\n");
    else if (out->file_type == emb->file_type && out->file_bytes == emb->file_bytes &&
             memcmp(out->file_data, emb->file_data, out->file_bytes) == 0)
        printf("classifier   output.weight (a byte-for-byte copy of token_embd.weight)\n");
    else
        printf("classifier   output.weight (its own matrix)\n");
    char count[32];
    printf("weights      %s\n", fmt_count(count, sizeof count, m->n_params));
}

Status cmd_info(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "info", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "info [FILE] [--kv]",
                       "Lists a model file: its hyper-parameters, tokenizer, and every tensor with\n"
                       "its shape, storage type and bytes. Reads GGUF files of any type (files it\n"
                       "cannot run are still listed) and llama2.c checkpoints.",
                       OPTIONS);
        return ST_OK;
    }
    if (a.n_pos > 1) return error_set(err, ST_USAGE, "info: give one model file");
    char path[4096];
    if ((st = cli_model_path(&a, true, path, sizeof path, err))) return st;
    GgufFile g;
    void *owned = NULL;
    bool from_llama2c = false;
    const char *tok = cli_str(&a, "tokenizer", NULL);
    if ((st = model_read_file(path, tok, &g, &owned, &from_llama2c, err))) return st;

    char b1[32], b2[32];
    if (from_llama2c)
        printf("%s: llama2.c checkpoint, read as a GGUF image of %s bytes, %" PRIu64 " tensors\n", path,
               fmt_count(b1, sizeof b1, (int64_t)g.size), g.n_tensors);
    else
        printf("%s: GGUF v%" PRIu32 ", %s bytes, %" PRIu64 " metadata keys, %" PRIu64 " tensors\n", path,
               g.version, fmt_count(b1, sizeof b1, (int64_t)g.size), g.n_kv, g.n_tensors);

    Model *m = NULL;
    Error why;
    if (model_open_ex(&m, path, tok, MODEL_OPEN_NO_FLOATS, &why) == ST_OK) {
        print_model_summary(m);
        model_close(m);
    } else {
        printf("runnable     no: %s\n", why.msg);
    }

    if (cli_has(&a, "kv")) {
        printf("\n%-44s %-10s %s\n", "key", "type", "value");
        for (uint64_t i = 0; i < g.n_kv; i++) {
            char val[256];
            gguf_value_format(&g.kv[i].value, val, sizeof val);
            printf("%-44s %-10s %s\n", g.kv[i].key, gguf_value_type_name(g.kv[i].value.type), val);
        }
    }

    printf("\n%-28s %-14s %-7s %12s %12s %7s\n", "tensor", "shape", "type", "weights", "bytes", "bits/w");
    uint64_t total_n = 0, total_b = 0;
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const GgufTensorInfo *t = &g.tensors[i];
        char shape[64];
        print_shape(shape, sizeof shape, t);
        printf("%-28s %-14s %-7s %12s %12s %7.2f\n", t->name, shape, type_name(t->type),
               fmt_count(b1, sizeof b1, (int64_t)t->n_elements), fmt_count(b2, sizeof b2, (int64_t)t->nbytes),
               8.0 * (double)t->nbytes / (double)t->n_elements);
        total_n += t->n_elements;
        total_b += t->nbytes;
    }
    printf("%-28s %-14s %-7s %12s %12s %7.2f\n", "total", "", "", fmt_count(b1, sizeof b1, (int64_t)total_n),
           fmt_count(b2, sizeof b2, (int64_t)total_b), total_n ? 8.0 * (double)total_b / (double)total_n : 0.0);
    gguf_close(&g);
    free(owned);
    return ST_OK;
}
