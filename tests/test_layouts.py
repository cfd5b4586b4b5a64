"""Memory layouts (memory-layouts.md): the two ways of reading a feature cube agree."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nvdla_int8.hw.layouts import Surface
from nvdla_int8.trace.memory import SparseMemory


@settings(max_examples=60, deadline=None)
@given(c=st.integers(1, 20), h=st.integers(1, 5), w=st.integers(1, 6),
       line_pad=st.integers(-8, 40), surf_pad=st.integers(-64, 64), seed=st.integers(0, 2**16))
def test_surface_read_cube_equals_gather_of_addresses(c, h, w, line_pad, surf_pad, seed):
    """The strided-view reader and the per-element address map agree, overlapping strides too."""
    line = max(0, 8 * w + line_pad)
    surf = max(0, h * line + surf_pad)
    s = Surface(base=0x1000 + 8 * (seed % 50), line_stride=line, surf_stride=surf)
    mem = SparseMemory()
    mem.write(0x1000, np.random.default_rng(seed).integers(0, 256, 8192, dtype=np.uint8))
    assert np.array_equal(s.read_cube(mem, c, h, w), mem.gather(s.addresses(c, h, w)))
