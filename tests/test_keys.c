/* test_keys.c: the key tables (harness/train/run_keys.c) and what is made from them.
 *   table     run_keys is well formed; the defaults are the documented ones
 *   texts     the "expected" texts of every run key and top-level key
 *   values    parse / format of each kind; a value above a cap names the cap
 *   omit      a KEY_OMIT_DEFAULT key stays out of the canonical text at its default
 *   cli       `embsweep train` has a flag for every row with one, and each numeric
 *             flag rejects just outside the row's range with the YAML's text
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/sweep/config.h"
#include "harness/train/run_keys.h"
#include "fixtures.h"

static const key_def *row(const char *name) {
    const key_def *k = run_key_find(name);
    cr_assert_not_null(k, "no row %s", name);
    return k;
}

static void expect_text(const key_def *k, const char *value, const char *want) {
    char buf[256];
    key_expect(k, value, buf, sizeof buf);
    cr_expect_str_eq(buf, want, "%s", k->name);
}

Test(keys, table_well_formed_and_defaults) {
    key_table_check(run_keys, run_keys_n, sizeof(run_config));
    run_config c;
    run_config_default(&c);
    cr_expect_str_eq(c.dataset.kind, "synthetic");
    cr_expect_str_eq(c.method->name, "full");
    cr_expect_eq(c.dim, 16);
    cr_expect_eq(c.ratio, 1);
    cr_expect_eq(c.seed, 1);
    cr_expect_eq(c.model.n_bottom, 2);
    cr_expect_eq(c.model.bottom[0], 64);
    cr_expect_eq(c.model.bottom[1], 16);
    cr_expect_eq(c.model.n_top, 2);
    cr_expect_eq(c.model.top[1], 32);
    cr_expect_eq(c.model.interaction, INTERACT_DOT);
    const train_cfg *t = &c.train;
    cr_expect_eq(t->epochs, 1);
    cr_expect_eq(t->batch, 256);
    cr_expect_eq(t->eval_batch, 4096);
    cr_expect_eq(t->optimizer, OPT_ADAM);
    cr_expect_eq(t->lr, 0.003);
    cr_expect_eq(t->emb_optimizer, OPT_ADAM);
    cr_expect_eq(t->emb_lr, 0);
    cr_expect_eq(t->log_every, 100);
    cr_expect_eq(t->eval_every_epoch, 1);
    cr_expect_eq(t->threads, 0);
    cr_expect_null(c.cache_dir);
    /* an enum's choices are the optimizer names by value */
    const key_def *e = row("emb_optimizer");
    for (int i = 0; e->choices[i]; i++) cr_expect_str_eq(e->choices[i], opt_kind_name((opt_kind)i));
}

Test(keys, expected_texts) {
    expect_text(row("dim"), NULL, "an integer in [1, 4096]");
    expect_text(row("ratio"), NULL, "a number >= 1");
    expect_text(row("ratio"), "2e9", "a number in [1, 1e9]");
    expect_text(row("seed"), "-1", "an integer >= 0");
    expect_text(row("epochs"), NULL, "a number in (0, 10000]");
    expect_text(row("batch"), NULL, "an integer in [1, 1048576]");
    expect_text(row("eval_batch"), NULL, "an integer in [1, 4194304]");
    expect_text(row("optimizer"), NULL, "one of sgd, adagrad, adam");
    expect_text(row("lr"), NULL, "a number in (0, 1000]");
    expect_text(row("emb_optimizer"), NULL, "one of sgd, adagrad, adam, rowwise_adagrad");
    expect_text(row("emb_lr"), NULL, "a number in (0, 1000]");
    expect_text(row("log_every"), NULL, "an integer >= 1");
    expect_text(row("eval_every_epoch"), NULL, "true or false");
    expect_text(row("bottom_mlp"), NULL, "an integer in [1, 65536]");
    expect_text(row("interaction"), NULL, "dot or cat");
    expect_text(cfg_top_key("jobs"), NULL, "an integer in [1, 256]");
    expect_text(cfg_top_key("threads"), NULL, "an integer in [0, 64]");
    expect_text(cfg_top_key("timeout"), NULL, "seconds, a number in (0, 1e7]");
    expect_text(cfg_top_key("memory_limit"), NULL, "a size of at least 16MiB, e.g. 512MiB or 2GiB");
    expect_text(cfg_top_key("unreachable"), NULL, "error or skip");
    expect_text(cfg_top_key("name"), NULL, "a string of 1-63 characters");
    expect_text(cfg_top_key("cache_dir"), NULL, "a string of 1-255 characters");
    expect_text(cfg_top_key("description"), NULL, "a string");
    cr_expect_null(cfg_top_key("nope"));
}

Test(keys, parse_and_format) {
    run_config c;
    run_config_default(&c);
    char buf[128];
    cr_expect_eq(key_parse(row("dim"), "1e3", &c), 0);
    cr_expect_eq(c.dim, 1000);
    cr_expect_neq(key_parse(row("dim"), "8.5", &c), 0);
    cr_expect_neq(key_parse(row("dim"), "4097", &c), 0);
    cr_expect_eq(c.dim, 1000, "a rejected value leaves the field");
    cr_expect_eq(key_parse(row("seed"), "12345678901", &c), 0);
    key_format(row("seed"), &c, buf, sizeof buf);
    cr_expect_str_eq(buf, "12345678901");
    cr_expect_neq(key_parse(row("seed"), "1e20", &c), 0);
    cr_expect_eq(key_parse(row("lr"), "0.05", &c), 0);
    key_format(row("lr"), &c, buf, sizeof buf);
    cr_expect_str_eq(buf, "0.050000000000000003");
    cr_expect_neq(key_parse(row("lr"), "0", &c), 0, "(0, 1000]: 0 excluded");
    cr_expect_eq(key_parse(row("eval_every_epoch"), "Off", &c), 0);
    cr_expect_eq(c.train.eval_every_epoch, 0);
    cr_expect_eq(key_parse(row("optimizer"), "sgd", &c), 0);
    cr_expect_eq(c.train.optimizer, OPT_SGD);
    cr_expect_neq(key_parse(row("optimizer"), "rowwise_adagrad", &c), 0);
    cr_expect_eq(key_parse(row("emb_optimizer"), "rowwise_adagrad", &c), 0);
    cr_expect_eq(c.train.emb_optimizer, OPT_ROWWISE_ADAGRAD);
    cr_expect_eq(key_parse(row("top_mlp"), "32,8,4", &c), 0);
    key_format(row("top_mlp"), &c, buf, sizeof buf);
    cr_expect_str_eq(buf, "[32,8,4]");
    cr_expect_neq(key_parse(row("top_mlp"), "8,", &c), 0);
    cr_expect_neq(key_parse(row("top_mlp"), "1,2,3,4,5,6,7,8,9", &c), 0, "at most RUN_MAX_LAYERS");
    cr_expect_neq(key_parse(row("method"), "nope", &c), 0);
    cr_expect_eq(key_parse(row("method"), "hash", &c), 0);
    cr_expect_str_eq(c.method->name, "hash");
    uint64_t b;
    cr_expect_eq(key_parse_bytes("2GiB", &b), 0);
    cr_expect_eq(b, 2ull << 30);
    cr_expect_eq(key_parse_bytes("1.5G", &b), 0);
    cr_expect_eq(b, 1500000000ull);
    cr_expect_neq(key_parse_bytes("12 parsecs", &b), 0);
}

/* A table of its own over a struct of its own: the helpers are generic. */
typedef struct toy {
    int32_t  old;
    int32_t  added;
    double   rate;
} toy;

Test(keys, omit_default_and_a_table_of_its_own) {
    static const key_def t[] = {
        KEY_NUM("old", KEY_INT, int32_t, KEY_TRAIN, toy, old, 0, 10, 0, "3", "old", "a key from the start"),
        KEY_NUM("added", KEY_INT, int32_t, KEY_TRAIN, toy, added, 0, 10, KEY_OMIT_DEFAULT, "0", "added",
                "a key added later"),
        KEY_NUM("rate", KEY_F64, double, KEY_TRAIN, toy, rate, 0, 1, KEY_MIN_OPEN, "0.5", NULL, "a rate"),
    };
    key_table_check(t, 3, sizeof(toy));
    toy x;
    memset(&x, 0xff, sizeof x);
    key_defaults(t, 3, &x);
    cr_expect_eq(x.old, 3);
    cr_expect_eq(x.added, 0);
    cr_expect_eq(x.rate, 0.5);
    cr_expect(key_is_default(&t[1], &x));
    cr_expect_eq(key_parse(&t[1], "4", &x), 0);
    cr_expect(!key_is_default(&t[1], &x));
    cr_expect_neq(key_parse(&t[2], "0", &x), 0);
    cr_expect_eq(key_parse_unchecked(&t[2], "0", &x), 0, "defaults are not range-checked");
}

/* The run key of a cell does not change when a KEY_OMIT_DEFAULT row sits at its
 * default: every row of run_keys is in the JSON, except CLI-only ones. */
Test(keys, json_has_every_run_key) {
    run_config c;
    run_config_default(&c);
    char *json = cfg_cell_json(&c, "kind=synthetic");
    cr_assert_not_null(json);
    for (int i = 0; i < run_keys_n; i++) {
        char quoted[80];
        snprintf(quoted, sizeof quoted, "\"%s\":", run_keys[i].name);
        int in = strstr(json, quoted) != NULL;
        if (run_keys[i].where == KEY_CLI) cr_expect(!in, "%s is not part of the run key", run_keys[i].name);
        else if (!(run_keys[i].flags & KEY_OMIT_DEFAULT)) cr_expect(in, "%s missing from %s", run_keys[i].name, json);
    }
    hx_free(json);
}

Test(keys, train_flags_follow_the_rows) {
    static char out[1 << 16];
    cr_assert_eq(fx_run_cli("train --help", out, sizeof out), 0);
    for (int i = 0; i < run_keys_n; i++) {
        const key_def *k = &run_keys[i];
        if (!k->flag) continue;
        char flag[64];
        snprintf(flag, sizeof flag, "--%s ", k->flag);
        cr_expect(strstr(out, flag) != NULL, "--help lacks %s", flag);
    }
    static char bad[1 << 14];
    for (int i = 0; i < run_keys_n; i++) {
        const key_def *k = &run_keys[i];
        if (!k->flag || (k->kind != KEY_INT && k->kind != KEY_F64 && k->kind != KEY_U64)) continue;
        char args[128], ex[160], want[256];
        snprintf(args, sizeof args, "train --%s %.17g", k->flag, k->max * 2 + 1);
        cr_expect_eq(fx_run_cli(args, bad, sizeof bad), 2, "%s: %s", args, bad);
        key_expect(k, NULL, ex, sizeof ex);
        snprintf(want, sizeof want, "expected %s", ex);
        if (!(k->flags & KEY_CAP)) cr_expect(strstr(bad, want) != NULL, "%s: want '%s' in\n%s", args, want, bad);
    }
}
