"""Shipped reference data: minerals, countries and groups, the HTS schedule, the PCMDP scope map,
content factors and supply data, each with provenance."""

from critmin.refdata.registry import (
    DatasetRecord,
    DatasetSpec,
    dataset_ids,
    get_record,
    load,
    read_manifest,
    verify,
)

__all__ = ["DatasetRecord", "DatasetSpec", "dataset_ids", "get_record", "load", "read_manifest", "verify"]
