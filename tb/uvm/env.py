"""The pyuvm environment and test that replay traces on the RTL, one after the other in one
simulation: per trace, reset, load memory, run the trace-player sequence, then let the
scoreboard compare the output cube and stage taps with the golden model's.

Configuration comes from the environment (set by tb/trace_runner.py), not from ConfigDB strings.
TB_DUMP_OUTPUT=DIR also saves each layer's RTL output cube (int8, as the golden layer's output)
to DIR/<trace>.out<layer>.npy.
"""
from __future__ import annotations

import io
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from pyuvm import uvm_env, uvm_test

from nvdla_int8.conformance import FAIL, PASS, TraceOutcome
from nvdla_int8.errors import InputError
from nvdla_int8.fileio import write_atomic
from nvdla_int8.golden.replay import GoldenPlayer, nvdla_warning
from nvdla_int8.hw.regmap import REGMAP
from nvdla_int8.trace.memory import SparseMemory
from nvdla_int8.trace.trace import Trace, apply_memory_command

from ..rtl_build import axi_check_failure, clear_axi_check
from .agents import ApbAgent, AxiWriteMonitor, InterruptMonitor
from .bfm import HarnessBfm
from .faults import SV_MEMORY_ONLY, Mutation, parse_mutations
from .knobs import int_knob
from .memory import AxiRamMemory, SvMemory, read_addresses
from .scoreboard import Scoreboard, tap_lanes, taps_to_cube
from .sequences import TracePlayerSeq
from .write_log import WlogDepth, WriteLog, write_faults

_SAT = REGMAP.reg("SDP", "D_PERF_OUT_SATURATION")
TAP_DEPTH = 65536  # tb_top TapDepth


@dataclass
class PlayerConfig:
    traces: list[str]
    results: Path
    work_dir: Path
    mem_mode: str = "sv"  # "sv" (fast) or "axiram"
    seed: int = 1
    stall: bool = True
    watchdog: int = 20000
    max_cycles: int = 50_000_000
    flip_output_byte: bool = False  # fault injection: proves the checkers can fail (= TB_MUTATE=flip_byte)
    stages: bool = True
    # Stress (docs/verification-stress.md).
    reorder: bool = True  # TB_REORDER, which defaults to TB_STALL
    status_reads: int = 0  # while waiting for an interrupt, read status/counters every N cycles
    reset_at: int = 0  # reset N cycles after the first layer's start, then replay the trace clean
    write_checks: bool = True  # every output atom written before its layer's done, none after
    mutations: list[Mutation] = field(default_factory=list)  # per trace (TB_MUTATE as a JSON list)
    mutate_every: bool = False  # TB_MUTATE as one name: mutations[0] applies to every trace

    @classmethod
    def from_env(cls) -> "PlayerConfig":
        e = os.environ
        stall = e.get("TB_STALL", "1") == "1"
        mutations, every = parse_mutations(e.get("TB_MUTATE", ""))
        return cls(traces=json.loads(Path(e["TB_TRACES"]).read_text()), results=Path(e["TB_RESULTS"]),
                   work_dir=Path(e.get("TB_WORK_DIR", ".")), mem_mode=e.get("TB_MEM_MODE", "sv"),
                   seed=int(e.get("TB_SEED", "1")), stall=stall,
                   watchdog=int_knob({"TB_WATCHDOG": "20000", **e}, "TB_WATCHDOG"),
                   flip_output_byte=e.get("TB_FLIP", "0") == "1",
                   stages=e.get("TB_STAGES", "1") == "1",
                   reorder=e.get("TB_REORDER", "1" if stall else "0") == "1",
                   status_reads=int_knob(e, "TB_STATUS_READS"), reset_at=int_knob(e, "TB_RESET_AT"),
                   write_checks=e.get("TB_WRITE_CHECKS", "1") == "1", mutations=mutations, mutate_every=every)

    def mutation(self, index: int) -> Mutation:
        if self.mutate_every:
            index = 0
        m = self.mutations[index] if index < len(self.mutations) else Mutation()
        if not m and self.flip_output_byte:
            return Mutation("flip_byte")
        if m.kind in SV_MEMORY_ONLY and self.mem_mode != "sv":
            raise InputError(f"mutation {m.kind} needs the fast memory (TB_MEM_MODE=sv)", where="TB_MUTATE")
        return m


@dataclass
class TraceRun:
    """State of one trace's replay, shared by the sequence and the test."""

    bfm: HarnessBfm
    memory: object
    config: PlayerConfig
    scoreboard: Scoreboard
    golden_layers: list
    mutation: Mutation = field(default_factory=Mutation)
    stalls: list = field(default_factory=list)  # why NVDLA (and so the golden model) never ends a layer
    nvdla_warning: str = ""  # where NVDLA's RTL would differ or hang while we run on (golden.replay)
    wait_seconds: float = 0.0  # wall time spent waiting for interrupts: the simulator running alone
    aborted: bool = False
    flipped: list = field(default_factory=list)
    reset_pending: bool = False  # TB_RESET_AT: the first layer is still to be interrupted by a reset
    was_reset: bool = False
    notes: dict = field(default_factory=dict)  # facts a stress test checks (reported with the outcome)
    bus_monitor: object = None  # the env's AxiWriteMonitor

    async def sample_bus(self, last: bool = False) -> None:
        await self.bus_monitor.sample()
        lost = self.scoreboard.check_bus(last)
        if lost:
            self.notes["bus_check"] = lost

    def fail(self, message: str) -> None:
        self.scoreboard.fail(message)

    async def after_layer(self) -> None:
        """At each claimed interrupt: the AXI monitor's beats so far go to the scoreboard; then
        the fault injection of the checker tests (flip one output byte of the first layer)."""
        await self.sample_bus()
        if self.mutation.kind != "flip_byte" or self.flipped or not self.golden_layers:
            return
        layer = self.golden_layers[0]
        c, y, x = min(1, layer.channels - 1), layer.height // 2, layer.width // 2
        addr = int(layer.output_addresses()[c, y, x])
        old = (await self.memory.read(addr, 1))[0]
        await self.memory.write(addr, bytes([old ^ 0x01]))
        self.flipped.append((c, y, x))

    async def reset_mid_layer(self) -> None:
        """TB_RESET_AT: reset the DUT (not the memory contents) while the layer runs."""
        self.notes["reset_cycle"] = self.bfm.cycles()
        events = self.memory.write_events()  # AxiRam's commits, or None: in the harness's log
        self.notes["writes_before_reset"] = self.bfm.wlog_count() if events is None else len(events)
        await self.bfm.reset(ext_mem=self.memory.ext_mem, stall=self.config.stall, seed=self.config.seed,
                             watchdog=self.config.watchdog, reorder=self.config.reorder)
        self.reset_pending = False
        self.was_reset = True
        self.aborted = True


class PlayerEnv(uvm_env):
    def __init__(self, name, parent, bfm):
        super().__init__(name, parent)
        self.bfm = bfm

    def build_phase(self):
        self.apb = ApbAgent("apb", self, self.bfm)
        self.intr = InterruptMonitor("intr", self, self.bfm)
        self.axi = AxiWriteMonitor("axi", self)
        self.scoreboard = Scoreboard("scoreboard", self)

    def connect_phase(self):
        self.apb.monitor.ap.connect(self.scoreboard.apb_fifo.analysis_export)
        self.intr.ap.connect(self.scoreboard.intr_fifo.analysis_export)
        self.axi.ap.connect(self.scoreboard.bus_fifo.analysis_export)

    def start_trace(self, golden_layers) -> None:
        self.scoreboard.start_trace(golden_layers)
        self.axi.start_trace()


def prepare(path: Path):
    """A trace's commands, its initial memory image and its golden run; or the InputError."""
    try:
        trace = Trace.load(path)
        image = SparseMemory()
        for c in trace.commands:
            apply_memory_command(trace, c, image)
        golden = GoldenPlayer(trace)
        golden.run()
    except InputError as e:
        return e
    return trace, image, golden


class TracePlayerTest(uvm_test):
    dut = None  # set by the cocotb entry point (tb/cocotb_player.py)

    def build_phase(self):
        self.cfg = PlayerConfig.from_env()
        self.bfm = HarnessBfm(self.dut)
        self.env = PlayerEnv("env", self, self.bfm)

    async def run_phase(self):
        self.raise_objection()
        cfg = self.cfg
        self.bfm.start_clock(internal=os.environ.get("TB_INTERNAL_CLOCK") == "1")
        if cfg.mem_mode == "axiram":
            self.memory = AxiRamMemory(self.bfm, cfg.seed)
        else:
            self.memory = SvMemory(self.bfm)
        cfg.results.parent.mkdir(parents=True, exist_ok=True)
        paths = [Path(p) for p in cfg.traces]
        # The next trace is read and run on the golden model in a thread while the simulator runs
        # this one: cocotb leaves the GIL free between callbacks, so that work overlaps the
        # simulation on the second core instead of adding to every trace's wall time.
        with open(cfg.results, "a") as results, ThreadPoolExecutor(1, thread_name_prefix="prepare") as pool:
            ahead = pool.submit(prepare, paths[0]) if paths else None
            t_last = time.perf_counter()
            for i, path in enumerate(paths):
                prepared = ahead.result()
                ahead = pool.submit(prepare, paths[i + 1]) if i + 1 < len(paths) else None
                notes: dict = {}
                try:
                    mutation = cfg.mutation(i)
                except InputError as e:
                    outcome, wait_seconds = TraceOutcome(path.stem, FAIL, None, None, 0.0, message=str(e)), 0.0
                else:
                    outcome, wait_seconds = await self.play(path, prepared, cfg.seed + i, mutation, notes, t_last)
                t_last = time.perf_counter()
                results.write(json.dumps({**asdict(outcome), "wait_seconds": wait_seconds, "notes": notes}) + "\n")
                results.flush()
        self.drop_objection()

    async def play(self, path: Path, prepared, seed: int, mutation: Mutation, notes: dict,
                   t0: float) -> TraceOutcome:
        """One trace; its seconds run from the end of the previous trace (t0), so the time spent
        waiting for its preparation counts."""
        if isinstance(prepared, InputError):
            return TraceOutcome(path.stem, FAIL, None, None, time.perf_counter() - t0, message=str(prepared)), 0.0
        trace, image, golden = prepared
        clear_axi_check(self.cfg.work_dir)
        sb = self.env.scoreboard
        self.env.start_trace(golden.m.layers)
        run = TraceRun(self.bfm, self.memory, self.cfg, sb, golden.m.layers, mutation=mutation, notes=notes,
                       reset_pending=self.cfg.reset_at > 0, stalls=golden.m.stalls, bus_monitor=self.env.axi,
                       nvdla_warning=nvdla_warning(golden.m))
        seq, failed = await self.start_run(trace, run, image, seed)
        if failed:
            return TraceOutcome(trace.name, FAIL, None, None, time.perf_counter() - t0, message=failed), 0.0
        if run.was_reset and not sb.failures:
            # The reset interrupted the layer; now the clean replay, from a fresh image, must be exact.
            # Its cycle count starts again with the clean run (the reset zeroed the counter).
            self.env.start_trace(golden.m.layers)
            run.aborted = False
            seq, failed = await self.start_run(trace, run, image, seed + 1000)
            if failed:
                return TraceOutcome(trace.name, FAIL, None, None, time.perf_counter() - t0, message=failed), 0.0
        if mutation.kind == "read_flip":  # lets a report tell an unused beat from a missed fault
            notes["read_flip_addr"] = self.bfm.read_flip_addr()
        if not run.aborted:
            await run.sample_bus(last=True)
            await self.compare_with_golden(run, golden)
            if self.cfg.write_checks:
                await self.check_writes(run)
        fault = self.memory.fault()
        if fault:
            sb.fail(fault)
        axi = axi_check_failure(self.cfg.work_dir)
        if axi:
            sb.fail(axi)
        await self.env.apb.monitor.sample()
        cycles = sb.trace_cycles()
        notes["apb_writes"] = sb.apb_writes
        return self.outcome(trace, seq, run, cycles, time.perf_counter() - t0), run.wait_seconds

    async def start_run(self, trace: Trace, run: TraceRun, image: SparseMemory, seed: int):
        """Reset, load the image and play the trace's commands: (sequence, load error or None)."""
        await self.bfm.reset(ext_mem=self.memory.ext_mem, stall=self.cfg.stall, seed=seed,
                             watchdog=self.cfg.watchdog, reorder=self.cfg.reorder, mutation=run.mutation)
        if isinstance(self.memory, AxiRamMemory):
            self.memory.set_stall(self.cfg.stall, seed)
        self.memory.set_mutation(run.mutation)
        try:
            await self.memory.load(image, seed)
        except (ValueError, KeyError) as e:
            return None, f"memory: {e}"
        seq = TracePlayerSeq("trace", trace, run)
        await seq.start(self.env.apb.seqr)
        return seq, None

    async def check_writes(self, run: TraceRun) -> None:
        """Late and missing output writes (the harness logs the fast memory's commits)."""
        run.notes["reordered_reads"] = self.bfm.reordered_reads()
        if not run.golden_layers:
            return
        n = self.bfm.wlog_count()
        if n > WlogDepth:
            run.notes["write_log"] = f"{n} entries, only the first {WlogDepth} kept: write checks skipped"
            return
        log = WriteLog.from_words(self.bfm.wlog(n)).with_writes(self.memory.write_events() or [])
        for msg in write_faults(log, run.golden_layers):
            run.scoreboard.fail(msg)

    async def compare_with_golden(self, run: TraceRun, golden: GoldenPlayer) -> None:
        sb = run.scoreboard
        if len(run.golden_layers) == 1:  # counters are per group; one layer leaves one value
            got = await self.reg_read(_SAT.address)
            want = golden.m.read_reg(_SAT.address)
            if got != want:
                sb.fail(f"SDP.D_PERF_OUT_SATURATION reads {got}, golden {want}")
        tap_base = 0
        taps = None
        for i, layer in enumerate(run.golden_layers):
            rtl = (await read_addresses(self.memory, layer.output_addresses())).view(np.int8)
            dump = os.environ.get("TB_DUMP_OUTPUT")
            if dump:  # `nvdla-int8 run --backend rtl` feeds the RTL's own bytes to the next layer
                buf = io.BytesIO()
                np.save(buf, rtl)
                write_atomic(Path(dump) / f"{golden.trace.name}.out{i}.npy", buf.getvalue())
            out_bad = sb.compare_output(i, rtl, layer.output)
            atoms = layer.output.size // 8
            if self.cfg.stages and tap_base + atoms <= TAP_DEPTH:
                if taps is None:
                    taps = self.read_taps()
                stages = {}
                # In a conv layer the SDP input is the CACC output: name the stage after its source.
                first = "CACC" if layer.kind == "conv" else "SDP input"
                for tap, name, want in (("SDP input", first, layer.sdp_in), ("X1", "X1", layer.x1),
                                        ("X2", "X2", layer.x2)):
                    words = taps[tap][tap_base:tap_base + atoms]
                    if len(words) != atoms:
                        sb.fail(f"layer {i}: the SDP produced {len(words)} atoms, golden {atoms}")
                        break
                    stages[name] = (taps_to_cube(words, want.shape), want.astype(np.int64))
                else:
                    stage_bad = sb.compare_stages(i, stages)
                    if out_bad and not stage_bad:
                        sb.fail(f"layer {i}: stages up to X2 agree: the output converter or the write differs")
            tap_base += atoms

    async def reg_read(self, addr: int) -> int:
        return await self.bfm.apb(addr, False)

    def read_taps(self) -> dict[str, np.ndarray]:
        """Stage taps captured since reset, per stage an int64 array (atoms, 8)."""
        names = {"SDP input": "tap_in", "X1": "tap_x1", "X2": "tap_x2"}
        return {k: tap_lanes(self.bfm.taps(name)) for k, name in names.items()}

    def outcome(self, trace, seq, run: TraceRun, cycles: int | None, seconds: float) -> TraceOutcome:
        failures = run.scoreboard.failures
        exp = got = None
        if seq.crcs:
            bad = [x for x in seq.crcs if x[0] != x[1]]
            e, g = bad[0] if bad else seq.crcs[-1]
            exp, got = f"{e:#010x}", (f"{g:#010x}" if g >= 0 else None)
        if not failures:
            return TraceOutcome(trace.name, PASS, exp, got, seconds, cycles, nvdla_warning=run.nvdla_warning)
        msg = failures[0]
        # Besides the first failure, the first of each kind that says most: a cube mismatch
        # (names the element) and a write-log fault (late or missing write).
        shown = [msg] + [f for f in (next((f for f in failures[1:] if key in f), None)
                                     for key in ("differs at", "first stage to differ", "write:", "bus:")) if f]
        msg = "; ".join(dict.fromkeys(shown))
        crc_failed = any(e != g for e, g in seq.crcs)
        if crc_failed and not run.aborted and not any("differs at" in f for f in failures):
            msg += "; the output cube equals the golden model's element by element"
        if len(failures) > len(shown):
            msg += f" (+{len(failures) - len(shown)} more)"
        return TraceOutcome(trace.name, FAIL, exp, got, seconds, cycles, msg, nvdla_warning=run.nvdla_warning)
