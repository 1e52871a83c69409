-- How well the method rankings agree between model archs: Kendall's tau-b per pair of archs at each budget.
-- Per sweep, dataset, dim and requested ratio, over the methods that have ok
-- runs under both archs of the pair (`methods`). A pair of methods is
-- concordant when both archs order it the same way by mean test AUC
-- (rounded to 5 decimals), discordant when they order it oppositely; tau_b =
-- (concordant - discordant) / sqrt((pairs - ties_a) (pairs - ties_b)): 1 is the
-- same ranking, 0 no agreement, -1 the reverse. z is tau's distance from 0 in
-- standard errors of independent rankings (no ties): 3 tau sqrt(m (m - 1)) /
-- sqrt(2 (2m + 5)); |z| > 1.96 is agreement beyond chance at 5%. Budgets with
-- fewer than three methods have no row. The rankings themselves: the saved
-- query arch_rankings.
-- Filter with --sweep NAME.
WITH cfg AS (
    SELECT s.sweep, r.dataset, r.dim, r.method, r.ratio_requested AS ratio,
           COALESCE(json_extract(r.config, '$.model.arch'), 'dlrm') AS arch,
           ROUND(AVG(r.test_auc), 5) AS auc
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND r.test_auc IS NOT NULL AND (:sweep IS NULL OR s.sweep = :sweep)
    GROUP BY 1, 2, 3, 4, 5, 6
),
pairs AS (  -- (arch a, arch b, method m, method n): the sign of m - n under each arch
    SELECT a1.sweep, a1.dataset, a1.dim, a1.ratio, a1.arch AS arch_a, b1.arch AS arch_b,
           sign(a1.auc - a2.auc) AS sa, sign(b1.auc - b2.auc) AS sb
    FROM cfg a1
    JOIN cfg a2 ON a2.sweep = a1.sweep AND a2.dataset = a1.dataset AND a2.dim = a1.dim
               AND a2.ratio = a1.ratio AND a2.arch = a1.arch AND a2.method > a1.method
    JOIN cfg b1 ON b1.sweep = a1.sweep AND b1.dataset = a1.dataset AND b1.dim = a1.dim
               AND b1.ratio = a1.ratio AND b1.method = a1.method AND b1.arch > a1.arch
    JOIN cfg b2 ON b2.sweep = a1.sweep AND b2.dataset = a1.dataset AND b2.dim = a1.dim
               AND b2.ratio = a1.ratio AND b2.method = a2.method AND b2.arch = b1.arch
),
tally AS (
    SELECT sweep, dataset, dim, ratio, arch_a, arch_b, COUNT(*) AS n,
           SUM(sa * sb > 0) AS concordant, SUM(sa * sb < 0) AS discordant,
           SUM(sa = 0) AS ties_a, SUM(sb = 0) AS ties_b
    FROM pairs GROUP BY 1, 2, 3, 4, 5, 6
),
tau AS (
    SELECT *, CAST((1 + sqrt(1 + 8 * n)) / 2 AS INTEGER) AS m,
           CASE WHEN n > ties_a AND n > ties_b
                THEN (concordant - discordant) / sqrt(1.0 * (n - ties_a) * (n - ties_b)) END AS t
    FROM tally WHERE n >= 3
)
SELECT sweep, dataset, dim, ratio, arch_a, arch_b, m AS methods, n AS pairs, concordant, discordant,
       ROUND(t, 3) AS tau_b, ROUND(3 * t * sqrt(m * (m - 1.0)) / sqrt(2 * (2 * m + 5.0)), 2) AS z
FROM tau
ORDER BY sweep, dataset, dim, ratio, arch_a, arch_b;
