/* cmd_lessons.c — `quantlab lessons`: list the lessons with the learner's
 * progress, check lesson files (for teachers who write them and for the test
 * suite), and print the figures and checks a lesson can use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/datadir.h"
#include "base/file.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "lesson/check.h"
#include "lesson/figure.h"
#include "lesson/lesson.h"
#include "lesson/progress.h"

static const CliOption OPTIONS[] = {
    {"list", 0, NULL, "list the lessons by track, with your progress (the default)"},
    {"check", 0, NULL, "check lesson files (FILES or directories; default: the bundled lessons)"},
    {"figures", 0, NULL, "list the live figures a lesson's text can show: {plan.bytes} ..."},
    {"checks", 0, NULL, "list the actions a do step can wait for: check: format blk.0.attn_q int4 ..."},
    CLI_OPT_MODEL,
    CLI_OPT_TOKENIZER,
    CLI_OPT_HELP,
    {0},
};

static Status lessons_dir(char *out, size_t size, Error *err) {
    if (datadir_find("lessons", out, size)) return ST_OK;
    char where[1024];
    datadir_describe(where, sizeof where);
    return error_set(err, ST_IO, "the lessons directory is missing (looked in: %s)", where);
}

static Status list(Error *err) {
    char dir[4096], path[4096];
    LessonSet set;
    Status st = lessons_dir(dir, sizeof dir, err);
    if (st != ST_OK) return st;
    Error bad = {0};
    st = lesson_set_load(&set, dir, &bad);
    if (st == ST_IO || st == ST_NOMEM) return *err = bad, st;
    /* progress is only read here: a damaged file is left for the explorer to set aside */
    LessonProgress prog;
    lesson_progress_init(&prog);
    char *buf = NULL;
    size_t len = 0;
    Error ignore;
    if (lesson_progress_path(path, sizeof path, &ignore) == ST_OK && file_exists(path) &&
        file_read_all(path, PROGRESS_MAX_BYTES, &buf, &len, &ignore) == ST_OK)
        lesson_progress_parse(&prog, buf, len, path, &ignore);
    free(buf);
    static const char *const state[] = {"new", "in progress", "done"};
    int track = -1;
    for (int i = 0; i < set.n; i++) {
        const Lesson *l = set.lessons[i];
        if ((int)l->track != track) {
            track = (int)l->track;
            printf("%s%s\n", i ? "\n" : "", lesson_track_label(l->track));
        }
        printf("  %-28s %-6s %2d min  %-12s %s\n", l->id, l->ages, l->minutes, state[lesson_progress_state(&prog, l->id)],
               l->title);
    }
    printf("\nOpen one with: quantlab --lesson ID   (on a projector: quantlab --present ID)\n");
    lesson_progress_free(&prog);
    lesson_set_free(&set);
    if (st == ST_FORMAT) {
        fprintf(stderr, "%s\n", bad.msg);
        return error_set(err, ST_FORMAT, "lessons: a lesson file has a problem (quantlab lessons --check)");
    }
    return ST_OK;
}

/* Loads one file into `set`, printing its problem if it has one. */
static int check_file(LessonSet *set, const char *path) {
    Lesson *l;
    Error err = {0};
    if (lesson_load(&l, path, &err) != ST_OK || lesson_set_add(set, l, &err) != ST_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    return 0;
}

/* Checks the files and directories named (default: the bundled lessons). Each
 * problem is printed on stderr as FILE:LINE: reason; a summary on stdout. */
static Status check(const CliArgs *a, Error *err) {
    char dir[4096];
    LessonSet set = {0}, known = {0};
    int files = 0, problems = 0;
    Status st = ST_OK;
    const char *def[1];
    const char *const *args = a->pos;
    int n_args = a->n_pos;
    if (n_args == 0) {
        if ((st = lessons_dir(dir, sizeof dir, err)) != ST_OK) return st;
        def[0] = dir;
        args = def;
        n_args = 1;
    }
    for (int i = 0; i < n_args; i++) {
        if (!file_is_dir(args[i])) {
            if (!file_exists(args[i])) {
                fprintf(stderr, "%s: no such file\n", args[i]);
                problems++;
                files++;
                continue;
            }
            files++;
            problems += check_file(&set, args[i]);
            continue;
        }
        char **paths;
        int n;
        if (lesson_dir_list(args[i], &paths, &n, err) != ST_OK) {
            lesson_set_free(&set);
            return err->status;
        }
        if (n == 0) {
            fprintf(stderr, "%s: no lesson files (*.md) here\n", args[i]);
            problems++;
        }
        for (int k = 0; k < n; k++) problems += check_file(&set, paths[k]);
        files += n;
        lesson_dir_list_free(paths, n);
    }
    /* what only the model can say: every tensor a check names exists */
    Model *m = NULL;
    if (set.n > 0 && (st = cli_open_model(a, false, &m, err)) != ST_OK) {
        lesson_set_free(&set);
        return st;
    }
    for (int i = 0; i < set.n; i++) {
        Error e = {0};
        if (lesson_check_model(set.lessons[i], m, &e) != ST_OK) {
            fprintf(stderr, "%s\n", e.msg);
            problems++;
        }
    }
    model_close(m);
    /* between lessons: one id each, and builds-on names a lesson (checked, or bundled) */
    Error ignore;
    if (a->n_pos > 0 && lessons_dir(dir, sizeof dir, &ignore) == ST_OK) lesson_set_load(&known, dir, &ignore);
    for (int i = 0; i < set.n; i++) {
        const Lesson *l = set.lessons[i];
        for (int k = 0; k < i; k++)
            if (strcmp(set.lessons[k]->id, l->id) == 0) {
                fprintf(stderr, "%s:1: the same lesson id as %s\n", l->path, set.lessons[k]->path);
                problems++;
            }
        Error e = {0};
        if (lesson_check_builds_on(l, &set, &e) != ST_OK && lesson_check_builds_on(l, &known, &e) != ST_OK) {
            fprintf(stderr, "%s\n", e.msg);
            problems++;
        }
    }
    lesson_set_free(&known);
    int steps = 0;
    for (int i = 0; i < set.n; i++) steps += set.lessons[i]->n_steps;
    lesson_set_free(&set);
    if (problems)
        return error_set(err, ST_FORMAT, "lessons: %d problem%s in %d lesson file%s", problems, problems == 1 ? "" : "s",
                         files, files == 1 ? "" : "s");
    printf("%d lesson file%s, %d steps: no problems\n", files, files == 1 ? "" : "s", steps);
    return ST_OK;
}

Status cmd_lessons(int argc, char **argv, Error *err) {
    CliArgs a;
    Status st = cli_parse(&a, "lessons", OPTIONS, argc, argv, err);
    if (st != ST_OK) return st;
    if (cli_has(&a, "help")) {
        cli_print_help(stdout, "lessons [--list | --check [FILE|DIR...] | --figures | --checks]",
                       "The lessons teach quantization by doing it in the explorer, in three tracks:\n"
                       "Picture it (ages 5-8, with a parent), Try it (9-12) and Build it (13+).\n"
                       "--check reads lesson files as the explorer does and also checks that every\n"
                       "do step names an action the explorer has, every quiz has exactly one right\n"
                       "answer, every {figure} exists and every tensor is in the model; each problem\n"
                       "is printed as FILE:LINE: reason, and the exit status is 1 if there is one.",
                       OPTIONS);
        return ST_OK;
    }
    if (cli_has(&a, "figures")) {
        for (int i = 0; i < lesson_figure_count(); i++) {
            FigureInfo f = lesson_figure_info(i);
            char name[64];
            snprintf(name, sizeof name, "{%s}", f.name);
            printf("%-22s %s\n", name, f.help);
        }
        return ST_OK;
    }
    if (cli_has(&a, "checks")) {
        for (int i = 0; i < lesson_check_count(); i++) {
            CheckInfo c = lesson_check_info(i);
            printf("%-34s %s\n", c.usage, c.help);
        }
        return ST_OK;
    }
    if (cli_has(&a, "check")) return check(&a, err);
    if (a.n_pos > 0) return error_set(err, ST_USAGE, "lessons: unexpected argument '%s' (files go with --check)", a.pos[0]);
    return list(err);
}
