-- The best AUC per method at each memory budget (requested compression ratio), per sweep, dataset and dim.
-- One row per (method, ratio): the mean test AUC over the seeds that finished ok,
-- the best and worst seed, and the inference bytes the method needed for that
-- budget. Rows of a budget are ordered best first. Filter with --sweep NAME.
SELECT s.sweep, r.dataset, r.dim, r.ratio_requested AS ratio, r.method,
       COUNT(*) AS seeds,
       ROUND(AVG(r.test_auc), 5) AS auc_mean,
       ROUND(MAX(r.test_auc), 5) AS auc_best,
       ROUND(MIN(r.test_auc), 5) AS auc_worst,
       CAST(ROUND(AVG(r.bytes_infer)) AS INTEGER) AS bytes_infer
FROM runs r JOIN sweep_runs s ON s.key = r.key
WHERE r.status = 'ok' AND r.test_auc IS NOT NULL AND (:sweep IS NULL OR s.sweep = :sweep)
GROUP BY s.sweep, r.dataset, r.dim, r.ratio_requested, r.method
ORDER BY s.sweep, r.dataset, r.dim, r.ratio_requested, AVG(r.test_auc) DESC, r.method;
