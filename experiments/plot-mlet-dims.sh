#!/bin/sh
# experiments/plot-mlet-dims.sh: MLET's figure, test AUC against the embedding
# width d for mlet and full (the claim is "same AUC at 4-8x smaller d"). The
# harness plotter draws one figure per dim; MLET is at ratio 1 by design (its
# inference table is full's at the same d), so its comparison runs across dims
# and needs this figure. Reads the MLET section of experiments/seeds.yaml (or
# of experiments/seeds-criteo-sample.yaml with DATASET=criteo_sample).
#
#   experiments/plot-mlet-dims.sh [results/seeds.db] [plots/seeds/mlet-auc-vs-dim.png]
#
# Points are means over seeds (status ok), error bars the population sd; only
# the dims at which mlet ran are drawn.
# Left panel: the reference's SGD (lr 0.2) with the emb_lr controls (full with a
# 4x and 16x embedding learning rate); right panel: Adagrad / row-wise Adagrad.
set -eu
DB=${1:-results/seeds.db}
OUT=${2:-plots/seeds/mlet-auc-vs-dim.png}
SWEEP=${SWEEP:-seeds}
DATASET=${DATASET:-seeds_syn}
[ -f "$DB" ] || { echo "plot-mlet-dims.sh: no database $DB" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# series(opt, method, emb_lr_set) -> "dim mean sd n" lines
series() {
    sqlite3 -separator ' ' "$DB" "
      SELECT r.dim, AVG(r.test_auc),
             sqrt(MAX(AVG(r.test_auc*r.test_auc) - AVG(r.test_auc)*AVG(r.test_auc), 0)), COUNT(*)
      FROM runs r JOIN sweep_runs s ON s.key = r.key
      WHERE s.sweep = '$SWEEP' AND r.dataset = '$DATASET' AND r.status = 'ok'
        AND r.method = '$2' AND r.ratio_requested = 1
        AND json_extract(r.config, '\$.train.optimizer') = '$1'
        AND json_extract(r.config, '\$.train.emb_lr') = $3
        AND r.dim IN (SELECT m.dim FROM runs m JOIN sweep_runs t ON t.key = m.key
                      WHERE t.sweep = '$SWEEP' AND m.dataset = '$DATASET' AND m.method = 'mlet')
      GROUP BY r.dim ORDER BY r.dim;"
}
series sgd full 0 > "$TMP/sgd_full"
series sgd mlet 0 > "$TMP/sgd_mlet"
series sgd full 0.8 > "$TMP/sgd_full_08"
series sgd full 3.2 > "$TMP/sgd_full_32"
series adagrad full 0 > "$TMP/ada_full"
series adagrad mlet 0 > "$TMP/ada_mlet"
[ -s "$TMP/sgd_mlet" ] || [ -s "$TMP/ada_mlet" ] || { echo "plot-mlet-dims.sh: no mlet runs in $DB (sweep $SWEEP, dataset $DATASET)" >&2; exit 1; }

# gnuplot cannot plot an empty file: keep only the series that have points
plotline() { # file title style
    [ -s "$1" ] && printf "'%s' using 1:2:3 with yerrorlines %s title '%s', " "$1" "$3" "$2"
    return 0
}
L=$(plotline "$TMP/sgd_full" "full" "lc rgb '#1f77b4' pt 7"; \
    plotline "$TMP/sgd_mlet" "mlet" "lc rgb '#d62728' pt 5 lw 2"; \
    plotline "$TMP/sgd_full_08" "full, emb lr 0.8 (4x)" "lc rgb '#7f7f7f' pt 6 dt 2"; \
    plotline "$TMP/sgd_full_32" "full, emb lr 3.2 (16x)" "lc rgb '#2ca02c' pt 4 dt 3")
R=$(plotline "$TMP/ada_full" "full" "lc rgb '#1f77b4' pt 7"; \
    plotline "$TMP/ada_mlet" "mlet" "lc rgb '#d62728' pt 5 lw 2")

gnuplot <<GP
set terminal pngcairo size 1200,500 font 'sans,10' noenhanced
set output '$OUT'
set multiplot layout 1,2 title 'MLET vs full: test AUC against embedding width d ($DATASET, mean +- sd over seeds; inference bytes = full bytes at each d)'
set logscale x 2
set xtics (2, 4, 8, 16, 32, 64)
set xrange [1.6:20]
set xlabel 'embedding dim d (inference bytes proportional to d)'
set ylabel 'test AUC'
set key bottom right
set grid
set title 'SGD, lr 0.2 (the reference code)'
$( [ -n "$L" ] && echo "plot ${L%, }" || echo "set label 'no SGD runs' at graph 0.4,0.5; plot NaN notitle" )
set title 'Adagrad 0.05 / row-wise Adagrad (this project default)'
$( [ -n "$R" ] && echo "plot ${R%, }" || echo "set label 'no Adagrad runs' at graph 0.4,0.5; plot NaN notitle" )
unset multiplot
GP
echo "$OUT"
