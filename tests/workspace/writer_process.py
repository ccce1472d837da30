"""A separate critmin process for the lock and crash tests; the tests drive it and kill it.

Run as ``python writer_process.py MODE WORKSPACE [ARGS]``; it reports progress one line at a time on stdout
so the test knows exactly where it is before it sends SIGKILL.

Modes:
  hold WS [read-only]    open the workspace, print "open", keep it open until stdin closes.
  import WS              commit one small append (import "B"), print "committed"; then, inside one
                         transaction, replace import "A" and append batches of 250,000 rows, printing
                         "batch N" after each, never reaching the commit before the test kills it.
  migrate WS DIR         open WS with the migrations in DIR (one of which hangs after writing a marker).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from critmin.workspace import Workspace, discover

if TYPE_CHECKING:
    import pyarrow as pa

# Over DuckDB's row-group size (122,880 rows), so each batch is written to the database file before the
# commit: the kill then finds uncommitted blocks on disk, the hard case for recovery.
BATCH_ROWS = 250_000
MAX_BATCHES = 100  # a bound in case the test fails to kill it; the test kills it after three


def batch(import_id: str, start: int, rows: int) -> pa.Table:
    import numpy as np  # imported here so the "hold" and "migrate" modes start quickly
    import pyarrow as pa

    keys = np.arange(start, start + rows, dtype=np.int64)
    ids = pa.DictionaryArray.from_arrays(np.zeros(rows, dtype=np.int32), [import_id])
    return pa.table({"import_id": ids, "k": keys, "value": keys.astype(np.float64) * 0.5})


def hold(path: Path, read_only: bool) -> None:
    with Workspace.open(path, read_only=read_only):
        print("open", flush=True)
        sys.stdin.readline()


def interrupted_import(path: Path) -> None:
    with Workspace.open(path) as ws:
        ws.append_rows("items", batch("B", 1_000, 3))
        print("committed", flush=True)
        with ws.transaction() as con:
            ws.replace_rows("items", batch("A", 0, BATCH_ROWS), match={"import_id": "A"}, con=con)
            print("batch 1", flush=True)
            for number in range(2, MAX_BATCHES + 1):
                ws.append_rows("items", batch("A", number * BATCH_ROWS, BATCH_ROWS), con=con)
                print(f"batch {number}", flush=True)
                time.sleep(0.01)
        print("finished", flush=True)


def migrate(path: Path, directory: Path) -> None:
    Workspace.open(path, migrations=discover(directory)).close()
    print("finished", flush=True)


if __name__ == "__main__":
    mode, workspace = sys.argv[1], Path(sys.argv[2])
    if mode == "hold":
        hold(workspace, read_only=sys.argv[3:] == ["read-only"])
    elif mode == "import":
        interrupted_import(workspace)
    elif mode == "migrate":
        migrate(workspace, Path(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
