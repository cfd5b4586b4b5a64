// The harness's bulk arrays (the fast memory and its page table, the APB program and log, the
// stage taps, the write log) shared with the testbench in place: the address of a public
// variable of the Verilated model, found by its hierarchical scope and name. The raw harness
// calls it from C++; the cocotb flow calls it through ctypes, so every build exports it
// (tb/rtl_build.py SHARED_LDFLAGS). Moving whole arrays this way replaced $fread/$readmemh loads
// and $writememh dumps, whose per-word text formatting was most of a trace's time outside its
// layers (docs/rtl-speed.md §7). The testbench touches an array only while no burst is in flight
// and the clock is stopped in a callback, so the model never sees a value change mid-cycle.
#include <cstdint>
#include <string>

#include "verilated.h"
#include "verilated_syms.h"

// scope: e.g. "tb_top.u_mem" (under a model named "" as the cocotb builds name it, or "TOP" as
// the raw harness's default); returns nullptr if there is no such public variable.
extern "C" __attribute__((visibility("default"))) void* tb_shared_var(const char* scope, const char* name,
                                                                      uint64_t* bytes) {
  const VerilatedScope* s = Verilated::scopeFind(scope);
  if (s == nullptr) s = Verilated::scopeFind(("TOP." + std::string(scope)).c_str());
  if (s == nullptr) return nullptr;
  const VerilatedVar* v = s->varFind(name);
  if (v == nullptr) return nullptr;
  if (bytes != nullptr) *bytes = v->totalSize();
  return v->datap();
}
