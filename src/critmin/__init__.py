"""critmin: U.S. trade policy on processed critical minerals, in dollars and with sources."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("critmin")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
