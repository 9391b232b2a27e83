//===- Emit.cpp - from the lowered module to the artifact -------------------===//
//
// Reads the kernel contract the lowering recorded (liquid.kernel,
// liquid.weights, liquid.halide_kernels) and builds what --emit asks for:
// machine code of the kernels, or with the C runtime an executable or a
// library (Artifact.cpp), with the Halide kernels liquid-halide-gen makes.
//
//===----------------------------------------------------------------------===//
#include "Emit.h"
#include "Artifact.h"
#include "HalideBackend.h"

#include "liquid/Dialect/Liquid.h"
#include "liquid/Passes/Backends.h"
#include "liquid/Targets/Targets.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cstdlib>
#include <set>
#include <unistd.h>

using namespace mlir;
using namespace ::liquid;
using mlir::liquid::readAttr;

namespace {

/// A temporary folder for an artifact's intermediate files, removed when done.
/// The work folders alive: removed at exit (fail() exits without running
/// destructors) and on Ctrl-C / SIGTERM.
std::set<std::string> &liveWorkDirs() {
  static auto *dirs = new std::set<std::string>;
  return *dirs;
}
void removeWorkDirs() {
  for (const std::string &d : liveWorkDirs())
    llvm::sys::fs::remove_directories(d);
  liveWorkDirs().clear();
}
void onInterrupt() {
  removeWorkDirs(); // LLVM has removed the files registered with it
  ::_exit(130);
}

struct WorkDir {
  std::string path, error;
  WorkDir() {
    static const bool hooked = [] {
      std::atexit(removeWorkDirs);
      llvm::sys::SetInterruptFunction(onInterrupt);
      return true;
    }();
    (void)hooked;
    llvm::SmallString<128> p;
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("liquidc", p))
      error = "cannot create a temporary folder: " + ec.message();
    path = std::string(p);
    if (!path.empty())
      liveWorkDirs().insert(path);
  }
  ~WorkDir() {
    if (!path.empty()) {
      llvm::sys::fs::remove_directories(path);
      liveWorkDirs().erase(path);
    }
  }
};

/// The kernel's contract (liquid.kernel on the lowered kernel function).
Attribute kernelInfoAttr(ModuleOp module) {
  for (auto fn : module.getOps<LLVM::LLVMFuncOp>())
    if (auto info = readAttr<mlir::liquid::KernelAttrHelper>(fn))
      return info;
  return {};
}

class Emitter {
public:
  Emitter(const DriverOptions &o, const CompiledModel &m, mlir::TimingScope *timing)
      : o(o), m(m), halide(mlir::liquid::readHalideKernels(m.module)),
        timing(timing ? *timing : none) {}

  bool run(std::string &err);

private:
  bool readWeightsInfo(std::string &err);
  bool writeWeights(const std::string &path, std::string &err);
  bool emitMachineCode(std::string &err);
  bool emitCode(int64_t rowsEstimate, std::string &err);
  bool addHalideKernels(ArtifactRequest &req, const std::string &dir, int64_t rowsEstimate,
                        std::string &err, std::vector<std::string> *ptx = nullptr);
  ArtifactRequest request(const WorkDir &work, const std::string &kernelObj, bool embed);
  /// With `parts`, the kernel may come in several objects (compiled in
  /// parallel): `obj` and `parts`.
  bool kernelObject(const WorkDir &work, const std::string &prefix, std::string &obj,
                    std::string &err, std::vector<std::string> *parts = nullptr);
  bool emitCell(mlir::liquid::StepKernelAttr info, std::string &err);
  bool buildWithRuntime(const ModelRuntime &rt, bool embed, bool writeLqw, int64_t rowsEstimate,
                        std::string &err);
  bool emitLanguageModel(mlir::liquid::ForwardKernelAttr info, std::string &err);

  const DriverOptions &o;
  const CompiledModel &m;
  std::vector<HalideKernel> halide;
  mlir::TimingScope none;
  mlir::TimingScope &timing;
  int64_t weightsFloats = 0, decodeBytes = 0;
  std::string weightsHash;
};

bool Emitter::readWeightsInfo(std::string &err) {
  auto w = dyn_cast_or_null<mlir::liquid::WeightBlobAttr>(
      readAttr<mlir::liquid::WeightsAttrHelper>(m.module));
  if (!w) {
    err = "the lowered module has no packed-weight layout";
    return false;
  }
  weightsFloats = w.getSize();
  weightsHash = w.getHash().str();
  // Bytes of weights a decoded token reads: everything but the tables it
  // reads one row of (the embedding gather, the RoPE tables).
  for (auto slot : w.getSlots().getAsRange<mlir::liquid::WeightSlotAttr>())
    if (slot.getLayout() != mlir::liquid::WeightLayout::Rows)
      decodeBytes += slot.getFloats() * 4;
  return true;
}

bool Emitter::run(std::string &err) {
  if (o.target->kind == "npu" &&
      llvm::none_of(halide, [](const HalideKernel &k) { return k.acts == "q8"; })) {
    err = "target '" + o.target->name + "' needs int8 weights (--quantize=q8, or a Q8_0 "
          "GGUF): its vector unit has no float arithmetic";
    return false;
  }
  Attribute info = kernelInfoAttr(m.module);
  if (!info) {
    err = "the lowered module has no kernel";
    return false;
  }
  if (!readWeightsInfo(err))
    return false;
  if (auto lm = dyn_cast<mlir::liquid::ForwardKernelAttr>(info))
    return emitLanguageModel(lm, err);
  return emitCell(cast<mlir::liquid::StepKernelAttr>(info), err);
}

/// The .lqw file at `path`: the packed weights, with the tokenizer.
bool Emitter::writeWeights(const std::string &path, std::string &err) {
  mlir::TimingScope scope = timing.nest("weights file");
  if (m.streamed)
    return m.streamed->commit(path, weightsFloats, weightsHash, m.tokenizer, err);
  if (!m.weights)
    return err = path + ": no weights to write (the input has no checkpoint)", false;
  return writeWeightsFile(path, *m.weights, weightsHash, m.tokenizer, err);
}

/// --emit=obj|asm|llvm: the lowered module to -o (stdout without it).
bool Emitter::emitMachineCode(std::string &err) {
  auto kind = o.emit == Emit::LLVM  ? OutputKind::LLVMIR
              : o.emit == Emit::Asm ? OutputKind::Assembly
                                    : OutputKind::Object;
  if (o.output.empty() || o.output == "-")
    return emitModule(m.module, o.machine, kind, "-", err, &timing);
  // Written in the private work folder, then beside -o and renamed.
  WorkDir work;
  if (!work.error.empty())
    return err = work.error, false;
  llvm::SmallString<256> p(work.path);
  llvm::sys::path::append(p, "output");
  return emitModule(m.module, o.machine, kind, std::string(p), err, &timing) &&
         commitFile(std::string(p), o.output, err);
}

bool Emitter::kernelObject(const WorkDir &work, const std::string &prefix, std::string &obj,
                           std::string &err, std::vector<std::string> *parts) {
  llvm::SmallString<256> p(work.path);
  llvm::sys::path::append(p, prefix + "_kernel.o");
  obj = std::string(p);
  return emitModule(m.module, o.machine, OutputKind::Object, obj, err, &timing, parts);
}

/// The parts of an artifact request every kind shares.
ArtifactRequest Emitter::request(const WorkDir &work, const std::string &kernelObj, bool embed) {
  ArtifactRequest req;
  req.output = o.output;
  req.kernelObject = kernelObj;
  req.weights = m.weights;
  req.tokenizer = m.tokenizer;
  req.embedWeights = embed;
  req.target = o.target;
  req.cc = o.cc;
  if (const char *f = std::getenv("LIQUIDC_CFLAGS"))
    req.extraCFlags = f;
  req.workDir = work.path;
  return req;
}

/// Runs liquid-halide-gen for the Halide kernels (none: nothing to do) in
/// `dir` and adds what it made to `req`.
bool Emitter::addHalideKernels(ArtifactRequest &req, const std::string &dir,
                               int64_t rowsEstimate, std::string &err,
                               std::vector<std::string> *ptx) {
  if (halide.empty())
    return true;
  mlir::TimingScope scope = timing.nest("Halide kernels");
  HalideBuild hb;
  std::string halideTarget = halideTargetFor(*o.target);
  if (o.halideProfile)
    halideTarget += "-profile";
  int64_t lanes = o.compiler.vectorWidth;
  if (!runHalideGen(halideTarget, lanes, 8 * lanes, rowsEstimate, halide, dir, o.dumpKernels, hb,
                    err, o.testGpuEntryPoints))
    return false;
  if (ptx)
    *ptx = hb.ptx;
  req.extraObjects = hb.objects;
  req.extraSources = hb.sources;
  req.extraIncludes = {hb.includeDir};
  return true;
}

/// --emit=obj|asm|llvm. With Halide kernels obj is one relocatable object
/// holding the LLVM kernel, the Halide kernels, their C entry points and the
/// Halide runtime; asm and llvm show the LLVM part (--dump-kernels has the
/// Halide assembly), except asm for a GPU target: the kernels' PTX.
bool Emitter::emitCode(int64_t rowsEstimate, std::string &err) {
  bool obj = o.emit == Emit::Obj;
  bool ptx = o.emit == Emit::Asm && o.target->kind == "gpu";
  if (halide.empty() || (!obj && !ptx && o.dumpKernels.empty()))
    return emitMachineCode(err);
  WorkDir work;
  if (!work.error.empty())
    return err = work.error, false;
  ArtifactRequest req = request(work, /*kernelObj=*/"", /*embed=*/false);
  std::vector<std::string> ptxFiles;
  if (!addHalideKernels(req, work.path, rowsEstimate, err, &ptxFiles))
    return false;
  if (ptx) {
    std::string text;
    if (!mergePtx(ptxFiles, text, err))
      return false;
    if (!o.output.empty() && o.output != "-")
      return writeAtomically(o.output, text, err);
    auto out = openOutputFile("-", &err);
    if (!out)
      return false;
    out->os() << text;
    return keepOutput(*out, "-", err);
  }
  if (!obj)
    return emitMachineCode(err);
  return kernelObject(work, "kernel", req.kernelObject, err) && linkRelocatable(req, err);
}

bool Emitter::emitCell(mlir::liquid::StepKernelAttr info, std::string &err) {
  KernelInfo k;
  k.prefix = m.prefix;
  k.modelName = m.name;
  k.inputSize = info.getInputSize();
  k.outputSize = info.getOutputSize();
  k.inputOffset = info.getInput();
  k.outputOffset = info.getOutput();
  k.arenaFloats = info.getArenaSize();
  auto s = info.getStates().asArrayRef();
  auto ss = info.getStateSizes().asArrayRef();
  k.stateOffsets.assign(s.begin(), s.end());
  k.stateSizes.assign(ss.begin(), ss.end());
  k.weightsFloats = weightsFloats;
  k.weightsHash = weightsHash;
  if (m.weights && !o.weightsOut.empty() && !writeWeights(o.weightsOut, err))
    return false;
  if (o.emit != Emit::Exe && o.emit != Emit::Lib)
    return emitCode(1, err);
  if (o.target->kind == "mcu") { // weights in flash, always
    if (!o.embedWeights)
      return err = "target '" + o.target->name + "' keeps the weights in flash: " +
                   "--embed-weights=false is not available",
             false;
    return buildWithRuntime(mcuCellRuntime(k, o.emit == Emit::Exe, *o.target), true, false, 1,
                            err);
  }
  bool writeLqw = !o.embedWeights && o.weightsOut.empty();
  return buildWithRuntime(cellRuntime(k, o.embedWeights), o.embedWeights, writeLqw, 1, err);
}

/// exe or lib: the kernel object, the Halide kernels and the model's runtime
/// `rt`, linked or archived, with the weights compiled in (`embed`) or, with
/// `writeLqw`, written to OUT.lqw (removed again if the build fails).
bool Emitter::buildWithRuntime(const ModelRuntime &rt, bool embed, bool writeLqw,
                               int64_t rowsEstimate, std::string &err) {
  WorkDir work;
  std::string obj;
  std::vector<std::string> parts;
  if (!work.error.empty())
    return err = work.error, false;
  if (!kernelObject(work, m.prefix, obj, err, &parts))
    return false;
  ArtifactRequest req = request(work, obj, embed);
  req.kind = o.emit == Emit::Exe ? ArtifactRequest::Exe : ArtifactRequest::Lib;
  if (!addHalideKernels(req, work.path, rowsEstimate, err))
    return false;
  req.extraObjects.insert(req.extraObjects.end(), parts.begin(), parts.end());
  std::string lqw = o.output + ".lqw";
  if (writeLqw && !writeWeights(lqw, err))
    return false;
  mlir::TimingScope scope = timing.nest("runtime and link");
  if (!buildArtifact(rt, req, err)) {
    if (writeLqw)
      llvm::sys::fs::remove(lqw);
    return false;
  }
  return true;
}

/// A language model: obj/asm/llvm, or an executable or library whose weights
/// go to OUT.lqw (memory-mapped at run time) unless --embed-weights is given.
bool Emitter::emitLanguageModel(mlir::liquid::ForwardKernelAttr info, std::string &err) {
  LMKernelInfo k;
  k.prefix = m.prefix;
  k.modelName = m.name;
  k.maxRows = info.getMaxRows();
  k.maxContext = info.getMaxContext();
  k.vocab = info.getVocab();
  k.arenaFloats = info.getArenaSize();
  k.weightsFloats = weightsFloats;
  k.weightsHash = weightsHash;
  k.decodeBytes = decodeBytes - info.getUnreadExpertBytes();
  k.flopsPerToken = info.getFlopsPerToken();
  k.headFlops = info.getHeadFlops();
  k.bos = m.bos;
  k.eos = m.eos;
  auto conv = info.getConvCaches().asArrayRef(), kv = info.getKvCaches().asArrayRef();
  for (size_t i = 0; i + 1 < conv.size(); i += 2)
    k.convCaches.push_back({conv[i], conv[i + 1]});
  for (size_t i = 0; i + 1 < kv.size(); i += 2)
    k.kvCaches.push_back({kv[i], kv[i + 1]});
  if (!o.weightsOut.empty() && !writeWeights(o.weightsOut, err))
    return false;
  if (o.emit != Emit::Exe && o.emit != Emit::Lib)
    return emitCode(o.maxRows, err);
  // Language models map OUT.lqw unless --embed-weights is given explicitly.
  bool embed = o.embedWeightsGiven && o.embedWeights;
  return buildWithRuntime(lmRuntime(k, embed), embed, !embed, o.maxRows, err);
}

} // namespace

bool ::liquid::emitArtifact(const DriverOptions &o, const CompiledModel &m, std::string &err,
                            mlir::TimingScope *timing) {
  return Emitter(o, m, timing).run(err);
}
