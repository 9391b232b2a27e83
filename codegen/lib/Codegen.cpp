//===- Codegen.cpp - LLVM backend ------------------------------------------===//
#include "liquid/Codegen/Codegen.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

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

/// LLVM 22's Hexagon back end spends minutes on a forward kernel (one large
/// function) in four passes whose cost grows faster than the code: the
/// software pipeliner, "insert" generation, store widening and bit
/// simplification (measured on a 2-layer model: 72 s with them, 5.7 s
/// without). They are turned off for Hexagon; the hot products are Halide
/// kernels anyway.
static void tameHexagonBackend() {
  static bool done = [] {
    auto &opts = llvm::cl::getRegisteredOptions();
    for (const char *name : {"enable-pipeliner", "hexagon-insert", "hexagon-bit"})
      if (llvm::cl::Option *o = opts.lookup(name))
        o->addOccurrence(0, name, "false");
    if (llvm::cl::Option *o = opts.lookup("disable-store-widen"))
      o->addOccurrence(0, "disable-store-widen", "true");
    return true;
  }();
  (void)done;
}

bool emitModule(mlir::ModuleOp module, const MachineOptions &in, OutputKind kind,
                const std::string &path, std::string &err, mlir::TimingScope *timing) {
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
  llvm::TargetOptions topts;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, o.cpu, o.features, topts, llvm::Reloc::PIC_, std::nullopt,
      o.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive : llvm::CodeGenOptLevel::Default));
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
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", o.cpu);
    if (!o.features.empty())
      f.addFnAttr("target-features", o.features);
    f.addFnAttr(llvm::Attribute::NoUnwind);
  }
  auto transformer = mlir::makeOptimizingTransformer(o.optLevel, /*sizeLevel=*/0, tm.get());
  step = parent.nest("LLVM optimization");
  if (llvm::Error e = transformer(llvmModule.get())) {
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
    llvmModule->print(out.os(), nullptr);
  } else {
    llvm::legacy::PassManager pm;
    auto fileType = kind == OutputKind::Object ? llvm::CodeGenFileType::ObjectFile
                                               : llvm::CodeGenFileType::AssemblyFile;
    if (tm->addPassesToEmitFile(pm, out.os(), nullptr, fileType)) {
      err = "the target cannot emit this file type";
      return false;
    }
    pm.run(*llvmModule);
  }
  out.keep();
  return true;
}

} // namespace liquid
