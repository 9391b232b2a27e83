//===- HalideKernels.h - the kernels liquid gives to Halide -----*- C++ -*-===//
//
// What `liquid-assign-backends` decides for each kernel that Halide may
// generate, and the schedule file that steers it. No MLIR here: liquidc
// hands these requests to liquid-halide-gen (a separate process; Halide 14
// links LLVM 14).
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_PASSES_HALIDEKERNELS_H
#define LIQUID_PASSES_HALIDEKERNELS_H

#include <cstdint>
#include <map>
#include <string>

namespace liquid {

struct HalideKernel {
  std::string op = "matmul"; ///< matmul (k inputs, n outputs) | shortconv (k taps, n channels)
                             ///< | cfc_epilogue (n units) | attention (n = heads x head_dim)
  std::string mode;          ///< cfc_epilogue: default | no_gate | pure
  std::string name;       ///< C symbol, <prefix>_hl<i>
  std::string weightName; ///< the packed weight it reads (for the schedule file and dumps)
  std::string weight;     ///< f32 | f16 | q8
  std::string acts = "f32"; ///< q8 weights: f32, or q8 (int8 x int8 products)
  std::string schedule;   ///< hand | mullapudi2016 | adams2019 | li2018
  int64_t k = 0, n = 0;
  /// attention: heads, KV heads, head size, KV cache rows, RMSNorm epsilon
  int64_t heads = 0, kvHeads = 0, headDim = 0, context = 0;
  double eps = 1e-5;
};

struct HalideSchedule {
  std::string fallback = "hand";             ///< "default" in the file
  std::map<std::string, std::string> byName; ///< kernel or weight name -> schedule or "llvm"
  /// The schedule of one product ("llvm": keep the LLVM kernel).
  std::string choose(const std::string &kernel, const std::string &weight) const;
};

/// Reads a schedule file: {"default": "hand", "kernels": {"<kernel or weight
/// name>": "llvm" | "hand" | "mullapudi2016" | "adams2019" | "li2018"}}.
bool loadHalideSchedule(const std::string &path, HalideSchedule &out, std::string &err);

} // namespace liquid

#endif
