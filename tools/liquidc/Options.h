//===- Options.h - liquidc's command line, parsed and checked ---*- C++ -*-===//
#ifndef LIQUIDC_OPTIONS_H
#define LIQUIDC_OPTIONS_H

#include "liquid/Codegen/Codegen.h"
#include "liquid/Passes/Pipelines.h"

#include "llvm/ADT/ArrayRef.h"

#include <string>

namespace liquid {

struct TargetInfo;

enum class Emit { Exe, Lib, Obj, MLIR, Vector, LLVMDialect, LLVM, Asm };
enum class InputKind { Cell, LanguageModel, IR };

/// Everything liquidc was asked to do, after the checks that need no input.
struct DriverOptions {
  std::string input, output; ///< output may be empty (stdout) for text kinds
  InputKind inputKind = InputKind::Cell;
  Emit emit = Emit::Exe;
  const TargetInfo *target = nullptr;
  MachineOptions machine;
  std::string name;              ///< --name (empty: the model's)
  std::string weightsOverride;   ///< cells: --weights
  std::string weightsOut;        ///< --weights-out
  bool embedWeights = true;      ///< cells: on unless --embed-weights=false
  bool embedWeightsGiven = false;
  int64_t maxContext = 4096, maxRows = 64;
  std::string weightType = "auto"; ///< language models: auto | f32 | f16 | q8
  std::string chatTemplate = "auto"; ///< language models: auto | chatml | none
  std::string dumpStages, dumpKernels;
  bool halideProfile = false, testGpuEntryPoints = false;
  std::string cc;
  /// The pipelines' options (vector width, backend, schedule, ...).
  mlir::liquid::CompilerOptions compiler;

  bool useHalide() const { return compiler.backend == "halide"; }
  /// Emits IR text and stops before machine code.
  bool emitsIR() const {
    return emit == Emit::MLIR || emit == Emit::Vector || emit == Emit::LLVMDialect;
  }
};

/// Parses and checks the command line (--help, --version and --list-targets
/// print and exit); a bad option exits with a one-line error.
DriverOptions parseDriverOptions(int argc, char **argv);
/// Fails (one line) when `out` exists and is not a regular file, is one of
/// `inputs`, or is a file inside an input folder.
void checkOutputPath(const std::string &out, llvm::ArrayRef<std::string> inputs);

/// liquidc: error: MSG, exit 1.
[[noreturn]] void fail(const std::string &msg);


} // namespace liquid

#endif
