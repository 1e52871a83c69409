/* run_keys.h: config keys as rows of data (Redis config.c style).
 *
 * A key_def row names one setting and says everything about it: the field it
 * targets (offsetof into its struct, and the C type through the row's kind),
 * its range, its default (written as a sweep file would write it), where a sweep
 * file may set it, its `embsweep train` flag and its help text. From the rows
 * come the parsing and range checks with their "expected" texts, the defaults
 * (run_config_default), the canonical text that rules compare and the run key
 * hashes, the `embsweep train` flags and their --help.
 *
 * run_keys[] is the table of run_config (below); harness/sweep/config_keys.c
 * has a second table, of the sweep file's top-level keys (cfg_sweep fields). The
 * helpers are generic: they take the struct a table describes as void *.
 *
 * Adding a setting of a run: harness/sweep/README.md, "Adding a key".
 */
#ifndef EMBSWEEP_RUN_KEYS_H
#define EMBSWEEP_RUN_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

/* What a key's value is, and so the C type of its field. */
typedef enum {
    KEY_INT,      /* int32_t, integer-valued */
    KEY_U64,      /* uint64_t, integer-valued, at most 2^53 (exact in a double) */
    KEY_F64,      /* double */
    KEY_SECONDS,  /* double, a duration in seconds */
    KEY_BYTES,    /* uint64_t, a size: 512MiB, 2GiB, 1.5G, 1000000 */
    KEY_BOOL,     /* int32_t 0 or 1: true/yes/on/1, false/no/off/0 */
    KEY_ENUM,     /* an int-sized enum: choices[i] names the value i */
    KEY_WIDTHS,   /* int32_t[] of layer widths, its count an int32_t at .aux */
    KEY_STR,      /* char[size], 1..size-1 characters */
    KEY_PATH,     /* const char *, pointing at the text it was parsed from */
    KEY_METHOD,   /* const emb_method * */
    KEY_DATASET,  /* ds_spec: a dataset kind (command line) or name (sweep file) */
    KEY_TEXT,     /* no field: a string that is accepted and ignored */
    KEY_SECTION   /* no field: a section of the sweep file, walked by its consumer */
} key_kind;

/* Where a sweep file may set the key; for run keys also its object in the
 * canonical JSON of the run key. */
typedef enum {
    KEY_MATRIX, /* matrix:, zip: and rules; at the JSON's top level */
    KEY_TRAIN,  /* train: or matrix: (zip:, rules); in "train":{} */
    KEY_MODEL,  /* model: only; in "model":{} */
    KEY_CLI,    /* not in sweep files, not in the run key: `embsweep train` only */
    KEY_TOP     /* a top-level key of the sweep file (the cfg_sweep table) */
} key_where;

enum {
    KEY_MIN_OPEN = 1u << 0,     /* the lower bound is excluded: (min, max] */
    KEY_CAP = 1u << 1,          /* max is a sanity cap, named only to values above it */
    KEY_OMIT_DEFAULT = 1u << 2  /* in the run key only away from its default (keys added
                                 * after results exist: old run keys do not change) */
};

typedef struct key_def {
    const char        *name;    /* the sweep file's key */
    key_kind           kind;
    key_where          where;
    size_t             off;     /* offsetof the field in the table's struct */
    size_t             size;    /* sizeof the field */
    size_t             aux;     /* KEY_WIDTHS: offsetof the count */
    double             min, max; /* numbers; KEY_WIDTHS: of each width */
    unsigned           flags;
    const char *const *choices; /* KEY_ENUM: NULL-terminated */
    const char        *def;     /* the default as text, NULL = zero; not range-checked */
    const char        *flag;    /* `embsweep train --FLAG`, NULL if none */
    const char        *help;    /* one phrase, for --help; a second line, if any, says
                                 * in words what the default is (printed instead of def) */
} key_def;

/* Row builders. The pointer comparison in KEY_TYPED_ makes a field of another C
 * type a compile error (distinct pointer types, -Werror). */
#define KEY_TYPED_(st, f, T) (offsetof(st, f) + 0 * sizeof(&((st *)0)->f == (T *)0))
#define KEY_NUM(name, kind, T, where, st, f, lo, hi, fl, def, flag, help) \
    {name, kind, where, KEY_TYPED_(st, f, T), sizeof(T), 0, lo, hi, fl, NULL, def, flag, help}
#define KEY_CHOICE(name, T, where, st, f, choices, fl, def, flag, help) \
    {name, KEY_ENUM, where, KEY_TYPED_(st, f, T), sizeof(T), 0, 0, 0, fl, choices, def, flag, help}
#define KEY_LIST(name, where, st, f, cnt, lo, hi, fl, def, flag, help)                                   \
    {name, KEY_WIDTHS, where, KEY_TYPED_(st, f[0], int32_t), sizeof(((st *)0)->f), KEY_TYPED_(st, cnt, int32_t), \
     lo, hi, fl, NULL, def, flag, help}
#define KEY_OF(name, kind, T, where, st, f, fl, def, flag, help) \
    {name, kind, where, KEY_TYPED_(st, f, T), sizeof(T), 0, 0, 0, fl, NULL, def, flag, help}
#define KEY_CHARS(name, where, st, f, def, help) \
    {name, KEY_STR, where, KEY_TYPED_(st, f[0], char), sizeof(((st *)0)->f), 0, 0, 0, 0, NULL, def, NULL, help}
#define KEY_NONE(name, kind, help) {name, kind, KEY_TOP, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, help}

/* The keys of a run_config, in the order of the run key's JSON. */
extern const key_def run_keys[];
extern const int     run_keys_n;
const key_def       *run_key_find(const char *name); /* NULL if none */

/* ---- generic helpers over any table ---- */

const key_def *key_find(const key_def *t, int n, const char *name);

/* 1 for kinds whose value is one number (numbers, bools, enums, sizes). */
int key_is_scalar(const key_def *k);

/* Parse text into a scalar key's number (an enum's index), range-checked. 0 or -1. */
int key_parse_num(const key_def *k, const char *text, double *num);
/* Parse text into k's field of base (any kind with a field). 0 or -1. KEY_PATH
 * keeps the pointer: text must outlive base. */
int key_parse(const key_def *k, const char *text, void *base);
/* Without the range check: defaults may be outside the range users can set
 * (emb_lr 0 = "the same as lr"). */
int key_parse_unchecked(const key_def *k, const char *text, void *base);

void   key_set_num(const key_def *k, void *base, double num);
double key_get_num(const key_def *k, const void *base);

/* What a value of k must be, e.g. "an integer in [1, 4096]". text: the offending
 * value (a value above a KEY_CAP max gets the full range), or NULL. */
void key_expect(const key_def *k, const char *text, char *buf, size_t n);
/* A parameter placeholder for usage lines: N, X, sgd|adagrad|adam, W,W,... */
void key_arg(const key_def *k, char *buf, size_t n);

/* Canonical text of a scalar value (rules compare it): integers %d/%llu, numbers
 * %.17g, bools 0/1, enums by name. */
void key_format_num(const key_def *k, double num, char *buf, size_t n);
/* Canonical text of k's field: scalars as above, widths "[a,b]", a method's name. */
void key_format(const key_def *k, const void *base, char *buf, size_t n);
/* 1 when k's field holds the row's default. */
int  key_is_default(const key_def *k, const void *base);

/* KEY_WIDTHS: the widths of base, their count and their capacity. */
int32_t *key_widths(const key_def *k, void *base, int32_t **count, int *cap);

/* Every field of the table at its default (the other bytes of base untouched);
 * asserts that each default parses. */
void key_defaults(const key_def *t, int n, void *base);
/* Assert a table is well formed: field sizes fit the kinds and the struct, names
 * and flags are unique, ranges fit the types, JSON objects are contiguous. */
void key_table_check(const key_def *t, int n, size_t struct_size);

/* true/yes/on/1 -> 1, false/no/off/0 -> 0 (any case). 0 or -1. */
int key_parse_bool(const char *s, double *out);
/* Parse a size: "512MiB", "2GiB", "1.5G", "1000000" (bytes). 0 or -1. */
int key_parse_bytes(const char *s, uint64_t *out);

#endif
