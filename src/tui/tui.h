/* tui.h — the explorer: quantlab's terminal interface.
 *
 * The only entry point main.c needs. Everything the screens show is computed by
 * the layers below (model/, quant/); tui/ only asks for numbers and draws them.
 * It is also, with main.c, the only code that prints errors or exits.
 */
#ifndef QL_TUI_TUI_H
#define QL_TUI_TUI_H

#include <stdbool.h>

typedef struct TuiOptions {
    const char *model_path;     /* NULL: the bundled model */
    const char *tokenizer_path; /* for a llama2.c .bin */
    const char *plan_path;      /* a plan to load at start, or NULL */
    const char *theme;          /* "default", "contrast", "mono"; NULL = default */
    const char *models_dir;     /* extra directory for the file picker */
    const char *start_screen;   /* screen name to open first, or NULL */
    bool no_color;              /* --no-color or NO_COLOR set */
    bool no_mouse;
    int threads;                /* 0 = one per core */
    bool present;               /* presenter mode (--present): projector layout, a fixed seed */
    const char *lesson;         /* the lesson to open at start (an id or its unique start), or NULL */
} TuiOptions;

/* Runs the explorer until the user quits. Returns the process exit code (0 on a
 * normal quit; 1 with a one-line message on stderr when it could not start). */
int tui_main(const TuiOptions *opt);

#endif
