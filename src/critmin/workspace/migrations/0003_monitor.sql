-- Policy monitor: documents read from official feeds, the fetch history, the cursor of every watched query
-- (so an interrupted run resumes where it stopped), alerts and their deliveries. Timestamps are UTC.

-- Each Federal Register document once, keyed by its document number. A document first seen on the public
-- inspection desk is updated in place when it is published (endpoint becomes 'documents').
CREATE TABLE monitor_documents (
    document_number VARCHAR PRIMARY KEY,
    endpoint VARCHAR NOT NULL,            -- documents | public_inspection
    title VARCHAR,
    doc_type VARCHAR,                     -- Rule, Proposed Rule, Notice, Presidential Document, ...
    abstract VARCHAR,
    publication_date DATE,
    agencies VARCHAR,                     -- agency names joined with '; '
    html_url VARCHAR,
    pdf_url VARCHAR,
    citation VARCHAR,
    full_text VARCHAR,                    -- only when the watchlist asks for full text
    raw JSON NOT NULL,                    -- the result object exactly as the API sent it
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    first_run_id VARCHAR NOT NULL
);

-- One row per monitor run.
CREATE TABLE monitor_runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,              -- running | complete | partial | failed | interrupted
    watchlist VARCHAR,
    pages INTEGER,
    documents_new INTEGER,
    alerts_new INTEGER,
    deliveries INTEGER,
    warnings JSON,
    error VARCHAR
);

-- Every page read: what was asked, how many attempts it took, what it held and how much was new.
CREATE SEQUENCE monitor_fetches_id START 1;

CREATE TABLE monitor_fetches (
    id BIGINT PRIMARY KEY DEFAULT nextval('monitor_fetches_id'),
    run_id VARCHAR NOT NULL,
    query_key VARCHAR NOT NULL,
    page_number INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    bytes BIGINT NOT NULL,
    count_reported BIGINT,                -- the API's 'count' for the whole query
    results INTEGER NOT NULL,
    new_documents INTEGER NOT NULL,
    note VARCHAR
);

-- Which watched query returned which document (a document can be hit by several entries).
CREATE TABLE monitor_hits (
    entry_id VARCHAR NOT NULL,
    document_number VARCHAR NOT NULL,
    query_key VARCHAR NOT NULL,
    first_run_id VARCHAR NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,     -- lets a pass count the distinct documents it saw
    PRIMARY KEY (entry_id, document_number, query_key)
);

-- Where each watched query stands. next_url is set while a pass is under way and cleared when it ends;
-- high_water is the latest publication date of a completed pass, where the next pass starts. A pass only
-- moves high_water forward when it saw as many distinct documents as the API said it would
-- (pass_expected); otherwise the next pass reads the same range again, so a misbehaving server cannot make
-- documents disappear.
CREATE TABLE monitor_cursors (
    query_key VARCHAR PRIMARY KEY,
    entry_id VARCHAR NOT NULL,
    endpoint VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    next_url VARCHAR,
    next_page INTEGER,
    pass_started_at TIMESTAMP,
    pass_expected BIGINT,
    pass_high_water DATE,
    high_water DATE,
    pages_read BIGINT NOT NULL DEFAULT 0,
    passes_completed BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);

-- One alert per (watch entry, document): what the document touches on the ledger and, when tied to a
-- measure or scenario, the dollar change. payload holds the full alert as rendered in digests.
CREATE TABLE monitor_alerts (
    alert_id VARCHAR PRIMARY KEY,         -- '<entry_id>/<document_number>'
    entry_id VARCHAR NOT NULL,
    document_number VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,              -- active | suppressed (require_mention and nothing in scope named)
    title VARCHAR NOT NULL,
    publication_date DATE,
    measure_id VARCHAR,
    lines_touched INTEGER NOT NULL,
    annual_value_usd DOUBLE,
    duty_before_usd DOUBLE,
    duty_after_usd DOUBLE,
    payload JSON NOT NULL
);

-- Delivery log: one row per (alert, channel). An alert is sent on a channel until a row says delivered.
CREATE TABLE monitor_deliveries (
    alert_id VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,             -- 'webhook:<url>' or 'email:<recipients>'
    status VARCHAR NOT NULL,              -- delivered | failed
    attempts INTEGER NOT NULL,
    first_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error VARCHAR,
    PRIMARY KEY (alert_id, channel)
);
