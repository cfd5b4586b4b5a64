"""RTL mutation campaign (`make rtl-mutation`): faults put into the SystemVerilog of rtl_models/,
each built and run against the cheap test tiers `make test` runs, to measure how many faults of
the RTL those tests catch. (tb/mutation_report.py is another thing: faults injected into the
testbench's view of a correct RTL, measuring the checker.)

points.py: the mutants, from pyslang's syntax tree; tiers.py: building and running one mutant;
report.py: kill matrix, score and survivors; plugin.py + mutant_items.py: one pytest item per
mutant, run in parallel and sharded with pytest-xdist as the regression is.
"""
