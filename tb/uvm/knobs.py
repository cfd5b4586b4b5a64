"""The stress and fault knobs of the trace player, checked before a simulation starts so a bad
value is one clear line, not a crash inside the simulator (docs/verification-stress.md)."""
from __future__ import annotations

from nvdla_int8.errors import InputError

from .faults import parse_mutations

INT_KNOBS = ("TB_STATUS_READS", "TB_RESET_AT", "TB_WATCHDOG")


def int_knob(env, name: str) -> int:
    text = env.get(name, "0")
    try:
        value = int(text, 0)
    except ValueError:
        raise InputError(f"{text!r} is not an integer", where=name) from None
    if value < 0:
        raise InputError(f"{value} is negative", where=name)
    return value


def check_knobs(env) -> None:
    """Raise InputError for a malformed stress or fault knob, before a simulation starts."""
    for name in INT_KNOBS:
        int_knob(env, name)
    parse_mutations(env.get("TB_MUTATE", ""))
