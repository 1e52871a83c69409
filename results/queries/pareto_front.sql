-- The Pareto front: per sweep, dataset and dim, the configs no other config beats on both memory and AUC.
-- A config is (method, requested ratio); its AUC and bytes are means over the seeds
-- that finished ok. A config is on the front when no other config of the same sweep,
-- dataset and dim has at most its inference bytes and at least its AUC, one of them
-- strictly. `embsweep plot` draws the same front (harness/report/plot_util.c, pl_pareto).
-- Columns: size is bytes_infer in binary units. Filter with --sweep NAME.
WITH cfg AS (
    SELECT s.sweep, r.dataset, r.dim, r.method, r.ratio_requested AS ratio,
           COUNT(*) AS seeds, AVG(r.test_auc) AS auc, AVG(r.bytes_infer) AS bytes
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND (:sweep IS NULL OR s.sweep = :sweep)
    GROUP BY s.sweep, r.dataset, r.dim, r.method, r.ratio_requested
)
SELECT a.sweep, a.dataset, a.dim, a.method, a.ratio, a.seeds,
       ROUND(a.auc, 5) AS auc, CAST(ROUND(a.bytes) AS INTEGER) AS bytes_infer,
       CASE WHEN a.bytes >= 1073741824 THEN printf('%.2f GiB', a.bytes / 1073741824.0)
            WHEN a.bytes >= 1048576 THEN printf('%.2f MiB', a.bytes / 1048576.0)
            WHEN a.bytes >= 1024 THEN printf('%.1f KiB', a.bytes / 1024.0)
            ELSE printf('%d B', CAST(a.bytes AS INTEGER)) END AS size
FROM cfg a
WHERE a.auc IS NOT NULL AND a.bytes IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM cfg b
      WHERE b.sweep = a.sweep AND b.dataset = a.dataset AND b.dim = a.dim
        AND b.auc IS NOT NULL AND b.bytes IS NOT NULL
        AND b.bytes <= a.bytes AND b.auc >= a.auc AND (b.bytes < a.bytes OR b.auc > a.auc))
ORDER BY a.sweep, a.dataset, a.dim, a.bytes, a.auc;
