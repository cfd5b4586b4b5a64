"""Functional coverage (cocotb-coverage): the model (model.py), the golden-model event probe
(events.py), merge and reports (report.py); `python -m tb.coverage` merges and reports."""
