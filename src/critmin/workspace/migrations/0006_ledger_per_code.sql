-- Classification and reference-factor content per HTS code, not per line (owned by critmin.ledger.store;
-- see docs/ledger.md). Both depend only on the code and on the reference data in use, so they are stored
-- once per (scope_version, hts); an import records the scope_version it classified with, and the views
-- ledger_classification and ledger_line_content join each line to its code's rows, giving the same rows
-- (one per line and mineral) as the per-line tables they replace. Only content that belongs to the line
-- itself (stated on the line, or through its part number's bill of materials) stays per line.

-- The reference data an import classified with (NULL: imported without classification).
ALTER TABLE ledger_imports ADD COLUMN scope_version VARCHAR;

-- Scope-map classification of an HTS code as stored in ledger_lines.hts (CLASSIFICATION_SCHEMA less line_id).
CREATE TABLE ledger_code_classification (
    scope_version VARCHAR NOT NULL,
    hts VARCHAR NOT NULL,
    mineral_id VARCHAR,
    stage VARCHAR,
    confidence VARCHAR NOT NULL,        -- exact | partial | basket | unmapped
    matched_prefix VARCHAR
);

-- Reference content factors of an HTS code, kg of mineral per kg of product; a code without a factor has
-- one row with factor_detail NULL. factor_row numbers the rows of a code from 1.
CREATE TABLE ledger_code_content (
    scope_version VARCHAR NOT NULL,
    hts VARCHAR NOT NULL,
    factor_row INTEGER NOT NULL,
    mineral_id VARCHAR,
    factor_low DOUBLE,
    factor_central DOUBLE,
    factor_high DOUBLE,
    factor_detail VARCHAR               -- 'reference factor <product_id> x net mass'
);

-- Imports classified before this migration keep their classification: a version of their own, whose
-- per-code rows are the distinct rows of their lines.
UPDATE ledger_imports SET scope_version = 'before-0006:' || import_id
WHERE import_id IN (
    SELECT DISTINCT l.import_id FROM ledger_lines l SEMI JOIN ledger_classification c ON c.line_id = l.line_id
);

INSERT INTO ledger_code_classification
SELECT DISTINCT i.scope_version, l.hts, c.mineral_id, c.stage, c.confidence, c.matched_prefix
FROM ledger_classification c
JOIN ledger_lines l ON l.line_id = c.line_id
JOIN ledger_imports i ON i.import_id = l.import_id;

DROP TABLE ledger_classification;

-- Per-line content: rows of source ledger or bom. Rows written before this migration (any source) stay
-- and win over the per-code rows, so earlier imports read back unchanged.
ALTER TABLE ledger_line_content RENAME TO ledger_stated_content;

CREATE VIEW ledger_classification AS
SELECT l.line_id, c.mineral_id, c.stage, c.confidence, c.matched_prefix
FROM ledger_lines l
JOIN ledger_imports i ON i.import_id = l.import_id
JOIN ledger_code_classification c ON c.scope_version = i.scope_version AND c.hts = l.hts;

-- Every line of a classified import: its stated rows, or else its code's factors times its net mass (or
-- one 'none' row saying why there is no content).
CREATE VIEW ledger_line_content AS
SELECT line_id, mineral_id, content_kg_low, content_kg_central, content_kg_high, content_source,
    content_detail
FROM ledger_stated_content
UNION ALL
SELECT
    l.line_id,
    CASE WHEN f.factor_detail IS NOT NULL AND l.quantity_kg IS NOT NULL THEN f.mineral_id END,
    l.quantity_kg * f.factor_low,
    l.quantity_kg * f.factor_central,
    l.quantity_kg * f.factor_high,
    CASE WHEN f.factor_detail IS NOT NULL AND l.quantity_kg IS NOT NULL THEN 'factor' ELSE 'none' END,
    CASE
        WHEN f.factor_detail IS NULL
            THEN 'no content on the line, no BOM item and no reference factor for this HTS code'
        WHEN l.quantity_kg IS NULL
            THEN 'reference factor exists but the line has no mass: add a net weight or a mass unit'
        ELSE f.factor_detail
    END
FROM ledger_lines l
JOIN ledger_imports i ON i.import_id = l.import_id
JOIN ledger_code_content f ON f.scope_version = i.scope_version AND f.hts = l.hts
WHERE (l.quantity_kg IS NOT NULL OR f.factor_row = 1)
    AND NOT EXISTS (SELECT 1 FROM ledger_stated_content s WHERE s.line_id = l.line_id);
