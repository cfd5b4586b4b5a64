"""CLI commands of the calibration package (filled in by the calibration work)."""


def register(sub) -> None:
    """Add this package's subcommands to the `nvdla-int8` parser."""
