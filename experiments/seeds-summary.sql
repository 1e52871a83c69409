-- experiments/seeds-summary.sql: the tables of results/notes/2026-11-22-paper-claims.md from the
-- database of experiments/seeds.yaml and experiments/seeds-criteo-sample.yaml.
--
--   sqlite3 -header -column results/seeds.db < experiments/seeds-summary.sql
--
-- One row per configuration (everything but the seed): test AUC mean and
-- population sd over the seeds that finished ok, n, the achieved ratio, and
-- d_full = the mean over seeds of (AUC - AUC of `full` with the same sweep,
-- dataset, dim, optimizer and seed, and the default emb_lr), a paired
-- difference that cancels the seed's share of the noise. d_full_sd is its
-- population sd. emb_lr shows the embedding learning rate in effect.
WITH r AS (
    SELECT s.sweep, r.dataset, r.method, r.dim, r.ratio_requested AS ratio, r.seed,
           r.ratio_achieved, r.test_auc AS auc, r.bytes_infer, r.bytes_train,
           json_extract(r.config, '$.train.optimizer') AS opt,
           json_extract(r.config, '$.train.emb_lr') AS emb_lr_set,
           CASE WHEN json_extract(r.config, '$.train.emb_lr') > 0 THEN json_extract(r.config, '$.train.emb_lr')
                ELSE json_extract(r.config, '$.train.lr') END AS emb_lr,
           CASE WHEN r.method = 'hash' AND r.params LIKE '%hash=modulo%' THEN 'mod' ELSE '' END AS variant,
           r.cpu_s
    FROM runs r JOIN sweep_runs s ON s.key = r.key
    WHERE r.status = 'ok' AND s.sweep IN ('seeds', 'seeds_criteo')
),
paired AS (
    SELECT r.*, r.auc - f.auc AS d
    FROM r LEFT JOIN r f
      ON f.method = 'full' AND f.ratio = 1 AND f.emb_lr_set = 0 AND f.sweep = r.sweep
     AND f.dataset = r.dataset AND f.dim = r.dim AND f.opt = r.opt AND f.seed = r.seed
)
SELECT sweep, dataset, method || CASE WHEN variant <> '' THEN '(' || variant || ')' ELSE '' END AS method,
       dim, ratio, ROUND(AVG(ratio_achieved), 2) AS achieved, opt, emb_lr, COUNT(*) AS n,
       printf('%.4f', AVG(auc)) AS auc, printf('%.4f', sqrt(MAX(AVG(auc*auc) - AVG(auc)*AVG(auc), 0))) AS sd,
       printf('%+.4f', AVG(d)) AS d_full, printf('%.4f', sqrt(MAX(AVG(d*d) - AVG(d)*AVG(d), 0))) AS d_full_sd,
       printf('%.2f', AVG(bytes_infer) / 1048576.0) AS infer_mib, printf('%.2f', AVG(bytes_train) / 1048576.0) AS train_mib,
       printf('%.1f', AVG(cpu_s)) AS cpu_s
FROM paired
GROUP BY sweep, dataset, method, variant, dim, ratio, opt, emb_lr
ORDER BY sweep, dataset, method, variant, opt, emb_lr, dim, ratio;
