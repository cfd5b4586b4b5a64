// Our trace player for NVDLA's own nv_small RTL (NV_nvdla Verilated from a checkout of nvdla/hw and
// linked with this file; nothing of nvdla/hw is in this repository). It plays the same digest folders as the raw harness (tb/raw/digest.py:
// page_map.hex, mem.bin, program.txt) so a trace is turned into commands once, by one piece of
// code, for both RTLs, and read back by one header (tb/raw/digest.hpp). Where tb/raw drives our tb_top's APB master and SV memory, this drives
// NVDLA's CSB port and answers its DBB AXI port from a C++ memory (nv_small has no CVSRAM port).
//
// Memory timing is fixed, not random: every read burst's first beat comes --read-latency cycles
// after its address (default 0, as our RTL's memory without stalls, so the two RTLs' cycles
// compare), then one beat a cycle, bursts pipelined; writes are accepted at once. NVDLA's own
// player (the cycles of nvdla_traces) instead idles 32 beats after every read burst.
//
// NVDLA's CDMA flushes the convolution buffer after reset (thousands of cycles). NVDLA's own
// player loads memory meanwhile, so its traces start after the flush; with --flush-status ADDR
// this player reads that status register after reset until it is 1, so the register program (and
// the cycle count) starts on a flushed buffer as there. The trace's own poll stays in the program.
//
// Prints one JSON line per trace: status PASS / FAIL / HANG, cycles (first register write to the
// last interrupt rise, as tb/raw counts them), clocks since reset, read and write beats, message,
// and after a hang the --probe registers (tb/nvdla/run.py names the units still busy).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../raw/digest.hpp"
#include "VNV_nvdla.h"
#include "verilated.h"

namespace {

using digest::hex;
using digest::kPageBits;
using digest::kWordsPerPage;

using Clock = std::chrono::steady_clock;

// Raised out of any wait: the layer never ends (or the CSB never answers).
struct Hang {
  std::string why;
};

// The memory image of one trace: the mapped pages of tb/memory_files.py, in their physical
// order, so a check_crc's word ranges (computed by digest.py) index `words` directly.
struct Memory {
  std::map<uint64_t, uint32_t> phys;  // logical page -> physical page
  std::vector<uint64_t> words;
  std::string fault;  // first write outside the image

  bool load(const std::string& dir) {
    digest::Image img;
    phys.clear();
    fault.clear();
    if (!digest::load_image(dir, img)) return false;
    phys.insert(img.pages.begin(), img.pages.end());
    words = std::move(img.words);
    return true;
  }

  uint64_t* at(uint64_t addr) {
    auto it = phys.find(addr >> kPageBits);
    if (it == phys.end()) return nullptr;
    return &words[static_cast<size_t>(it->second) * kWordsPerPage + ((addr & ((1u << kPageBits) - 1)) >> 3)];
  }

  uint64_t read(uint64_t addr) {
    uint64_t* w = at(addr);
    return w ? *w : 0;  // a read outside the image (past a cube's end) gets zeros, not a failure
  }

  void write(uint64_t addr, uint64_t data, uint8_t strobe) {
    uint64_t* w = at(addr);
    if (!w) {
      if (fault.empty()) fault = "write outside the memory image at " + hex(addr);
      return;
    }
    for (int b = 0; b < 8; ++b)
      if (strobe >> b & 1) *w = (*w & ~(0xffull << 8 * b)) | (data & (0xffull << 8 * b));
  }
};

struct ReadBurst {
  uint32_t id;
  uint64_t addr;
  uint32_t beats;
  uint64_t due;  // cycle of the first beat
};

struct WriteBurst {
  uint32_t id;
  uint64_t addr;
  uint32_t beats;
};

struct WriteBeat {
  uint64_t data;
  uint8_t strobe;
  bool last;
};

class Player {
 public:
  Player(VerilatedContext* ctx, uint32_t latency, uint64_t idle_limit, uint32_t flush_status)
      : dut_(new VNV_nvdla(ctx)), latency_(latency), idle_limit_(idle_limit), flush_status_(flush_status) {}
  ~Player() { dut_->final(); }

  Memory mem;
  uint64_t clocks = 0;  // since the last reset
  uint64_t intr_rise = 0;  // clock of the interrupt line's last rise
  uint64_t read_beats = 0, write_beats = 0;

  void reset() {
    VNV_nvdla& d = *dut_;
    d.global_clk_ovr_on = d.tmc2slcg_disable_clock_gating = d.test_mode = 0;
    d.nvdla_pwrbus_ram_c_pd = d.nvdla_pwrbus_ram_ma_pd = d.nvdla_pwrbus_ram_mb_pd = 0;
    d.nvdla_pwrbus_ram_p_pd = d.nvdla_pwrbus_ram_o_pd = d.nvdla_pwrbus_ram_a_pd = 0;
    d.csb2nvdla_valid = 0;
    reads_.clear();
    writes_.clear();
    wbeats_.clear();
    bresp_.clear();
    beat_ = 0;
    d.dla_reset_rstn = d.direct_reset_ = 0;
    for (int i = 0; i < 16; ++i) step();
    d.dla_reset_rstn = d.direct_reset_ = 1;
    for (int i = 0; i < 64; ++i) step();  // NVDLA's reset synchronizers
    last_activity_ = clocks;
    if (flush_status_)
      while (!(csb_read(flush_status_) & 1)) {
      }
    clocks = intr_rise = 0;
    read_beats = write_beats = 0;
    last_activity_ = 0;
  }

  bool intr() const { return dut_->dla_intr; }

  // One clock: drive the AXI slave's outputs from its state, settle, note the handshakes the
  // rising edge will take, take the edge, then update the state.
  void step() {
    VNV_nvdla& d = *dut_;
    d.nvdla_core2dbb_ar_arready = 1;
    d.nvdla_core2dbb_aw_awready = 1;
    d.nvdla_core2dbb_w_wready = 1;
    bool rv = !reads_.empty() && reads_.front().due <= clocks;
    d.nvdla_core2dbb_r_rvalid = rv;
    if (rv) {
      const ReadBurst& r = reads_.front();
      d.nvdla_core2dbb_r_rid = r.id;
      d.nvdla_core2dbb_r_rdata = mem.read(r.addr + 8ull * beat_);
      d.nvdla_core2dbb_r_rlast = beat_ + 1 == r.beats;
    }
    d.nvdla_core2dbb_b_bvalid = !bresp_.empty();
    if (!bresp_.empty()) d.nvdla_core2dbb_b_bid = bresp_.front();
    d.dla_core_clk = d.dla_csb_clk = 0;
    d.eval();

    bool ar = d.nvdla_core2dbb_ar_arvalid, aw = d.nvdla_core2dbb_aw_awvalid, w = d.nvdla_core2dbb_w_wvalid;
    bool r = rv && d.nvdla_core2dbb_r_rready, b = !bresp_.empty() && d.nvdla_core2dbb_b_bready;
    ReadBurst nr{d.nvdla_core2dbb_ar_arid, d.nvdla_core2dbb_ar_araddr, d.nvdla_core2dbb_ar_arlen + 1u, clocks + latency_};
    WriteBurst nw{d.nvdla_core2dbb_aw_awid, d.nvdla_core2dbb_aw_awaddr, d.nvdla_core2dbb_aw_awlen + 1u};
    WriteBeat nb{d.nvdla_core2dbb_w_wdata, static_cast<uint8_t>(d.nvdla_core2dbb_w_wstrb), d.nvdla_core2dbb_w_wlast != 0};
    csb_fire_ = d.csb2nvdla_valid && d.csb2nvdla_ready;
    csb_resp_ = d.nvdla2csb_valid;
    csb_data_ = d.nvdla2csb_data;

    d.dla_core_clk = d.dla_csb_clk = 1;
    d.eval();
    ++clocks;
    if (d.dla_intr && !intr_was_) intr_rise = clocks;
    intr_was_ = d.dla_intr;

    if (ar) reads_.push_back(nr);
    if (aw) writes_.push_back(nw);
    if (w) wbeats_.push_back(nb);
    if (r && ++beat_ == reads_.front().beats) {
      reads_.pop_front();
      beat_ = 0;
    }
    if (r) ++read_beats;
    if (b) bresp_.pop_front();
    retire_writes();
    if (ar || aw || w || r || b || csb_fire_) last_activity_ = clocks;
  }

  // Clocks until the interrupt line is high; a hang when nothing moves for idle_limit clocks
  // or the whole wait passes limit clocks.
  void wait_intr(uint64_t limit) {
    uint64_t start = clocks;
    while (!intr()) {
      if (clocks - last_activity_ > idle_limit_)
        throw Hang{"no interrupt and no CSB or memory traffic for " + std::to_string(idle_limit_) + " cycles"};
      if (clocks - start > limit) throw Hang{"no interrupt within " + std::to_string(limit) + " cycles"};
      step();
    }
  }

  void csb_write(uint32_t addr, uint32_t data) {
    VNV_nvdla& d = *dut_;
    d.csb2nvdla_addr = addr >> 2;  // the CSB port takes word addresses
    d.csb2nvdla_wdat = data;
    d.csb2nvdla_write = 1;
    d.csb2nvdla_nposted = 0;
    csb_handshake();
  }

  uint32_t csb_read(uint32_t addr) {
    VNV_nvdla& d = *dut_;
    d.csb2nvdla_addr = addr >> 2;
    d.csb2nvdla_write = 0;
    d.csb2nvdla_nposted = 0;
    csb_handshake();
    for (uint64_t start = clocks; !csb_resp_; step())
      if (clocks - start > idle_limit_) throw Hang{"no CSB read response for " + hex(addr)};
    return csb_data_;
  }

 private:
  void csb_handshake() {
    dut_->csb2nvdla_valid = 1;
    uint64_t start = clocks;
    do {
      if (clocks - start > idle_limit_) throw Hang{"CSB never ready"};
      step();
    } while (!csb_fire_);
    dut_->csb2nvdla_valid = 0;
    csb_resp_ = false;
  }

  // Write beats may come before their address (AXI allows it): apply them once both are here.
  void retire_writes() {
    while (!writes_.empty() && !wbeats_.empty()) {
      WriteBurst& wb = writes_.front();
      WriteBeat beat = wbeats_.front();
      wbeats_.pop_front();
      mem.write(wb.addr, beat.data, beat.strobe);
      ++write_beats;
      wb.addr += 8;
      if (--wb.beats == 0 || beat.last) {
        bresp_.push_back(wb.id);
        writes_.pop_front();
      }
    }
  }

  std::unique_ptr<VNV_nvdla> dut_;
  uint32_t latency_;
  uint64_t idle_limit_;
  uint32_t flush_status_;
  uint64_t last_activity_ = 0;
  std::deque<ReadBurst> reads_;
  std::deque<WriteBurst> writes_;
  std::deque<WriteBeat> wbeats_;
  std::deque<uint32_t> bresp_;
  uint32_t beat_ = 0;
  bool csb_fire_ = false, csb_resp_ = false, intr_was_ = false;
  uint32_t csb_data_ = 0;
};

struct Probe {
  std::string name;
  uint32_t addr;
};

struct Outcome {
  std::string status = "PASS";
  std::string message;
  std::string probes;  // JSON object: each probe register read after a hang
  int64_t first_write = -1;
  int64_t last_intr = -1;

  void fail(const std::string& m) {
    if (status == "PASS") {
      status = "FAIL";
      message = m;
    }
  }
};

// After a hang: the probe registers (the units' status words, read by the caller's names) and
// the memory traffic so far, to say which unit stopped.
std::string read_probes(Player& p, const std::vector<Probe>& probes) {
  std::string out = "{\"read_beats\": " + std::to_string(p.read_beats) + ", \"write_beats\": " +
                    std::to_string(p.write_beats);
  try {
    for (const Probe& q : probes) out += ", \"" + q.name + "\": " + std::to_string(p.csb_read(q.addr));
  } catch (const Hang&) {
    out += ", \"csb\": \"no answer\"";
  }
  return out + "}";
}

Outcome play(Player& p, const std::string& dir, uint64_t limit, const std::vector<Probe>& probes) {
  Outcome o;
  std::ifstream prog(dir + "/program.txt");
  if (!prog) {
    o.fail("cannot read " + dir + "/program.txt");
    return o;
  }
  std::string line;
  int intrs = 0, crcs = 0;  // commands seen so far, to name the one that failed (layer order)
  try {
    while (o.status == "PASS" && std::getline(prog, line)) {
      digest::Command c = digest::parse(line);
      if (c.op == "load") {
        if (!p.mem.load(dir)) o.fail("bad memory image in " + dir);
        p.reset();
      } else if (c.op == "w") {
        if (o.first_write < 0) o.first_write = static_cast<int64_t>(p.clocks);
        p.csb_write(c.addr, c.value);
      } else if (c.op == "r" || c.op == "p") {
        uint32_t got = 0;
        int tries = c.op == "r" ? 1 : digest::kPollLimit;
        for (int t = 0; t < tries && (got = p.csb_read(c.addr)) != c.value; ++t) {
        }
        if (got != c.value) o.fail("read of " + hex(c.addr) + " gave " + hex(got) + ", expected " + hex(c.value));
      } else if (c.op == "i") {
        // NVDLA's interrupt line falls a few cycles after the W1C clear, so a line still high
        // from the last claim is not this interrupt: wait until the status shows it.
        uint64_t start = p.clocks;
        ++intrs;
        for (;;) {
          p.wait_intr(limit - std::min(limit, p.clocks - start));
          uint32_t pending = p.csb_read(c.status) & ~p.csb_read(c.mask);
          uint32_t want = c.bit ? c.bit : (pending & (~pending + 1));
          if (pending & want) {
            o.last_intr = static_cast<int64_t>(p.intr_rise);
            p.csb_write(c.status, want);  // W1C
            break;
          }
          if (p.clocks - start > limit) throw Hang{"interrupt line high, status " + hex(pending) + " never shows it"};
          p.step();
        }
      } else if (c.op == "c") {
        ++crcs;
        std::string why = digest::check_crc(c, p.mem.words.data(), p.mem.words.size());
        if (!why.empty()) o.fail("check_crc " + std::to_string(crcs) + ": " + why);
      } else if (!c.op.empty()) {
        o.fail("unknown program command " + c.op);
      }
    }
  } catch (const Hang& h) {
    o.status = "HANG";
    o.message = "intr_notify " + std::to_string(intrs) + ": " + h.why;
    o.probes = read_probes(p, probes);
  }
  if (o.status == "PASS" && !p.mem.fault.empty()) o.fail(p.mem.fault);
  return o;
}

std::string json_text(const std::string& s) {
  std::string out;
  for (char ch : s) out += (ch == '"' || ch == '\\') ? '\'' : ch;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t latency = 0;
  uint64_t limit = 20000000, idle = 200000;
  uint32_t flush_status = 0;
  std::vector<Probe> probes;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> uint64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", name);
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 0);
    };
    if (a == "--read-latency") latency = static_cast<uint32_t>(value("--read-latency"));
    else if (a == "--limit") limit = value("--limit");
    else if (a == "--idle") idle = value("--idle");
    else if (a == "--flush-status") flush_status = static_cast<uint32_t>(value("--flush-status"));
    else if (a == "--probe" && i + 1 < argc) {  // NAME=ADDR
      std::string q = argv[++i];
      size_t eq = q.find('=');
      probes.push_back({q.substr(0, eq), static_cast<uint32_t>(std::strtoul(q.c_str() + eq + 1, nullptr, 0))});
    }
    else if (a.rfind("+", 0) == 0) continue;  // plusargs are Verilator's
    else dirs.push_back(a);
  }
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  Player p(ctx.get(), latency, idle, flush_status);
  int failed = 0;
  for (const std::string& dir : dirs) {
    auto t0 = Clock::now();
    Outcome o = play(p, dir, limit, probes);
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    long long cycles = (o.first_write >= 0 && o.last_intr >= o.first_write) ? o.last_intr - o.first_write : -1;
    failed += o.status != "PASS";
    std::printf("{\"dir\": \"%s\", \"status\": \"%s\", \"cycles\": %lld, \"clocks\": %llu, \"read_beats\": %llu, "
                "\"write_beats\": %llu, \"seconds\": %.6f, \"message\": \"%s\", \"probes\": %s}\n",
                json_text(dir).c_str(), o.status.c_str(), cycles, static_cast<unsigned long long>(p.clocks),
                static_cast<unsigned long long>(p.read_beats), static_cast<unsigned long long>(p.write_beats), secs,
                json_text(o.message).c_str(), o.probes.empty() ? "null" : o.probes.c_str());
    std::fflush(stdout);
  }
  return failed ? 1 : 0;
}
