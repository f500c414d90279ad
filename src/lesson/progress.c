/* progress.c — see progress.h. */
#include "lesson/progress.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/file.h"
#include "base/utf8.h"
#include "lesson/json.h"

void lesson_progress_init(LessonProgress *p) {
    memset(p, 0, sizeof *p);
}

void lesson_progress_free(LessonProgress *p) {
    free(p->rec);
    memset(p, 0, sizeof *p);
}

LessonRecord *lesson_progress_get(LessonProgress *p, const char *id, bool create) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->rec[i].id, id) == 0) return &p->rec[i];
    if (!create || strlen(id) >= LESSON_ID_MAX || p->n >= PROGRESS_MAX_LESSONS) return NULL;
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        LessonRecord *r = realloc(p->rec, (size_t)cap * sizeof *r);
        if (!r) return NULL;
        p->rec = r;
        p->cap = cap;
    }
    LessonRecord *r = &p->rec[p->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    return r;
}

LessonState lesson_progress_state(const LessonProgress *p, const char *id) {
    for (int i = 0; i < p->n; i++) {
        const LessonRecord *r = &p->rec[i];
        if (strcmp(r->id, id) != 0) continue;
        if (r->done) return LESSON_DONE;
        if (r->step > 0 || strspn(r->marks, ".") != strlen(r->marks)) return LESSON_STARTED;
        return LESSON_NEW;
    }
    return LESSON_NEW;
}

/* ------------------------------------------------------------ the text */

static bool valid_marks(const char *s) {
    size_t n = strlen(s);
    if (n > LESSON_MAX_STEPS) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr(".drws", s[i])) return false;
    return true;
}

Status lesson_progress_parse(LessonProgress *p, const char *buf, size_t len, const char *name, Error *err) {
    lesson_progress_init(p);
    JsonValue *root;
    Status st = json_parse(&root, buf, len, name, err);
    if (st != ST_OK) return st;
    const JsonValue *fmt = json_get(root, "format"), *ver = json_get(root, "version");
    const JsonValue *lessons = json_get(root, "lessons"), *current = json_get(root, "current");
    if (!fmt || fmt->type != JSON_STRING || strcmp(fmt->string, PROGRESS_FORMAT) != 0) {
        st = error_set(err, ST_FORMAT, "%s: not a quantlab progress file", name);
    } else if (!ver || ver->type != JSON_NUMBER || ver->number != floor(ver->number) || ver->number < 1) {
        st = error_set(err, ST_FORMAT, "%s: no valid \"version\"", name);
    } else if (ver->number > PROGRESS_VERSION) {
        st = error_set(err, ST_FORMAT, "%s: written by a newer quantlab (version %.0f)", name, ver->number);
    } else if (!lessons || lessons->type != JSON_OBJECT) {
        st = error_set(err, ST_FORMAT, "%s: \"lessons\" is not an object", name);
    } else if (current && (current->type != JSON_STRING || strlen(current->string) >= LESSON_ID_MAX)) {
        st = error_set(err, ST_FORMAT, "%s: \"current\" is not a lesson id", name);
    }
    if (st == ST_OK && current) snprintf(p->current, sizeof p->current, "%s", current->string);
    for (const JsonValue *l = lessons ? lessons->child : NULL; l && st == ST_OK; l = l->next) {
        const JsonValue *step = json_get(l, "step"), *marks = json_get(l, "marks"), *done = json_get(l, "done");
        if (l->type != JSON_OBJECT || strlen(l->key) == 0 || strlen(l->key) >= LESSON_ID_MAX || !step ||
            step->type != JSON_NUMBER || step->number < 0 || step->number > LESSON_MAX_STEPS ||
            step->number != floor(step->number) || !marks || marks->type != JSON_STRING || !valid_marks(marks->string) ||
            (done && done->type != JSON_BOOL)) {
            char shown[80]; /* the key is the file's: escaped, so a message stays one line */
            st = error_set(err, ST_FORMAT, "%s: the record of lesson '%s' is damaged", name,
                           utf8_escape(shown, sizeof shown, l->key, strlen(l->key)));
            break;
        }
        if (lesson_progress_get(p, l->key, false)) {
            char shown[80];
            st = error_set(err, ST_FORMAT, "%s: lesson '%s' is listed twice", name,
                           utf8_escape(shown, sizeof shown, l->key, strlen(l->key)));
            break;
        }
        LessonRecord *r = lesson_progress_get(p, l->key, true);
        if (!r) {
            st = error_set(err, ST_NOMEM, "%s: out of memory (or more than %d lessons)", name, PROGRESS_MAX_LESSONS);
            break;
        }
        r->step = (int)step->number;
        snprintf(r->marks, sizeof r->marks, "%s", marks->string);
        r->done = done && done->boolean;
    }
    json_free(root);
    if (st != ST_OK) lesson_progress_free(p);
    return st;
}

char *lesson_progress_format(const LessonProgress *p) {
    JsonOut o = {0};
    char num[32];
    json_out_raw(&o, "{\n  \"format\": ");
    json_out_string(&o, PROGRESS_FORMAT);
    snprintf(num, sizeof num, ",\n  \"version\": %d,\n  \"current\": ", PROGRESS_VERSION);
    json_out_raw(&o, num);
    json_out_string(&o, p->current);
    json_out_raw(&o, ",\n  \"lessons\": {");
    for (int i = 0; i < p->n; i++) {
        const LessonRecord *r = &p->rec[i];
        json_out_raw(&o, i ? ",\n    " : "\n    ");
        json_out_string(&o, r->id);
        snprintf(num, sizeof num, ": {\"step\": %d, \"marks\": ", r->step);
        json_out_raw(&o, num);
        json_out_string(&o, r->marks);
        json_out_raw(&o, r->done ? ", \"done\": true}" : ", \"done\": false}");
    }
    json_out_raw(&o, p->n ? "\n  }\n}\n" : "}\n}\n");
    if (o.failed) {
        json_out_free(&o);
        return NULL;
    }
    return o.s;
}

/* ------------------------------------------------------------- the file */

Status lesson_progress_path(char *out, size_t size, Error *err) {
    const char *state = getenv("XDG_STATE_HOME");
    int n;
    if (state && state[0] == '/') {
        n = snprintf(out, size, "%s/quantlab/progress.json", state);
    } else {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/')
            return error_set(err, ST_IO, "progress cannot be saved: neither XDG_STATE_HOME nor HOME is set");
        n = snprintf(out, size, "%s/.local/state/quantlab/progress.json", home);
    }
    if (n < 0 || (size_t)n >= size) return error_set(err, ST_IO, "progress cannot be saved: the path is too long");
    return ST_OK;
}

/* mkdir -p of the directory part of path. */
static Status make_parents(const char *path, Error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return ST_OK;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char keep = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return error_set(err, ST_IO, "%s: cannot create the directory: %s", dir, strerror(errno));
        if (!file_is_dir(dir))
            return error_set(err, ST_IO, "%s: cannot keep progress there: it is not a directory", dir);
        *p = keep;
        if (!keep) break;
    }
    return ST_OK;
}

Status lesson_progress_save(const LessonProgress *p, const char *path, Error *err) {
    Status st = make_parents(path, err);
    if (st != ST_OK) return st;
    char *text = lesson_progress_format(p);
    if (!text) return error_set(err, ST_NOMEM, "%s: out of memory", path);
    st = atomic_file_write(path, text, strlen(text), err);
    free(text);
    return st;
}

/* Renames a file we will not trust to path.bad-YYYYMMDD-HHMMSS (-N if taken). */
static bool set_aside(const char *path, char *moved, size_t size) {
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm) || !strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm)) snprintf(stamp, sizeof stamp, "%ld", (long)now);
    for (int k = 0; k < 100; k++) {
        if (k == 0) snprintf(moved, size, "%s.bad-%s", path, stamp);
        else snprintf(moved, size, "%s.bad-%s-%d", path, stamp, k);
        if (file_exists(moved)) continue;
        return rename(path, moved) == 0;
    }
    return false;
}

Status lesson_progress_load(LessonProgress *p, const char *path, char *note, size_t note_size, Error *err) {
    lesson_progress_init(p);
    if (note_size) note[0] = '\0';
    if (!file_exists(path)) return ST_OK;
    char *buf = NULL;
    size_t len = 0;
    Error why = {0};
    Status st = file_read_all(path, PROGRESS_MAX_BYTES, &buf, &len, &why);
    if (st == ST_IO) { /* cannot read it: leave it alone, and say so */
        if (err) *err = why;
        return st;
    }
    if (st == ST_OK) st = lesson_progress_parse(p, buf, len, file_basename(path), &why);
    free(buf);
    if (st == ST_OK) return ST_OK;
    char moved[4200];
    if (set_aside(path, moved, sizeof moved))
        snprintf(note, note_size, "progress reset: damaged file kept as %.200s (%.200s)", file_basename(moved), why.msg);
    else
        return error_set(err, ST_IO, "%.200s; could not set it aside (%.100s), so progress will not be saved",
                         why.msg, strerror(errno));
    return ST_OK;
}
