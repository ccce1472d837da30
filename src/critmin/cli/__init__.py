"""Command line: thin Typer commands over the library."""

from critmin.runtime import keep_polars_memory

keep_polars_memory()  # before anything imports Polars: the command owns its process (critmin.runtime)
