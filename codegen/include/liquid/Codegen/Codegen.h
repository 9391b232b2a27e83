//===- Codegen.h - LLVM-dialect module -> object / assembly / IR -*- C++ -*-===//
#ifndef LIQUID_CODEGEN_CODEGEN_H
#define LIQUID_CODEGEN_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"

#include <string>
#include <vector>

namespace llvm {
class ToolOutputFile;
}

namespace liquid {

/// Closes `out` (written to `path`) and keeps it, or, when a write failed
/// (a full disk), returns false with "<path>: write failed: <why>" and lets
/// it be removed, instead of LLVM's fatal "IO failure on output stream".
bool keepOutput(llvm::ToolOutputFile &out, const std::string &path, std::string &err);

struct MachineOptions {
  std::string triple, cpu, features; ///< "host" resolves to this machine
  int optLevel = 3;
  /// The calling convention's name where the triple leaves a choice (RISC-V
  /// "ilp32f"); empty: LLVM's default.
  std::string abi = "";
  /// Position-dependent code (bare-metal programs: no GOT); else PIC.
  bool staticRelocs = false;
  /// 0: optimize for speed; 1: -Os; 2: -Oz (microcontrollers: flash is scarce).
  int sizeLevel = 0;
};

enum class OutputKind { Object, Assembly, LLVMIR };

/// Translates `module` (LLVM dialect) to LLVM IR, optimizes it at `optLevel`
/// for the target machine (loop and SLP vectorizers included) and writes the
/// requested output to `path`. Returns false with a one-line `err`. With
/// `timing`, its steps are timed under it (liquidc --mlir-timing). Objects
/// with `moreObjects`: a module of several functions is split into parts
/// (whole functions) optimized and compiled on as many threads; `path` holds
/// the first, the others are appended to `moreObjects` (to link with it).
bool emitModule(mlir::ModuleOp module, const MachineOptions &opts, OutputKind kind,
                const std::string &path, std::string &err, mlir::TimingScope *timing = nullptr,
                std::vector<std::string> *moreObjects = nullptr);

/// The resolved triple/CPU/features of `opts` (for messages and --list-targets).
MachineOptions resolveMachine(const MachineOptions &opts);

/// Floats per vector the kernels should use on this machine: 16 where
/// AVX-512F is available, else 8 (AVX2, SSE, NEON).
int64_t preferredVectorWidth(const MachineOptions &opts);
/// The LLVM intrinsic of the machine's int8 dot-product instruction for
/// vectors of `lanes` int32 (u8 x s8, 4 products a lane), or "" when it has
/// none: x86 AVX512-VNNI (512 bits; 256 with AVX512VL) or AVX-VNNI (256).
std::string int8DotIntrinsic(const MachineOptions &opts, int64_t lanes);
/// Whether LLVM converts half precision on the target without a library
/// call its C library may lack (riscv64 needs Zfhmin; x86 has F16C or
/// libgcc's __extendhfsf2, aarch64 fcvt).
bool hasHalfConversions(const MachineOptions &opts);
/// "" if LLVM knows the machine's CPU and every +/- feature, else one line
/// saying which (LLVM itself only warns and ignores them, once per function).
std::string checkMachine(const MachineOptions &opts);

} // namespace liquid

#endif
