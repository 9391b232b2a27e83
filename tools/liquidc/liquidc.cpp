//===- liquidc.cpp - the liquid compiler driver -----------------------------===//
//
// liquidc MODEL -o OUT [--emit=exe|lib|obj|asm|llvm|llvm-dialect|vector|mlir]
//
// A list of stages: parse the options, import the model, run the pipelines
// of liquid/Passes/Pipelines.h (the ones liquid-opt runs), emit.
//
//===----------------------------------------------------------------------===//
#include "Artifact.h"
#include "Emit.h"
#include "Options.h"

#include "liquid/Dialect/Liquid.h"
#include "liquid/Frontend/Importer.h"
#include "liquid/Frontend/Lfm2Importer.h"
#include "liquid/Frontend/Lfm2Model.h"
#include "liquid/Frontend/NcpsModel.h"
#include "liquid/Frontend/Printable.h"
#include "liquid/Frontend/Tokenizer.h"
#include "liquid/Passes/Pipelines.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/Extensions/AllExtensions.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>
#include <csignal>
#include <malloc.h>
#include <sys/resource.h>

using namespace mlir;
using namespace ::liquid;

namespace {

std::string sanitize(llvm::StringRef s) {
  std::string r;
  for (char c : s)
    r += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0])))
    r = "m_" + r;
  return r;
}

/// The imported model: its IR, name, and the checkpoint tensors (none for IR).
struct Input {
  OwningOpRef<ModuleOp> module;
  std::string name;
  NcpsModel cell;
  Lfm2Model lm;
  WeightStore lmWeights;
  const WeightStore *weights = nullptr;
  std::vector<uint8_t> tokenizer; ///< language models: the image, empty if none
};

/// A language model's tokenizer, when the checkpoint has one: read, checked
/// (what the runtime cannot reproduce exactly is an error) and stored.
void importTokenizer(const DriverOptions &o, Input &in) {
  TokenizerSpec spec;
  std::string err;
  if (!loadTokenizer(o.input, spec, err))
    fail(err);
  if (spec.tokens.empty())
    return;
  ChatTemplateChoice chat = o.chatTemplate == "chatml" ? ChatTemplateChoice::ChatML
                            : o.chatTemplate == "none" ? ChatTemplateChoice::None
                                                       : ChatTemplateChoice::Auto;
  if (!buildTokenizerImage(spec, chat, in.tokenizer, err))
    fail(err);
  if (static_cast<int64_t>(spec.tokens.size()) > in.lm.config.vocab)
    fail(spec.source + ": the tokenizer has " + std::to_string(spec.tokens.size()) +
         " tokens, more than the model's vocabulary of " + std::to_string(in.lm.config.vocab));
}

void importInput(MLIRContext &ctx, const DriverOptions &o, Input &in) {
  std::string err;
  llvm::StringRef path(o.input);
  switch (o.inputKind) {
  case InputKind::LanguageModel: {
    if (!loadLfm2Model(o.input, in.lm, err))
      fail(err);
    llvm::StringRef base = llvm::sys::path::filename(path.rtrim('/'));
    if (base == "config.json")
      base = llvm::sys::path::filename(llvm::sys::path::parent_path(path));
    in.name = sanitize(llvm::sys::path::stem(base));
    Lfm2ImportOptions opts;
    opts.name = in.name;
    opts.maxContext = o.maxContext;
    opts.maxRows = o.maxRows;
    opts.weightType = o.weightType;
    in.module = importLfm2Model(ctx, in.lm, opts, in.lmWeights, err);
    if (!in.module)
      fail(err);
    in.weights = &in.lmWeights;
    importTokenizer(o, in);
    break;
  }
  case InputKind::IR: {
    llvm::SourceMgr sm;
    SourceMgrDiagnosticHandler handler(sm, &ctx);
    in.module = parseSourceFile<ModuleOp>(o.input, sm, ParserConfig(&ctx));
    if (!in.module)
      fail("cannot parse " + o.input);
    in.name = sanitize(llvm::sys::path::stem(path));
    break;
  }
  case InputKind::Cell:
    if (!loadNcpsModel(o.input, in.cell, err, o.weightsOverride))
      fail(err);
    for (const std::string &out : {o.output, o.weightsOut})
      checkOutputPath(out, {in.cell.weightsPath}); // the spec's weights
    in.name = in.cell.name;
    in.module = importNcpsModel(ctx, in.cell);
    in.weights = &in.cell.weights;
    break;
  }
  if (o.inputKind != InputKind::IR && failed(mlir::verify(*in.module)))
    fail("the imported IR of " + o.input + " does not verify");
  bool lm = llvm::any_of(in.module->getOps<func::FuncOp>(), [](func::FuncOp f) {
    return mlir::liquid::hasAttr<mlir::liquid::MaxRowsAttrHelper>(f);
  });
  if (!lm && !in.module->walk([](mlir::liquid::ScanOp) { return WalkResult::interrupt(); })
                  .wasInterrupted())
    fail(o.input + ": nothing to compile (no function contains a liquid.scan)");
}

/// Runs the pipelines one by one; with --dump-stages writes the IR after
/// each; the MLIR pass-manager options (--mlir-print-ir-after, --mlir-timing,
/// ...) apply to every one.
class Stages {
public:
  Stages(MLIRContext &ctx, const DriverOptions &o) : ctx(ctx), o(o) {
    timing.setEnabled(false);
    applyDefaultTimingManagerCLOptions(timing);
    root = timing.getRootScope();
  }

  void setModule(ModuleOp m) { module = m; }

  /// Runs `fn` as stage `name`: timed under --mlir-timing, which also prints
  /// the stage's wall time and the peak memory (resident set) so far.
  void timed(llvm::StringRef name, llvm::function_ref<void(TimingScope &)> fn) {
    TimingScope scope = root.nest(name);
    auto start = std::chrono::steady_clock::now();
    fn(scope);
    scope.stop();
    if (!timing.isEnabled())
      return;
    std::chrono::duration<double> s = std::chrono::steady_clock::now() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    llvm::errs() << llvm::format("liquidc: stage %-8s %8.2f s   peak RSS %7.0f MB\n",
                                 name.str().c_str(), s.count(), ru.ru_maxrss / 1024.0);
  }

  void dump(llvm::StringRef stage) {
    if (o.dumpStages.empty())
      return;
    llvm::SmallString<256> p(o.dumpStages);
    llvm::sys::path::append(p, llvm::formatv("{0:02}-{1}.mlir", ++index, stage).str());
    writeModule(std::string(p));
  }

  /// The module's text to `path`, written beside it and renamed.
  void writeModule(const std::string &path) {
    std::string text, err;
    llvm::raw_string_ostream os(text);
    module.print(os, printingFlags());
    if (!writeAtomically(path, text, err))
      fail(err);
  }

  void run(llvm::StringRef stage, llvm::function_ref<void(OpPassManager &)> populate) {
    timed(stage, [&](TimingScope &scope) { runPasses(stage, populate, scope); });
  }

  void runPasses(llvm::StringRef stage, llvm::function_ref<void(OpPassManager &)> populate,
                 TimingScope &scope) {
    PassManager pm(&ctx);
    populate(pm);
    if (failed(applyPassManagerCLOptions(pm)))
      fail("bad MLIR pass-manager options");
    pm.enableTiming(scope);
    // The first error is the one to report, as INPUT: MESSAGE.
    std::string first;
    ScopedDiagnosticHandler capture(&ctx, [&](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error && first.empty())
        first = d.str();
      if (d.getSeverity() == DiagnosticSeverity::Warning)
        llvm::errs() << "liquidc: warning: " << printableLine(o.input + ": " + d.str()) << "\n";
      return success();
    });
    if (failed(pm.run(module)))
      fail(o.input + ": " + (first.empty() ? "pipeline '" + stage.str() + "' failed" : first));
    dump(stage);
  }

  /// --emit=mlir|vector|llvm-dialect: the IR to -o (stdout without it).
  void print() {
    if (!o.output.empty() && o.output != "-")
      return writeModule(o.output);
    std::string err;
    auto out = openOutputFile("-", &err);
    if (!out)
      fail(err);
    module.print(out->os(), printingFlags());
    if (!keepOutput(*out, "-", err)) {
      out.reset(); // not kept: removed (fail() runs no destructors)
      fail(err);
    }
  }

  /// The packed weights (liquid.weight_data) would print as megabytes of
  /// hex: resources over 4 KiB print as `dense_resource<__elided__>`.
  static OpPrintingFlags printingFlags() {
    return OpPrintingFlags().elideLargeResourceString(4096);
  }

private:
  MLIRContext &ctx;
  const DriverOptions &o;
  ModuleOp module;
  DefaultTimingManager timing;
  TimingScope root;
  int index = 0;
};

/// Where a language model's packed weights go while they are packed, so the
/// compiler holds one tensor at a time: the .lqw file the artifact needs
/// (--weights-out, else OUT.lqw), or nowhere when nothing needs them (obj,
/// asm, llvm and IR output). Cells and --embed-weights keep them in the
/// module; so does IR input.
class WeightDestination {
public:
  explicit WeightDestination(const DriverOptions &o) {
    bool embed = o.embedWeightsGiven && o.embedWeights;
    if (o.inputKind != InputKind::LanguageModel || embed)
      return;
    std::string path = !o.weightsOut.empty()                      ? o.weightsOut
                       : o.emit == Emit::Exe || o.emit == Emit::Lib ? o.output + ".lqw"
                                                                  : "";
    if (path.empty()) {
      sink = &discard;
      return;
    }
    std::string err;
    if (!file.open(path, err))
      fail(err);
    sink = &file;
    streamed = &file;
  }

  WeightSink *sink = nullptr;
  LqwStream *streamed = nullptr;

private:
  struct Discard : WeightSink {
    bool write(int64_t, const float *, size_t, std::string &) override { return true; }
  } discard;
  LqwStream file;
};

void printWeightsLine(ModuleOp module) {
  auto w = cast<mlir::liquid::WeightBlobAttr>(
      mlir::liquid::readAttr<mlir::liquid::WeightsAttrHelper>(module));
  llvm::outs() << llvm::format("weights: %lld B packed (%lld-float vectors); not in the arena\n",
                               (long long)w.getSize() * 4, (long long)w.getLanes());
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // A write past the file-size limit is an error to report, not a kill.
  signal(SIGXFSZ, SIG_IGN);
#ifdef __GLIBC__
  // Packing decodes one large tensor after another, on several threads:
  // one arena that keeps freed memory for the next tensor instead of mapping
  // (and zeroing) fresh pages each time.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);
  mallopt(M_ARENA_MAX, 1);
#endif
  DriverOptions o = parseDriverOptions(argc, argv);

  DialectRegistry registry;
  registry.insert<mlir::liquid::LiquidDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                  vector::VectorDialect, tensor::TensorDialect, cf::ControlFlowDialect,
                  LLVM::LLVMDialect, ub::UBDialect>();
  func::registerAllExtensions(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  Stages stages(ctx, o);
  Input in;
  stages.timed("import", [&](TimingScope &) { importInput(ctx, o, in); });
  std::string prefix = o.name.empty() ? in.name : sanitize(o.name);
  o.compiler.kernelPrefix = prefix;

  stages.setModule(*in.module);
  stages.dump("import");
  stages.run("optimize", mlir::liquid::populateLiquidOptimizationPipeline);
  if (o.emit == Emit::MLIR)
    return stages.print(), 0;

  WeightDestination weights(o);
  stages.run("vector", [&](OpPassManager &pm) {
    mlir::liquid::populateLiquidToVectorPipeline(pm, o.compiler, in.weights, weights.sink);
  });
  if (o.compiler.printMemoryPlan)
    printWeightsLine(*in.module);
  if (o.emit == Emit::Vector)
    return stages.print(), 0;

  stages.run("llvm", [&](OpPassManager &pm) {
    mlir::liquid::populateLowerToLLVMPipeline(pm, o.compiler.indexBitwidth);
  });
  if (o.emit == Emit::LLVMDialect)
    return stages.print(), 0;

  CompiledModel m{*in.module,          prefix,
                  in.name,             mlir::liquid::packedWeightData(*in.module),
                  in.lm.config.bos,    in.lm.config.eos,
                  in.tokenizer,        weights.streamed};
  std::string err;
  bool ok = true;
  stages.timed("emit", [&](TimingScope &scope) { ok = emitArtifact(o, m, err, &scope); });
  if (!ok)
    fail(err);
  return 0;
}
