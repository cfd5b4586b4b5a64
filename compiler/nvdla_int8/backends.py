"""Backends: what runs NVDLA traces (register programs on memory images), chosen by name.

A backend's `replay(paths, **options)` yields one `conformance.TraceOutcome` per trace, in order.
Backends that can hand back what the hardware wrote (`dumps_outputs`) write each trace's output
cube to `<dump_dir>/<trace>.out0.npy` when given `dump_dir`; `nvdla-int8 run` uses that to run a
compiled network layer by layer on them.

The golden model is built in. Other backends live with their code and register themselves
through the entry-point group `nvdla_int8.backends` (the RTL backend: `tb/backend.py`, declared
in pyproject.toml), so this package never imports the testbench.
"""
from __future__ import annotations

from importlib.metadata import entry_points
from typing import Iterator, Protocol

from .conformance import TraceOutcome
from .errors import InputError

GROUP = "nvdla_int8.backends"


class Backend(Protocol):
    name: str
    dumps_outputs: bool

    def replay(self, paths, **options) -> Iterator[TraceOutcome]: ...


class GoldenBackend:
    """The golden model: every trace checked on its own machine; options are ignored."""

    name = "golden"
    dumps_outputs = False

    def replay(self, paths, **_options) -> Iterator[TraceOutcome]:
        from .golden.replay import replay_traces

        yield from replay_traces(paths)


def _registered() -> dict:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    """Every backend name this installation knows."""
    return sorted({"golden", *_registered()})


def get(name: str) -> Backend:
    if name == "golden":
        return GoldenBackend()
    ep = _registered().get(name)
    if ep is None:
        raise InputError(f"backend {name!r} is not installed (known: {', '.join(names())}); the RTL backend "
                         "comes with the repository checkout's tb/ (`make setup` installs it)")
    try:
        return ep.load()()
    except ImportError as e:
        raise InputError(f"backend {name!r} ({ep.value}) cannot be loaded: {e}") from None
