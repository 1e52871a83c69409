-- The verdict of every method and ratio against full: better, worse, equivalent within 0.001, or not resolved.
-- Per sweep, dataset and dim: mean test AUC with its 95% CI over seeds, the
-- difference to `full` paired by seed with its CI and t-test p, DeLong's p on the
-- shared test rows (combined over seeds), the equivalence (TOST) p, the minimum
-- detectable difference and the seeds that would resolve the margin. `embsweep
-- run` stores these rows at the end of each sweep; `embsweep compare` prints the
-- same rows, and takes another baseline, margin or level (results/README.md).
SELECT sweep, dataset, dim, variant, method, params, ratio, bytes_infer, seeds, auc_mean, auc_ci_lo, auc_ci_hi,
       baseline, paired, delta, delta_ci_lo, delta_ci_hi, t_p, delong_p, tost_p, mdd, seeds_needed, verdict
FROM verdicts
WHERE :sweep IS NULL OR sweep = :sweep
ORDER BY sweep, rowid;
