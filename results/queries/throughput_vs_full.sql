-- The throughput cost relative to full: training and inference samples/s of each config over those of the uncompressed model.
-- Per sweep, dataset and dim; means over the seeds that finished ok. train_vs_full
-- and infer_vs_full are the config's throughput divided by full's (0.5 = half as
-- fast; NULL without a full run). Throughput is measured after a warm-up and is
-- only comparable between runs of the same machine and jobs setting (see the
-- environment in plots/index.html). Filter with --sweep NAME.
WITH cfg AS (
    SELECT s.sweep, r.dataset, r.dim, r.method, r.ratio_requested AS ratio,
           AVG(r.train_samples_per_s) AS train, AVG(r.infer_samples_per_s) AS infer
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND (:sweep IS NULL OR s.sweep = :sweep)
    GROUP BY s.sweep, r.dataset, r.dim, r.method, r.ratio_requested
),
base AS (  -- full at its smallest ratio (1 in any sane sweep)
    SELECT sweep, dataset, dim, train AS full_train, infer AS full_infer FROM cfg f
    WHERE method = 'full' AND ratio = (SELECT MIN(ratio) FROM cfg g WHERE g.method = 'full'
        AND g.sweep = f.sweep AND g.dataset = f.dataset AND g.dim = f.dim)
)
SELECT c.sweep, c.dataset, c.dim, c.method, c.ratio,
       ROUND(c.train) AS train_sps, ROUND(c.train / b.full_train, 3) AS train_vs_full,
       ROUND(c.infer) AS infer_sps, ROUND(c.infer / b.full_infer, 3) AS infer_vs_full
FROM cfg c LEFT JOIN base b USING (sweep, dataset, dim)
ORDER BY c.sweep, c.dataset, c.dim, c.method = 'full' DESC, c.method, c.ratio;
