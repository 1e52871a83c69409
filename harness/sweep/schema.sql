-- schema.sql: the embsweep results database, version 5 (PRAGMA user_version).
-- v1 -> v2 (db.c migrates): rss_samples.hwm added, table run_phases added.
-- v2 -> v3: tables run_scores and verdicts added.
-- v3 -> v4: invocations.slurm_job, slurm_task, node, origin added; tables
--           slurm_submissions and shard_attempts added.
-- v4 -> v5: table run_stages added.
-- Documented column by column in results/README.md. The harness parent process is
-- the only writer (WAL mode); each run's final row is written in one transaction.
-- Compiled into the binary by the harness (db.c) and applied on first open.

CREATE TABLE IF NOT EXISTS sweeps (
    name        TEXT PRIMARY KEY,        -- the YAML `name:`
    file        TEXT,                    -- path of the YAML file last run
    yaml        TEXT,                    -- its full text, as last run
    created_at  TEXT NOT NULL,           -- ISO-8601 UTC
    updated_at  TEXT NOT NULL
);

-- One row per harness invocation: provenance of the machine and build.
CREATE TABLE IF NOT EXISTS invocations (
    id          INTEGER PRIMARY KEY,
    sweep       TEXT NOT NULL REFERENCES sweeps(name),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    argv        TEXT,
    git_commit  TEXT, git_dirty INTEGER,
    compiler    TEXT, cflags TEXT, blas TEXT,
    cpu_model   TEXT, cores INTEGER, kernel TEXT, hostname TEXT,
    jobs        INTEGER, threads_per_job INTEGER,
    status      TEXT,                     -- running | finished | interrupted
    -- v4: where a Slurm array task ran (NULL outside Slurm), and for a row merged
    -- from a task's shard, '<shard path>#<its id there>' (NULL for local runs)
    slurm_job   TEXT, slurm_task INTEGER, node TEXT,
    origin      TEXT
);

CREATE TABLE IF NOT EXISTS datasets (
    id           TEXT PRIMARY KEY,        -- <name>_<8 hex of recipe hash>
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    recipe       TEXT NOT NULL,           -- canonical recipe text
    rows_train   INTEGER, rows_val INTEGER, rows_test INTEGER,
    n_dense      INTEGER, n_fields INTEGER,
    cardinalities TEXT,                   -- JSON array, per field
    pos_rate_train REAL, pos_rate_test REAL,
    bayes_auc    REAL, bayes_logloss REAL -- planted-model ceiling, NULL for real data
);

CREATE TABLE IF NOT EXISTS runs (
    key             TEXT PRIMARY KEY,     -- hash of the fully resolved config
    sweep           TEXT NOT NULL,        -- sweep that last scheduled it
    invocation      INTEGER,              -- invocations.id that last ran it
    status          TEXT NOT NULL CHECK (status IN ('pending','running','ok','failed','timeout',
                        'oom','crashed','diverged','interrupted','skipped')),
    reason          TEXT,                 -- error message, signal name, skip reason
    method          TEXT NOT NULL,
    dataset         TEXT NOT NULL,        -- YAML dataset name
    dataset_id      TEXT,                 -- datasets.id
    dim             INTEGER NOT NULL,
    ratio_requested REAL NOT NULL,
    ratio_achieved  REAL,
    seed            INTEGER NOT NULL,
    params          TEXT,                 -- resolved method parameters, "k=v k=v"
    knobs           TEXT,                 -- plan summary
    config          TEXT NOT NULL,        -- resolved config, JSON
    -- accuracy (test at the epoch selected on validation)
    test_auc REAL, test_logloss REAL, test_acc REAL,
    val_auc REAL, val_logloss REAL,
    bayes_auc REAL, bayes_logloss REAL,
    best_epoch INTEGER,
    -- bytes
    bytes_infer INTEGER, bytes_infer_params INTEGER, bytes_infer_index INTEGER, index_desc TEXT,
    bytes_train INTEGER, bytes_train_params INTEGER, bytes_train_optim INTEGER, bytes_train_other INTEGER,
    bytes_dense INTEGER,
    -- measured memory (bytes), from /proc/<pid>/status of the worker
    peak_rss_bytes INTEGER,               -- max VmHWM over phases
    peak_rss_load INTEGER, peak_rss_train INTEGER, peak_rss_eval INTEGER,
    rss_anon_peak INTEGER, rss_file_peak INTEGER,
    -- speed
    train_samples_per_s REAL, infer_samples_per_s REAL,
    wall_s REAL, cpu_s REAL, train_s REAL, eval_s REAL, load_s REAL,
    steps INTEGER, final_train_loss REAL,
    blas_threads INTEGER,
    -- failure details
    exit_code INTEGER, signal INTEGER, stderr_tail TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at TEXT, finished_at TEXT
);
CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep);

-- Which runs each sweep file contains (a run may be shared by two sweeps).
CREATE TABLE IF NOT EXISTS sweep_runs (
    sweep TEXT NOT NULL,
    key   TEXT NOT NULL,
    PRIMARY KEY (sweep, key)
);

CREATE TABLE IF NOT EXISTS loss_curve (
    key TEXT NOT NULL, step INTEGER NOT NULL, epoch REAL, train_loss REAL,
    PRIMARY KEY (key, step)
);

CREATE TABLE IF NOT EXISTS rss_samples (
    key TEXT NOT NULL, t_s REAL NOT NULL, phase TEXT,
    rss INTEGER, rss_anon INTEGER, rss_file INTEGER,
    hwm INTEGER                           -- v2: VmHWM at the sample (since the phase reset)
);
CREATE INDEX IF NOT EXISTS rss_samples_key ON rss_samples(key);

-- v2: per-phase memory of a run's last attempt. peak_hwm is the worker's VmHWM at the
-- end of the phase after a reset at its start (/proc/self/clear_refs "5");
-- peak_anon / peak_file are the largest sampled RssAnon / RssFile in the phase.
CREATE TABLE IF NOT EXISTS run_phases (
    key TEXT NOT NULL, phase TEXT NOT NULL,
    peak_hwm INTEGER, peak_anon INTEGER, peak_file INTEGER,
    hwm_reset INTEGER,                    -- 1 if clear_refs worked (else peak is since start)
    seconds REAL,
    PRIMARY KEY (key, phase)
);

-- v5: where an ok run's training steps spent their time: wall seconds of each stage
-- (harness/train/model.h, model_stage), summed over the steps; divide by runs.steps
-- for seconds a step. Stages: loader, bottom_fwd, emb_fwd, inter_fwd, top_fwd, loss,
-- top_bwd, inter_bwd, emb_bwd (with the tables' step when the method fuses it),
-- bottom_bwd, step (the rest of the optimizer step, a method's on_step included).
CREATE TABLE IF NOT EXISTS run_stages (
    key TEXT NOT NULL, stage TEXT NOT NULL,
    seconds REAL,
    PRIMARY KEY (key, stage)
);

-- v3: the test scores of each ok run's selected evaluation (the one whose test_auc
-- runs holds), so that two runs on the same test split can be compared row by row
-- (DeLong's test). Layout: harness/sweep/scores.h. Written with the run's final row,
-- in its transaction; every finish of the key replaces it (a run that ends not ok,
-- or ok with `keep_scores: false`, leaves none). 4 + 1/8 bytes per test row.
CREATE TABLE IF NOT EXISTS run_scores (
    key    TEXT PRIMARY KEY,               -- runs.key
    n      INTEGER NOT NULL CHECK (n >= 1), -- test rows
    format TEXT NOT NULL,                  -- 'f32le': logits are float32 little-endian
    logits BLOB NOT NULL,                  -- (n) logits in test-row order: 4 n bytes
    labels BLOB NOT NULL,                  -- bit (i % 8) of byte i / 8 = label of row i
    CHECK (length(labels) = (n + 7) / 8 AND (format <> 'f32le' OR length(logits) = 4 * n))
);

-- v3: the verdict of each config of a sweep against `full` (margin 0.001, alpha 0.05),
-- rewritten by `embsweep run` at the end of each sweep (harness/report/verdict.c);
-- `embsweep compare` prints the same columns. NULL: not computable.
CREATE TABLE IF NOT EXISTS verdicts (
    sweep TEXT NOT NULL, dataset TEXT NOT NULL, dim INTEGER NOT NULL,
    variant TEXT,                          -- the keys that set this config's setting apart in its group
    method TEXT NOT NULL, params TEXT, ratio REAL NOT NULL,
    bytes_infer REAL, seeds INTEGER,
    auc_mean REAL, auc_ci_lo REAL, auc_ci_hi REAL, -- 95% t interval over seeds
    baseline TEXT, paired INTEGER,         -- 'full@1'; seeds shared with it
    delta REAL, delta_ci_lo REAL, delta_ci_hi REAL, t_p REAL, -- paired by seed
    delong_p REAL, tost_p REAL, mdd REAL, seeds_needed INTEGER,
    verdict TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS verdicts_sweep ON verdicts(sweep);

-- v4: each `embsweep submit --slurm`: its work directory (the plan, the sbatch
-- scripts, the tasks' shards), the job ids sbatch returned, and what it holds.
CREATE TABLE IF NOT EXISTS slurm_submissions (
    dir          TEXT PRIMARY KEY,         -- absolute path of the submission's directory
    sweep        TEXT NOT NULL,
    array_job    TEXT,                     -- NULL with --no-sbatch
    merge_job    TEXT,
    tasks        INTEGER NOT NULL,
    cells        INTEGER NOT NULL,
    submitted_at TEXT NOT NULL
);

-- v4: the attempts each shard had made at a run when `embsweep merge` last took
-- it, so that runs.attempts counts every attempt once when a requeued task's
-- shard is merged again.
CREATE TABLE IF NOT EXISTS shard_attempts (
    shard    TEXT NOT NULL,                -- absolute path of the shard file
    key      TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (shard, key)
);

CREATE VIEW IF NOT EXISTS run_summary AS
SELECT r.key, s.sweep, r.status, r.method, r.dataset, r.dim, r.ratio_requested, r.ratio_achieved,
       r.seed, r.test_auc, r.test_logloss, r.bytes_infer, r.bytes_train, r.peak_rss_bytes,
       r.train_samples_per_s, r.infer_samples_per_s, r.wall_s,
       r.test_acc, r.val_auc, r.bayes_auc, r.reason, r.params
FROM runs r JOIN sweep_runs s ON s.key = r.key;
