/* config_int.h: state shared by config.c (parse + validate), config_datasets.c,
 * config_keys.c and expand.c (matrix expansion, planning, canonical JSON). Not
 * for other modules. */
#ifndef EMBSWEEP_CONFIG_INT_H
#define EMBSWEEP_CONFIG_INT_H

#include <stdarg.h>
#include <yaml.h>

#include "config.h"
#include "harness/train/run_keys.h"

#define CFG_MAX_AXES 64
#define CFG_MAX_VALS 128
#define CFG_MAX_RULES 64
#define CFG_MAX_CELLS 50000
#define CFG_MAX_COMBINATIONS 10000000
#define CFG_MAX_FILE_BYTES (4 << 20) /* a sweep file, before libyaml reads it */
#define CFG_MAX_DEPTH 64             /* [ and { nesting, likewise */ /* axis combinations walked, before exclude rules */
#define CFG_AXIS_KEY 96

/* One value of an axis or rule, parsed. */
typedef struct cfg_val {
    const char       *text;   /* as written (points into the YAML document) */
    int               line, col;
    double            num;    /* scalar keys (key_parse_num), params (EMB_AUTO where auto) */
    const emb_method *m;      /* a method key */
    int               ds;     /* a dataset key: index into datasets */
    char              canon[64]; /* canonical text, compared by rules */
} cfg_val;

/* An axis: a key and its values. Settings written as a scalar are 1-value axes. */
typedef struct cfg_axis {
    char              key[CFG_AXIS_KEY]; /* "dim", "lr", "params.hash.rows" */
    const key_def    *k;      /* the row of run_keys; NULL for params.M.P */
    const emb_method *pm;     /* params.M.P: the method */
    int               pi;     /* params.M.P: index in pm->params */
    int               group;  /* zip group, -1 when its own unit */
    int               line, col; /* of the key */
    int               n;
    cfg_val          *v;      /* (CFG_MAX_VALS), owned */
} cfg_axis;

static inline int axis_is_param(const cfg_axis *a) { return a->k == NULL; }
static inline int axis_is(const cfg_axis *a, key_kind kind) { return a->k && a->k->kind == kind; }

/* An exclude/include rule: key -> allowed values. */
typedef struct cfg_rule {
    int      line, col;
    int      n;
    cfg_axis k[8];            /* each key as a small axis (values = alternatives) */
} cfg_rule;

typedef struct cfg_errs {
    char  *s;
    size_t n, cap;
    int    count;                  /* messages, or problems when out of memory */
    int    oom;                    /* a message was lost to a failed allocation */
    hx_status status;              /* what cfg_load returns when count > 0; 0 = HX_ERR_FORMAT */
    const char *file;
} cfg_errs;

/* Everything parsed, before expansion. */
typedef struct cfg_parse {
    cfg_sweep *sw;
    cfg_errs  *errs;
    run_config *base;         /* defaults with model: applied; every cell starts here */
    int        n_axes;
    cfg_axis  *axes;          /* (CFG_MAX_AXES) */
    int        n_groups;
    int        n_excl, n_incl;
    cfg_rule  *excl, *incl;   /* (CFG_MAX_RULES) each, NULL until a rule is read */
    int        matrix_line, matrix_col;
} cfg_parse;

void cfg_err(cfg_errs *e, int line, int col, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

void cfg_err_raw(cfg_errs *e, const char *line);
void cfg_errs_sort(cfg_errs *e); /* by (line, col) */

/* ---- YAML node helpers ---- */

typedef struct walk {
    yaml_document_t *doc;
    cfg_parse       *p;
    cfg_errs        *e;
} walk;

static inline yaml_node_t *node(walk *w, int id) { return yaml_document_get_node(w->doc, id); }
static inline int nline(const yaml_node_t *n) { return (int)n->start_mark.line + 1; }
static inline int ncol(const yaml_node_t *n) { return (int)n->start_mark.column + 1; }
static inline const char *stext(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static inline const char *ntype(const yaml_node_t *n) {
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/* config.c: mapping checks. cfg_map_check: duplicate and non-scalar keys of a
 * mapping, 0 (after reporting) if n is not one. cfg_first_of_key: 1 if pair a is
 * the first with its key (duplicates are skipped). */
int cfg_map_check(walk *w, yaml_node_t *n, const char *path);
int cfg_first_of_key(walk *w, yaml_node_t *map, yaml_node_pair_t *a);

/* config_slurm.c: the slurm: section into p->sw->slurm. */
void cfg_sec_slurm(walk *w, yaml_node_t *n);

/* config_datasets.c: the datasets: section into p->sw->datasets. */
void cfg_sec_datasets(walk *w, yaml_node_t *n);

/* config_keys.c: suggestions and typed values. */
void cfg_suggest(const char *word, const char *const *cands, int n, char *buf, size_t len);
void cfg_list_names(const char *const *names, int n, char *buf, size_t len);
/* Resolve a key ("lr", "params.hash.rows") into an axis header; train_only: under
 * train:. Reports and returns -1 on error. */
int  cfg_axis_header(walk *w, cfg_axis *a, const char *key, int line, int col, const char *path,
                     int train_only);
/* Fill an axis's values from a scalar or a list of scalars (`all` for methods).
 * Returns the count or -1 after reporting. */
int  cfg_axis_values(walk *w, cfg_axis *a, yaml_node_t *n, const char *path, int allow_list);

/* expand.c: expand the matrix, plan and key every cell into p->sw->cells. */
void cfg_expand(cfg_parse *p, unsigned flags);

/* Canonical text of a resolved config's value for key (rules compare these).
 * Returns 0 when the key does not apply to this config (other method's param). */
int cfg_value_canon(const run_config *rc, const char *key, char *buf, size_t n);

#endif
