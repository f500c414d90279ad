/* keys.h — every key the explorer knows, in one table.
 *
 * Keys map to actions through KEYS[] (keys.c); the help screen and the
 * function-key bar are printed from the same table, so they never disagree with
 * what the keys do. A binding applies on the screens in its mask (SCR_ALL for
 * global keys); a screen-specific binding wins over a global one.
 */
#ifndef QL_TUI_KEYS_H
#define QL_TUI_KEYS_H

typedef enum Action {
    ACT_NONE = 0,
    /* global */
    ACT_QUIT, ACT_QUIT_NOW, ACT_HELP, ACT_NEXT_SCREEN, ACT_PREV_SCREEN,
    ACT_SCREEN_MODEL, ACT_SCREEN_LAYERS, ACT_SCREEN_HIST, ACT_SCREEN_COMPARE, ACT_SCREEN_QUALITY,
    ACT_SCREEN_LESSONS,
    ACT_UP, ACT_DOWN, ACT_LEFT, ACT_RIGHT, ACT_PAGE_UP, ACT_PAGE_DOWN, ACT_HOME, ACT_END,
    ACT_ACTIVATE, ACT_CANCEL,
    ACT_UNDO, ACT_REDO, ACT_PRESET, ACT_OPEN, ACT_SAVE_PLAN, ACT_EXPORT_GGUF, ACT_EXPORT_PNG,
    ACT_THEME, ACT_MOUSE, ACT_REFRESH,
    /* plan editing (Layers, Histogram) */
    ACT_FEWER_BITS, ACT_MORE_BITS, ACT_FORMAT_MENU, ACT_APPLY_BLOCK, ACT_APPLY_ALL, ACT_FORMAT_ALL,
    /* beyond rounding: outliers, GPTQ's calibration, weights put back */
    ACT_INJECT, ACT_RESTORE, ACT_CALIBRATE,
    /* Histogram */
    ACT_ZOOM_IN, ACT_ZOOM_OUT, ACT_ZOOM_RESET, ACT_LOG_SCALE, ACT_INSPECT, ACT_PREV_TENSOR,
    ACT_NEXT_TENSOR, ACT_ACTIVATIONS,
    /* Compare */
    ACT_EDIT_PROMPT, ACT_NEXT_STARTER, ACT_TOGGLE_SAMPLING, ACT_NEW_SEED, ACT_REGENERATE,
    /* Quality */
    ACT_EVALUATE, ACT_SCAN, ACT_SCAN_TARGET, ACT_SCAN_UNIT, ACT_SPEED, ACT_METHODS,
    /* Lessons */
    ACT_LESSON_NEXT, ACT_LESSON_BACK, ACT_LESSON_ANSWER, ACT_LESSON_HINT, ACT_LESSON_SKIP,
    ACT_COUNT
} Action;

enum {
    SCR_MODEL = 1 << 0,
    SCR_LAYERS = 1 << 1,
    SCR_HIST = 1 << 2,
    SCR_COMPARE = 1 << 3,
    SCR_QUALITY = 1 << 4,
    SCR_LESSONS = 1 << 5,
    SCR_HELP = 1 << 6,
    SCR_ALL = 0x7f
};

typedef struct KeyBinding {
    int key;           /* a curses key code or character */
    Action action;
    unsigned screens;  /* SCR_* mask */
    const char *name;  /* how help spells the key: "q", "F10", "Up/k" */
    const char *help;  /* what it does, one line; NULL hides it from help (an alias) */
    const char *fbar;  /* label in the function-key bar, or NULL */
} KeyBinding;

extern const KeyBinding KEYS[];
extern const int N_KEYS;

/* The action of key `ch` on the screen with mask `screen_bit`. */
Action keys_lookup(int ch, unsigned screen_bit);

#endif
