"""Regression plumbing without a simulator: shards, batches, replay commands, the golden backend."""
from __future__ import annotations

import pytest

from nvdla_int8.errors import InputError
from tb.regress.runner import Regression, batches, parse_shard, replay_command, shard_seeds
from tb.stimulus import Constraints


@pytest.mark.parametrize("count, start", [(200, 1), (7, 100), (3, 0), (1, 5)])
def test_shards_cover_every_seed_exactly_once(count, start):
    for n in range(1, 9):
        parts = [shard_seeds(count, start, (k, n)) for k in range(1, n + 1)]
        flat = [s for p in parts for s in p]
        assert sorted(flat) == list(range(start, start + count))
        assert len(flat) == len(set(flat))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
        assert all(p == list(range(p[0], p[0] + len(p))) for p in parts if p)  # contiguous


def test_batches_keep_consecutive_seeds_so_latency_seed_is_the_seed():
    assert batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert batches([1, 2, 5, 6], 8) == [[1, 2], [5, 6]]


@pytest.mark.parametrize("text", ["3/2", "0/4", "a/b", "2"])
def test_bad_shard_is_one_line(text):
    with pytest.raises(InputError, match="shard"):
        parse_shard(text)


def test_replay_command_names_seed_tier_constraints_and_rtl_copy(monkeypatch, tmp_path):
    monkeypatch.delenv("NVDLA_RTL_DIR", raising=False)
    cmd = replay_command(42, "nightly")
    assert "regress-replay SEED=42 TIER=nightly" in cmd and "WAVES=1" in cmd and "NVDLA_RTL_DIR" not in cmd
    monkeypatch.setenv("NVDLA_RTL_DIR", str(tmp_path / "rtl"))
    f = tmp_path / "c.json"
    cmd = replay_command(7, "smoke", str(f))
    assert cmd.startswith(f"NVDLA_RTL_DIR={tmp_path / 'rtl'} ") and f"CONSTRAINTS={f}" in cmd


def test_golden_backend_runs_a_batch(tmp_path):
    reg = Regression(Constraints.load("smoke"), tmp_path, backend="golden")
    res = reg.run_batch([5, 6, 7])
    assert [r.seed for r in res] == [5, 6, 7] and all(r.passed for r in res)
    assert reg.write_results().read_text().count("\n") == 3
