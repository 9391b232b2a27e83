//===- PrintMemoryPlan.cpp - liquid-print-memory-plan ----------------------===//
//
// Prints what liquid-plan-memory decided (liquidc --print-memory-plan).
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::liquid {
#define GEN_PASS_DEF_PRINTMEMORYPLAN
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;

namespace {

/// The plan of a language-model function: caches by kind, activations,
/// scratch, next to what an all-attention model of the same shape would need
/// for its KV caches at the same context.
void printLMMemoryPlan(ModuleOp module, func::FuncOp f, llvm::raw_ostream &os) {
  auto plan = cast<ForwardArenaAttr>(readAttr<ArenaAttrHelper>(f));
  int64_t ctx = readAttr<MaxContextAttrHelper>(f).getInt();
  int64_t rows = readAttr<MaxRowsAttrHelper>(f).getInt();
  int64_t kv = 0, conv = 0, kvLayers = 0, layers = 0, kvPerLayer = 0;
  for (auto sb : module.getOps<StateBufferOp>()) {
    auto t = cast<RankedTensorType>(sb.getType());
    int64_t bytes = t.getNumElements() * 4;
    ++layers;
    if (sb.getKind() == StateKind::KVCache) {
      kv += bytes;
      ++kvLayers;
      kvPerLayer = bytes;
    } else {
      conv += bytes;
    }
  }
  int64_t act = 0, scratch = 0;
  for (Operation &op : f.getBody().front()) {
    if (auto offs = readAttr<OffsetAttrHelper>(&op))
      for (auto [i, r] : llvm::enumerate(op.getResults()))
        if (offs[i] >= 0)
          act += rows * cast<RankedTensorType>(r.getType()).getDimSize(1) * 4;
    if (auto sf = readAttr<ScratchFloatsAttrHelper>(&op))
      scratch += sf.getInt() * 4;
  }
  int64_t arena = plan.getSize() * 4;
  auto mib = [](int64_t b) { return b / (1024.0 * 1024.0); };
  os << llvm::format("memory plan (context %lld tokens, up to %lld tokens per call)\n", (long long)ctx,
                     (long long)rows);
  os << llvm::format("  KV caches      %4lld layers  %10.2f MiB\n", (long long)kvLayers, mib(kv));
  os << llvm::format("  conv caches    %4lld layers  %10.2f MiB\n", (long long)(layers - kvLayers),
                     mib(conv));
  os << llvm::format("  activations                 %10.2f MiB before reuse\n", mib(act));
  os << llvm::format("  scratch                     %10.2f MiB\n", mib(scratch));
  os << llvm::format("  arena total                 %10.2f MiB (one allocation; none per token)\n",
                     mib(arena));
  int64_t expertBytes = 0, expertReadBytes = 0, moeLayers = 0;
  f.walk([&](MoEExpertsOp m) {
    auto gu = cast<RankedTensorType>(m.getGateUp().getType());
    int64_t k = cast<RankedTensorType>(m.getExperts().getType()).getDimSize(1);
    int64_t perExpert = ::liquid::elementBytes(packElement(m.getWeightType()),
                                               3 * gu.getDimSize(1) / 2 * gu.getDimSize(2));
    expertBytes += gu.getDimSize(0) * perExpert;
    expertReadBytes += k * perExpert;
    ++moeLayers;
  });
  if (moeLayers)
    os << llvm::format("  experts: %lld MoE layers, %.2f MiB of expert weights; a token reads "
                       "%.2f MiB of them (its top-k experts only)\n",
                       (long long)moeLayers, mib(expertBytes), mib(expertReadBytes));
  if (kvLayers)
    os << llvm::format("  an all-attention model of the same shape: KV caches %.2f MiB "
                       "(%lld layers); this model: %.2f MiB of state\n",
                       mib(kvPerLayer * layers), (long long)layers, mib(kv + conv));
}

void printMemoryPlan(ModuleOp module, llvm::raw_ostream &os) {
  for (auto f : module.getOps<func::FuncOp>())
    if (hasAttr<MaxRowsAttrHelper>(f))
      printLMMemoryPlan(module, f, os);
  module.walk([&](ScanOp scan) {
    auto plan = dyn_cast_or_null<StepArenaAttr>(readAttr<ArenaAttrHelper>(scan));
    if (!plan)
      return;
    Block &body = scan.getBody().front();
    ArrayRef<int64_t> states = plan.getStates().asArrayRef();
    os << "memory plan (floats of 4 bytes; offsets in bytes)\n";
    os << llvm::format("  %-10s %-28s %10s %10s\n", "category", "buffer", "bytes", "offset");
    int64_t stateBytes = 0, actBytes = 0, scratchBytes = 0;
    for (unsigned i = 0; i < states.size(); ++i) {
      int64_t n = cast<RankedTensorType>(body.getArgument(2 + i).getType()).getDimSize(0) * 4;
      stateBytes += n;
      os << llvm::format("  %-10s %-28s %10lld %10lld\n", "state",
                         (i == 0 ? "h (recurrent state)" : "c (LSTM cell state)"), (long long)n,
                         (long long)states[i] * 4);
    }
    int64_t in = cast<RankedTensorType>(body.getArgument(0).getType()).getDimSize(0) * 4;
    actBytes += in;
    os << llvm::format("  %-10s %-28s %10lld %10lld\n", "input", "x (step input)", (long long)in,
                       (long long)plan.getInput() * 4);
    for (Operation &op : body) {
      if (auto offs = readAttr<OffsetAttrHelper>(&op)) {
        for (auto [i, r] : llvm::enumerate(op.getResults())) {
          if (offs[i] < 0)
            continue;
          int64_t n = cast<RankedTensorType>(r.getType()).getDimSize(0) * 4;
          actBytes += n;
          os << llvm::format("  %-10s %-28s %10lld %10lld\n", "activation",
                             op.getName().getStringRef().str().c_str(), (long long)n,
                             (long long)offs[i] * 4);
        }
      }
      if (auto s = readAttr<ScratchAttrHelper>(&op)) {
        int64_t n = readAttr<ScratchFloatsAttrHelper>(&op).getInt() * 4;
        scratchBytes += n;
        os << llvm::format("  %-10s %-28s %10lld %10lld\n", "scratch",
                           op.getName().getStringRef().str().c_str(), (long long)n,
                           (long long)s.getInt() * 4);
      }
    }
    int64_t arena = plan.getSize() * 4;
    os << llvm::format("  state %lld B, activations %lld B (before reuse), scratch %lld B\n",
                       (long long)stateBytes, (long long)actBytes, (long long)scratchBytes);
    os << llvm::format("  arena total %lld B (64-byte aligned, padded slots, reused by liveness); "
                       "no allocation per step\n",
                       (long long)arena);
  });
}

struct PrintMemoryPlanPass : mlir::liquid::impl::PrintMemoryPlanBase<PrintMemoryPlanPass> {
  void runOnOperation() override {
    printMemoryPlan(getOperation(), llvm::outs());
    markAllAnalysesPreserved();
  }
};

} // namespace
