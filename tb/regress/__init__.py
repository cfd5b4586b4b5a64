"""The random regression: runner.py (seeds, shards, batches, replay commands), plugin.py (pytest
items per seed, reports), report.py (Markdown/HTML summary); `python -m tb.regress replay`."""
