// Main of the fast cocotb build (tb/rtl_build.py): runs the Verilated tb_top with cocotb loaded
// through VPI, and makes the harness clock itself (clk_in, 10 ns period) instead of leaving it to
// an SV delay loop (--timing) or to Python.
//
// Each time step -- a clock edge, a testbench timer, or both -- is scheduled as a VPI host must do
// it for cocotb: next-time-step callbacks; the edge, evaluated and settled (value-change callbacks
// until neither the model nor the testbench changes anything, read-write callbacks, read-only
// callbacks); then the timers of that time, settled the same way. That bookkeeping costs about
// as much as evaluating the model, so while the testbench has raised `turbo` -- it does so only
// while it waits for the interrupt, the watchdog or a timer (tb/uvm/bfm.py wait_intr) -- clock
// edges at which neither intr nor watchdog_fired changes are evaluated alone. An edge at which
// one changes, or a timer's deadline, ends that at once: the testbench sees every event in the
// cycle it happens, and every cycle still advances time by 10 ns, so cycle counts equal those of
// a run without turbo (docs/rtl-speed.md).
#include <algorithm>
#include <cstdint>
#include <memory>

#include "Vtb_top.h"
#include "verilated.h"
#include "verilated_vpi.h"

extern "C" void vlog_startup_routines_bootstrap(void);  // cocotb's VPI library: loads cocotb

namespace {

constexpr uint64_t kHalfPeriod = 5000;  // in the 1 ps time precision of the build

void value_callbacks() {
  while (VerilatedVpi::callValueCbs()) {
  }
}

// Evaluate the current time step to its end, running the testbench's callbacks in order.
void settle_step(Vtb_top& top) {
  do {
    do {
      top.eval_step();
      VerilatedVpi::clearEvalNeeded();
      VerilatedVpi::doInertialPuts();
      value_callbacks();
    } while (VerilatedVpi::evalNeeded());
    VerilatedVpi::callCbs(cbReadWriteSynch);
    VerilatedVpi::doInertialPuts();
    value_callbacks();
  } while (VerilatedVpi::evalNeeded());
  top.eval_end_step();
  VerilatedVpi::callCbs(cbReadOnlySynch);
}

bool turbo_allowed(Vtb_top& top) {
  return top.turbo && !VerilatedVpi::hasCbs(cbNextSimTime) && !VerilatedVpi::hasCbs(cbReadWriteSynch)
         && !VerilatedVpi::hasCbs(cbReadOnlySynch);
}

}  // namespace

int main(int argc, char** argv) {
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vtb_top>(ctx.get(), "");
  Verilated::fatalOnVpiError(false);  // cocotb probes handles that may not exist

  vlog_startup_routines_bootstrap();
  VerilatedVpi::callCbs(cbStartOfSimulation);
  value_callbacks();

  uint64_t edge = kHalfPeriod;  // time of the next clock edge (the first one rises)
  top->clk_in = 0;
  settle_step(*top);
  while (!ctx->gotFinish()) {
    // State fixed by the last fully scheduled step: only a callback can change it.
    const uint64_t deadline = VerilatedVpi::cbNextDeadline();
    const bool turbo = turbo_allowed(*top);
    const uint8_t intr = top->intr, watchdog = top->watchdog_fired;
    uint64_t now;
    bool edge_now;
    while (true) {
      now = std::min(edge, deadline);
      ctx->time(now);
      edge_now = now == edge;
      if (!edge_now) break;  // a timer falls due first
      top->clk_in = !top->clk_in;
      edge += kHalfPeriod;
      if (!turbo || now == deadline) break;
      top->eval();
      if (top->intr != intr || top->watchdog_fired != watchdog) break;
    }
    VerilatedVpi::callCbs(cbNextSimTime);
    value_callbacks();
    // A clock edge is evaluated before the timers of the same time: the testbench then reacts to a
    // timer after the flops took the edge, as it reacts to the edge itself, and its writes count
    // from the next edge on.
    if (edge_now) settle_step(*top);
    if (now == deadline) {
      VerilatedVpi::callTimedCbs();
      value_callbacks();
      settle_step(*top);
    }
  }

  VerilatedVpi::callCbs(cbEndOfSimulation);
  top->final();
#if VM_COVERAGE
  ctx->coveragep()->write();  // +verilator+coverage+file+<path> (tb/rtl_build.py), else coverage.dat
#endif
  return ctx->errorCount() ? 1 : 0;
}
