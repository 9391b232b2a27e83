//===- liquidc.cpp - the liquid compiler driver -----------------------------===//
//
// liquidc MODEL -o OUT --emit=exe|lib|obj|mlir|llvm|asm [--target=NAME]
//
// MODEL is an ncps model spec (.json, weights in the .safetensors it names or
// beside it) or liquid-dialect IR (.mlir; layout only, no weights).
//
//===----------------------------------------------------------------------===//
#include "Artifact.h"
#include "HalideBackend.h"

#include "liquid/Codegen/Codegen.h"
#include "liquid/Dialect/Liquid.h"
#include "liquid/Frontend/Importer.h"
#include "liquid/Frontend/Lfm2Importer.h"
#include "liquid/Frontend/Lfm2Model.h"
#include "liquid/Frontend/NcpsModel.h"
#include "liquid/Passes/Passes.h"
#include "liquid/Targets/Targets.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/Extensions/AllExtensions.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <functional>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory cat("liquidc options");
static cl::opt<std::string> inputPath(cl::Positional,
                                      cl::desc("<model.json | HF folder | model.gguf | model.mlir>"),
                                      cl::cat(cat));
static cl::opt<std::string> outputPath("o", cl::desc("Output file"), cl::value_desc("path"),
                                       cl::cat(cat));
enum class Emit { Exe, Lib, Obj, MLIR, LLVM, Asm };
static cl::opt<Emit> emitKind(
    "emit", cl::desc("What to produce (default: exe)"), cl::init(Emit::Exe),
    cl::values(clEnumValN(Emit::Exe, "exe", "standalone executable (weights embedded)"),
               clEnumValN(Emit::Lib, "lib", "static library + C header"),
               clEnumValN(Emit::Obj, "obj", "object file with the step kernel"),
               clEnumValN(Emit::MLIR, "mlir", "liquid dialect IR after fusion"),
               clEnumValN(Emit::LLVM, "llvm", "optimized LLVM IR of the kernel"),
               clEnumValN(Emit::Asm, "asm", "assembly of the kernel")),
    cl::cat(cat));
static cl::opt<std::string> targetName("target", cl::desc("Target (see --list-targets)"),
                                       cl::init("host"), cl::cat(cat));
static cl::opt<std::string> targetCpu("target-cpu", cl::desc("Override the target's CPU"),
                                      cl::cat(cat));
static cl::opt<std::string> targetFeatures("target-features",
                                           cl::desc("Override the target's LLVM features"),
                                           cl::cat(cat));
static cl::opt<bool> listTargets("list-targets", cl::desc("List the known targets and exit"),
                                 cl::cat(cat));
static cl::opt<std::string> dumpStages("dump-stages",
                                       cl::desc("Write the IR after each pipeline stage to DIR"),
                                       cl::value_desc("DIR"), cl::cat(cat));
static cl::opt<bool> printIRAfterAll("mlir-print-ir-after-all",
                                     cl::desc("Print the IR after every pass (to stderr)"),
                                     cl::cat(cat));
static cl::opt<bool> printPlan("print-memory-plan",
                               cl::desc("Print the static memory plan (bytes per buffer, total)"),
                               cl::cat(cat));
static cl::opt<std::string> modelName("name", cl::desc("C symbol prefix (default: model name)"),
                                      cl::cat(cat));
static cl::opt<std::string> weightsOverride(
    "weights", cl::desc("Checkpoint .safetensors (default: the one the spec names or beside it)"),
    cl::cat(cat));
static cl::opt<bool> embedWeights("embed-weights",
                                  cl::desc("Embed the weights in exe/lib (default: on for cells, "
                                           "off for language models); when off, OUT.lqw is "
                                           "written and loaded at run time"),
                                  cl::init(true), cl::cat(cat));
static cl::opt<std::string> weightsOut("weights-out",
                                       cl::desc("Also write the packed weights (.lqw) here"),
                                       cl::cat(cat));
static cl::opt<bool> blockSparse("block-sparse",
                                 cl::desc("Pack masked (wired) weights block-sparse where at least "
                                          "25% of their vector-wide blocks are zero (default: on)"),
                                 cl::init(true), cl::cat(cat));
static cl::opt<int> vectorWidth("vector-width",
                                cl::desc("Floats per vector in the kernels: 8, 16, or 0 = from "
                                         "the target (16 with AVX-512F, else 8)"),
                                cl::init(0), cl::cat(cat));
static cl::opt<int> maxContext("max-context",
                               cl::desc("Language models: KV cache length in tokens (default 4096)"),
                               cl::init(4096), cl::cat(cat));
static cl::opt<int> maxRows("max-rows",
                            cl::desc("Language models: tokens per forward call, the prefill "
                                     "chunk (default 64)"),
                            cl::init(64), cl::cat(cat));
static cl::opt<std::string> weightType(
    "weight-type",
    cl::desc("Language models: element type of the products' weights: auto (as the checkpoint "
             "stores them; F16 stays F16, Q8_0 stays int8), f32, f16, q8"),
    cl::init("auto"), cl::cat(cat));
static cl::opt<std::string> quantize(
    "quantize",
    cl::desc("Language models: none, or q8 (int8 weights with a scale per block of 32 inputs, "
             "the layout of GGUF Q8_0; the same as --weight-type=q8)"),
    cl::init("none"), cl::cat(cat));
static cl::opt<std::string> activations(
    "activations",
    cl::desc("Language models: f32 (default), or q8: int8 x int8 products, each row's inputs "
             "quantized per block of 32 as llama.cpp's Q8_0 kernels do (needs q8 weights and "
             "the Halide backend; implied by the hexagon target)"),
    cl::init("f32"), cl::cat(cat));
static cl::opt<std::string> backendName(
    "backend",
    cl::desc("Kernel code generator for the language models' products: llvm (default) or halide "
             "(liquid-halide-gen, Halide 14)"),
    cl::init("llvm"), cl::cat(cat));
static cl::opt<std::string> halideScheduleFile(
    "halide-schedule",
    cl::desc("JSON file choosing per kernel: llvm, hand, mullapudi2016, adams2019 or li2018 "
             "({\"default\": ..., \"kernels\": {name: ...}}); implies --backend=halide"),
    cl::cat(cat));
static cl::opt<std::string> dumpKernels(
    "dump-kernels",
    cl::desc("Folder: the list of products and, per Halide kernel, its statement, assembly, "
             "schedule and a cost line"),
    cl::cat(cat));
static cl::opt<bool> testGpuEntryPoints(
    "test-gpu-entry-points", cl::Hidden,
    cl::desc("Testing: the CUDA targets' kernel entry points (one launch for all column tiles, "
             "weights kept) in front of CPU Halide kernels, to check them without a GPU"),
    cl::cat(cat));
static cl::opt<bool> halideProfile(
    "halide-profile",
    cl::desc("Halide kernels measure themselves (Halide's sampling profiler): the program prints "
             "each kernel's time, calls and per-stage split when it exits"),
    cl::cat(cat));
static cl::opt<std::string> ccOverride("cc", cl::desc("C compiler for the runtime and linking"),
                                       cl::cat(cat));

namespace {

/// The temporary folder of the artifact being built (removed by fail() too).
std::string *activeWorkDir = nullptr;

[[noreturn]] void fail(const llvm::Twine &msg) {
  llvm::errs() << "liquidc: error: " << msg << "\n";
  if (activeWorkDir)
    llvm::sys::fs::remove_directories(*activeWorkDir);
  std::exit(1);
}

std::string sanitize(llvm::StringRef s) {
  std::string r;
  for (char c : s)
    r += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0])))
    r = "m_" + r;
  return r;
}

class StageRunner {
public:
  StageRunner(MLIRContext &ctx, ModuleOp module) : ctx(ctx), module(module) {}

  void dump(const std::string &name) {
    if (dumpStages.empty())
      return;
    llvm::SmallString<256> p(dumpStages.getValue());
    llvm::sys::path::append(p, llvm::formatv("{0:02}-{1}.mlir", ++index, name).str());
    std::error_code ec;
    llvm::raw_fd_ostream os(p, ec);
    if (ec)
      fail(llvm::Twine(p) + ": " + ec.message());
    module.print(os);
  }

  void run(const std::string &name, llvm::function_ref<void(OpPassManager &)> build) {
    PassManager pm(&ctx);
    build(pm);
    if (printIRAfterAll) {
      ctx.disableMultithreading();
      pm.enableIRPrinting([](Pass *, Operation *) { return false; },
                          [](Pass *, Operation *) { return true; }, /*module scope*/ true,
                          /*only on change*/ false);
    }
    if (failed(pm.run(module)))
      fail("pipeline stage '" + name + "' failed on " + inputPath);
    dump(name);
  }

private:
  MLIRContext &ctx;
  ModuleOp module;
  int index = 0;
};

/// The plan of a language-model function: caches by kind, activations,
/// scratch, next to what an all-attention model of the same shape would need
/// for its KV caches at the same context.
void printLMMemoryPlan(ModuleOp module, func::FuncOp f, llvm::raw_ostream &os) {
  auto plan = f->getAttrOfType<DictionaryAttr>("liquid.arena");
  int64_t ctx = f->getAttrOfType<IntegerAttr>("liquid.max_context").getInt();
  int64_t rows = f->getAttrOfType<IntegerAttr>("liquid.max_rows").getInt();
  int64_t kv = 0, conv = 0, kvLayers = 0, layers = 0, kvPerLayer = 0;
  for (auto sb : module.getOps<mlir::liquid::StateBufferOp>()) {
    auto t = cast<RankedTensorType>(sb.getType());
    int64_t bytes = t.getNumElements() * 4;
    ++layers;
    if (sb.getKind() == mlir::liquid::StateKind::KVCache) {
      kv += bytes;
      ++kvLayers;
      kvPerLayer = bytes;
    } else {
      conv += bytes;
    }
  }
  int64_t act = 0, scratch = 0;
  for (Operation &op : f.getBody().front()) {
    if (auto offs = op.getAttrOfType<DenseI64ArrayAttr>("liquid.offset"))
      for (auto [i, r] : llvm::enumerate(op.getResults()))
        if (offs[i] >= 0)
          act += rows * cast<RankedTensorType>(r.getType()).getDimSize(1) * 4;
    if (auto sf = op.getAttrOfType<IntegerAttr>("liquid.scratch_floats"))
      scratch += sf.getInt() * 4;
  }
  int64_t arena = cast<IntegerAttr>(plan.get("size")).getInt() * 4;
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
  f.walk([&](mlir::liquid::MoEExpertsOp m) {
    auto gu = cast<RankedTensorType>(m.getGateUp().getType());
    int64_t k = cast<RankedTensorType>(m.getExperts().getType()).getDimSize(1);
    auto wt = m.getWeightType();
    int64_t perExpert = 3 * gu.getDimSize(1) / 2 * gu.getDimSize(2);
    perExpert = wt == mlir::liquid::WeightStorage::F32   ? perExpert * 4
                : wt == mlir::liquid::WeightStorage::F16 ? perExpert * 2
                                                         : perExpert * 9 / 8;
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
    if (f->hasAttr("liquid.max_rows"))
      printLMMemoryPlan(module, f, os);
  module.walk([&](mlir::liquid::ScanOp scan) {
    auto plan = scan->getAttrOfType<DictionaryAttr>("liquid.arena");
    if (!plan)
      return;
    Block &body = scan.getBody().front();
    auto states = cast<DenseI64ArrayAttr>(plan.get("states"));
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
                       (long long)cast<IntegerAttr>(plan.get("input")).getInt() * 4);
    for (Operation &op : body) {
      if (auto offs = op.getAttrOfType<DenseI64ArrayAttr>("liquid.offset")) {
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
      if (auto s = op.getAttrOfType<IntegerAttr>("liquid.scratch")) {
        int64_t n = op.getAttrOfType<IntegerAttr>("liquid.scratch_floats").getInt() * 4;
        scratchBytes += n;
        os << llvm::format("  %-10s %-28s %10lld %10lld\n", "scratch",
                           op.getName().getStringRef().str().c_str(), (long long)n,
                           (long long)s.getInt() * 4);
      }
    }
    int64_t arena = cast<IntegerAttr>(plan.get("size")).getInt() * 4;
    os << llvm::format("  state %lld B, activations %lld B (before reuse), scratch %lld B\n",
                       (long long)stateBytes, (long long)actBytes, (long long)scratchBytes);
    os << llvm::format("  arena total %lld B (64-byte aligned, padded slots, reused by liveness); "
                       "no allocation per step\n",
                       (long long)arena);
  });
}

::liquid::KernelInfo kernelInfo(ModuleOp module, const std::string &prefix, const std::string &name) {
  ::liquid::KernelInfo k;
  k.prefix = prefix;
  k.modelName = name;
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
    auto info = fn->getAttrOfType<DictionaryAttr>("liquid.kernel");
    if (!info)
      continue;
    auto i64 = [&](StringRef key) { return cast<IntegerAttr>(info.get(key)).getInt(); };
    k.inputSize = i64("input_size");
    k.outputSize = i64("output_size");
    k.inputOffset = i64("input");
    k.outputOffset = i64("output");
    k.arenaFloats = i64("arena_size");
    auto s = cast<DenseI64ArrayAttr>(info.get("states")).asArrayRef();
    auto ss = cast<DenseI64ArrayAttr>(info.get("state_sizes")).asArrayRef();
    k.stateOffsets.assign(s.begin(), s.end());
    k.stateSizes.assign(ss.begin(), ss.end());
  }
  auto w = module->getAttrOfType<DictionaryAttr>("liquid.weights");
  if (!w || k.stateSizes.empty())
    fail("the lowered module has no step kernel");
  k.weightsFloats = cast<IntegerAttr>(w.get("size")).getInt();
  k.weightsHash = cast<StringAttr>(w.get("hash")).getValue().str();
  return k;
}

/// A temporary folder for an artifact's intermediate files, removed at exit.
struct WorkDir {
  std::string path;
  WorkDir() {
    llvm::SmallString<128> p;
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("liquidc", p))
      fail(llvm::Twine("cannot create a temporary folder: ") + ec.message());
    path = std::string(p);
    activeWorkDir = &path;
  }
  ~WorkDir() {
    activeWorkDir = nullptr;
    llvm::sys::fs::remove_directories(path);
  }
  /// Compiles the lowered module to <folder>/<prefix>_kernel.o.
  std::string kernelObject(ModuleOp module, const ::liquid::MachineOptions &machine,
                           const std::string &prefix) {
    llvm::SmallString<256> obj(path);
    llvm::sys::path::append(obj, prefix + "_kernel.o");
    std::string err;
    if (!::liquid::emitModule(module, machine, ::liquid::OutputKind::Object, std::string(obj), err))
      fail(err);
    return std::string(obj);
  }
};

/// The parts of an artifact request every kind shares.
::liquid::ArtifactRequest artifactRequest(const ::liquid::TargetInfo *target, const WorkDir &work,
                                          const std::string &kernelObj,
                                          const std::vector<float> &blob, bool embed) {
  ::liquid::ArtifactRequest req;
  req.output = outputPath;
  req.kernelObject = kernelObj;
  req.weights = &blob;
  req.embedWeights = embed;
  req.target = target;
  req.cc = ccOverride;
  if (const char *f = std::getenv("LIQUIDC_CFLAGS"))
    req.extraCFlags = f;
  req.workDir = work.path;
  return req;
}

/// --emit=obj|asm|llvm: the lowered module to -o (stdout without it).
int emitMachineCode(ModuleOp module, const ::liquid::MachineOptions &machine) {
  auto kind = emitKind == Emit::LLVM  ? ::liquid::OutputKind::LLVMIR
              : emitKind == Emit::Asm ? ::liquid::OutputKind::Assembly
                                      : ::liquid::OutputKind::Object;
  std::string err;
  if (!::liquid::emitModule(module, machine, kind, outputPath.empty() ? "-" : outputPath.getValue(),
                            err))
    fail(err);
  return 0;
}

/// Multiply-adds of a language model's products, per token, x 2.
int64_t lmFlopsPerToken = 0;
/// Of those, the head's (it runs on the last row of a prompt chunk only).
int64_t lmHeadFlops = 0;
/// Bytes of expert weights a token does not read (experts not routed to).
int64_t lmUnreadExpertBytes = 0;
/// The products given to Halide (--backend=halide), and the Halide target.
std::vector<::liquid::HalideKernel> halideKernels;
int64_t halideLanes = 0;
bool useHalide = false;
/// Hexagon: Halide gets the int8 products only; GPUs: the products only.
/// `halideRestriction` says why the other kernels stay LLVM.
bool halideIntegerOnly = false;
std::string halideRestriction;
::liquid::HalideSchedule halideSchedule;

/// Runs liquid-halide-gen for the Halide kernels (none: nothing to do) in
/// `workDir` and adds what it made to `req`.
bool addHalideKernels(::liquid::ArtifactRequest &req, const ::liquid::TargetInfo *target,
                      const std::string &workDir, int64_t rowsEstimate, std::string &err,
                      std::vector<std::string> *ptx = nullptr) {
  if (halideKernels.empty())
    return true;
  ::liquid::HalideBuild hb;
  std::string halideTarget = ::liquid::halideTargetFor(*target);
  if (halideProfile)
    halideTarget += "-profile";
  if (!::liquid::runHalideGen(halideTarget, halideLanes, 8 * halideLanes,
                              rowsEstimate, halideKernels, workDir, dumpKernels, hb, err,
                              testGpuEntryPoints))
    return false;
  if (ptx)
    *ptx = hb.ptx;
  req.extraObjects = hb.objects;
  req.extraSources = hb.sources;
  req.extraIncludes = {hb.includeDir};
  return true;
}

/// --emit=obj|asm|llvm with Halide kernels: obj is one relocatable object
/// holding the LLVM kernel, the Halide kernels, their C entry points and the
/// Halide runtime; asm and llvm show the LLVM part (--dump-kernels has the
/// Halide assembly).
int emitCode(ModuleOp module, const ::liquid::MachineOptions &machine,
             const ::liquid::TargetInfo *target, int64_t rowsEstimate) {
  if (halideKernels.empty())
    return emitMachineCode(module, machine);
  bool obj = emitKind == Emit::Obj;
  bool ptx = emitKind == Emit::Asm && target->kind == "gpu";
  if (!obj && !ptx && dumpKernels.empty())
    return emitMachineCode(module, machine);
  WorkDir work;
  ::liquid::ArtifactRequest req;
  std::string err;
  std::vector<std::string> ptxFiles;
  if (!addHalideKernels(req, target, work.path, rowsEstimate, err, &ptxFiles))
    fail(err);
  if (ptx) {
    std::string text;
    if (!::liquid::mergePtx(ptxFiles, text, err))
      fail(err);
    auto out = openOutputFile(outputPath.empty() ? "-" : outputPath.getValue(), &err);
    if (!out)
      fail(err);
    out->os() << text;
    out->keep();
    return 0;
  }
  if (!obj)
    return emitMachineCode(module, machine);
  req.output = outputPath;
  req.kernelObject = work.kernelObject(module, machine, "kernel");
  req.target = target;
  req.cc = ccOverride;
  req.workDir = work.path;
  if (!::liquid::linkRelocatable(req, err))
    fail(err);
  return 0;
}

/// Names the products (<prefix>_hl<i>, in program order), chooses each one's
/// schedule, marks those Halide generates with liquid.halide_kernel, and with
/// --dump-kernels writes DIR/kernels.txt (every product, its backend and why).
void assignHalideKernels(ModuleOp module, const std::string &prefix, int64_t lanes,
                         bool listOnly = false) {
  halideLanes = lanes;
  int64_t tile = 8 * lanes, index = 0;
  std::string list;
  llvm::raw_string_ostream os(list);
  auto consider = [&](Operation *op, Value weight, int64_t n, int64_t kIn, StringRef wtype,
                      bool masked, StringRef kind = "matmul") {
    ::liquid::HalideKernel k;
    k.op = kind.str();
    k.name = prefix + "_hl" + std::to_string(index++);
    // the weight's name; a fused weight lists its parts
    std::function<std::string(Value)> nameOf = [&](Value v) -> std::string {
      Operation *def = v.getDefiningOp();
      if (auto c = dyn_cast_or_null<mlir::liquid::WeightConcatOp>(def)) {
        std::string s;
        for (Value in : c.getInputs())
          s += (s.empty() ? "" : "+") + nameOf(in);
        return s;
      }
      if (auto m = dyn_cast_or_null<mlir::liquid::WeightMulOp>(def))
        return nameOf(m.getOperand(0)) + "*mask";
      auto nm = def ? def->getAttrOfType<StringAttr>("name") : StringAttr();
      return nm ? nm.getValue().str() : "?";
    };
    k.weightName = k.op == "cfc_epilogue" ? "-" : nameOf(weight);
    if (auto a = dyn_cast<mlir::liquid::AttentionOp>(op)) {
      auto sb = module.lookupSymbol<mlir::liquid::StateBufferOp>(a.getStateAttr().getAttr());
      k.heads = a.getHeads();
      k.kvHeads = a.getKvHeads();
      k.headDim = a.getHeadDim();
      k.context = cast<RankedTensorType>(sb.getType()).getDimSize(1);
      k.eps = a.getEpsilon().convertToDouble();
    }
    k.weight = wtype.str();
    k.n = n;
    k.k = kIn;
    std::string why;
    k.schedule = listOnly ? "llvm" : halideSchedule.choose(k.name, k.weightName);
    if (k.schedule != "llvm" && k.op != "cfc_epilogue" && k.op != "attention" && k.n % tile)
      why = " (outputs not a multiple of the " + std::to_string(tile) + "-wide tiles)", k.schedule = "llvm";
    if (k.schedule != "llvm" && k.op == "attention" && k.headDim % (2 * lanes))
      why = " (head_dim not a multiple of " + std::to_string(2 * lanes) + ")", k.schedule = "llvm";
    if (k.schedule != "llvm" && masked)
      why = " (masked: packed block-sparse)", k.schedule = "llvm";
    if (k.schedule != "llvm" && !halideRestriction.empty() &&
        (k.op != "matmul" || (halideIntegerOnly && k.weight != "q8")))
      why = halideRestriction, k.schedule = "llvm";
    if (k.op == "matmul" && k.weight == "q8" && activations == "q8")
      k.acts = k.schedule == "llvm" ? "f32" : "q8";
    if (k.schedule == "llvm" && activations == "q8" && k.op == "matmul")
      why += " (float activations)";
    os << k.name << "  ";
    if (k.op == "cfc_epilogue")
      os << "cfc-epilogue [" << k.n << " units]  ";
    else if (k.op == "attention")
      os << "attention [" << k.heads << "/" << k.kvHeads << " heads x " << k.headDim << ", "
         << k.context << " cache rows]  ";
    else
      os << (k.op == "shortconv" ? "conv " : "") << k.weight << (k.acts == "q8" ? " x q8" : "")
         << " [" << k.n << " x " << k.k << "]  ";
    os
       << (k.schedule == "llvm" ? "llvm" : "halide " + k.schedule) << why << "  " << k.weightName
       << "\n";
    if (k.schedule == "llvm")
      return;
    op->setAttr("liquid.halide_kernel", StringAttr::get(op->getContext(), k.name));
    halideKernels.push_back(k);
  };
  module.walk([&](Operation *op) {
    if (auto l = dyn_cast<mlir::liquid::LinearOp>(op)) {
      auto wt = cast<RankedTensorType>(l.getWeight().getType());
      consider(op, l.getWeight(), wt.getDimSize(0), wt.getDimSize(1),
               mlir::liquid::stringifyWeightStorage(l.getWeightType()), false);
    } else if (auto e = dyn_cast<mlir::liquid::CfCEpilogueOp>(op)) {
      int64_t units = cast<RankedTensorType>(e.getResult().getType()).getDimSize(0);
      size_t before = halideKernels.size();
      consider(op, e.getHeads(), units, 0, "f32", false, "cfc_epilogue");
      if (halideKernels.size() > before)
        halideKernels.back().mode = mlir::liquid::stringifyCfCMode(e.getMode()).str();
    } else if (auto a = dyn_cast<mlir::liquid::AttentionOp>(op)) {
      // named by its query norm's weight (the layer's attention)
      consider(op, a.getQNorm(), a.getHeads() * a.getHeadDim(), 0, "f32", false, "attention");
    } else if (auto c = dyn_cast<mlir::liquid::ShortConvMixOp>(op)) {
      auto kt = cast<RankedTensorType>(c.getKernel().getType());
      consider(op, c.getKernel(), kt.getDimSize(0), kt.getDimSize(1), "f32", false, "shortconv");
    } else if (auto d = dyn_cast<mlir::liquid::DenseOp>(op)) {
      auto wt = cast<RankedTensorType>(d.getWeight().getType());
      consider(op, d.getWeight(), wt.getDimSize(0), wt.getDimSize(1), "f32",
               isa_and_nonnull<mlir::liquid::WeightMulOp>(d.getWeight().getDefiningOp()));
    }
  });
  if (!dumpKernels.empty()) {
    std::string err;
    llvm::SmallString<256> p(dumpKernels.getValue());
    llvm::sys::path::append(p, "kernels.txt");
    std::error_code ec;
    llvm::raw_fd_ostream f(p, ec);
    if (ec)
      fail(std::string(p) + ": " + ec.message());
    f << list;
  }
}

/// The language-model tail of main: obj/asm/llvm, or an executable whose
/// weights go to OUT.lqw (memory-mapped at run time).
int emitLanguageModel(ModuleOp module, const ::liquid::MachineOptions &machine,
                      const ::liquid::TargetInfo *target, const std::string &prefix,
                      const std::string &name, const ::liquid::Lfm2Model &lm,
                      const std::vector<float> &blob) {
  ::liquid::LMKernelInfo k;
  k.prefix = prefix;
  k.modelName = name;
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>())
    if (auto info = fn->getAttrOfType<DictionaryAttr>("liquid.kernel")) {
      auto i64 = [&](StringRef key) { return cast<IntegerAttr>(info.get(key)).getInt(); };
      k.maxRows = i64("max_rows");
      k.maxContext = i64("max_context");
      k.vocab = i64("vocab");
      k.arenaFloats = i64("arena_size");
    }
  auto w = module->getAttrOfType<DictionaryAttr>("liquid.weights");
  k.weightsFloats = cast<IntegerAttr>(w.get("size")).getInt();
  k.weightsHash = cast<StringAttr>(w.get("hash")).getValue().str();
  // Bytes of weights a decoded token reads: everything but the tables it
  // reads one row of (the embedding gather, the RoPE tables).
  for (Attribute e : cast<ArrayAttr>(w.get("entries"))) {
    auto d = cast<DictionaryAttr>(e);
    if (cast<StringAttr>(d.get("layout")).getValue() != "rows")
      k.decodeBytes += cast<IntegerAttr>(d.get("floats")).getInt() * 4;
  }
  k.decodeBytes -= lmUnreadExpertBytes;
  k.flopsPerToken = lmFlopsPerToken;
  k.headFlops = lmHeadFlops;
  k.bos = lm.config.bos;
  k.eos = lm.config.eos;
  std::string err;
  if (!weightsOut.empty() && !::liquid::writeWeightsFile(weightsOut, blob, k.weightsHash, err))
    fail(err);
  if (emitKind != Emit::Exe)
    return emitCode(module, machine, target, maxRows);
  WorkDir work;
  std::string kernelObj = work.kernelObject(module, machine, prefix);
  // Language models map OUT.lqw unless --embed-weights is given explicitly.
  bool embed = embedWeights.getNumOccurrences() > 0 && embedWeights;
  if (!embed && !::liquid::writeWeightsFile(outputPath + ".lqw", blob, k.weightsHash, err))
    fail(err);
  ::liquid::ArtifactRequest req = artifactRequest(target, work, kernelObj, blob, embed);
  if (!addHalideKernels(req, target, work.path, maxRows, err) ||
      !::liquid::buildLMExecutable(k, req, err)) {
    if (!embed)
      llvm::sys::fs::remove(outputPath + ".lqw");
    fail(err);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) { os << "liquidc " LIQUIDC_VERSION "\n"; });
  cl::ParseCommandLineOptions(
      argc, argv,
      "liquidc: ahead-of-time compiler for liquid neural networks\n\n"
      "  liquidc model.json -o model                 # standalone executable\n"
      "  liquidc model.json -o libm.a --emit=lib     # static library + m.h\n"
      "  liquidc model.json --emit=mlir -o -         # inspect the IR\n"
      "  liquidc LFM2-350M/ -o lm                    # language model: lm + lm.lqw\n");

  if (listTargets) {
    llvm::outs() << llvm::format("%-20s %-4s %-20s %-14s %-6s %-10s %s\n", "target", "kind",
                                 "triple", "cpu", "floats", "L1d/L2", "runs here");
    for (const ::liquid::TargetInfo &t : ::liquid::allTargets()) {
      ::liquid::MachineOptions m = ::liquid::resolveMachine({t.triple, t.cpu, t.features});
      std::string why, lanes = "-", caches = "-";
      bool runs = ::liquid::runsHere(t, why);
      if (t.kind != "npu")
        lanes = std::to_string(t.vectorFloats ? t.vectorFloats
                                              : ::liquid::preferredVectorWidth(m));
      if (t.l1dKiB)
        caches = std::to_string(t.l1dKiB) + "K/" + std::to_string(t.l2KiB) + "K";
      std::string status = runs ? (t.runner.empty() ? "yes" : "yes, under " + t.runner.front())
                                : "compile-only (" + why + ")";
      if (t.kind == "gpu") // the device; the host part is this machine's
        m.triple = t.deviceTriple, m.cpu = t.deviceArch;
      llvm::outs() << llvm::format("%-20s %-4s %-20s %-14s %-6s %-10s %s\n", t.name.c_str(),
                                   t.kind.c_str(), m.triple.c_str(), m.cpu.c_str(), lanes.c_str(),
                                   caches.c_str(), status.c_str());
      llvm::outs() << "    " << t.description << "; features '" << m.features.substr(0, 60)
                   << (m.features.size() > 60 ? "...'" : "'") << "; Halide target "
                   << t.halideTarget << "\n";
    }
    return 0;
  }
  if (inputPath.empty())
    fail("no input model (try --help)");
  const ::liquid::TargetInfo *target = ::liquid::findTarget(targetName);
  if (!target)
    fail("unknown target '" + targetName + "' (known: " + ::liquid::knownTargetNames() + ")");
  if (backendName != "llvm" && backendName != "halide")
    fail("--backend must be llvm or halide, not '" + backendName + "'");
  if (target->kind == "npu") {
    // Hexagon: int8 products through Halide's HVX backend, the rest scalar.
    if (emitKind == Emit::Exe || emitKind == Emit::Lib)
      fail("target '" + targetName + "' produces objects only (--emit=obj, asm, llvm or mlir): "
           "linking and running them needs Qualcomm's Hexagon SDK");
    if (activations.getNumOccurrences() && activations != "q8")
      fail("target '" + targetName + "' needs --activations=q8 (int8 x int8 products)");
    activations = "q8";
    backendName = "halide";
    halideIntegerOnly = true;
    halideRestriction = " (float kernel: no float vectors in Halide's HVX backend)";
  }
  if (target->kind == "gpu") {
    // CUDA: the products run on the GPU as Halide kernels, the rest on the CPU.
    if (activations == "q8")
      fail("--activations=q8 is for CPU and NPU targets; '" + targetName + "' takes float inputs");
    backendName = "halide";
    halideRestriction = " (on the CPU: the GPU runs the products)";
  }
  if (outputPath.empty() && emitKind != Emit::MLIR && emitKind != Emit::LLVM &&
      emitKind != Emit::Asm)
    fail("no output file (-o)");
  bool isIR = llvm::StringRef(inputPath).ends_with(".mlir");
  if (isIR && (emitKind == Emit::Exe || emitKind == Emit::Lib))
    fail("--emit=exe and --emit=lib need a model spec with weights, not " + inputPath);
  if (!dumpStages.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpStages))
      fail(dumpStages + ": " + ec.message());

  DialectRegistry registry;
  registry.insert<mlir::liquid::LiquidDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  vector::VectorDialect, tensor::TensorDialect, cf::ControlFlowDialect,
                  LLVM::LLVMDialect, ub::UBDialect>();
  func::registerAllExtensions(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  ::liquid::NcpsModel model;
  ::liquid::Lfm2Model lm;
  ::liquid::WeightStore lmWeights;
  OwningOpRef<ModuleOp> module;
  std::string name;
  bool haveWeights = false;
  llvm::StringRef in(inputPath);
  bool isLM = in.ends_with(".gguf") || llvm::sys::fs::is_directory(inputPath) ||
              llvm::sys::path::filename(in) == "config.json";
  if (weightType != "auto" && weightType != "f32" && weightType != "f16" && weightType != "q8")
    fail("--weight-type must be auto, f32, f16 or q8, not '" + weightType + "'");
  if (quantize != "none" && quantize != "q8")
    fail("--quantize must be none or q8, not '" + quantize + "'");
  if (quantize == "q8" && weightType != "auto" && weightType != "q8")
    fail("--quantize=q8 contradicts --weight-type=" + weightType);
  useHalide = backendName == "halide" || !halideScheduleFile.empty();
  if (halideProfile && !useHalide)
    fail("--halide-profile needs --backend=halide (it measures the Halide kernels)");
  if (activations != "f32" && activations != "q8")
    fail("--activations must be f32 or q8, not '" + activations + "'");
  if (activations == "q8" && !useHalide)
    fail("--activations=q8 needs --backend=halide (int8 x int8 products are Halide kernels)");
  if (useHalide && target->halideTarget.empty())
    fail("target '" + targetName + "' has no Halide target");
  if (!halideScheduleFile.empty()) {
    std::string err;
    if (!::liquid::loadHalideSchedule(halideScheduleFile, halideSchedule, err))
      fail(err);
  }
  if (!dumpKernels.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpKernels))
      fail(dumpKernels + ": " + ec.message());
  if (!isLM && target->kind == "gpu")
    fail("target '" + targetName + "' compiles language models; " + inputPath +
         " is a cell, too small for a GPU (a step takes about as long as one kernel launch): "
         "compile it for a CPU target");
  if (!isLM && target->kind == "npu")
    fail("target '" + targetName + "' compiles language models with int8 weights; " + inputPath +
         " is not one (cells have no int8 kernels yet)");
  if (!isLM && (quantize != "none" || weightType != "auto"))
    fail("--quantize and --weight-type apply to language models (HF folders and GGUF files), "
         "not to " + inputPath);
  if (isLM) {
    if (emitKind == Emit::Lib)
      fail("--emit=lib is not available for language models yet (use exe, obj, asm, llvm or mlir)");
    if (maxContext < 1 || maxRows < 1)
      fail("--max-context and --max-rows must be positive");
    std::string err;
    if (!::liquid::loadLfm2Model(inputPath, lm, err))
      fail(err);
    llvm::StringRef base = llvm::sys::path::filename(in.rtrim('/'));
    if (base == "config.json")
      base = llvm::sys::path::filename(llvm::sys::path::parent_path(in));
    name = sanitize(llvm::sys::path::stem(base));
    ::liquid::Lfm2ImportOptions opts;
    opts.name = name;
    opts.maxContext = maxContext;
    opts.maxRows = maxRows;
    opts.weightType = quantize == "q8" ? std::string("q8") : std::string(weightType);
    module = ::liquid::importLfm2Model(ctx, lm, opts, lmWeights, err);
    if (!module)
      fail(err);
    module->walk([&](mlir::liquid::LinearOp l) {
      auto w = cast<RankedTensorType>(l.getWeight().getType());
      lmFlopsPerToken += 2 * w.getDimSize(0) * w.getDimSize(1);
      if (llvm::any_of(l->getUsers(), [](Operation *u) { return isa<func::ReturnOp>(u); }))
        lmHeadFlops = 2 * w.getDimSize(0) * w.getDimSize(1);
    });
    module->walk([&](mlir::liquid::MoEExpertsOp m) {
      auto gu = cast<RankedTensorType>(m.getGateUp().getType());
      int64_t e = gu.getDimSize(0), h = gu.getDimSize(2), per = 3 * gu.getDimSize(1) / 2 * h;
      int64_t k = cast<RankedTensorType>(m.getExperts().getType()).getDimSize(1);
      lmFlopsPerToken += 2 * e * h + 2 * k * per; // router + the k experts
      auto wt = m.getWeightType();
      int64_t unread = (e - k) * per;
      lmUnreadExpertBytes += wt == mlir::liquid::WeightStorage::F32   ? unread * 4
                             : wt == mlir::liquid::WeightStorage::F16 ? unread * 2
                                                                      : unread * 9 / 8;
    });
    if (failed(mlir::verify(*module)))
      fail("the imported IR of " + inputPath + " does not verify");
    haveWeights = true;
  } else if (isIR) {
    llvm::SourceMgr sm;
    SourceMgrDiagnosticHandler handler(sm, &ctx);
    module = parseSourceFile<ModuleOp>(inputPath, sm, ParserConfig(&ctx));
    if (!module)
      fail("cannot parse " + inputPath);
    name = sanitize(llvm::sys::path::stem(inputPath));
  } else {
    std::string err;
    if (!::liquid::loadNcpsModel(inputPath, model, err, weightsOverride))
      fail(err);
    name = model.name;
    module = ::liquid::importNcpsModel(ctx, model);
    if (failed(mlir::verify(*module)))
      fail("the imported IR of " + inputPath + " does not verify");
    haveWeights = true;
  }
  std::string prefix = modelName.empty() ? name : sanitize(modelName);
  bool hasLM = false;
  for (auto f : module->getOps<func::FuncOp>())
    hasLM |= f->hasAttr("liquid.max_rows");
  if (!hasLM &&
      !module->walk([](mlir::liquid::ScanOp) { return WalkResult::interrupt(); }).wasInterrupted())
    fail(inputPath + ": nothing to compile (no function contains a liquid.scan)");
  if (!outputPath.empty() && outputPath != "-") {
    llvm::StringRef dir = llvm::sys::path::parent_path(outputPath);
    if (!dir.empty() && !llvm::sys::fs::is_directory(dir))
      fail(outputPath + ": the folder '" + dir + "' does not exist");
  }

  StageRunner stages(ctx, *module);
  stages.dump("import");
  stages.run("optimize", [](OpPassManager &pm) { mlir::liquid::buildLiquidOptimizationPipeline(pm); });
  if (emitKind == Emit::MLIR) {
    std::string err;
    auto out = openOutputFile(outputPath.empty() ? "-" : outputPath.getValue(), &err);
    if (!out)
      fail(err);
    module->print(out->os());
    out->keep();
    return 0;
  }
  stages.run("plan-memory", [](OpPassManager &pm) {
    pm.nest<func::FuncOp>().addPass(mlir::liquid::createPlanMemory());
  });
  if (printPlan)
    printMemoryPlan(*module, llvm::outs());

  ::liquid::MachineOptions machine{target->triple, target->cpu, target->features};
  if (!targetCpu.empty())
    machine.cpu = targetCpu;
  if (!targetFeatures.empty())
    machine.features = targetFeatures;
  int64_t lanes = vectorWidth         ? vectorWidth.getValue()
                  : target->vectorFloats ? target->vectorFloats
                                         : ::liquid::preferredVectorWidth(machine);
  if (lanes != 8 && lanes != 16)
    fail("--vector-width must be 8 or 16 (or 0 for the target's choice)");

  std::vector<float> blob;
  std::string packErr;
  mlir::liquid::WeightPackingSink sink;
  if (haveWeights)
    sink = {isLM ? &lmWeights : &model.weights, &blob, &packErr};
  if (useHalide)
    assignHalideKernels(*module, prefix, lanes);
  else if (!dumpKernels.empty())
    assignHalideKernels(*module, prefix, lanes, /*listOnly=*/true);
  if (activations == "q8" &&
      llvm::none_of(halideKernels, [](const ::liquid::HalideKernel &k) { return k.acts == "q8"; }))
    fail(target->kind == "npu"
             ? "target '" + targetName + "' needs int8 weights (--quantize=q8, or a Q8_0 GGUF): "
               "its vector unit has no float arithmetic"
             : std::string("--activations=q8 needs int8 weights (--quantize=q8, or a Q8_0 GGUF)"));
  mlir::liquid::LowerToVectorOptions lopts;
  lopts.kernelPrefix = prefix;
  lopts.blockSparse = blockSparse;
  lopts.vectorWidth = lanes;
  {
    ScopedDiagnosticHandler quiet(&ctx, [&](Diagnostic &d) {
      if (packErr.empty())
        packErr = d.str();
      return success();
    });
    PassManager pm(&ctx);
    pm.addPass(mlir::liquid::createLowerToVectorPass(lopts, sink));
    if (failed(pm.run(*module)))
      fail(inputPath + ": " + (packErr.empty() ? "lowering failed" : packErr));
  }
  stages.dump("vector");
  if (printPlan) {
    auto w = (*module)->getAttrOfType<DictionaryAttr>("liquid.weights");
    llvm::outs() << llvm::format(
        "weights: %lld B packed (%lld-float vectors); not in the arena\n",
        (long long)cast<IntegerAttr>(w.get("size")).getInt() * 4,
        (long long)cast<IntegerAttr>(w.get("lanes")).getInt());
  }
  stages.run("llvm", [](OpPassManager &pm) { mlir::liquid::buildLowerToLLVMPipeline(pm); });

  if (hasLM)
    return emitLanguageModel(*module, machine, target, prefix, name, lm, blob);

  ::liquid::KernelInfo kinfo = kernelInfo(*module, prefix, name);
  if (haveWeights && !weightsOut.empty()) {
    std::string err;
    if (!::liquid::writeWeightsFile(weightsOut, blob, kinfo.weightsHash, err))
      fail(err);
  }

  std::string err;
  if (emitKind == Emit::LLVM || emitKind == Emit::Asm || emitKind == Emit::Obj)
    return emitCode(*module, machine, target, 1);

  // exe / lib (inputs with weights only, checked above)
  WorkDir work;
  std::string kernelObj = work.kernelObject(*module, machine, prefix);
  ::liquid::ArtifactRequest req = artifactRequest(target, work, kernelObj, blob, embedWeights);
  req.kind = emitKind == Emit::Exe ? ::liquid::ArtifactRequest::Exe : ::liquid::ArtifactRequest::Lib;
  if (!addHalideKernels(req, target, work.path, 1, err))
    fail(err);
  if (!embedWeights && weightsOut.empty()) {
    if (!::liquid::writeWeightsFile(outputPath + ".lqw", blob, kinfo.weightsHash, err))
      fail(err);
  }
  if (!::liquid::buildArtifact(kinfo, req, err))
    fail(err);
  return 0;
}
