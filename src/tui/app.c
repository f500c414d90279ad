/* app.c — the explorer's main loop: terminal setup and restore, the frame
 * (tabs, summary, status line, function-key bar), popups, global actions. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <dirent.h>
#include <unistd.h>

#include "base/datadir.h"
#include "base/file.h"
#include "quant/outliers.h"
#include "quant/types.h"
#include "tui/ui.h"

extern const Screen SCREEN_MODEL_DEF, SCREEN_LAYERS_DEF, SCREEN_HIST_DEF, SCREEN_COMPARE_DEF,
    SCREEN_QUALITY_DEF, SCREEN_LESSONS_DEF, SCREEN_HELP_DEF;

const Screen *const SCREENS[SCREEN_COUNT] = {
    &SCREEN_MODEL_DEF,   &SCREEN_LAYERS_DEF,  &SCREEN_HIST_DEF, &SCREEN_COMPARE_DEF,
    &SCREEN_QUALITY_DEF, &SCREEN_LESSONS_DEF, &SCREEN_HELP_DEF,
};

/* ------------------------------------------------------ terminal restore */

static volatile sig_atomic_t got_signal;
static bool curses_active;
static struct termios saved_tio;
static bool have_saved_tio;
static char restore_seq[256]; /* what a crashing process writes to give the terminal back */

static void restore_terminal_now(void) {
    if (!curses_active) return;
    curses_active = false;
    endwin();
}

static void on_quit_signal(int sig) {
    got_signal = sig;
}

static void on_fatal_signal(int sig) {
    /* Only async-signal-safe calls: put the terminal back, then die as usual. */
    if (curses_active) {
        ssize_t n = write(STDOUT_FILENO, restore_seq, strlen(restore_seq));
        (void)n;
        if (have_saved_tio) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void build_restore_seq(void) {
    const char *caps[] = {"sgr0", "cnorm", "rmcup"};
    restore_seq[0] = '\0';
    strcat(restore_seq, "\033[?1000l\033[?1002l\033[?1006l"); /* mouse reporting off */
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        const char *s = tigetstr((char *)caps[i]);
        if (s && s != (char *)-1 && strlen(restore_seq) + strlen(s) + 2 < sizeof restore_seq)
            strcat(restore_seq, s);
    }
    strcat(restore_seq, "\r\n");
}

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sa.sa_handler = on_fatal_signal;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
}

/* ---------------------------------------------------------------- status */

void app_set_status(App *a, bool error, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->status, sizeof a->status, fmt, ap);
    va_end(ap);
    a->status_is_error = error;
}

/* ----------------------------------------------------------------- screens */

void app_switch_screen(App *a, ScreenId id) {
    if (id >= SCREEN_COUNT) return;
    if (id == SCREEN_HELP && a->screen != SCREEN_HELP) a->before_help = a->screen;
    a->screen = id;
    /* lesson checks read what is shown from the session (lesson/ has no curses) */
    snprintf(a->s->ui_screen, sizeof a->s->ui_screen, "%s", SCREENS[id]->title);
    for (char *c = a->s->ui_screen; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    if (SCREENS[id]->enter) SCREENS[id]->enter(a);
}

int app_screen_named(const char *name) {
    for (int i = 0; i < SCREEN_COUNT; i++)
        if (strcasecmp(name, SCREENS[i]->title) == 0) return i;
    return -1;
}

int app_scroll(int *scroll, Action act, int page) {
    switch (act) {
    case ACT_UP: (*scroll)--; break;
    case ACT_DOWN: (*scroll)++; break;
    case ACT_PAGE_UP: *scroll -= page; break;
    case ACT_PAGE_DOWN: *scroll += page; break;
    case ACT_HOME: *scroll = 0; break;
    case ACT_END: *scroll = 1 << 20; break;
    default: return UI_NONE;
    }
    return UI_REDRAW | UI_HANDLED;
}

int app_selected_tensor(App *a) {
    return a->hist.tensor;
}

void app_select_tensor(App *a, int tensor) {
    if (tensor >= 0 && tensor < a->s->model->n_tensors) a->hist.tensor = a->s->ui_tensor = tensor;
}

/* ------------------------------------------------------------------ popups */

void app_menu(App *a, const char *title, const char *const *items, int n, int selected,
              PopupChoose choose, int tag) {
    Popup *p = &a->popup;
    memset(p, 0, sizeof *p);
    p->kind = POPUP_MENU;
    snprintf(p->title, sizeof p->title, "%s", title);
    p->n_items = n < POPUP_MAX_ITEMS ? n : POPUP_MAX_ITEMS;
    for (int i = 0; i < p->n_items; i++) snprintf(p->items[i], sizeof p->items[i], "%s", items[i]);
    p->selected = selected >= 0 && selected < p->n_items ? selected : 0;
    p->choose = choose;
    p->tag = tag;
}

void app_confirm(App *a, const char *question, PopupChoose choose, int tag) {
    Popup *p = &a->popup;
    memset(p, 0, sizeof *p);
    p->kind = POPUP_CONFIRM;
    snprintf(p->title, sizeof p->title, "%s", question);
    p->choose = choose;
    p->tag = tag;
}

void app_input(App *a, const char *title, const char *initial, PopupChoose choose, int tag) {
    Popup *p = &a->popup;
    memset(p, 0, sizeof *p);
    p->kind = POPUP_INPUT;
    snprintf(p->title, sizeof p->title, "%s", title);
    snprintf(p->input, sizeof p->input, "%s", initial ? initial : "");
    p->cursor = (int)strlen(p->input);
    p->choose = choose;
    p->tag = tag;
}

void app_message(App *a, const char *title, const char *text) {
    Popup *p = &a->popup;
    memset(p, 0, sizeof *p);
    p->kind = POPUP_MESSAGE;
    snprintf(p->title, sizeof p->title, "%s", title);
    snprintf(p->input, sizeof p->input, "%s", text);
}

static void draw_popup(App *a) {
    Popup *p = &a->popup;
    if (p->kind == POPUP_NONE) return;
    int w = 60, h;
    if (p->kind == POPUP_MENU) {
        for (int i = 0; i < p->n_items; i++)
            if (draw_width(p->items[i]) + 6 > w) w = draw_width(p->items[i]) + 6;
        h = p->n_items + 2;
    } else {
        h = p->kind == POPUP_MESSAGE ? 7 : 5;
    }
    if (draw_width(p->title) + 6 > w) w = draw_width(p->title) + 6;
    if (w > COLS - 4) w = COLS - 4;
    if (h > LINES - 4) h = LINES - 4;
    Rect r = {(LINES - h) / 2, (COLS - w) / 2, h, w};
    for (int y = 0; y < h; y++) draw_fill(r.y + y, r.x, w, ROLE_POPUP, ' ');
    draw_box(r, ROLE_POPUP, p->kind == POPUP_MENU || p->kind == POPUP_MESSAGE ? p->title : NULL);
    if (p->kind == POPUP_MENU) {
        int visible = h - 2;
        if (p->selected < p->scroll) p->scroll = p->selected;
        if (p->selected >= p->scroll + visible) p->scroll = p->selected - visible + 1;
        for (int i = 0; i < visible && p->scroll + i < p->n_items; i++) {
            int k = p->scroll + i;
            draw_fill(r.y + 1 + i, r.x + 1, w - 2, k == p->selected ? ROLE_SELECTED : ROLE_POPUP, ' ');
            draw_text(r.y + 1 + i, r.x + 2, w - 4, k == p->selected ? ROLE_SELECTED : ROLE_POPUP, p->items[k]);
        }
    } else if (p->kind == POPUP_CONFIRM) {
        draw_text(r.y + 1, r.x + 2, w - 4, ROLE_POPUP, p->title);
        draw_text(r.y + 3, r.x + 2, w - 4, ROLE_POPUP, "y = yes    n or Esc = no");
    } else if (p->kind == POPUP_INPUT) {
        draw_text(r.y + 1, r.x + 2, w - 4, ROLE_POPUP, p->title);
        /* show the end of long input */
        const char *shown = p->input;
        int room = w - 6;
        while (draw_width(shown) > room) shown++;
        draw_fill(r.y + 2, r.x + 2, w - 4, ROLE_SELECTED, ' ');
        draw_text(r.y + 2, r.x + 2, w - 4, ROLE_SELECTED, shown);
        draw_text(r.y + 3, r.x + 2, w - 4, ROLE_POPUP, "Enter = OK    Esc = cancel");
    } else {
        draw_text(r.y + 2, r.x + 2, w - 4, ROLE_POPUP, p->input);
        draw_text(r.y + h - 2, r.x + 2, w - 4, ROLE_POPUP, "press any key");
    }
}

/* Keys go to the open popup first. Returns UI flags. */
static int popup_key(App *a, int ch) {
    Popup *p = &a->popup;
    PopupChoose choose = p->choose;
    if (p->kind == POPUP_MESSAGE) {
        p->kind = POPUP_NONE;
        return UI_REDRAW;
    }
    if (ch == 27 || (p->kind == POPUP_CONFIRM && (ch == 'n' || ch == 'N'))) {
        p->kind = POPUP_NONE;
        return UI_REDRAW;
    }
    if (p->kind == POPUP_CONFIRM) {
        if (ch == 'y' || ch == 'Y') {
            p->kind = POPUP_NONE;
            if (choose) choose(a, 1, NULL);
        }
        return UI_REDRAW;
    }
    if (p->kind == POPUP_MENU) {
        Action act = keys_lookup(ch, SCR_ALL);
        if (act == ACT_UP && p->selected > 0) p->selected--;
        else if (act == ACT_DOWN && p->selected + 1 < p->n_items) p->selected++;
        else if (act == ACT_HOME) p->selected = 0;
        else if (act == ACT_END) p->selected = p->n_items - 1;
        else if (act == ACT_PAGE_UP) p->selected = p->selected > 10 ? p->selected - 10 : 0;
        else if (act == ACT_PAGE_DOWN) p->selected = p->selected + 10 < p->n_items ? p->selected + 10 : p->n_items - 1;
        else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == ' ' || act == ACT_RIGHT) {
            int sel = p->selected;
            char text[POPUP_ITEM_LEN];
            snprintf(text, sizeof text, "%s", p->items[sel]);
            p->kind = POPUP_NONE;
            if (choose) choose(a, sel, text);
        } else if (act == ACT_LEFT) {
            p->kind = POPUP_NONE;
        }
        return UI_REDRAW;
    }
    /* input line */
    size_t len = strlen(p->input);
    if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        char text[sizeof p->input];
        snprintf(text, sizeof text, "%s", p->input);
        p->kind = POPUP_NONE;
        if (choose) choose(a, 0, text);
    } else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && p->cursor > 0) {
        /* remove one UTF-8 character before the cursor */
        int start = p->cursor - 1;
        while (start > 0 && ((unsigned char)p->input[start] & 0xC0) == 0x80) start--;
        memmove(p->input + start, p->input + p->cursor, len - (size_t)p->cursor + 1);
        p->cursor = start;
    } else if (ch == 21) { /* Ctrl-U clears */
        p->input[0] = '\0';
        p->cursor = 0;
    } else if (ch >= 32 && ch < 256 && ch != 127 && len + 1 < sizeof p->input) {
        memmove(p->input + p->cursor + 1, p->input + p->cursor, len - (size_t)p->cursor + 1);
        p->input[p->cursor++] = (char)ch;
    }
    return UI_REDRAW;
}

/* ------------------------------------------------------------ format menu */

/* The menu's first level: the formats llama.cpp runs, then the submenus. Labels
 * stay under 70 columns, so the menu fits an 80-column terminal. */
static const char *const FORMAT_ITEMS[] = {
    "FP32   32 bits  the original numbers",
    "FP16   16 bits  half precision",
    "BF16   16 bits  bfloat16: FP32's range, fewer digits",
    "INT8   8.5 bits  Q8_0: blocks of 32, one scale each",
    "Q5_0   5.5 bits  5-bit codes, blocks of 32",
    "Q4_1   5 bits  4-bit codes, scale and minimum per block",
    "INT4   4.5 bits  Q4_0: 4-bit codes, blocks of 32",
    "Teaching formats...  INT8/4/3/2, per tensor/row/block, zero point",
    "GPTQ...  rounding that makes up for its own errors",
    "Outliers...  keep the largest weights apart, in FP16",
    "Pruning...  set the smallest weights to zero (20%, 50%, 2:4)",
};
enum { MENU_N_GGML = 7, MENU_TEACH = 7, MENU_GPTQ = 8, MENU_OUTLIERS = 9, MENU_PRUNE = 10, MENU_PLAIN = 11 };
static const uint32_t FORMAT_TYPES[MENU_N_GGML] = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q8_0,
                                                   GGML_TYPE_Q5_0, GGML_TYPE_Q4_1, GGML_TYPE_Q4_0};

static int menu_target;   /* tensor index, or -1 - layer for a block, or INT32_MIN for all */
static Format menu_current; /* the target's format when the menu opened (the first matrix's for a block) */
static int teach_bits, teach_gran, teach_block;
static bool teach_gptq;   /* the teaching submenus choose a base for GPTQ */

static bool is_fp(Format f) {
    return f.kind == FORMAT_GGML && (f.type == GGML_TYPE_F32 || f.type == GGML_TYPE_F16 || f.type == GGML_TYPE_BF16);
}

/* The format the target has now: the tensor's; a block's or everything's first
 * matrix (the selected one for everything, when it is a matrix). */
static Format target_format(App *a, int target) {
    const Session *s = a->s;
    const Model *m = s->model;
    if (target >= 0) return s->plan.fmt[target];
    int sel = a->hist.tensor;
    if (target == INT32_MIN && sel >= 0 && sel < m->n_tensors && plan_is_quantizable(&m->tensors[sel]))
        return s->plan.fmt[sel];
    for (int i = 0; i < m->n_tensors; i++)
        if (plan_is_quantizable(&m->tensors[i]) && (target == INT32_MIN || m->tensors[i].layer == -1 - target))
            return s->plan.fmt[i];
    return FORMAT_FP32;
}

static void target_name(int target, const Session *s, char *buf, size_t size) {
    if (target == INT32_MIN) snprintf(buf, size, "every matrix");
    else if (target < 0) snprintf(buf, size, "blk.%d", -1 - target);
    else snprintf(buf, size, "%s", s->model->tensors[target].name);
}

static void apply_format(App *a, Format f) {
    Session *s = a->s;
    bool changed;
    char label[FORMAT_NAME_MAX], where[96];
    format_label(f, label, sizeof label);
    target_name(menu_target, s, where, sizeof where);
    if (menu_target == INT32_MIN) changed = session_set_format_all(s, f);
    else if (menu_target < 0) changed = session_set_format_layer(s, -1 - menu_target, f);
    else changed = session_set_format(s, menu_target, f);
    if (!changed) {
        app_set_status(a, false, "%s is %s already", where, label);
        return;
    }
    if (session_needs_calibration(s)) { /* GPTQ weighs errors by activations: measure them first */
        app_calibrate(a);
        app_set_status(a, false, "%s now %s; GPTQ needs a calibration: reading calib.txt first (Esc stops)", where, label);
        return;
    }
    app_set_status(a, false, "%s now %s", where, label);
}

static void teach_sym_chosen(App *a, int index, const char *text) {
    (void)text;
    static const int blocks[] = {0, 0, 16, 32, 64, 128};
    Granularity g = teach_gran == 0 ? GRAN_TENSOR : teach_gran == 1 ? GRAN_ROW : GRAN_BLOCK;
    Format f = format_teach(teach_bits, g, blocks[teach_block], index == 1);
    if (teach_gptq) f = format_with_method(f, METHOD_GPTQ);
    apply_format(a, f);
}

static void teach_gran_chosen(App *a, int index, const char *text) {
    (void)text;
    teach_gran = index < 2 ? index : 2;
    teach_block = index;
    static const char *const items[] = {"symmetric: a scale (zero stays exactly zero)",
                                        "asymmetric: a scale and a zero point (fits lopsided ranges)"};
    app_menu(a, "Range", items, 2, 0, teach_sym_chosen, 0);
}

static void teach_bits_chosen(App *a, int index, const char *text) {
    (void)text;
    static const int bits[] = {8, 4, 3, 2};
    teach_bits = bits[index];
    static const char *const items[] = {"one scale for the whole tensor", "one scale per row",
                                        "one scale per block of 16", "one scale per block of 32",
                                        "one scale per block of 64", "one scale per block of 128"};
    app_menu(a, "How many scales", items, 6, 3, teach_gran_chosen, 0);
}

static void open_teaching(App *a, bool gptq) {
    static const char *const items[] = {"INT8  256 levels", "INT4  16 levels", "INT3  8 levels",
                                        "INT2  4 levels (3 when symmetric)"};
    teach_gptq = gptq;
    app_menu(a, gptq ? "GPTQ on a teaching format: bits per weight" : "Teaching format: bits per weight", items, 4, 1,
             teach_bits_chosen, 0);
}

/* The current format's pruning and outlier split on another base. */
static Format with_modifiers_of(Format base, Format from) {
    Format f = base;
    if (from.prune) f = format_with_prune(f, (PruneKind)from.prune, from.prune_pct);
    if (from.split && !is_fp(base)) f = format_with_outliers(f, from.outlier_bp);
    return f;
}

/* GPTQ: INT8 and INT4, the current teaching base, or another teaching base.
 * Pruning and an outlier split the target has are kept. */
typedef enum GptqItem { GPTQ_INT8, GPTQ_INT4, GPTQ_CURRENT, GPTQ_TEACH, GPTQ_OFF } GptqItem;
static GptqItem gptq_items[5];

static void gptq_chosen(App *a, int index, const char *text) {
    (void)text;
    Format cur = menu_current;
    switch (gptq_items[index]) {
    case GPTQ_INT8:
    case GPTQ_INT4: {
        Format base = gptq_items[index] == GPTQ_INT8 ? FORMAT_INT8 : FORMAT_INT4;
        apply_format(a, format_with_method(with_modifiers_of(base, cur), METHOD_GPTQ));
        break;
    }
    case GPTQ_CURRENT: apply_format(a, format_with_method(cur, METHOD_GPTQ)); break;
    case GPTQ_TEACH: open_teaching(a, true); break;
    default: apply_format(a, format_with_method(cur, METHOD_RTN));
    }
}

static void open_gptq(App *a) {
    static char items[5][POPUP_ITEM_LEN];
    const char *ptrs[5];
    char cur[FORMAT_NAME_MAX];
    format_label(format_base(menu_current), cur, sizeof cur);
    int n = 0;
    gptq_items[n] = GPTQ_INT8;
    snprintf(items[n++], POPUP_ITEM_LEN, "INT8 + GPTQ   Q8_0 codes, chosen column by column");
    gptq_items[n] = GPTQ_INT4;
    snprintf(items[n++], POPUP_ITEM_LEN, "INT4 + GPTQ   Q4_0 codes, chosen column by column");
    if (menu_current.kind == FORMAT_TEACH) {
        gptq_items[n] = GPTQ_CURRENT;
        snprintf(items[n++], POPUP_ITEM_LEN, "%.40s + GPTQ", cur);
    }
    gptq_items[n] = GPTQ_TEACH;
    snprintf(items[n++], POPUP_ITEM_LEN, "a teaching format + GPTQ...");
    if (menu_current.method == METHOD_GPTQ) {
        gptq_items[n] = GPTQ_OFF;
        snprintf(items[n++], POPUP_ITEM_LEN, "no GPTQ: round to nearest");
    }
    for (int i = 0; i < n; i++) ptrs[i] = items[i];
    int sel = format_equal(format_base(menu_current), FORMAT_INT8) ? 0 : menu_current.kind == FORMAT_TEACH ? 2 : 1;
    app_menu(a, "GPTQ: rounding errors made up for by the columns after (calib.txt)", ptrs, n, sel, gptq_chosen, 0);
}

/* Outlier split: 0.1, 0.5 or 1% kept in FP16 beside the current format (INT4
 * when the target is FP32/FP16/BF16, which have nothing to split from). */
static const int OUTLIER_BP[] = {10, 50, 100};

static Format outlier_base(void) {
    Format f = menu_current;
    if (is_fp(format_base(f))) f = with_modifiers_of(FORMAT_INT4, f);
    return f;
}

static void outliers_chosen(App *a, int index, const char *text) {
    (void)text;
    Format f = outlier_base();
    if (index < 3) {
        apply_format(a, format_with_outliers(f, OUTLIER_BP[index]));
    } else { /* no split */
        f.split = 0;
        f.outlier_bp = 0;
        apply_format(a, f);
    }
}

static void open_outliers(App *a) {
    static char items[4][POPUP_ITEM_LEN];
    const char *ptrs[4];
    char rest[FORMAT_NAME_MAX];
    Format base = outlier_base();
    base.split = 0;
    base.outlier_bp = 0;
    format_label(base, rest, sizeof rest);
    int n = 0;
    for (; n < 3; n++)
        snprintf(items[n], POPUP_ITEM_LEN, "top %g%% in FP16, the rest %.40s", OUTLIER_BP[n] / 100.0, rest);
    if (menu_current.split) snprintf(items[n++], POPUP_ITEM_LEN, "no outlier split");
    for (int i = 0; i < n; i++) ptrs[i] = items[i];
    int sel = 2;
    for (int i = 0; i < 3; i++)
        if (menu_current.split && menu_current.outlier_bp == OUTLIER_BP[i]) sel = i;
    app_menu(a, "Outliers: the largest weights kept apart (6 bytes each), as LLM.int8() does", ptrs, n, sel,
             outliers_chosen, 0);
}

/* Pruning: 20% or 50% of the smallest weights, or 2 of every 4, alone (on
 * FP32) or before the current format (INT4 when that is FP32). */
static Format prune_then(void) {
    Format f = menu_current;
    if (format_equal(format_base(f), FORMAT_FP32)) f = format_with_method(FORMAT_INT4, (QuantMethod)f.method);
    return f;
}

static Format pruned(Format f, int which) {
    return which == 2 ? format_with_prune(f, PRUNE_2_4, 0) : format_with_prune(f, PRUNE_UNSTRUCTURED, which ? 50 : 20);
}

static void prune_chosen(App *a, int index, const char *text) {
    (void)text;
    if (index < 3) apply_format(a, pruned(FORMAT_FP32, index));
    else if (index < 6) apply_format(a, pruned(prune_then(), index - 3));
    else apply_format(a, format_with_prune(menu_current, PRUNE_NONE, 0));
}

static void open_pruning(App *a) {
    static char items[7][POPUP_ITEM_LEN];
    const char *ptrs[7];
    static const char *const what[3] = {"20% of the weights set to 0", "50% of the weights set to 0",
                                        "2:4: 2 of every 4 set to 0"};
    char then[FORMAT_NAME_MAX];
    Format t = prune_then();
    t.prune = 0;
    t.prune_pct = 0;
    format_label(t, then, sizeof then);
    int n = 0;
    for (int i = 0; i < 3; i++) snprintf(items[n++], POPUP_ITEM_LEN, "%s, the rest FP32", what[i]);
    for (int i = 0; i < 3; i++) snprintf(items[n++], POPUP_ITEM_LEN, "%s, then %.36s", what[i], then);
    if (menu_current.prune) snprintf(items[n++], POPUP_ITEM_LEN, "no pruning");
    for (int i = 0; i < n; i++) ptrs[i] = items[i];
    app_menu(a, "Pruning: the smallest weights become 0 (a dense file stays as big)", ptrs, n,
             is_fp(format_base(menu_current)) ? 1 : 4, prune_chosen, 0);
}

static void format_chosen(App *a, int index, const char *text) {
    (void)text;
    if (index < MENU_N_GGML) apply_format(a, format_ggml(FORMAT_TYPES[index]));
    else if (index == MENU_TEACH) open_teaching(a, false);
    else if (index == MENU_GPTQ) open_gptq(a);
    else if (index == MENU_OUTLIERS) open_outliers(a);
    else if (index == MENU_PRUNE) open_pruning(a);
    else apply_format(a, format_base(menu_current));
}

void app_format_menu(App *a, int target) {
    menu_target = target;
    menu_current = target_format(a, target);
    char title[160], where[96];
    target_name(target, a->s, where, sizeof where);
    snprintf(title, sizeof title, "Format for %s", where);
    static char plain[POPUP_ITEM_LEN];
    const char *items[MENU_PLAIN + 1];
    int n = 0;
    for (; n < MENU_PLAIN; n++) items[n] = FORMAT_ITEMS[n];
    Format f = menu_current;
    if (format_has_modifiers(f)) { /* a way back to the plain base */
        char base[FORMAT_NAME_MAX];
        format_label(format_base(f), base, sizeof base);
        snprintf(plain, sizeof plain, "Plain %.40s  without GPTQ, pruning, outliers", base);
        items[n++] = plain;
    }
    int sel = 0;
    Format b = format_base(f);
    for (int i = 0; i < MENU_N_GGML; i++)
        if (b.kind == FORMAT_GGML && b.type == FORMAT_TYPES[i]) sel = i;
    if (b.kind == FORMAT_TEACH) sel = MENU_TEACH;
    if (f.method == METHOD_GPTQ) sel = MENU_GPTQ;
    else if (f.split) sel = MENU_OUTLIERS;
    else if (f.prune) sel = MENU_PRUNE;
    app_menu(a, title, items, n, sel, format_chosen, 0);
}

/* ------------------------------------------------------ beyond rounding */

void app_calibrate(App *a) {
    Session *s = a->s;
    double prog;
    a->calib_declined = 0;
    if (session_job_progress(s, JOB_CALIB, &prog, NULL, 0)) {
        app_set_status(a, false, "calibrating already: the FP32 model is reading calib.txt");
        return;
    }
    session_calibrate(s);
    if (s->calib.error[0]) app_set_status(a, true, "%s", s->calib.error);
    else app_set_status(a, false, "calibrating: the FP32 model reads calib.txt, for GPTQ (Esc stops)");
}

/* A plan whose +gptq formats cannot be built yet is calibrated in the
 * background (a loaded plan, an undo, a lesson's skip), unless the learner
 * stopped that for this plan (Esc) or the calibration failed. */
static void keep_calibrated(App *a) {
    Session *s = a->s;
    double prog;
    if (!session_needs_calibration(s) || s->calib.error[0]) return;
    if (a->calib_declined == session_plan_hash(&s->plan)) return;
    if (session_job_progress(s, JOB_CALIB, &prog, NULL, 0)) return;
    session_calibrate(s);
    if (!s->calib.error[0]) app_set_status(a, false, "GPTQ needs a calibration: the FP32 model reads calib.txt (Esc stops)");
}

/* ------------------------------------------------------- measurements */

/* Parameters up to which a measurement takes seconds, not minutes. */
enum { AUTO_MEASURE_MAX_PARAMS = 5000000, SPEED_TOKENS = 128 };

bool app_measures_automatically(const App *a) {
    return a->s->model->n_params <= AUTO_MEASURE_MAX_PARAMS;
}

void app_measure_quality(App *a) {
    Session *s = a->s;
    s->quality.error[0] = '\0';
    a->qual.requested_hash = session_plan_hash(&s->plan);
    session_request_quality(s);
}

void app_measure_speed(App *a) {
    a->speed_hash = session_plan_hash(&a->s->plan);
    session_request_speed(a->s, SPEED_TOKENS);
}

void app_keep_quality_measured(App *a) {
    Session *s = a->s;
    uint64_t h = session_plan_hash(&s->plan);
    if (!(s->quality.valid && s->quality.plan_hash == h) && a->qual.requested_hash != h && !s->quality.error[0]) {
        a->qual.requested_hash = h;
        session_request_quality(s);
    }
}

static const double INJECT_FACTORS[] = {5, 10, 50, 100};
static int inject_tensor;
static int64_t inject_row, inject_col;

static void inject_chosen(App *a, int index, const char *text) {
    (void)text;
    Error err;
    if (session_inject_outlier(a->s, inject_tensor, inject_row, inject_col, INJECT_FACTORS[index], &err) != ST_OK)
        app_set_status(a, true, "%s", err.msg);
}

void app_inject_menu(App *a, int tensor, int64_t row, int64_t col) {
    const ModelTensor *t = &a->s->model->tensors[tensor];
    inject_tensor = tensor;
    inject_row = row;
    inject_col = col;
    char title[200];
    snprintf(title, sizeof title, "Inject an outlier: multiply %s[%lld, %lld] = %+.4g by", t->name, (long long)row,
             (long long)col, (double)t->f32[row * t->cols + col]);
    static char items[4][POPUP_ITEM_LEN];
    const char *ptrs[4];
    for (int i = 0; i < 4; i++) {
        snprintf(items[i], sizeof items[i], "x%-4g -> %+.4g", INJECT_FACTORS[i],
                 INJECT_FACTORS[i] * (double)t->f32[row * t->cols + col]);
        ptrs[i] = items[i];
    }
    app_menu(a, title, ptrs, 4, 1, inject_chosen, 0);
}

/* The largest |w| of tensor i (the first of equals). */
void app_inject_largest(App *a, int tensor) {
    const ModelTensor *t = &a->s->model->tensors[tensor];
    if (!plan_is_quantizable(t) || !t->f32) {
        app_set_status(a, false, "%s is not a matrix a plan changes: pick another tensor", t->name);
        return;
    }
    int64_t best = outliers_largest_index(t->f32, t->n_elements);
    app_inject_menu(a, tensor, best / t->cols, best % t->cols);
}

/* ---------------------------------------------------------- global actions */

static void preset_chosen(App *a, int index, const char *text) {
    (void)text;
    Error err;
    if (session_apply_preset(a->s, (PlanPreset)index, &err) != ST_OK) app_set_status(a, true, "%s", err.msg);
    else app_set_status(a, false, "plan: %s", plan_preset_label((PlanPreset)index));
}

static void open_presets(App *a) {
    static const char *const what[PRESET_COUNT] = {
        [PRESET_FP32] = "the original: 32 bits a weight",
        [PRESET_FP16] = "half precision: 16 bits",
        [PRESET_INT8] = "Q8_0: 8 bits and a scale per 32 weights",
        [PRESET_INT4] = "Q4_0: 4 bits and a scale per 32 weights",
        [PRESET_INT4_KEEP_EDGES] = "INT4, but the embeddings and output at INT8",
        [PRESET_Q4_K_M_LIKE] = "INT4 with INT8 where llama.cpp's Q4_K_M adds bits",
        [PRESET_AS_STORED] = "each tensor as the file stores it",
    };
    static char items[PRESET_COUNT][POPUP_ITEM_LEN];
    const char *ptrs[PRESET_COUNT];
    for (int i = 0; i < PRESET_COUNT; i++) {
        snprintf(items[i], sizeof items[i], "%-17s %s", plan_preset_label((PlanPreset)i), what[i]);
        ptrs[i] = items[i];
    }
    app_menu(a, "Presets", ptrs, PRESET_COUNT, 0, preset_chosen, 0);
}

static char picker_paths[POPUP_MAX_ITEMS][1024];

static bool has_ext(const char *name, const char *ext) {
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcmp(name + n - e, ext) == 0;
}

static void picked(App *a, int index, const char *text) {
    (void)text;
    const char *path = picker_paths[index];
    Error err;
    if (has_ext(path, ".plan")) {
        if (session_load_plan(a->s, path, &err) != ST_OK) app_set_status(a, true, "%s", err.msg);
        else app_set_status(a, false, "loaded plan %s", path);
        return;
    }
    erase();
    mvaddstr(LINES / 2, 2, "opening ");
    addstr(file_basename(path));
    addstr("...");
    refresh();
    if (session_switch_model(a->s, path, NULL, &err) != ST_OK) {
        app_set_status(a, true, "%s", err.msg);
        return;
    }
    memset(&a->layers, 0, sizeof a->layers);
    app_select_tensor(a, a->s->model->token_embd);
    a->hist.inspect = false;
    app_set_status(a, false, "opened %s", path);
}

static int list_dir(const char *dir, char items[][POPUP_ITEM_LEN], int n) {
    DIR *d = opendir(dir);
    if (!d) return n;
    struct dirent *e;
    while ((e = readdir(d)) && n < POPUP_MAX_ITEMS) {
        if (!has_ext(e->d_name, ".gguf") && !has_ext(e->d_name, ".plan") && !has_ext(e->d_name, ".bin")) continue;
        if (has_ext(e->d_name, ".bin") && strncmp(e->d_name, "tok", 3) == 0) continue; /* tokenizers */
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        bool dup = false;
        for (int i = 0; i < n && !dup; i++) dup = file_same(picker_paths[i], path);
        if (dup || file_is_dir(path)) continue;
        snprintf(picker_paths[n], sizeof picker_paths[n], "%s", path);
        char size[32] = "";
        struct stat st;
        if (stat(path, &st) == 0) ui_fmt_bytes(size, sizeof size, (double)st.st_size);
        snprintf(items[n], POPUP_ITEM_LEN, "%-48.48s %10s", path, size);
        n++;
    }
    closedir(d);
    return n;
}

static void open_picker(App *a) {
    static char items[POPUP_MAX_ITEMS][POPUP_ITEM_LEN];
    const char *ptrs[POPUP_MAX_ITEMS];
    int n = 0;
    char assets[1024];
    if (datadir_find("assets", assets, sizeof assets)) n = list_dir(assets, items, n);
    n = list_dir(".", items, n);
    if (a->opt.models_dir) n = list_dir(a->opt.models_dir, items, n);
    if (n == 0) {
        app_set_status(a, true, "no .gguf, .bin or .plan files in assets/, here%s", a->opt.models_dir ? " or --models" : "");
        return;
    }
    for (int i = 0; i < n; i++) ptrs[i] = items[i];
    app_menu(a, "Open a model (.gguf, llama2.c .bin) or a plan (.plan)", ptrs, n, 0, picked, 0);
}

/* Asking for an output file: a name, a refusal if it is the model, a question if
 * it exists, then the action. One path for plans, GGUF exports and pictures. */
static char pending_path[1024];
static void (*pending_action)(App *a);

static void path_confirmed(App *a, int index, const char *text) {
    (void)index;
    (void)text;
    pending_action(a);
}

static void path_named(App *a, int index, const char *text) {
    (void)index;
    if (!text || !*text) return;
    snprintf(pending_path, sizeof pending_path, "%s", text);
    if (file_same(pending_path, a->s->model_path)) {
        app_set_status(a, true, "%s is the model; quantlab never writes over it", pending_path);
        return;
    }
    if (file_is_dir(pending_path)) {
        app_set_status(a, true, "%s is a directory; give a file name", pending_path);
        return;
    }
    if (file_exists(pending_path)) {
        char q[400];
        snprintf(q, sizeof q, "%.300s exists. Replace it?", pending_path);
        app_confirm(a, q, path_confirmed, 0);
        return;
    }
    pending_action(a);
}

static void ask_path(App *a, const char *title, const char *suggested, void (*action)(App *a)) {
    pending_action = action;
    app_input(a, title, suggested, path_named, 0);
}

static void save_plan_to_path(App *a) {
    Error err;
    if (session_save_plan(a->s, pending_path, &err) != ST_OK) app_set_status(a, true, "%s", err.msg);
    else app_set_status(a, false, "saved the plan to %s", pending_path);
}

static void export_to_path(App *a) {
    session_request_export(a->s, pending_path, FORMAT_FP16);
    app_set_status(a, false, "writing %s in the background...", pending_path);
}

static void png_to_path(App *a) {
    char msg[512];
    int ok = SCREENS[a->screen]->export_png(a, pending_path, msg, sizeof msg);
    app_set_status(a, !ok, "%s", msg);
}

static void quit_confirmed(App *a, int index, const char *text) {
    (void)index;
    (void)text;
    a->quit = true;
}

static void default_name(App *a, const char *suffix, char *out, size_t size) {
    char base[256];
    snprintf(base, sizeof base, "%s", a->s->model->name);
    for (char *c = base; *c; c++)
        if (*c == '/' || *c == ' ') *c = '_';
    snprintf(out, size, "%s%s", base, suffix);
}

static int global_action(App *a, Action act) {
    Session *s = a->s;
    char name[512];
    switch (act) {
    case ACT_QUIT: /* a presenter's demo plan is not worth a question */
        if (session_plan_dirty(s) && !a->opt.present) app_confirm(a, "The plan has changes you have not saved. Quit anyway?", quit_confirmed, 0);
        else a->quit = true;
        return UI_REDRAW;
    case ACT_QUIT_NOW: a->quit = true; return UI_QUIT;
    case ACT_HELP:
        app_switch_screen(a, a->screen == SCREEN_HELP ? a->before_help : SCREEN_HELP);
        return UI_REDRAW;
    case ACT_NEXT_SCREEN:
    case ACT_PREV_SCREEN: {
        int n = SCREEN_COUNT - 1; /* help is not in the cycle */
        int cur = a->screen == SCREEN_HELP ? a->before_help : a->screen;
        app_switch_screen(a, (ScreenId)((cur + (act == ACT_NEXT_SCREEN ? 1 : n - 1)) % n));
        return UI_REDRAW;
    }
    case ACT_SCREEN_MODEL: app_switch_screen(a, SCREEN_MODEL); return UI_REDRAW;
    case ACT_SCREEN_LAYERS: app_switch_screen(a, SCREEN_LAYERS); return UI_REDRAW;
    case ACT_SCREEN_HIST: app_switch_screen(a, SCREEN_HIST); return UI_REDRAW;
    case ACT_SCREEN_COMPARE: app_switch_screen(a, SCREEN_COMPARE); return UI_REDRAW;
    case ACT_SCREEN_QUALITY: app_switch_screen(a, SCREEN_QUALITY); return UI_REDRAW;
    case ACT_SCREEN_LESSONS: app_switch_screen(a, SCREEN_LESSONS); return UI_REDRAW;
    case ACT_UNDO:
        if (session_undo(s)) app_set_status(a, false, "undone");
        else app_set_status(a, false, "nothing to undo");
        return UI_REDRAW;
    case ACT_REDO:
        if (session_redo(s)) app_set_status(a, false, "redone");
        else app_set_status(a, false, "nothing to redo");
        return UI_REDRAW;
    case ACT_PRESET: open_presets(a); return UI_REDRAW;
    case ACT_OPEN: open_picker(a); return UI_REDRAW;
    case ACT_SAVE_PLAN:
        default_name(a, ".plan", name, sizeof name);
        ask_path(a, "Save the plan as:", name, save_plan_to_path);
        return UI_REDRAW;
    case ACT_EXPORT_GGUF:
        default_name(a, "-quantlab.gguf", name, sizeof name);
        ask_path(a, "Write the model under this plan as GGUF:", name, export_to_path);
        return UI_REDRAW;
    case ACT_EXPORT_PNG:
        if (!SCREENS[a->screen]->export_png) {
            app_set_status(a, true, "this screen has no chart to save; try Histogram, Quality");
            return UI_REDRAW;
        }
        snprintf(name, sizeof name, "quantlab-%s.png", s->ui_screen); /* the title in lower case */
        ask_path(a, "Save the chart as PNG:", name, png_to_path);
        return UI_REDRAW;
    case ACT_THEME: {
        ThemeScheme next = (ThemeScheme)((theme_scheme() + 1) % SCHEME_COUNT);
        if (a->opt.no_color) next = SCHEME_MONO;
        theme_init(next);
        app_set_status(a, false, "colours: %s%s", theme_name(theme_scheme()),
                       a->opt.no_color ? " (NO_COLOR is set)" : "");
        clear();
        return UI_REDRAW;
    }
    case ACT_MOUSE:
        a->mouse = !a->mouse;
        mousemask(a->mouse ? (ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION) : 0, NULL);
        app_set_status(a, false, "mouse %s", a->mouse ? "on" : "off");
        return UI_REDRAW;
    case ACT_REFRESH: clear(); return UI_REDRAW;
    case ACT_RESTORE:
        if (!session_weights_edited(s)) app_set_status(a, false, "no weights are edited: nothing to restore");
        else session_restore_weights(s); /* its note says so */
        return UI_REDRAW;
    case ACT_CALIBRATE: app_calibrate(a); return UI_REDRAW;
    case ACT_CANCEL:
        if (worker_any_busy(s->worker) || s->methods_after_calib) {
            double prog;
            bool calibrating = session_job_progress(s, JOB_CALIB, &prog, NULL, 0);
            session_cancel_jobs(s);
            if (calibrating) a->calib_declined = session_plan_hash(&s->plan);
            if (calibrating && session_needs_calibration(s))
                app_set_status(a, false, "stopped: the +gptq formats wait for a calibration (C calibrates, u undoes)");
            else app_set_status(a, false, "stopped");
        } else if (a->screen == SCREEN_HELP) {
            app_switch_screen(a, a->before_help);
        }
        return UI_REDRAW;
    default: return UI_NONE;
    }
}

/* ------------------------------------------------------------------ frame */

/* The screen's area: below the tabs and summary, above the lesson panel (when
 * a lesson is open), the status line and the function keys. */
static Rect content_rect(App *a) {
    return (Rect){2, 0, LINES - 4 - lessons_panel_height(a), COLS};
}

static const char TAB_TITLE[] = " quantlab ", TAB_HELP[] = " ? Help ";

/* Screen i's tab, " N Title "; returns its width. */
static int tab_label(int i, char *buf, size_t size) {
    return snprintf(buf, size, " %d %s ", i + 1, SCREENS[i]->title);
}

/* Where the first screen tab starts. On the Help screen an extra tab is shown;
 * when the row is too narrow for it (80 columns) the name gives way to it
 * rather than the tab being cut off. The mouse handler uses the same answer. */
static int tabs_start_x(const App *a) {
    if (a->screen != SCREEN_HELP) return (int)strlen(TAB_TITLE);
    int width = (int)(strlen(TAB_TITLE) + strlen(TAB_HELP));
    char label[32];
    for (int i = 0; i < SCREEN_COUNT - 1; i++) width += tab_label(i, label, sizeof label);
    return width <= COLS ? (int)strlen(TAB_TITLE) : 0;
}

static void draw_tabs(App *a) {
    draw_fill(0, 0, COLS, ROLE_TAB, ' ');
    int x = tabs_start_x(a);
    if (x > 0) draw_textf(0, 0, COLS, ROLE_TITLE, "%s", TAB_TITLE);
    for (int i = 0; i < SCREEN_COUNT - 1; i++) {
        char label[32];
        tab_label(i, label, sizeof label);
        bool active = (int)a->screen == i;
        x += draw_textf(0, x, COLS - x, active ? ROLE_TAB_ACTIVE : ROLE_TAB, "%s", label);
    }
    if (a->screen == SCREEN_HELP) draw_textf(0, x, COLS - x, ROLE_TAB_ACTIVE, "%s", TAB_HELP);
}

static void draw_summary(App *a) {
    Session *s = a->s;
    char b1[32], b2[32], sizes[96], label[64] = "";
    double prog = 0;
    /* a running job (a calibration first: other work waits for it) */
    static const SessionJobKind kinds[] = {JOB_CALIB, JOB_QUALITY, JOB_METHODS, JOB_COMPARE, JOB_SENS,
                                           JOB_SPEED, JOB_ACTS, JOB_EXPORT, JOB_STATS};
    bool job = false;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && !job; k++)
        if ((job = session_job_progress(s, kinds[k], &prog, label, sizeof label)) && kinds[k] == JOB_ACTS)
            snprintf(label, sizeof label, "input ranges"); /* calib_run calls its stage "calibrating" */
    bool edited = session_weights_edited(s);
    ui_fmt_bytes(b1, sizeof b1, session_plan_bytes(s));
    ui_fmt_bytes(b2, sizeof b2, plan_bytes_f32(s->model));
    int room = COLS - 3 - draw_width(s->model->name) - 2 - draw_width(s->plan_label) - 1 - 2;
    snprintf(sizes, sizeof sizes, "%s of %s, %.2f bits/w", b1, b2, session_plan_bits(s));
    if ((job || edited) && room - (int)strlen(sizes) < 26) /* make room for the progress bar */
        snprintf(sizes, sizeof sizes, "%s, %.2f bits/w", b1, session_plan_bits(s));
    draw_fill(1, 0, COLS, ROLE_NORMAL, ' ');
    int x = 1 + draw_textf(1, 1, COLS - 2, ROLE_NORMAL, "%s", s->model->name);
    x += 2 + draw_textf(1, x + 2, COLS - x - 2, ROLE_CHANGED, "%s%s", s->plan_label,
                        session_plan_dirty(s) ? "*" : "");
    x += 2 + draw_textf(1, x + 2, COLS - x - 2, ROLE_NORMAL, "%s", sizes);
    int right = COLS - 1;
    if (job) {
        int w = COLS - 1 - (x + 2);
        if (w > 36) w = 36;
        if (w >= 20) {
            draw_progress(1, COLS - w - 1, w, prog, label);
            right = COLS - w - 2;
        }
    }
    /* an injected outlier changes the model itself: say so on every screen */
    if (edited) {
        const char *says[] = {"EDITED weights (r restores)", "EDITED (r)", "EDITED"};
        for (int k = 0; k < 3; k++) {
            int n = (int)strlen(says[k]);
            if (right - n >= x + 2) {
                draw_text(1, right - n, n, ROLE_WARN, says[k]);
                break;
            }
        }
    }
}

/* The function-key bar, F1..F10 in order, from the key table. */
static int fbar_entries(const KeyBinding **out) {
    int n = 0;
    for (int f = 1; f <= 12; f++)
        for (int i = 0; i < N_KEYS; i++)
            if (KEYS[i].fbar && KEYS[i].key == KEY_F(f)) out[n++] = &KEYS[i];
    return n;
}

static int fbar_width(const KeyBinding *k) {
    return (k->key >= KEY_F(10) ? 3 : 2) + 6;
}

static void draw_fbar(App *a) {
    int y = LINES - 1;
    const KeyBinding *keys[16];
    int n = fbar_entries(keys);
    draw_fill(y, 0, COLS, ROLE_FKEY_LABEL, ' ');
    int x = 0;
    for (int i = 0; i < n && x < COLS; i++) {
        x += draw_textf(y, x, COLS - x, ROLE_FKEY, "F%d", (keys[i]->key - KEY_F(0)) % 100);
        x += draw_textf(y, x, COLS - x, ROLE_FKEY_LABEL, "%-6.6s", keys[i]->fbar);
    }
    (void)a;
}

static void draw_status(App *a) {
    int y = LINES - 2;
    draw_fill(y, 0, COLS, ROLE_NORMAL, ' ');
    const char *msg = a->status;
    bool err = a->status_is_error;
    if (a->s->message[0]) { /* a background job said something */
        snprintf(a->status, sizeof a->status, "%s", a->s->message);
        a->status_is_error = !a->s->message_is_note;
        a->s->message[0] = '\0';
        a->s->message_is_note = false;
        msg = a->status;
        err = a->status_is_error;
    }
    if (*msg) draw_text(y, 1, COLS - 2, err ? ROLE_BAD : ROLE_DIM, msg);
    else draw_text(y, 1, COLS - 2, ROLE_DIM, "? help   Tab next screen   q quit");
}

static void draw_too_small(void) {
    erase();
    const char *l1 = "Terminal too small";
    char l2[96];
    snprintf(l2, sizeof l2, "%dx%d here; quantlab needs at least %dx%d.", COLS, LINES, UI_MIN_COLS, UI_MIN_ROWS);
    const char *l3 = "Make the window bigger or the font smaller. q quits.";
    int y = LINES / 2 - 1;
    if (y < 0) y = 0;
    draw_text(y, 0, COLS, ROLE_BAD, l1);
    if (LINES > 1) draw_text(y + 1, 0, COLS, ROLE_NORMAL, l2);
    if (LINES > 2) draw_text(y + 2, 0, COLS, ROLE_DIM, l3);
}

static void draw_all(App *a) {
    if (COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS) {
        draw_too_small();
        refresh();
        return;
    }
    erase();
    draw_tabs(a);
    draw_summary(a);
    Rect r = content_rect(a);
    SCREENS[a->screen]->draw(a, r);
    int panel = lessons_panel_height(a);
    if (panel > 0) lessons_panel_draw(a, (Rect){r.y + r.h, 0, panel, COLS});
    draw_status(a);
    draw_fbar(a);
    if (a->opt.present) lessons_present_frame(a); /* over the tabs and F-keys */
    draw_popup(a);
    refresh();
}

/* ------------------------------------------------------------------ input */

static int handle_mouse(App *a) {
    MEVENT ev;
    if (getmouse(&ev) != OK) return UI_NONE;
    if (COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS) return UI_NONE;
    /* The wheel scrolls the screen, if it scrolls at all: a screen without
     * on_action ignores it (a wheel turn there used to call a NULL pointer;
     * found by test_tui_chaos). */
    int (*wheel)(App *, Action, int) = SCREENS[a->screen]->on_action;
    if (ev.bstate & BUTTON4_PRESSED) return (wheel ? wheel(a, ACT_UP, 0) : UI_NONE) | UI_REDRAW;
#ifdef BUTTON5_PRESSED
    if (ev.bstate & BUTTON5_PRESSED) return (wheel ? wheel(a, ACT_DOWN, 0) : UI_NONE) | UI_REDRAW;
#endif
    if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED))) return UI_NONE;
    if (a->popup.kind != POPUP_NONE) return UI_NONE;
    if (ev.y == 0) { /* tabs */
        int x = tabs_start_x(a);
        for (int i = 0; i < SCREEN_COUNT - 1; i++) {
            char label[32];
            int w = tab_label(i, label, sizeof label);
            if (ev.x >= x && ev.x < x + w) {
                app_switch_screen(a, (ScreenId)i);
                return UI_REDRAW;
            }
            x += w;
        }
        return UI_NONE;
    }
    if (ev.y == LINES - 1) { /* function keys */
        const KeyBinding *keys[16];
        int n = fbar_entries(keys), x = 0;
        for (int i = 0; i < n; i++) {
            int w = fbar_width(keys[i]);
            if (ev.x >= x && ev.x < x + w) return global_action(a, keys[i]->action);
            x += w;
        }
        return UI_NONE;
    }
    Rect r = content_rect(a);
    if (ev.y >= r.y && ev.y < r.y + r.h && SCREENS[a->screen]->on_click)
        return SCREENS[a->screen]->on_click(a, r, ev.y - r.y, ev.x - r.x, (ev.bstate & BUTTON1_DOUBLE_CLICKED) != 0);
    return UI_NONE;
}

static int handle_key(App *a, int ch) {
    if (ch == KEY_RESIZE) return UI_REDRAW;
    if (ch == KEY_MOUSE) return a->mouse ? handle_mouse(a) : UI_NONE;
    /* Ctrl-C quits from anywhere, an open menu or input line included (a popup
     * used to swallow it; found by test_tui_chaos). */
    if (keys_lookup(ch, SCR_ALL) == ACT_QUIT_NOW) return global_action(a, ACT_QUIT_NOW);
    if (a->popup.kind != POPUP_NONE) return popup_key(a, ch);
    if (COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS) { /* only quitting makes sense */
        Action act = keys_lookup(ch, SCR_ALL);
        if (act == ACT_QUIT || act == ACT_QUIT_NOW) return global_action(a, act);
        return UI_NONE;
    }
    const Screen *scr = SCREENS[a->screen];
    Action act = keys_lookup(ch, scr->key_mask);
    int flags = scr->on_action ? scr->on_action(a, act, ch) : UI_NONE;
    if (flags & UI_HANDLED) return flags;
    if (act == ACT_NONE) return flags;
    return flags | global_action(a, act);
}

/* ------------------------------------------------------------------- main */

static bool locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

int tui_main(const TuiOptions *opt) {
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "quantlab: the explorer needs a terminal; in scripts use the commands (quantlab --help)\n");
        return 1;
    }
    bool locale_ok = setlocale(LC_ALL, "") != NULL;
    bool utf8 = locale_ok && locale_is_utf8();

    char bundled[4096];
    const char *path = opt->model_path;
    if (!path) {
        if (!datadir_find("assets/stories260K.gguf", bundled, sizeof bundled)) {
            char where[1024];
            datadir_describe(where, sizeof where);
            fprintf(stderr, "quantlab: the bundled model assets/stories260K.gguf is missing (looked in: %s); give a model file\n", where);
            return 1;
        }
        path = bundled;
    }
    Session *s = NULL;
    Error err = {0};
    if (session_open(&s, path, opt->tokenizer_path, opt->threads, &err) != ST_OK) {
        fprintf(stderr, "quantlab: %s\n", err.msg);
        return 1;
    }
    if (opt->plan_path && session_load_plan(s, opt->plan_path, &err) != ST_OK) {
        session_close(s);
        fprintf(stderr, "quantlab: %s\n", err.msg);
        return err.status == ST_USAGE ? 2 : 1;
    }

    const char *term = getenv("TERM");
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr) {
        session_close(s);
        fprintf(stderr, "quantlab: cannot use the terminal type '%s' (try TERM=xterm-256color)\n", term ? term : "");
        return 1;
    }
    have_saved_tio = tcgetattr(STDIN_FILENO, &saved_tio) == 0;
    curses_active = true;
    atexit(restore_terminal_now);
    build_restore_seq();
    install_signals();
    raw();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    timeout(50);

    ThemeScheme scheme = opt->present ? SCHEME_CONTRAST : SCHEME_DEFAULT; /* projectors wash colours out */
    if (opt->theme) scheme = (ThemeScheme)theme_from_name(opt->theme);
    if (opt->no_color) scheme = SCHEME_MONO;
    theme_init(scheme);
    glyphs_init(utf8);
    draw_set_utf8(utf8);

    App *a = calloc(1, sizeof *a);
    if (!a) {
        restore_terminal_now();
        session_close(s);
        fprintf(stderr, "quantlab: out of memory\n");
        return 1;
    }
    a->s = s;
    a->opt = *opt;
    a->mouse = !opt->no_mouse;
    app_select_tensor(a, s->model->token_embd);
    if (a->mouse) mousemask(ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION, NULL);
    mouseinterval(0);
    if (!locale_ok) app_set_status(a, true, "the locale in LANG/LC_ALL is not installed; drawing with ASCII");
    ScreenId first = opt->present || opt->lesson ? SCREEN_LESSONS : SCREEN_MODEL;
    if (opt->present) { /* the same demo every time: greedy stories, a fixed seed for sampled ones */
        a->cmp.sampled = false;
        a->cmp.seed = QL_PRESENT_SEED;
    }
    lessons_start(a); /* the lessons and the learner's progress (an invitation back, or --lesson) */
    int named = opt->start_screen ? app_screen_named(opt->start_screen) : -1;
    if (named >= 0) first = (ScreenId)named;
    app_switch_screen(a, first);

    bool dirty = true;
    while (!a->quit) {
        if (got_signal) break;
        if (session_poll(s) > 0) dirty = true;
        if (s->generation != a->seen_generation) {
            a->seen_generation = s->generation;
            if (SCREENS[a->screen]->enter) SCREENS[a->screen]->enter(a); /* let it react */
            dirty = true;
        }
        if (worker_any_busy(s->worker)) dirty = true; /* progress bars move */
        keep_calibrated(a);
        if (lessons_tick(a) & UI_REDRAW) dirty = true;
        if (dirty) {
            draw_all(a);
            dirty = false;
        }
        int ch = getch();
        if (ch == ERR) continue;
        int flags = handle_key(a, ch);
        /* drain a burst (pasted text, key repeat) before redrawing */
        while (!(flags & UI_QUIT) && !a->quit) {
            timeout(0);
            int next = getch();
            timeout(50);
            if (next == ERR) break;
            flags |= handle_key(a, next);
        }
        dirty = true;
        if (flags & UI_QUIT) a->quit = true;
    }
    int sig = got_signal;
    lessons_stop(a); /* saves progress; prints nothing */
    restore_terminal_now();
    delscreen(scr);
    session_close(s);
    free(a);
    if (sig) return 128 + sig;
    return 0;
}
