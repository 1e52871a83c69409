-- The method ranking per model arch and budget: methods ranked by mean test AUC under each arch at each requested ratio.
-- Per sweep, dataset, dim, requested ratio and arch (model.arch; dlrm where the
-- config leaves it out). Means over the seeds that finished ok. delta_vs_full is
-- the mean AUC minus that of `full` under the same arch (same sweep, dataset,
-- dim); verdict is the stored verdict of that config against it (`embsweep
-- compare` prints the intervals), shown where the configs differ by the arch
-- alone: a sweep that also varies, say, lr pools those runs in the means and
-- shows no verdict. Ties share a rank. Filter with --sweep NAME.
-- How well the rankings agree between archs: the saved query arch_agreement.
WITH cfg AS (
    SELECT s.sweep, r.dataset, r.dim, r.method, r.ratio_requested AS ratio,
           COALESCE(json_extract(r.config, '$.model.arch'), 'dlrm') AS arch,
           COUNT(*) AS seeds, AVG(r.test_auc) AS auc
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND r.test_auc IS NOT NULL AND (:sweep IS NULL OR s.sweep = :sweep)
    GROUP BY 1, 2, 3, 4, 5, 6
),
base AS (  -- full at its smallest ratio, per arch
    SELECT sweep, dataset, dim, arch, auc AS full_auc FROM cfg f
    WHERE method = 'full' AND ratio = (SELECT MIN(ratio) FROM cfg g WHERE g.method = 'full'
        AND g.sweep = f.sweep AND g.dataset = f.dataset AND g.dim = f.dim AND g.arch = f.arch)
),
verdict AS (  -- stored verdicts whose setting differs by the arch alone: `variant` is
              -- "arch=dcn", or empty for dlrm; other variants pool settings, no verdict
    SELECT * FROM (
        SELECT sweep, dataset, dim, method, ratio, verdict,
               CASE WHEN COALESCE(variant, '') = '' THEN 'dlrm'
                    WHEN variant LIKE 'arch=%' AND variant NOT LIKE '% %' THEN substr(variant, 6) END AS arch
        FROM verdicts)
    WHERE arch IS NOT NULL
)
SELECT c.sweep, c.dataset, c.dim, c.ratio, c.arch,
       RANK() OVER (PARTITION BY c.sweep, c.dataset, c.dim, c.ratio, c.arch ORDER BY ROUND(c.auc, 5) DESC) AS rank,
       c.method, c.seeds, ROUND(c.auc, 5) AS auc_mean,
       ROUND(c.auc - b.full_auc, 5) AS delta_vs_full, v.verdict
FROM cfg c LEFT JOIN base b USING (sweep, dataset, dim, arch)
LEFT JOIN verdict v ON v.sweep = c.sweep AND v.dataset = c.dataset AND v.dim = c.dim
    AND v.method = c.method AND ABS(v.ratio - c.ratio) < 1e-9 AND v.arch = c.arch
ORDER BY c.sweep, c.dataset, c.dim, c.ratio, c.arch, rank, c.method;
