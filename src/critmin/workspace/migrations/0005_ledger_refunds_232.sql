-- Two optional columns of the canonical ledger (owned by critmin.ledger.store; see docs/ledger.md):
-- when each entry liquidated (refund status of duties later invalidated: unliquidated, within the 180-day
-- protest window, or final), and the share of the Section 232 metal melted and poured or smelted and cast
-- in the United States (the reduced Section 232 tier). Lines imported before this migration keep NULL.

ALTER TABLE ledger_lines ADD COLUMN liquidation_date DATE;

ALTER TABLE ledger_lines ADD COLUMN us_metal_content_share DOUBLE;  -- fraction 0..1
