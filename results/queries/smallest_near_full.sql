-- The smallest memory within 0.001 AUC of full: per method, its smallest config whose mean AUC is at least full's minus 0.001.
-- Per sweep, dataset and dim. Means over the seeds that finished ok; full is the
-- uncompressed `full` method of the same sweep, dataset and dim. saving is full's
-- inference bytes over the config's. A method that never comes within 0.001 of full
-- has no row. The first row of each group is the overall answer. Filter with --sweep.
WITH cfg AS (
    SELECT s.sweep, r.dataset, r.dim, r.method, r.ratio_requested AS ratio,
           AVG(r.test_auc) AS auc, AVG(r.bytes_infer) AS bytes
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND (:sweep IS NULL OR s.sweep = :sweep)
    GROUP BY s.sweep, r.dataset, r.dim, r.method, r.ratio_requested
),
base AS (  -- full at its smallest ratio (1 in any sane sweep)
    SELECT sweep, dataset, dim, auc AS full_auc, bytes AS full_bytes FROM cfg f
    WHERE method = 'full' AND auc IS NOT NULL AND ratio = (SELECT MIN(ratio) FROM cfg g WHERE g.method = 'full'
        AND g.sweep = f.sweep AND g.dataset = f.dataset AND g.dim = f.dim)
),
near AS (
    SELECT c.*, b.full_auc, b.full_bytes,
           ROW_NUMBER() OVER (PARTITION BY c.sweep, c.dataset, c.dim, c.method
                              ORDER BY c.bytes, c.auc DESC) AS pick
    FROM cfg c JOIN base b USING (sweep, dataset, dim)
    WHERE c.auc >= b.full_auc - 0.001 AND c.bytes IS NOT NULL
)
SELECT sweep, dataset, dim, method, ratio, CAST(ROUND(bytes) AS INTEGER) AS bytes_infer,
       ROUND(auc, 5) AS auc_mean, ROUND(full_auc, 5) AS full_auc,
       ROUND(full_bytes / bytes, 2) AS saving
FROM near WHERE pick = 1
ORDER BY sweep, dataset, dim, bytes, method;
