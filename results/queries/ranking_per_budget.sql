-- The method ranking per budget: methods ranked by mean test AUC at each requested ratio, with the gap to full.
-- Per sweep, dataset and dim. Means over the seeds that finished ok. delta_vs_full is
-- the mean AUC minus that of `full` (same sweep, dataset, dim); NULL without a full
-- run. Ties share a rank. Filter with --sweep NAME.
WITH cfg AS (
    SELECT s.sweep, r.dataset, r.dim, r.method, r.ratio_requested AS ratio,
           COUNT(*) AS seeds, AVG(r.test_auc) AS auc
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND r.test_auc IS NOT NULL AND (:sweep IS NULL OR s.sweep = :sweep)
    GROUP BY s.sweep, r.dataset, r.dim, r.method, r.ratio_requested
),
base AS (  -- full at its smallest ratio (1 in any sane sweep)
    SELECT sweep, dataset, dim, auc AS full_auc FROM cfg f
    WHERE method = 'full' AND ratio = (SELECT MIN(ratio) FROM cfg g WHERE g.method = 'full'
        AND g.sweep = f.sweep AND g.dataset = f.dataset AND g.dim = f.dim)
)
SELECT c.sweep, c.dataset, c.dim, c.ratio,
       RANK() OVER (PARTITION BY c.sweep, c.dataset, c.dim, c.ratio ORDER BY ROUND(c.auc, 5) DESC) AS rank,
       c.method, c.seeds, ROUND(c.auc, 5) AS auc_mean,
       ROUND(c.auc - b.full_auc, 5) AS delta_vs_full
FROM cfg c LEFT JOIN base b USING (sweep, dataset, dim)
ORDER BY c.sweep, c.dataset, c.dim, c.ratio, rank, c.method;
