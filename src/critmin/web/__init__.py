"""The web dashboard and JSON API: thin handlers over the same library functions as the CLI."""
