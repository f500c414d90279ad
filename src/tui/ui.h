/* ui.h — the explorer's interface state, its screens, and the drawing helpers
 * they share. The model, the plan and every measurement live in the Session
 * (session/); App only remembers what the interface shows: which screen, which
 * row, which popup, zoom levels. */
#ifndef QL_TUI_UI_H
#define QL_TUI_UI_H

#include <curses.h>
#include <stdbool.h>
#include <stdint.h>

#include "session/session.h"
#include "tui/keys.h"
#include "tui/theme.h"
#include "tui/tui.h"

/* Flags a handler returns. */
enum { UI_NONE = 0, UI_REDRAW = 1, UI_QUIT = 2, UI_HANDLED = 4 };

enum { UI_MIN_COLS = 80, UI_MIN_ROWS = 24 };

/* Presenter mode's seed for sampled stories: the demo does the same thing every time. */
#define QL_PRESENT_SEED 20240601u

typedef struct Rect {
    int y, x, h, w;
} Rect;

typedef enum ScreenId {
    SCREEN_MODEL, SCREEN_LAYERS, SCREEN_HIST, SCREEN_COMPARE, SCREEN_QUALITY, SCREEN_LESSONS,
    SCREEN_HELP, SCREEN_COUNT
} ScreenId;

typedef struct App App;

/* A screen: a small table of functions (htop's Panel, ncdu's browser). Handlers
 * return UI_* flags; only the main loop draws. */
typedef struct Screen {
    const char *title;     /* tab label */
    unsigned key_mask;     /* SCR_* bit for the key table */
    /* Called when the screen is shown and whenever the session changed (a new
     * plan, a finished job): starts what the screen needs. Must be idempotent. */
    void (*enter)(App *a);
    void (*draw)(App *a, Rect r);
    int (*on_action)(App *a, Action act, int ch);
    int (*on_click)(App *a, Rect r, int y, int x, bool double_click);
    /* optional: a PNG of what the screen shows (ACT_EXPORT_PNG) */
    int (*export_png)(App *a, const char *path, char *msg, size_t size);
} Screen;

extern const Screen *const SCREENS[SCREEN_COUNT];

/* ---- popups: one at a time, drawn over the screen, keys go to them first ---- */
typedef enum PopupKind { POPUP_NONE, POPUP_MENU, POPUP_CONFIRM, POPUP_INPUT, POPUP_MESSAGE } PopupKind;

enum { POPUP_MAX_ITEMS = 64, POPUP_ITEM_LEN = 96 };

typedef void (*PopupChoose)(App *a, int index, const char *text);

typedef struct Popup {
    PopupKind kind;
    char title[512];
    char items[POPUP_MAX_ITEMS][POPUP_ITEM_LEN];
    int n_items, selected, scroll;
    char input[512];
    int cursor;
    PopupChoose choose;       /* called with the item index (menu), 1 (yes), or the text (input) */
    int tag;                  /* free for the opener */
} Popup;

/* ---- per-screen state ---- */
typedef struct LayersView {
    int sel;                  /* selected row */
    int scroll;
    bool expanded[1024];      /* per block */
    bool init;
} LayersView;

typedef struct HistView {
    int tensor;               /* selected tensor index */
    double zoom;              /* 1 = whole range */
    bool log_scale;
    bool inspect;             /* block inspector open */
    int64_t block;            /* inspected block (inspect.h's window index, row by row) */
    bool focus_errors;        /* the error chart has the focus (P saves it) */
} HistView;

typedef struct CompareView {
    char prompt[SESSION_PROMPT_MAX];
    int starter;
    bool sampled;
    uint64_t seed;
    uint64_t requested_hash;  /* plan hash the last request was for */
    char requested_prompt[SESSION_PROMPT_MAX];
    bool requested_sampled;
    uint64_t requested_seed;
    int scroll;               /* first story line shown */
    bool init;
} CompareView;

/* The Lessons screen's state (scr_lessons.c): the lessons, the learner's
 * progress, the open lesson. */
typedef struct LessonsUi LessonsUi;

typedef struct QualityView {
    Format scan_target;
    SensitivityUnit scan_unit;
    bool init;
    int scroll;
    uint64_t requested_hash;  /* plan hash the last quality measurement was asked for */
} QualityView;

struct App {
    Session *s;
    TuiOptions opt;
    ScreenId screen;
    ScreenId before_help;
    bool quit;
    bool mouse;
    int rows, cols;
    Popup popup;
    LayersView layers;
    HistView hist;
    CompareView cmp;
    QualityView qual;
    LessonsUi *lessons;       /* NULL until the Lessons screen is first used */
    int help_scroll;
    char status[512];         /* one line at the bottom: the last note or error */
    bool status_is_error;
    unsigned seen_generation; /* session generation last drawn */
    uint64_t speed_hash;      /* plan hash the last speed measurement was asked for */
    uint64_t calib_declined;  /* plan hash whose calibration the learner stopped (Esc): not restarted */
};

/* ---- app.c ---- */
void app_set_status(App *a, bool error, const char *fmt, ...) QL_PRINTF(3, 4);
void app_switch_screen(App *a, ScreenId id);
/* The screen whose title is `name` (in any case), or -1. */
int app_screen_named(const char *name);
/* Up, Down, PgUp, PgDn (`page` rows), Home and End on a scrolling view: moves
 * *scroll, which the screen clamps when it draws. Returns UI_REDRAW |
 * UI_HANDLED, or UI_NONE for any other action. */
int app_scroll(int *scroll, Action act, int page);
/* The tensor the Layers/Histogram screens point at (-1 if none). */
int app_selected_tensor(App *a);
void app_select_tensor(App *a, int tensor);
/* Popups */
void app_menu(App *a, const char *title, const char *const *items, int n, int selected, PopupChoose choose, int tag);
void app_confirm(App *a, const char *question, PopupChoose choose, int tag);
void app_input(App *a, const char *title, const char *initial, PopupChoose choose, int tag);
void app_message(App *a, const char *title, const char *text);
/* The format menu for a tensor (index), a block (-1 - layer) or every matrix
 * (INT32_MIN): formats, teaching formats, GPTQ, outlier split, pruning. */
void app_format_menu(App *a, int target);
/* Starts a calibration for GPTQ (says so on the status line). */
void app_calibrate(App *a);
/* Measurements the Model and Quality screens share. A small model is measured
 * whenever the plan changes (app_measures_automatically); a big one waits for e
 * and m, as a measurement would take minutes. */
bool app_measures_automatically(const App *a);
/* e: the plan's quality against FP32 (a failure shown before is forgotten). */
void app_measure_quality(App *a);
/* m: tokens per second, FP32 and the plan. */
void app_measure_speed(App *a);
/* The current plan's quality, unless it is measured, asked for already or failed. */
void app_keep_quality_measured(App *a);
/* Asks by how much to multiply weight (row, col) of tensor, then injects it;
 * app_inject_largest picks the tensor's largest |w|. */
void app_inject_menu(App *a, int tensor, int64_t row, int64_t col);
void app_inject_largest(App *a, int tensor);

/* ---- scr_compare.c ---- */
/* Asks for both columns' stories with the Compare screen's prompt and settings,
 * at most max_tokens each; the screen then takes them as its own. */
void compare_request(App *a, int max_tokens);

/* ---- scr_lessons.c: the open lesson, shown beside every screen ---- */
/* Loads the lessons and the progress (once); with opt.lesson, opens it. */
void lessons_start(App *a);
/* Saves the progress and frees everything (at exit). */
void lessons_stop(App *a);
/* Once per main-loop turn: checks the open lesson's step against the session,
 * times hints, starts measurements a step needs, saves progress. Returns
 * UI_REDRAW when the panel or screen changed. */
int lessons_tick(App *a);
/* Rows the lesson panel takes below other screens (0: none). */
int lessons_panel_height(App *a);
void lessons_panel_draw(App *a, Rect r);
/* Presenter mode's top and bottom lines, drawn instead of tabs and F-keys. */
void lessons_present_frame(App *a);

/* ---- draw.c ---- */
void draw_text(int y, int x, int max_w, ThemeRole role, const char *text);
/* Prints formatted text clipped to max_w columns; returns columns used. */
int draw_textf(int y, int x, int max_w, ThemeRole role, const char *fmt, ...) QL_PRINTF(5, 6);
void draw_fill(int y, int x, int w, ThemeRole role, char c);
void draw_box(Rect r, ThemeRole role, const char *title);
/* A horizontal bar of `value / max` over w cells, with eighth-cell precision on
 * UTF-8 terminals; `plan` picks the plan's glyph (shape differs from FP32's). */
void draw_hbar(int y, int x, int w, double value, double max, ThemeRole role, bool plan);
/* A progress bar with a label: "[#####.....] 45% label". */
void draw_progress(int y, int x, int w, double fraction, const char *label);
/* The first of a, b, c that fits in w columns, for a line said at several
 * lengths: the last one given (b when c is NULL) when none fits. */
const char *draw_fitting(int w, const char *a, const char *b, const char *c);
/* Display width of UTF-8 text as drawn (ASCII glyphs on a non-UTF-8 locale). */
int draw_width(const char *text);
/* Copies text into out so it shows safely: control bytes become spaces and, on
 * a non-UTF-8 locale, non-ASCII characters become '?'. */
void draw_sanitize(char *out, size_t size, const char *text, size_t len);
bool draw_utf8(void);
void draw_set_utf8(bool utf8);

/* Number formatting shared by screens. */
char *ui_fmt_count(char *buf, size_t size, double n);
char *ui_fmt_bytes(char *buf, size_t size, double bytes);

#endif
