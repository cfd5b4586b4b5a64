"""The write checks on a hand-made log: a clean layer passes, a write after the done pulse is
late, an atom never written is missing, and writes elsewhere or to another layer do not count."""
from __future__ import annotations

import numpy as np

from tb.uvm.write_log import DONE, WRITE, WriteLog, write_faults


class Layer:
    def __init__(self, base: int, atoms: int):
        self.addrs = base + 8 * np.arange(atoms)

    def output_addresses(self):
        return self.addrs


def log(*entries):
    """entries: (kind, group, addr, cycle)."""
    a = np.array(entries, dtype=np.int64).reshape(-1, 4)
    return WriteLog(a[:, 0], a[:, 1], a[:, 2], a[:, 3])


def test_clean_layers_pass():
    layers = [Layer(0x1000, 2), Layer(0x2000, 1)]
    entries = [(WRITE, 0, 0x1000, 5), (WRITE, 0, 0x1008, 6), (DONE, 0, 0, 9),
               (WRITE, 0, 0x2000, 12), (WRITE, 0, 0x5000, 13), (DONE, 1, 0, 20)]
    assert write_faults(log(*entries), layers) == []


def test_late_write_is_reported():
    entries = [(WRITE, 0, 0x1000, 5), (WRITE, 0, 0x1008, 6), (DONE, 0, 0, 9), (WRITE, 0, 0x1008, 11)]
    [msg] = write_faults(log(*entries), [Layer(0x1000, 2)])
    assert "layer 0: late write: output atom 0x00001008 landed in cycle 11, 2 cycles after" in msg, msg


def test_missing_write_is_reported():
    entries = [(WRITE, 0, 0x1000, 5), (DONE, 0, 0, 9)]
    [msg] = write_faults(log(*entries), [Layer(0x1000, 3)])
    assert "layer 0: missing write: 2 of 3 output atoms" in msg and "first 0x00001008" in msg, msg


def test_a_later_layer_may_rewrite_an_earlier_output():
    layers = [Layer(0x1000, 1), Layer(0x1000, 1)]
    entries = [(WRITE, 0, 0x1000, 5), (DONE, 0, 0, 9), (WRITE, 0, 0x1000, 11), (DONE, 1, 0, 15)]
    assert write_faults(log(*entries), layers) == []


def test_the_second_layer_must_write_its_own_atoms():
    # Layer 1's output was written by layer 0; layer 1 writing nothing is still a missing write.
    layers = [Layer(0x1000, 1), Layer(0x1000, 1)]
    entries = [(WRITE, 0, 0x1000, 5), (DONE, 0, 0, 9), (DONE, 1, 0, 15), (WRITE, 0, 0x1000, 16)]
    msgs = write_faults(log(*entries), layers)
    assert [m[:28] for m in msgs] == ["layer 0: late write: output ", "layer 1: missing write: 1 of",
                                      "layer 1: late write: output "], msgs
