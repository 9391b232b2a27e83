//===- Emit.h - from the lowered module to the artifact ---------*- C++ -*-===//
#ifndef LIQUIDC_EMIT_H
#define LIQUIDC_EMIT_H

#include "Options.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"

#include <string>
#include <vector>

namespace liquid {

class LqwStream;

/// The compiled program: the module in the LLVM dialect, its names and its
/// packed weights.
struct CompiledModel {
  mlir::ModuleOp module;
  std::string prefix;   ///< C symbol prefix
  std::string name;     ///< the model's name
  std::optional<llvm::ArrayRef<float>> weights; ///< none: no checkpoint (IR input)
  int64_t bos = 1, eos = 2; ///< language models: the tokenizer's special ids
  llvm::ArrayRef<uint8_t> tokenizer; ///< language models: the tokenizer image, or empty
  /// Language models: the weights, written while they were packed (then
  /// `weights` is none); emitting commits the file to its place.
  LqwStream *streamed = nullptr;
};

/// Writes what --emit asks for (exe, lib, obj, llvm, asm), plus the .lqw
/// files; on failure `err` says why and nothing is left at the output paths.
/// With `timing`, the steps are timed under it.
bool emitArtifact(const DriverOptions &o, const CompiledModel &m, std::string &err,
                  mlir::TimingScope *timing = nullptr);

} // namespace liquid

#endif
