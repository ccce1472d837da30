"""Command line: thin Typer commands over the library."""
