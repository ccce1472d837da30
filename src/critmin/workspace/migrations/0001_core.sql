-- Core tables every capability may use. Timestamps are UTC, stored as TIMESTAMP (not TIMESTAMPTZ,
-- whose conversion to Python needs an extra time-zone package).

-- Workspace-level preferences (e.g. default scenario, currency display), one JSON value per key, so a
-- setting survives between commands without a configuration file beside the database.
CREATE TABLE settings (
    key VARCHAR PRIMARY KEY,
    value JSON NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC')
);

-- Append-only audit trail of what was done to the workspace (created, migrated, ledger imported, run
-- saved, alert acknowledged), so a user can see when the data behind a figure last changed.
CREATE SEQUENCE events_log_id START 1;

CREATE TABLE events_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('events_log_id'),
    ts TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC'),
    kind VARCHAR NOT NULL,  -- dotted name: workspace.created, ledger.imported, ...
    detail JSON
);
