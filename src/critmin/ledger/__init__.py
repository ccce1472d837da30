"""Import ledger and bill-of-materials ingestion, validation and classification."""
