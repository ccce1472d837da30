-- Import ledgers and bills of materials (owned by critmin.ledger.store).
-- Every import is recorded with its file checksum, so importing the same file again changes nothing, and
-- every input row is either a line or a quarantine row: rows_in = rows_loaded + rows_quarantined.

CREATE SEQUENCE ledger_import_id START 1;

-- One row per imported file (the latest version of a file name replaces the lines of earlier ones).
CREATE TABLE ledger_imports (
    import_id BIGINT PRIMARY KEY DEFAULT nextval('ledger_import_id'),
    file_sha256 VARCHAR NOT NULL UNIQUE,
    source_file VARCHAR NOT NULL,       -- file name, as in ledger_lines.source_file
    source_path VARCHAR NOT NULL,       -- where it was read from
    format VARCHAR NOT NULL,            -- csv | tsv | xlsx | parquet
    encoding VARCHAR,
    sheet VARCHAR,
    header_row INTEGER,
    date_order VARCHAR NOT NULL,        -- mdy | dmy | ymd
    mapping JSON NOT NULL,              -- the column mapping used (critmin ledger mapping shows the same)
    rows_in BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_blank BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    lines_replaced BIGINT NOT NULL,     -- earlier lines this import replaced (same file name or line id)
    imported_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC'),
    critmin_version VARCHAR NOT NULL
);

-- The canonical ledger (critmin.ledger.schema.LEDGER_SCHEMA) plus the import that loaded each line.
CREATE TABLE ledger_lines (
    line_id VARCHAR NOT NULL,
    import_id BIGINT NOT NULL,
    entry_number VARCHAR,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    entry_date DATE NOT NULL,
    hts VARCHAR NOT NULL,
    description VARCHAR,
    country_origin VARCHAR NOT NULL,
    country_export VARCHAR,
    country_smelt_cast VARCHAR,
    supplier VARCHAR,
    quantity DOUBLE,
    unit VARCHAR,
    quantity_kg DOUBLE,
    customs_value_usd DOUBLE NOT NULL,
    preference_program VARCHAR,
    content_mineral VARCHAR,
    content_kg DOUBLE,
    content_value_usd DOUBLE,
    part_number VARCHAR
);

-- Rows that were not loaded: one row per problem, with the original cells as JSON so they can be fixed and
-- re-imported (critmin ledger quarantine --out FILE).
CREATE TABLE ledger_quarantine (
    import_id BIGINT NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    "column" VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    raw JSON
);

-- What critmin assumed on loaded lines (e.g. an HTS code whose dropped zero was restored).
CREATE TABLE ledger_warnings (
    import_id BIGINT NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    line_id VARCHAR NOT NULL,
    "column" VARCHAR NOT NULL,
    code VARCHAR NOT NULL,
    message VARCHAR NOT NULL
);

-- Scope-map classification of each line (critmin.ledger.schema.CLASSIFICATION_SCHEMA).
CREATE TABLE ledger_classification (
    line_id VARCHAR NOT NULL,
    mineral_id VARCHAR,
    stage VARCHAR,
    confidence VARCHAR NOT NULL,        -- exact | partial | basket | unmapped
    matched_prefix VARCHAR
);

-- Mineral content per line and where it came from (ledger | bom | factor | none).
CREATE TABLE ledger_line_content (
    line_id VARCHAR NOT NULL,
    mineral_id VARCHAR,
    content_kg_low DOUBLE,
    content_kg_central DOUBLE,
    content_kg_high DOUBLE,
    content_source VARCHAR NOT NULL,
    content_detail VARCHAR
);

CREATE SEQUENCE bom_id START 1;

CREATE TABLE bom_imports (
    bom_id BIGINT PRIMARY KEY DEFAULT nextval('bom_id'),
    file_sha256 VARCHAR NOT NULL UNIQUE,
    source_file VARCHAR NOT NULL,
    source_path VARCHAR NOT NULL,
    mapping JSON NOT NULL,
    rows_in BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    finished_goods JSON NOT NULL,
    imported_at TIMESTAMP NOT NULL DEFAULT (current_timestamp AT TIME ZONE 'UTC'),
    critmin_version VARCHAR NOT NULL
);

-- BOM edges as read (quantities in kg or pieces); content rows carry mineral_id.
CREATE TABLE bom_edges (
    bom_id BIGINT NOT NULL,
    source_row BIGINT NOT NULL,
    parent VARCHAR NOT NULL,
    component VARCHAR NOT NULL,
    qty_base DOUBLE,
    qty_low DOUBLE,
    qty_high DOUBLE,
    base_unit VARCHAR,
    mineral_id VARCHAR,
    hts VARCHAR,
    origin VARCHAR,
    description VARCHAR,
    supplier VARCHAR,
    unit_weight_kg DOUBLE
);

-- Finished good > part > mineral chains with kg per finished good: query by root, item, HTS or mineral.
CREATE TABLE bom_explosion (
    bom_id BIGINT NOT NULL,
    root VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    depth INTEGER NOT NULL,
    item VARCHAR,
    item_hts VARCHAR,
    item_origin VARCHAR,
    qty_per_root DOUBLE,
    item_unit VARCHAR,
    mineral_id VARCHAR,
    kg_low DOUBLE,
    kg_central DOUBLE,
    kg_high DOUBLE,
    content_source VARCHAR NOT NULL,
    content_detail VARCHAR
);

-- kg of each mineral in one unit (piece or kg) of every BOM item: links ledger part numbers to content.
CREATE TABLE bom_item_content (
    bom_id BIGINT NOT NULL,
    item VARCHAR NOT NULL,
    item_unit VARCHAR,
    mineral_id VARCHAR NOT NULL,
    kg_low DOUBLE,
    kg_central DOUBLE,
    kg_high DOUBLE,
    content_source VARCHAR
);

CREATE TABLE bom_issues (
    bom_id BIGINT NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row BIGINT,
    "column" VARCHAR,
    code VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    message VARCHAR NOT NULL
);
