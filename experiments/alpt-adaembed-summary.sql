-- experiments/alpt-adaembed-summary.sql: the tables of
-- results/notes/2026-12-06-alpt-adaembed.md from the database of
-- experiments/alpt-adaembed.yaml.
--
--   sqlite3 -header -column results/alpt-adaembed.db < experiments/alpt-adaembed-summary.sql
--
-- One row per configuration (everything but the seed): test AUC mean and
-- population sd over the seeds that finished ok, n, d_full = mean over seeds of
-- (AUC - AUC of `full` on the same dataset and seed), the achieved ratio,
-- inference and training bytes (KiB), training samples/s (mean; wall clock, so
-- it follows the machine's load) and the run's CPU seconds (mean; load, train,
-- evaluation).
WITH r AS (
    SELECT r.dataset, r.method, r.ratio_requested AS ratio, r.seed, r.ratio_achieved, r.test_auc AS auc,
           r.bytes_infer, r.bytes_train, r.train_samples_per_s AS sps, r.cpu_s,
           CASE WHEN r.params LIKE '%rounding=nearest%' THEN 'nearest'
                WHEN r.params LIKE '%init_scale=auto%' THEN 'LSQ init'
                WHEN r.method = 'adaembed' AND r.params LIKE '%threshold=200%' THEN 'threshold 200'
                ELSE '' END AS variant
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND s.sweep = 'alpt_adaembed'
),
paired AS (
    SELECT r.*, r.auc - f.auc AS d
    FROM r LEFT JOIN r f ON f.method = 'full' AND f.dataset = r.dataset AND f.seed = r.seed
)
SELECT dataset, method || CASE WHEN variant <> '' THEN ' (' || variant || ')' ELSE '' END AS method,
       printf('%.4g', ratio) AS ratio, printf('%.3f', avg(ratio_achieved)) AS achieved,
       printf('%.4f', avg(auc)) AS auc, printf('%.4f', sqrt(max(avg(auc * auc) - avg(auc) * avg(auc), 0))) AS sd,
       count(*) AS n, printf('%+.4f', avg(d)) AS d_full,
       printf('%.0f', avg(bytes_infer) / 1024.0) AS infer_kib, printf('%.0f', avg(bytes_train) / 1024.0) AS train_kib,
       printf('%.0f', avg(sps)) AS train_sps, printf('%.2f', avg(cpu_s)) AS cpu_s
FROM paired
GROUP BY dataset, method, variant, ratio
ORDER BY dataset DESC, ratio, method;
