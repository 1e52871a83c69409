-- Failed runs and why: every run that did not finish ok (failed, timeout, oom, crashed, diverged, interrupted, skipped).
-- reason is the error message, signal name or skip reason the harness recorded;
-- exit_code and signal come from the worker process; attempts counts the tries.
-- Pending and running runs are not listed. `embsweep plot` lists the same runs on
-- the page. Filter with --sweep NAME.
SELECT s.sweep, r.status, r.method, r.dataset, r.dim, r.ratio_requested AS ratio, r.seed,
       r.reason, r.exit_code, r.signal, r.attempts, r.key
FROM runs r JOIN sweep_runs s ON s.key = r.key
WHERE r.status NOT IN ('ok', 'pending', 'running') AND (:sweep IS NULL OR s.sweep = :sweep)
ORDER BY s.sweep, r.status, r.method, r.dataset, r.dim, r.ratio_requested, r.seed;
