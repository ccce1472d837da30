"""Command line: thin Typer commands over the library. The entry point is :func:`critmin.cli.app.main`."""
