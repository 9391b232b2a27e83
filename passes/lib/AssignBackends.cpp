//===- AssignBackends.cpp - LLVM or Halide, per kernel ---------------------===//
//
// liquid-assign-backends: names every kernel Halide could generate, chooses
// its schedule (or keeps the LLVM lowering, saying why), marks the chosen ops
// with liquid.halide_kernel and lists the requests on the module.
//
//===----------------------------------------------------------------------===//
#include "liquid/Passes/Backends.h"
#include "liquid/Passes/Passes.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>

namespace mlir::liquid {
#define GEN_PASS_DEF_ASSIGNBACKENDS
#include "liquid/Passes/Passes.h.inc"
} // namespace mlir::liquid

using namespace mlir;
using namespace mlir::liquid;
using ::liquid::HalideKernel;

namespace {

/// The name of the weight a kernel reads; a fused weight lists its parts.
std::string weightName(Value v) {
  Operation *def = v.getDefiningOp();
  if (auto c = dyn_cast_or_null<WeightConcatOp>(def)) {
    std::string s;
    for (Value in : c.getInputs())
      s += (s.empty() ? "" : "+") + weightName(in);
    return s;
  }
  if (auto m = dyn_cast_or_null<WeightMulOp>(def))
    return weightName(m.getOperand(0)) + "*mask";
  auto nm = def ? def->getAttrOfType<StringAttr>("name") : StringAttr();
  return nm ? nm.getValue().str() : "?";
}

int64_t dim(Value v, unsigned i) { return cast<RankedTensorType>(v.getType()).getDimSize(i); }

/// The request for `op` if Halide has a kernel for it (schedule not yet chosen).
std::optional<HalideKernel> candidate(Operation *op, ModuleOp module, bool &masked) {
  HalideKernel k;
  masked = false;
  if (auto l = dyn_cast<LinearOp>(op)) {
    k.n = dim(l.getWeight(), 0), k.k = dim(l.getWeight(), 1);
    k.weight = stringifyWeightStorage(l.getWeightType()).str();
    k.weightName = weightName(l.getWeight());
  } else if (auto e = dyn_cast<CfCEpilogueOp>(op)) {
    k.op = "cfc_epilogue", k.mode = stringifyCfCMode(e.getMode()).str();
    k.n = dim(e.getResult(), 0), k.weight = "f32", k.weightName = "-";
  } else if (auto a = dyn_cast<AttentionOp>(op)) {
    auto sb = module.lookupSymbol<StateBufferOp>(a.getStateAttr().getAttr());
    k.op = "attention", k.weight = "f32";
    k.heads = a.getHeads(), k.kvHeads = a.getKvHeads(), k.headDim = a.getHeadDim();
    k.n = k.heads * k.headDim;
    k.context = cast<RankedTensorType>(sb.getType()).getDimSize(1);
    k.eps = a.getEpsilon().convertToDouble();
    k.weightName = weightName(a.getQNorm()); // the layer's attention, by its query norm
  } else if (auto c = dyn_cast<ShortConvMixOp>(op)) {
    k.op = "shortconv", k.weight = "f32";
    k.n = dim(c.getKernel(), 0), k.k = dim(c.getKernel(), 1);
    k.weightName = weightName(c.getKernel());
  } else if (auto d = dyn_cast<DenseOp>(op); d && d.getWeightType() == WeightStorage::F32) {
    k.n = dim(d.getWeight(), 0), k.k = dim(d.getWeight(), 1), k.weight = "f32";
    k.weightName = weightName(d.getWeight());
    masked = isa_and_nonnull<WeightMulOp>(d.getWeight().getDefiningOp());
  } else {
    return std::nullopt;
  }
  return k;
}

struct AssignBackendsPass : mlir::liquid::impl::AssignBackendsBase<AssignBackendsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool halide = backend == "halide";
    if (!halide && backend != "llvm") {
      module.emitError() << "liquid-assign-backends: backend must be llvm or halide, not '"
                         << backend << "'";
      return signalPassFailure();
    }
    if (!halide && kernelsList.empty() && !int8Activations)
      return;
    ::liquid::HalideSchedule schedule;
    std::string err;
    if (!scheduleFile.empty() && !::liquid::loadHalideSchedule(scheduleFile, schedule, err)) {
      module.emitError() << err;
      return signalPassFailure();
    }
    std::string prefix = kernelPrefix;
    if (prefix.empty())
      for (auto f : module.getOps<func::FuncOp>())
        prefix = f.getSymName().str();
    std::string list;
    llvm::raw_string_ostream os(list);
    SmallVector<Attribute> requests;
    int64_t index = 0, int8Products = 0;
    module.walk([&](Operation *op) {
      bool masked = false;
      std::optional<HalideKernel> k = candidate(op, module, masked);
      if (!k)
        return;
      k->name = prefix + "_hl" + std::to_string(index++);
      std::string why;
      k->schedule = halide ? schedule.choose(k->name, k->weightName) : "llvm";
      if (k->schedule != "llvm")
        why = whyLLVM(*k, masked);
      if (!why.empty())
        k->schedule = "llvm";
      if (k->op == "matmul" && int8Activations) {
        auto l = cast<LinearOp>(op);
        bool blocks = isBlockStorage(l.getWeightType());
        k->acts = blocks ? "q8" : "f32";
        int8Products += blocks;
        if (blocks && k->schedule == "llvm")
          l.setInt8Inputs(true);
        if (!blocks)
          why += " (float activations)";
      }
      describe(os, *k, why);
      if (k->schedule == "llvm")
        return;
      writeAttr<HalideKernelAttrHelper>(op, StringAttr::get(op->getContext(), k->name));
      requests.push_back(halideKernelToAttr(op->getContext(), *k));
    });
    if (int8Activations && !int8Products && !int8Only) { // (NPUs: the driver says why)
      module.emitError("int8 activations need products with int8 or 4/5/6-bit weights "
                       "(--quantize=q8 or q4, or a Q8_0/Q4_0/K-quant GGUF)");
      return signalPassFailure();
    }
    if (!requests.empty())
      writeAttr<HalideKernelsAttrHelper>(module, ArrayAttr::get(module.getContext(), requests));
    if (!kernelsList.empty()) {
      std::error_code ec;
      llvm::raw_fd_ostream f(kernelsList, ec);
      if (ec) {
        module.emitError() << kernelsList << ": " << ec.message();
        return signalPassFailure();
      }
      f << list;
    }
  }

  /// Why a kernel Halide would take stays on the LLVM lowering ("" if not).
  std::string whyLLVM(const HalideKernel &k, bool masked) {
    int64_t tile = 8 * vectorWidth;
    if (k.op != "cfc_epilogue" && k.op != "attention" && k.n % tile)
      return " (outputs not a multiple of the " + std::to_string(tile) + "-wide tiles)";
    if (k.op == "attention" && k.headDim % (2 * vectorWidth))
      return " (head_dim not a multiple of " + std::to_string(2 * vectorWidth) + ")";
    if (masked)
      return " (masked: packed block-sparse)";
    if (k.op == "matmul" && k.weight != "f32" && k.weight != "f16" && k.weight != "q8")
      return " (" + k.weight + " weights: LLVM kernels only)";
    if (int8Only && (k.op != "matmul" || k.weight != "q8"))
      return " (float kernel: no float vectors in Halide's HVX backend)";
    if (gpu && k.op != "matmul")
      return " (on the CPU: the GPU runs the products)";
    return "";
  }

  static void describe(llvm::raw_ostream &os, const HalideKernel &k, const std::string &why) {
    os << k.name << "  ";
    if (k.op == "cfc_epilogue")
      os << "cfc-epilogue [" << k.n << " units]  ";
    else if (k.op == "attention")
      os << "attention [" << k.heads << "/" << k.kvHeads << " heads x " << k.headDim << ", "
         << k.context << " cache rows]  ";
    else
      os << (k.op == "shortconv" ? "conv " : "") << k.weight << (k.acts == "q8" ? " x q8" : "")
         << " [" << k.n << " x " << k.k << "]  ";
    os << (k.schedule == "llvm" ? "llvm" : "halide " + k.schedule) << why << "  " << k.weightName
       << "\n";
  }
};

} // namespace

//===----------------------------------------------------------------------===//
// The requests on the module, both ways
//===----------------------------------------------------------------------===//

DictionaryAttr mlir::liquid::halideKernelToAttr(MLIRContext *ctx, const HalideKernel &k) {
  Builder b(ctx);
  NamedAttrList d;
  auto str = [&](StringRef key, const std::string &v) { d.append(key, b.getStringAttr(v)); };
  auto i64 = [&](StringRef key, int64_t v) { d.append(key, b.getI64IntegerAttr(v)); };
  str("op", k.op), str("mode", k.mode), str("name", k.name), str("weight_name", k.weightName);
  str("weight", k.weight), str("acts", k.acts), str("schedule", k.schedule);
  i64("k", k.k), i64("n", k.n), i64("heads", k.heads), i64("kv_heads", k.kvHeads);
  i64("head_dim", k.headDim), i64("context", k.context);
  d.append("eps", b.getF64FloatAttr(k.eps));
  return d.getDictionary(ctx);
}

std::vector<HalideKernel> mlir::liquid::readHalideKernels(ModuleOp module) {
  std::vector<HalideKernel> out;
  ArrayAttr list = readAttr<HalideKernelsAttrHelper>(module);
  if (!list)
    return out;
  for (auto d : list.getAsRange<DictionaryAttr>()) {
    auto str = [&](StringRef key) { return cast<StringAttr>(d.get(key)).getValue().str(); };
    auto i64 = [&](StringRef key) { return cast<IntegerAttr>(d.get(key)).getInt(); };
    HalideKernel k;
    k.op = str("op"), k.mode = str("mode"), k.name = str("name"), k.weightName = str("weight_name");
    k.weight = str("weight"), k.acts = str("acts"), k.schedule = str("schedule");
    k.k = i64("k"), k.n = i64("n"), k.heads = i64("heads"), k.kvHeads = i64("kv_heads");
    k.headDim = i64("head_dim"), k.context = i64("context");
    k.eps = cast<FloatAttr>(d.get("eps")).getValueAsDouble();
    out.push_back(std::move(k));
  }
  return out;
}
