// Raw harness: drives the Verilated tb_top (tb/hdl/tb_top.sv, fast memory only) from C++ the way
// tb/uvm/bfm.py does from cocotb -- same reset, same APB master requests (a run of writes written
// into the master's program, single reads), the memory written and read in place through
// tb_shared_var (tb/hdl/tb_shared.cpp) -- with no Python in the loop. Each
// argument is a folder written by tb/raw/digest.py (page_map.hex, mem.bin, program.txt); the
// folders play one after the other in one process, trace k with memory seed (seed + k) as the
// cocotb flow does.
// Prints one JSON line per trace: status, cycles (first register write to the last interrupt, as
// the scoreboard counts them), clocks since reset, and the wall time inside interrupt waits.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "Vtb_top.h"
#include "digest.hpp"
#include "verilated.h"

extern "C" void* tb_shared_var(const char* scope, const char* name, uint64_t* bytes);

namespace {

using digest::hex;

constexpr uint64_t kMaxCycles = 50000000;
constexpr uint16_t kUnmapped = 0xffff;  // tb_axi_mem Unmapped

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

class Harness {
 public:
  explicit Harness(VerilatedContext* ctx) : top_(new Vtb_top(ctx)) {
    mem_ = static_cast<uint64_t*>(shared("tb_top.u_mem", "mem", &mem_words_));
    page_map_ = static_cast<uint16_t*>(shared("tb_top.u_mem", "page_map", nullptr));
    prog_ = static_cast<uint64_t*>(shared("tb_top.u_apb", "prog", &prog_words_));
    mem_words_ /= 8;
    prog_words_ /= 8;
  }
  ~Harness() { top_->final(); }

  Vtb_top& dut() { return *top_; }
  uint64_t clocks = 0;  // rising edges since the last reset

  void tick() {
    top_->clk_in = 1;
    top_->eval();
    top_->clk_in = 0;
    top_->eval();
    ++clocks;
  }

  void reset(uint32_t seed, bool stall, bool reorder, uint32_t watchdog) {
    Vtb_top& d = *top_;
    d.rst_n = 0;
    d.turbo = 0;
    d.apb_go = d.apb_batch = d.apb_write = 0;
    d.apb_len = d.apb_addr = d.apb_wdata = 0;
    d.ext_mem_en = 0;
    d.mem_seed = seed;
    d.mem_stall_en = stall;
    d.mem_reorder_en = reorder;
    d.mut_late_write = d.mut_drop_write = d.mut_read_flip = d.mut_no_intr = 0;
    d.mut_x1_tap = d.mut_apb_read = 0;
    d.mut_apb_addr = d.mut_index = 0;
    d.mem_load = 0;
    d.watchdog_limit = watchdog;
    d.tap_clear = 1;
    for (int i = 0; i < 4; ++i) tick();
    d.tap_clear = 0;
    d.rst_n = 1;
    tick();
    clocks = 0;
  }

  void pulse(uint8_t& signal) {
    signal = 1;
    tick();
    signal = 0;
    tick();
  }

  // A go pulse to the harness's APB master, then clocks until it is done.
  void apb_go(bool batch) {
    Vtb_top& d = *top_;
    d.apb_batch = batch;
    d.apb_go = 1;
    tick();
    d.apb_go = 0;
    while (!d.apb_done) tick();
  }

  uint32_t apb(uint32_t addr, bool write, uint32_t data = 0) {
    Vtb_top& d = *top_;
    d.apb_addr = addr;
    d.apb_write = write;
    d.apb_wdata = data;
    apb_go(false);
    return d.apb_rdata;
  }

  // Register writes back to back, as tb/uvm/bfm.py apb_writes (runs of the master's program depth).
  void apb_writes(const std::vector<std::pair<uint32_t, uint32_t>>& writes) {
    for (size_t i = 0; i < writes.size(); i += prog_words_) {
      size_t n = std::min<size_t>(prog_words_, writes.size() - i);
      for (size_t k = 0; k < n; ++k)
        prog_[k] = (static_cast<uint64_t>(writes[i + k].first) << 32) | writes[i + k].second;
      top_->apb_len = static_cast<uint32_t>(n);
      apb_go(true);
    }
  }

  // The image of digest.py's page_map.hex and mem.bin into the memory, then the load pulse (the
  // memory restarts its random sequence), as tb/uvm/memory.py SvMemory.load.
  bool load(const std::string& dir) {
    digest::Image img;
    if (!digest::load_image(dir, img) || img.words.size() > mem_words_) return false;
    std::fill(page_map_, page_map_ + 65536, kUnmapped);
    for (auto [logical, physical] : img.pages) {
      if (logical >= 65536) return false;
      page_map_[logical] = static_cast<uint16_t>(physical);
    }
    std::copy(img.words.begin(), img.words.end(), mem_);
    pulse(top_->mem_load);
    return true;
  }

  // The memory's words in place (physical order), for the CRC checks.
  const uint64_t* words() const { return mem_; }
  uint64_t word_count() const { return mem_words_; }

 private:
  static void* shared(const char* scope, const char* name, uint64_t* bytes) {
    void* p = tb_shared_var(scope, name, bytes);
    if (p == nullptr) {
      std::fprintf(stderr, "the harness has no public array %s.%s\n", scope, name);
      std::exit(2);
    }
    return p;
  }

  std::unique_ptr<Vtb_top> top_;
  uint64_t* mem_ = nullptr;
  uint16_t* page_map_ = nullptr;
  uint64_t* prog_ = nullptr;
  uint64_t mem_words_ = 0, prog_words_ = 0;
};

struct Outcome {
  bool pass = true;
  std::string message;
  int64_t first_write = -1;  // harness cycle of the first register write's access phase
  int64_t last_intr = -1;    // harness cycle of the last interrupt rise
  double wait_seconds = 0;

  void fail(const std::string& m) {
    if (pass) message = m;
    pass = false;
  }
};

// One trace; the harness is reset and loaded by its first command ("load").
Outcome play(Harness& h, const std::string& dir, uint32_t seed, bool stall, bool reorder, uint32_t watchdog) {
  Outcome o;
  if (chdir(dir.c_str()) != 0) {
    o.fail("cannot enter " + dir);
    return o;
  }
  std::ifstream prog("program.txt");
  std::string line;
  Vtb_top& d = h.dut();
  std::vector<std::pair<uint32_t, uint32_t>> writes;  // consecutive writes go as one run
  while (o.pass && std::getline(prog, line)) {
    digest::Command c = digest::parse(line);
    if (c.op == "w") {
      writes.emplace_back(c.addr, c.value);
      continue;
    }
    if (!writes.empty()) {
      // The first write's access phase: the master starts the cycle after the go pulse.
      if (o.first_write < 0) o.first_write = static_cast<int64_t>(d.cycles) + 2;
      h.apb_writes(writes);
      writes.clear();
    }
    if (c.op == "load") {
      h.reset(seed, stall, reorder, watchdog);
      if (!h.load(dir)) o.fail("cannot load page_map.hex and mem.bin");
    } else if (c.op == "r" || c.op == "p") {
      uint32_t got = 0;
      int tries = c.op == "r" ? 1 : digest::kPollLimit;
      for (int t = 0; t < tries && (got = h.apb(c.addr, false)) != c.value; ++t) {
      }
      if (got != c.value) o.fail("read of " + hex(c.addr) + " gave " + hex(got) + ", expected " + hex(c.value));
    } else if (c.op == "i") {
      auto t0 = Clock::now();
      uint64_t start = h.clocks;
      bool was = d.intr;
      while (!d.intr && !d.watchdog_fired && h.clocks - start < kMaxCycles) h.tick();
      o.wait_seconds += since(t0);
      if (!d.intr) {
        o.fail("hang: no interrupt (" + std::string(d.watchdog_fired ? "watchdog" : "timeout") + ")");
        break;
      }
      if (!was) o.last_intr = static_cast<int64_t>(d.cycles);
      uint32_t pending = h.apb(c.status, false) & ~h.apb(c.mask, false);
      uint32_t want = c.bit ? c.bit : (pending & (~pending + 1));
      if (!(pending & want)) o.fail("unexpected interrupt status " + hex(pending));
      h.apb(c.status, true, want);
    } else if (c.op == "c") {
      std::string why = digest::check_crc(c, h.words(), h.word_count());
      if (!why.empty()) o.fail(why);
    } else if (!c.op.empty()) {
      o.fail("unknown program command " + c.op);
    }
  }
  if (d.mem_fault) o.fail("write outside the memory image at " + hex(d.mem_fault_addr));
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t seed = 1, watchdog = 20000;
  bool stall = true, reorder = true;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> uint32_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", name);
        std::exit(2);
      }
      return static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 0));
    };
    if (a == "--seed") seed = value("--seed");
    else if (a == "--stall") stall = value("--stall") != 0;
    else if (a == "--reorder") reorder = value("--reorder") != 0;
    else if (a == "--watchdog") watchdog = value("--watchdog");
    else if (a.rfind("+", 0) == 0) continue;  // plusargs are Verilator's
    else dirs.push_back(a);
  }
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  Harness h(ctx.get());
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) return 2;
  int failed = 0;
  for (size_t k = 0; k < dirs.size(); ++k) {
    std::string dir = dirs[k][0] == '/' ? dirs[k] : std::string(cwd) + "/" + dirs[k];
    auto t0 = Clock::now();
    Outcome o = play(h, dir, seed + static_cast<uint32_t>(k), stall, reorder, watchdog);
    double secs = since(t0);
    long long cycles = (o.first_write >= 0 && o.last_intr >= o.first_write) ? o.last_intr - o.first_write : -1;
    failed += !o.pass;
    std::string msg;
    for (char ch : o.message) msg += (ch == '"' || ch == '\\') ? '\'' : ch;
    std::printf("{\"dir\": \"%s\", \"status\": \"%s\", \"cycles\": %lld, \"clocks\": %llu, "
                "\"wait_seconds\": %.6f, \"seconds\": %.6f, \"message\": \"%s\"}\n",
                dir.c_str(), o.pass ? "PASS" : "FAIL", cycles, static_cast<unsigned long long>(h.clocks),
                o.wait_seconds, secs, msg.c_str());
    std::fflush(stdout);
  }
  return failed ? 1 : 0;
}
