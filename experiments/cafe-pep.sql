-- experiments/cafe-pep.sql: the tables of results/notes/2026-12-06-cafe-pep.md from the
-- database of experiments/cafe-pep.yaml.
--
--   sqlite3 -header -column results/cafe-pep.db < experiments/cafe-pep.sql
--
-- One row per configuration (everything but the seed): the variant (cafe's score,
-- pep's init), achieved ratio, test AUC mean and population sd over the seeds that
-- finished ok, d_full = the mean over seeds of (AUC - AUC of `full` on the same
-- dataset and seed), inference and training KiB, training samples/s (after the
-- warm-up, the engine's own timing) and CPU seconds per run.
WITH r AS (
    SELECT r.dataset, r.method, r.dim, r.ratio_requested AS ratio, r.seed, r.ratio_achieved,
           r.test_auc AS auc, r.bytes_infer, r.bytes_train, r.train_samples_per_s AS sps, r.cpu_s,
           CASE WHEN r.method = 'cafe' THEN 'score=' || json_extract(r.config, '$.params.score')
                WHEN r.method = 'pep' THEN 'init=' || json_extract(r.config, '$.params.init')
                ELSE '' END AS variant
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND s.sweep = 'cafe_pep'
),
paired AS (
    SELECT r.*, r.auc - f.auc AS d
    FROM r LEFT JOIN r f ON f.method = 'full' AND f.dataset = r.dataset AND f.dim = r.dim AND f.seed = r.seed
)
SELECT dataset, method, variant, ratio, ROUND(AVG(ratio_achieved), 2) AS achieved, COUNT(*) AS n,
       printf('%.4f', AVG(auc)) AS auc, printf('%.4f', sqrt(MAX(AVG(auc*auc) - AVG(auc)*AVG(auc), 0))) AS sd,
       printf('%+.4f', AVG(d)) AS d_full,
       printf('%.1f', AVG(bytes_infer) / 1024.0) AS infer_kib, printf('%.1f', AVG(bytes_train) / 1024.0) AS train_kib,
       printf('%.0f', AVG(sps)) AS train_sps, printf('%.1f', AVG(cpu_s)) AS cpu_s
FROM paired
GROUP BY dataset, method, variant, ratio
ORDER BY dataset, ratio, method, variant;
