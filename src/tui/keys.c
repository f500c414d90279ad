/* keys.c — the key table. Help and the function-key bar are drawn from it. */
#include "tui/keys.h"

#include <curses.h>

#define CTRL(c) ((c)&0x1f)

/* Screen-specific bindings first: the first match wins. */
const KeyBinding KEYS[] = {
    /* Layers and Histogram: change formats */
    {' ', ACT_FEWER_BITS, SCR_LAYERS | SCR_HIST, "Space", "fewer bits: FP32 > FP16 > INT8 > INT4 > FP32", NULL},
    {'-', ACT_FEWER_BITS, SCR_LAYERS, "-", "fewer bits for the selected tensor or block", NULL},
    {'+', ACT_MORE_BITS, SCR_LAYERS, "+", "more bits for the selected tensor or block", NULL},
    {'=', ACT_MORE_BITS, SCR_LAYERS, NULL, NULL, NULL},
    {'f', ACT_FORMAT_MENU, SCR_LAYERS | SCR_HIST, "f", "format menu: every format, teaching ones, GPTQ, outliers, pruning", NULL},
    {'F', ACT_FORMAT_ALL, SCR_LAYERS | SCR_HIST, "F", "the format menu for every matrix at once", NULL},
    {'\n', ACT_FORMAT_MENU, SCR_LAYERS, "Enter", "format menu (on a block: open or close it)", NULL},
    {'b', ACT_APPLY_BLOCK, SCR_LAYERS, "b", "give the selected tensor's format to its whole block", NULL},
    {'a', ACT_APPLY_ALL, SCR_LAYERS, "a", "give the selected tensor's format to every tensor", NULL},
    {'x', ACT_INJECT, SCR_LAYERS | SCR_HIST, "x", "inject an outlier: multiply the largest weight (inspector: the block's)", NULL},
    /* Histogram */
    {'+', ACT_ZOOM_IN, SCR_HIST, "+", "zoom in around zero", NULL},
    {'=', ACT_ZOOM_IN, SCR_HIST, NULL, NULL, NULL},
    {'-', ACT_ZOOM_OUT, SCR_HIST, "-", "zoom out", NULL},
    {'0', ACT_ZOOM_RESET, SCR_HIST, "0", "whole range", NULL},
    {'L', ACT_LOG_SCALE, SCR_HIST, "L", "logarithmic counts on/off", NULL},
    {'i', ACT_INSPECT, SCR_HIST, "i", "block inspector: one block's values, scale, codes and bytes", NULL},
    {'\n', ACT_INSPECT, SCR_HIST, "Enter", "block inspector", NULL},
    {'[', ACT_PREV_TENSOR, SCR_HIST, "[ / ]", "previous / next tensor", NULL},
    {']', ACT_NEXT_TENSOR, SCR_HIST, NULL, NULL, NULL},
    {KEY_LEFT, ACT_LEFT, SCR_HIST, "Left/Right", "previous / next tensor; in the inspector: block", NULL},
    {KEY_RIGHT, ACT_RIGHT, SCR_HIST, NULL, NULL, NULL},
    {KEY_UP, ACT_UP, SCR_HIST, "Up/Down", "weights or error chart (P saves it); inspector: row", NULL},
    {KEY_DOWN, ACT_DOWN, SCR_HIST, NULL, NULL, NULL},
    {27, ACT_CANCEL, SCR_HIST, "Esc", "close the block inspector", NULL},
    {'A', ACT_ACTIVATIONS, SCR_HIST, "A", "input ranges: what each matrix reads while the model runs eval.txt", NULL},
    /* Compare */
    {'e', ACT_EDIT_PROMPT, SCR_COMPARE, "e", "edit the prompt (Enter to run, Esc to cancel)", NULL},
    {'\n', ACT_EDIT_PROMPT, SCR_COMPARE, "Enter", "edit the prompt", NULL},
    {'n', ACT_NEXT_STARTER, SCR_COMPARE, "n", "next starter prompt", NULL},
    {'t', ACT_TOGGLE_SAMPLING, SCR_COMPARE, "t", "greedy or sampled (both columns share one seed)", NULL},
    {'s', ACT_NEW_SEED, SCR_COMPARE, "s", "seed for sampling: a new one, or type yours (switches to sampled)", NULL},
    {'g', ACT_REGENERATE, SCR_COMPARE, "g", "write both stories again", NULL},
    /* Quality */
    {'e', ACT_EVALUATE, SCR_QUALITY | SCR_MODEL, "e", "measure quality of the plan against FP32", NULL},
    {'\n', ACT_EVALUATE, SCR_QUALITY, "Enter", "measure quality", NULL},
    {'n', ACT_SCAN, SCR_QUALITY, "n", "sensitivity scan: each tensor alone at the scan format", NULL},
    {'t', ACT_SCAN_TARGET, SCR_QUALITY, "t", "format the scan uses (INT4, INT8, INT3...)", NULL},
    {'b', ACT_SCAN_UNIT, SCR_QUALITY, "b", "scan per tensor or per block (blk.N)", NULL},
    {'m', ACT_SPEED, SCR_QUALITY | SCR_MODEL, "m", "measure tokens per second, FP32 and the plan", NULL},
    {'G', ACT_METHODS, SCR_QUALITY, "G", "round-to-nearest vs GPTQ for this plan, side by side", NULL},
    /* Lessons (the letters a-f answer a question) */
    {'\n', ACT_LESSON_NEXT, SCR_LESSONS, "Enter", "start or continue a lesson; next step; type a number answer", NULL},
    {' ', ACT_LESSON_NEXT, SCR_LESSONS, "Space", "next step (presenter mode: also does a do step for the class)", NULL},
    {KEY_BACKSPACE, ACT_LESSON_BACK, SCR_LESSONS, "Backspace", "previous step", NULL},
    {127, ACT_LESSON_BACK, SCR_LESSONS, NULL, NULL, NULL},
    {8, ACT_LESSON_BACK, SCR_LESSONS, NULL, NULL, NULL},
    {'a', ACT_LESSON_ANSWER, SCR_LESSONS, "a b c d", "answer a question with that choice", NULL},
    {'b', ACT_LESSON_ANSWER, SCR_LESSONS, NULL, NULL, NULL},
    {'c', ACT_LESSON_ANSWER, SCR_LESSONS, NULL, NULL, NULL},
    {'d', ACT_LESSON_ANSWER, SCR_LESSONS, NULL, NULL, NULL},
    {'e', ACT_LESSON_ANSWER, SCR_LESSONS, NULL, NULL, NULL},
    {'f', ACT_LESSON_ANSWER, SCR_LESSONS, NULL, NULL, NULL},
    {'h', ACT_LESSON_HINT, SCR_LESSONS, "h", "a hint (one also comes by itself after a while)", NULL},
    {'s', ACT_LESSON_SKIP, SCR_LESSONS, "s", "skip this step (a do step is done for you; a question shows its answer)", NULL},

    /* global */
    {'q', ACT_QUIT, SCR_ALL, "q", "quit (asks first if the plan is not saved)", NULL},
    {KEY_F(10), ACT_QUIT, SCR_ALL, "F10", NULL, "Quit"},
    {CTRL('c'), ACT_QUIT_NOW, SCR_ALL, "Ctrl-C", "quit at once, without asking", NULL},
    {'?', ACT_HELP, SCR_ALL, "?", "this help", NULL},
    {KEY_F(1), ACT_HELP, SCR_ALL, "F1", NULL, "Help"},
    {'\t', ACT_NEXT_SCREEN, SCR_ALL, "Tab", "next screen (Shift-Tab: previous)", NULL},
    {KEY_BTAB, ACT_PREV_SCREEN, SCR_ALL, NULL, NULL, NULL},
    {'1', ACT_SCREEN_MODEL, SCR_ALL, "1 / F2", "Model: size, speed and quality at a glance", NULL},
    {KEY_F(2), ACT_SCREEN_MODEL, SCR_ALL, NULL, NULL, "Model"},
    {'2', ACT_SCREEN_LAYERS, SCR_ALL, "2 / F3", "Layers: every tensor and its format", NULL},
    {KEY_F(3), ACT_SCREEN_LAYERS, SCR_ALL, NULL, NULL, "Layers"},
    {'3', ACT_SCREEN_HIST, SCR_ALL, "3 / F4", "Histogram: the weights, the grid, the rounding error", NULL},
    {KEY_F(4), ACT_SCREEN_HIST, SCR_ALL, NULL, NULL, "Hist"},
    {'4', ACT_SCREEN_COMPARE, SCR_ALL, "4 / F5", "Compare: FP32 and the plan write side by side", NULL},
    {KEY_F(5), ACT_SCREEN_COMPARE, SCR_ALL, NULL, NULL, "Comp"},
    {'5', ACT_SCREEN_QUALITY, SCR_ALL, "5 / F6", "Quality: perplexity, KL, sensitivity, the frontier", NULL},
    {KEY_F(6), ACT_SCREEN_QUALITY, SCR_ALL, NULL, NULL, "Qual"},
    {'6', ACT_SCREEN_LESSONS, SCR_ALL, "6 / F7", "Lessons: learn by doing it, step by step (back to the lesson)", NULL},
    {KEY_F(7), ACT_SCREEN_LESSONS, SCR_ALL, NULL, NULL, "Learn"},
    {KEY_UP, ACT_UP, SCR_ALL, "Up / k", "move up", NULL},
    {'k', ACT_UP, SCR_ALL, NULL, NULL, NULL},
    {KEY_DOWN, ACT_DOWN, SCR_ALL, "Down / j", "move down", NULL},
    {'j', ACT_DOWN, SCR_ALL, NULL, NULL, NULL},
    {KEY_LEFT, ACT_LEFT, SCR_ALL, "Left / h", "back, close a block, previous tensor", NULL},
    {'h', ACT_LEFT, SCR_ALL, NULL, NULL, NULL},
    {KEY_RIGHT, ACT_RIGHT, SCR_ALL, "Right / l", "forward, open a block, next tensor", NULL},
    {'l', ACT_RIGHT, SCR_ALL, NULL, NULL, NULL},
    {KEY_PPAGE, ACT_PAGE_UP, SCR_ALL, "PgUp", "page up", NULL},
    {KEY_NPAGE, ACT_PAGE_DOWN, SCR_ALL, "PgDn", "page down", NULL},
    {KEY_HOME, ACT_HOME, SCR_ALL, "Home", "first row", NULL},
    {KEY_END, ACT_END, SCR_ALL, "End", "last row", NULL},
    {'\n', ACT_ACTIVATE, SCR_ALL, "Enter", "act on the selection", NULL},
    {' ', ACT_ACTIVATE, SCR_ALL, NULL, NULL, NULL},
    {27, ACT_CANCEL, SCR_ALL, "Esc", "cancel: close a menu, stop a running measurement", NULL},
    {'u', ACT_UNDO, SCR_ALL, "u", "undo the last plan change", NULL},
    {CTRL('r'), ACT_REDO, SCR_ALL, "Ctrl-R / U", "redo", NULL},
    {'U', ACT_REDO, SCR_ALL, NULL, NULL, NULL},
    {'p', ACT_PRESET, SCR_ALL, "p", "presets: all FP32/FP16/INT8/INT4, INT4 with INT8 edges, Q4_K_M-like", NULL},
    {'r', ACT_RESTORE, SCR_ALL, "r", "restore the weights an injected outlier changed, bit for bit", NULL},
    {'C', ACT_CALIBRATE, SCR_ALL, "C", "calibrate for GPTQ: the FP32 model reads calib.txt (Esc stops)", NULL},
    {KEY_F(8), ACT_PRESET, SCR_ALL, "F8", NULL, "Preset"},
    {'o', ACT_OPEN, SCR_ALL, "o", "open a model or a plan file", NULL},
    {'S', ACT_SAVE_PLAN, SCR_ALL, "S", "save the plan (a text file of PATTERN=FORMAT rules)", NULL},
    {KEY_F(9), ACT_SAVE_PLAN, SCR_ALL, "F9", NULL, "Save"},
    {'W', ACT_EXPORT_GGUF, SCR_ALL, "W", "write the model under this plan as a GGUF file", NULL},
    {'P', ACT_EXPORT_PNG, SCR_ALL, "P", "save this screen's chart as a PNG picture", NULL},
    {'T', ACT_THEME, SCR_ALL, "T", "colours: default, high contrast (projectors), monochrome", NULL},
    {'M', ACT_MOUSE, SCR_ALL, "M", "mouse on/off", NULL},
    {CTRL('l'), ACT_REFRESH, SCR_ALL, "Ctrl-L", "redraw the screen", NULL},
};

const int N_KEYS = (int)(sizeof KEYS / sizeof KEYS[0]);

Action keys_lookup(int ch, unsigned screen_bit) {
    if (ch == KEY_ENTER || ch == '\r') ch = '\n';
    for (int i = 0; i < N_KEYS; i++)
        if (KEYS[i].key == ch && (KEYS[i].screens & screen_bit)) return KEYS[i].action;
    return ACT_NONE;
}
