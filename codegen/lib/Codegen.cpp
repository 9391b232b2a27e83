//===- Codegen.cpp - LLVM backend ------------------------------------------===//
#include "liquid/Codegen/Codegen.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <thread>

namespace liquid {

MachineOptions resolveMachine(const MachineOptions &in) {
  MachineOptions o = in;
  if (o.triple.empty() || o.triple == "host")
    o.triple = llvm::sys::getDefaultTargetTriple();
  if (o.cpu.empty() || o.cpu == "host")
    o.cpu = in.triple == "host" || in.triple.empty() ? llvm::sys::getHostCPUName().str() : "generic";
  if (o.features == "host") {
    llvm::SubtargetFeatures f;
    for (auto &kv : llvm::sys::getHostCPUFeatures())
      f.AddFeature(kv.first(), kv.second);
    o.features = f.getString();
  }
  return o;
}

/// Registers every LLVM target once per process.
static void initializeTargets() {
  static bool initialized = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)initialized;
}

int64_t preferredVectorWidth(const MachineOptions &in) {
  initializeTargets();
  MachineOptions o = resolveMachine(in);
  llvm::Triple triple(o.triple);
  if (!triple.isX86())
    return 8;
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return 8;
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(triple, o.cpu, o.features));
  if (!sti)
    return 8;
  return sti->checkFeatures("+avx512f") ? 16 : 8;
}

std::string int8DotIntrinsic(const MachineOptions &in, int64_t lanes) {
  initializeTargets();
  MachineOptions o = resolveMachine(in);
  llvm::Triple triple(o.triple);
  std::string err;
  const llvm::Target *target = triple.isX86() ? llvm::TargetRegistry::lookupTarget(triple, err)
                                              : nullptr;
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target ? target->createMCSubtargetInfo(triple, o.cpu, o.features) : nullptr);
  if (!sti)
    return "";
  if (lanes == 16 && sti->checkFeatures("+avx512vnni"))
    return "llvm.x86.avx512.vpdpbusd.512";
  if (lanes == 8 && (sti->checkFeatures("+avx512vnni,+avx512vl") || sti->checkFeatures("+avxvnni")))
    return "llvm.x86.avx512.vpdpbusd.256";
  return "";
}

bool hasHalfConversions(const MachineOptions &in) {
  initializeTargets();
  MachineOptions o = resolveMachine(in);
  llvm::Triple triple(o.triple);
  if (!triple.isRISCV())
    return true;
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target ? target->createMCSubtargetInfo(triple, o.cpu, o.features) : nullptr);
  return sti && (sti->checkFeatures("+zfhmin") || sti->checkFeatures("+zfh"));
}

std::string checkMachine(const MachineOptions &in) {
  initializeTargets();
  MachineOptions o = resolveMachine(in);
  llvm::Triple triple(o.triple);
  std::string err;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target)
    return "no LLVM target for '" + o.triple + "'";
  // A subtarget of the default CPU answers what the named CPU and features
  // are without the warnings a bad name prints.
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(triple, "", ""));
  if (!sti)
    return "no subtarget information for '" + o.triple + "'";
  if (!o.cpu.empty() && o.cpu != "generic" && !sti->isCPUStringValid(o.cpu))
    return "--target-cpu '" + o.cpu + "' is not a CPU of " + o.triple +
           " (llc -mtriple=" + o.triple + " -mcpu=help lists them)";
  llvm::SmallVector<llvm::StringRef, 16> feats;
  llvm::StringRef(o.features).split(feats, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef f : feats) {
    llvm::StringRef name = f.trim();
    if (!name.consume_front("+") && !name.consume_front("-"))
      return "--target-features '" + f.str() + "' must start with + or -";
    bool known = llvm::any_of(sti->getAllProcessorFeatures(),
                              [&](const llvm::SubtargetFeatureKV &kv) { return name == kv.Key; });
    if (!known)
      return "--target-features '" + f.str() + "' is not a feature of " + o.triple +
             " (llc -mtriple=" + o.triple + " -mattr=help lists them)";
  }
  return "";
}

/// LLVM 22's Hexagon back end spends minutes on a forward kernel (large
/// functions: attention alone is ~15k lines of IR once its float vectors are
/// scalarized) in passes whose cost grows faster than the code: the software
/// pipeliner, "insert" generation, store widening, bit simplification, the
/// RDF optimizations (reaching definitions), addressing-mode optimization,
/// spill-slot optimization, constant-extender optimization, loop
/// rescheduling and mux generation. Measured on hexagon.test's 2-layer model:
/// 306 s for the object with the first four off, 28 s with all off. They are
/// turned off for Hexagon; the hot products are Halide kernels anyway.
static void tameHexagonBackend() {
  static bool done = [] {
    auto &opts = llvm::cl::getRegisteredOptions();
    for (const char *name : {"enable-pipeliner", "hexagon-insert", "hexagon-bit", "rdf-opt",
                             "hexagon-opt-spill", "hexagon-cext", "hexagon-loop-resched",
                             "hexagon-mux"})
      if (llvm::cl::Option *o = opts.lookup(name))
        o->addOccurrence(0, name, "false");
    for (const char *name : {"disable-store-widen", "disable-hexagon-amodeopt"})
      if (llvm::cl::Option *o = opts.lookup(name))
        o->addOccurrence(0, name, "true");
    return true;
  }();
  (void)done;
}

namespace {

/// A target machine for `o` (one per thread: they are not shared).
std::unique_ptr<llvm::TargetMachine> targetMachine(const llvm::Target *target,
                                                   const MachineOptions &o) {
  llvm::TargetOptions topts;
  topts.MCOptions.ABIName = o.abi;
  // (Arm: a hard-float triple's objects say so, or gcc refuses to link them)
  if (llvm::Triple(o.triple).getEnvironment() == llvm::Triple::EABIHF)
    topts.FloatABIType = llvm::FloatABI::Hard;
  // bare metal: a section per function, so a program's --gc-sections drops
  // the kernels it does not call
  topts.FunctionSections = topts.DataSections = o.staticRelocs;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      llvm::Triple(o.triple), o.cpu, o.features, topts,
      o.staticRelocs ? llvm::Reloc::Static : llvm::Reloc::PIC_, std::nullopt,
      o.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive : llvm::CodeGenOptLevel::Default));
}

/// Optimizes `m` at o.optLevel and writes `kind` to `path`; each step timed
/// under `parent`.
bool optimizeAndWrite(llvm::Module &m, llvm::TargetMachine &tm, const MachineOptions &o,
                      OutputKind kind, const std::string &path, std::string &err,
                      mlir::TimingScope &parent) {
  auto transformer = mlir::makeOptimizingTransformer(o.optLevel, o.sizeLevel, &tm);
  mlir::TimingScope step = parent.nest("LLVM optimization");
  if (llvm::Error e = transformer(&m)) {
    err = "LLVM optimization failed: " + llvm::toString(std::move(e));
    return false;
  }
  step = parent.nest("LLVM code generation");
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    err = path + ": " + ec.message();
    return false;
  }
  if (kind == OutputKind::LLVMIR) {
    m.print(out.os(), nullptr);
  } else {
    llvm::legacy::PassManager pm;
    auto fileType = kind == OutputKind::Object ? llvm::CodeGenFileType::ObjectFile
                                               : llvm::CodeGenFileType::AssemblyFile;
    if (tm.addPassesToEmitFile(pm, out.os(), nullptr, fileType)) {
      err = "the target cannot emit this file type";
      return false;
    }
    pm.run(m);
  }
  return keepOutput(out, path, err);
}


/// Splits `m` (whole functions, round robin) into `n` parts and optimizes
/// and compiles them to objects on `n` threads: `path`, then `path`.1.o ...
/// appended to `more`.
bool emitInParts(llvm::Module &m, unsigned n, const llvm::Target *target, const MachineOptions &o,
                 const std::string &path, std::vector<std::string> &more, std::string &err) {
  std::vector<llvm::SmallVector<char, 0>> bitcode;
  llvm::SplitModule(
      m, n,
      [&](std::unique_ptr<llvm::Module> part) {
        llvm::raw_svector_ostream os(bitcode.emplace_back());
        llvm::WriteBitcodeToFile(*part, os);
      },
      /*PreserveLocals=*/false, /*RoundRobin=*/true);
  size_t parts = bitcode.size();
  std::vector<std::string> paths(parts), errs(parts);
  std::vector<char> ok(parts, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < parts; ++i) {
    paths[i] = i == 0 ? path : path + "." + std::to_string(i) + ".o";
    threads.emplace_back([&, i] {
      llvm::LLVMContext ctx;
      llvm::MemoryBufferRef buf(llvm::StringRef(bitcode[i].data(), bitcode[i].size()), "part");
      llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(buf, ctx);
      if (!part) {
        errs[i] = "cannot read back a part of the kernel: " + llvm::toString(part.takeError());
        return;
      }
      std::unique_ptr<llvm::TargetMachine> tm = targetMachine(target, o);
      mlir::TimingScope none;
      ok[i] = tm && optimizeAndWrite(**part, *tm, o, OutputKind::Object, paths[i], errs[i], none);
    });
  }
  for (std::thread &t : threads)
    t.join();
  for (size_t i = 0; i < parts; ++i)
    if (!ok[i]) {
      err = errs[i].empty() ? "cannot create a target machine for '" + o.triple + "'" : errs[i];
      return false;
    }
  more.insert(more.end(), paths.begin() + 1, paths.end());
  return true;
}

} // namespace

bool emitModule(mlir::ModuleOp module, const MachineOptions &in, OutputKind kind,
                const std::string &path, std::string &err, mlir::TimingScope *timing,
                std::vector<std::string> *moreObjects) {
  mlir::TimingScope none;
  mlir::TimingScope &parent = timing ? *timing : none;
  initializeTargets();
  MachineOptions o = resolveMachine(in);
  llvm::Triple triple(o.triple);
  if (triple.getArch() == llvm::Triple::hexagon)
    tameHexagonBackend();
  std::string lookupErr;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, lookupErr);
  if (!target) {
    err = "no LLVM target for triple '" + o.triple + "': " + lookupErr;
    return false;
  }
  std::unique_ptr<llvm::TargetMachine> tm = targetMachine(target, o);
  if (!tm) {
    err = "cannot create a target machine for '" + o.triple + "' (cpu '" + o.cpu + "')";
    return false;
  }

  mlir::registerBuiltinDialectTranslation(*module.getContext());
  mlir::registerLLVMDialectTranslation(*module.getContext());
  llvm::LLVMContext llvmCtx;
  mlir::TimingScope step = parent.nest("translate to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule = mlir::translateModuleToLLVMIR(module, llvmCtx);
  step.stop();
  if (!llvmModule) {
    err = "translation of the LLVM dialect to LLVM IR failed";
    return false;
  }
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(tm->createDataLayout());
  unsigned defined = 0;
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    ++defined;
    f.addFnAttr("target-cpu", o.cpu);
    if (!o.features.empty())
      f.addFnAttr("target-features", o.features);
    f.addFnAttr(llvm::Attribute::NoUnwind);
    if (o.sizeLevel >= 1)
      f.addFnAttr(llvm::Attribute::OptimizeForSize);
    if (o.sizeLevel >= 2)
      f.addFnAttr(llvm::Attribute::MinSize);
  }
  unsigned threads = std::min({std::max(1u, std::thread::hardware_concurrency()), 8u, defined});
  if (moreObjects && kind == OutputKind::Object && threads > 1) {
    step = parent.nest("LLVM optimization and code generation, " + std::to_string(threads) +
                       " parts in parallel");
    return emitInParts(*llvmModule, threads, target, o, path, *moreObjects, err);
  }
  return optimizeAndWrite(*llvmModule, *tm, o, kind, path, err, parent);
}

bool keepOutput(llvm::ToolOutputFile &out, const std::string &path, std::string &err) {
  out.os().close();
  if (out.os().has_error()) {
    err = (path == "-" ? std::string("standard output") : path) +
          ": write failed: " + out.os().error().message();
    out.os().clear_error();
    return false; // not kept: removed
  }
  out.keep();
  return true;
}

} // namespace liquid
