"""The bus-level write check (no simulator): beats rebuilt from the AXI write port against the
golden model's layer outputs, layer by layer as their done pulses arrive."""
from dataclasses import dataclass

import numpy as np

from tb.uvm.bus_check import BusWriteCheck, BusWrites


@dataclass
class Layer:
    """What the check reads of a golden LayerResult: output bytes and their addresses."""
    base: int
    output: np.ndarray  # int8, one atom: 8 lanes

    def output_addresses(self):
        return self.base + np.arange(self.output.size)


def beats(addrs, datas, cycles, dones=(), strb=0xFF):
    data = np.array([np.asarray(d, dtype=np.int8).view(np.uint8) for d in datas], dtype=np.uint8).reshape(-1, 8)
    lanes = np.tile(((strb >> np.arange(8)) & 1).astype(bool), (len(addrs), 1))
    return BusWrites(np.array(addrs, dtype=np.int64), data, lanes, np.array(cycles, dtype=np.int64),
                     np.array(dones, dtype=np.int64))


A = np.arange(8, dtype=np.int8)
B = -np.arange(1, 9, dtype=np.int8)
LAYERS = [Layer(0x1000, A), Layer(0x1000, B)]  # the second layer rewrites the first one's buffer


def test_each_layer_owns_its_beats_up_to_its_done_pulse():
    check = BusWriteCheck(LAYERS)
    assert check.add(beats([0x1000], [A], [10])) == []          # layer 0 not ended yet: nothing checked
    assert check.add(beats([0x1000], [B], [30], dones=[20, 40])) == []
    assert check.finish() == []


def test_a_wrong_byte_names_layer_address_cycle_and_values():
    bad = B.copy()
    bad[3] = 7
    msgs = BusWriteCheck(LAYERS).add(beats([0x1000, 0x1000], [A, bad], [10, 30], dones=[20, 40]))
    assert msgs == ["layer 1: bus: write at 0x00001003 in cycle 30 carries 7, golden -4 (1 bytes differ)"]


def test_a_beat_checked_against_the_wrong_layer_fails():
    # layer 1's data arriving before layer 0's done pulse is layer 0's write, and wrong for it
    msgs = BusWriteCheck(LAYERS).add(beats([0x1000], [B], [10], dones=[20]))
    assert len(msgs) == 1 and msgs[0].startswith("layer 0: bus: write at 0x00001000 in cycle 10 carries -1, golden 0")


def test_stray_write_outside_the_output_and_beats_after_the_last_layer():
    check = BusWriteCheck(LAYERS[:1])
    msgs = check.add(beats([0x1000, 0x2000], [A, A], [10, 12], dones=[20]))
    assert msgs == ["layer 0: bus: write at 0x00002000 in cycle 12 is outside the layer's output "
                    "(8 bytes before its done pulse, cycle 20)"]
    check.add(beats([0x1000], [A], [25]))
    assert check.finish() == ["bus: 1 write beats after the last layer's done pulse (cycle 20), first at "
                              "0x00001000 in cycle 25"]


def test_only_strobed_lanes_are_checked():
    half = A.copy()
    half[4:] = 99
    assert BusWriteCheck(LAYERS[:1]).add(beats([0x1000], [half], [10], dones=[20], strb=0x0F)) == []


def test_an_overflowed_monitor_checks_nothing_and_says_why():
    check = BusWriteCheck(LAYERS)
    lost = BusWrites.empty()
    lost.lost = "too many beats"
    assert check.add(lost) == [] and check.add(beats([0x1000], [B], [10], dones=[20])) == []
    assert check.lost == "too many beats" and check.finish() == []
