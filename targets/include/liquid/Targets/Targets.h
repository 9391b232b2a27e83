//===- Targets.h - named compilation targets --------------------*- C++ -*-===//
#ifndef LIQUID_TARGETS_TARGETS_H
#define LIQUID_TARGETS_TARGETS_H

#include <string>
#include <vector>

namespace liquid {

/// A target users name with --target.
struct TargetInfo {
  std::string name, description;
  /// "cpu", "gpu", "npu" or "mcu" (bare metal: no OS, programs run under
  /// qemu-system with semihosting).
  std::string kind;
  /// For LLVM ("host" is resolved to this machine at compile time).
  std::string triple, cpu, features;
  /// The calling convention where the triple leaves a choice (RISC-V ilp32f).
  std::string abi;
  /// GPUs: the device the products run on (the forward kernel runs on the
  /// host, `triple`).
  std::string deviceTriple, deviceArch;
  /// Kernel vector width in floats; 0: chosen from the CPU's features (16
  /// with AVX-512, else 8).
  int vectorFloats = 0;
  /// Microcontrollers: floats the vector unit holds (1: a scalar FPU, 4:
  /// Helium). Compact kernels run their element-wise loops this wide (each
  /// wider vector op would be that many copies of code); 0: vectorFloats.
  int elementFloats = 0;
  /// Data cache sizes the schedules assume (KiB; 0 = the host's, unknown).
  int l1dKiB = 0, l2KiB = 0;
  /// The same machine as a Halide 14 target string.
  std::string halideTarget;
  /// Build the runtime and link artifacts; `ccFlags` go first on every
  /// compile (a cross clang's --target, -ffreestanding).
  std::string cc, ar;
  std::vector<std::string> ccFlags;
  /// Combines objects into one relocatable object (--emit=obj with Halide
  /// kernels); empty: `cc -r -nostdlib`.
  std::string relocatableLinker;
  /// Command prefix that runs the target's programs on this machine (empty:
  /// native).
  std::vector<std::string> runner;
  /// Microcontrollers: the emulator the runner drives (qemu-system-arm), and
  /// the flags that link a test program (C library, startup code, memory map).
  std::string emulator;
  std::vector<std::string> exeFlags;
  /// CPU features a native run needs (LLVM names, as in
  /// llvm::sys::getHostCPUFeatures).
  std::vector<std::string> hostFeatures;
};

const std::vector<TargetInfo> &allTargets();
/// nullptr if unknown.
const TargetInfo *findTarget(const std::string &name);
/// "host, x86-64-v2, ..." for error messages.
std::string knownTargetNames();
/// The Halide target string (a leading "host": this CPU's features spelled
/// out).
std::string halideTargetFor(const TargetInfo &t);
/// Whether this machine can run the target's programs (natively, or with its
/// runner and C compiler installed); otherwise `why` says what is missing.
bool runsHere(const TargetInfo &t, std::string &why);

} // namespace liquid

#endif
