-- Exposure runs (owned by critmin.duty.runs). Every `critmin exposure` run against a workspace is recorded
-- with what it was computed from - scenario and parameters, evaluation date, the ledger file (and import,
-- when the file was imported), the measures with their citations and the reference-data vintages - so a
-- figure quoted later can be traced back and recomputed.

CREATE SEQUENCE runs_id START 1;

CREATE TABLE runs (
    id BIGINT PRIMARY KEY DEFAULT nextval('runs_id'),
    created_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC'),
    scenario VARCHAR NOT NULL,          -- scenario id (or measure-file stem)
    scenario_title VARCHAR NOT NULL,
    parameters JSON NOT NULL,           -- parameter values used, with example/overridden flags
    as_of DATE,                         -- re-dating of every line; NULL = each line on its entry date
    content_case VARCHAR NOT NULL,      -- low | central | high (content factors used for the headline)
    ledger_source VARCHAR NOT NULL,     -- path of the ledger file evaluated
    ledger_sha256 VARCHAR,              -- its checksum
    ledger_import_id BIGINT,            -- ledger_imports.import_id when the same file was imported
    lines BIGINT NOT NULL,
    customs_value DOUBLE NOT NULL,
    duty DOUBLE NOT NULL,
    totals JSON NOT NULL,               -- the "totals" object of the JSON output
    measures JSON NOT NULL,             -- [{measure_id, title, status, window, applied, citations: [...]}]
    datasets JSON NOT NULL,             -- {dataset id: {vintage, sha256, source, licence}}
    sources JSON NOT NULL,              -- measure/scenario files with their sha256
    critmin_version VARCHAR NOT NULL
);
