/* figure.h — the live figures a lesson's text can show: "{plan.bytes}".
 *
 * Every figure about the model is read from the session when the text is drawn,
 * never typed into a lesson: sizes are the program's own arithmetic on this
 * model, speeds and quality are what this program measured on this machine for
 * the current plan. A measurement that has not been made for the current plan
 * reads "not measured yet" (FIGURE_NOT_MEASURED_TEXT), never an old value.
 *
 * Called by the lesson engine (run.c: answers given as figures, feedback) and by
 * the Lessons screen (drawing a step).
 */
#ifndef QL_LESSON_FIGURE_H
#define QL_LESSON_FIGURE_H

#include <stdbool.h>
#include <stddef.h>

#include "session/session.h"

#define FIGURE_NOT_MEASURED_TEXT "not measured yet"

/* Rendered text marks each figure's value with these bytes (when asked), so a
 * screen can show live figures in their own colour. */
enum { FIGURE_MARK_START = 0x02, FIGURE_MARK_END = 0x03 };

typedef enum FigureStatus { FIGURE_OK = 0, FIGURE_NOT_MEASURED, FIGURE_UNKNOWN } FigureStatus;

/* What kind of number a figure is, so an answer can be compared in the unit the
 * question asks for ("unit: kB" with a figure in bytes). */
typedef enum FigureKind { FIGURE_TEXT, FIGURE_COUNT, FIGURE_BYTES, FIGURE_NUMBER } FigureKind;

typedef struct FigureInfo {
    const char *name;  /* "plan.bytes" */
    const char *help;  /* "bytes of the model under the current plan" */
} FigureInfo;

/* Every figure, for lessons/README.md and `quantlab lessons --figures`. Some
 * take arguments: "{rmse blk.0.ffn_down int4-tensor}" is the rounding error of
 * that tensor in that format, measured here (a FigureInfo's name then reads
 * "rmse TENSOR FORMAT"). */
int lesson_figure_count(void);
FigureInfo lesson_figure_info(int i);
/* Whether text[0..len) (what is between the braces) is a figure: a known name
 * with the arguments it takes, well formed (a tensor's existence is for
 * lesson_figures_check_model). */
bool lesson_figure_exists(const char *text, size_t len);

/* The first figure in text that names a tensor m does not have: false, and
 * why ("no tensor 'blk.9.attn_q' in stories260K"). */
bool lesson_figures_check_model(const char *text, const Model *m, char *why, size_t why_size);

/* Rounding-error statistics and bytes of tensor i in format f, measured here
 * (the session's quantized copies; remembered until the session changes).
 * False when the tensor has no float weights or cannot take the format. */
bool lesson_tensor_stats(Session *s, int tensor, Format f, WeightStats *out, double *bytes);

/* The value of figure `name` for session s: its text in out (always
 * NUL-terminated) and, for numbers, its value in *value and kind in *kind (either
 * may be NULL). FIGURE_NOT_MEASURED writes FIGURE_NOT_MEASURED_TEXT. s may be
 * NULL: then every figure is not measured. */
FigureStatus lesson_figure(Session *s, const char *name, char *out, size_t size, double *value,
                           FigureKind *kind);

/* Copies text into out with each "{name}" replaced by its figure ("{{" gives
 * "{"); with mark, each value is wrapped in FIGURE_MARK_START/END. Text that does
 * not fit is cut at a character boundary. Returns how many figures were not
 * measured yet. */
int lesson_render(Session *s, const char *text, bool mark, char *out, size_t size);

/* Finds the first problem with the figures in text: an unknown name or a "{"
 * never closed. Returns false and describes it in why ("unknown figure
 * {plan.byts}"), with *offset the byte where it starts. */
bool lesson_figures_valid(const char *text, char *why, size_t why_size, size_t *offset);

#endif
