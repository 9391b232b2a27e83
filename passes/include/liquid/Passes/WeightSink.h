//===- WeightSink.h - where packed weights go (no MLIR) ---------*- C++ -*-===//
#ifndef LIQUID_PASSES_WEIGHTSINK_H
#define LIQUID_PASSES_WEIGHTSINK_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace liquid {

/// Takes liquid-pack-weights' data slot by slot instead of the module's
/// `liquid.weight_data` resource: a compiler writing a language model's
/// weights file streams them there, so its memory holds one tensor at a time.
class WeightSink {
public:
  virtual ~WeightSink() = default;
  /// The `n` packed floats of the slot at `offset` floats into the blob;
  /// called once per slot, in any order. False with `err` on failure.
  virtual bool write(int64_t offset, const float *data, size_t n, std::string &err) = 0;
};

} // namespace liquid

#endif
