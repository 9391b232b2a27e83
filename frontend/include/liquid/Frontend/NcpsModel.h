//===- NcpsModel.h - ncps checkpoints (CfC / WiredCfC / LTC) ----*- C++ -*-===//
//
// The in-memory description of an ncps model after loading its JSON spec and
// safetensors weights. Nothing here depends on MLIR: the importer
// (frontend/lib/Importer.cpp) turns an NcpsModel into `liquid` dialect IR.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_FRONTEND_NCPSMODEL_H
#define LIQUID_FRONTEND_NCPSMODEL_H

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace liquid {

/// A dense float32 tensor, row-major. `name` is the state_dict key it came
/// from (without any "param." prefix), or empty for derived tensors.
/// Weights as a checkpoint's integer blocks along the last dimension (the
/// GGUF 4-, 5- and 6-bit types, decomposed by decomposeBlocks in Gguf.h):
/// value[i] = scale[b] * (q[i] - zero) + min[b], b = i / block (no min: 0).
/// `q` holds one value a byte: unsigned, or int8 bits when isSigned.
struct IntBlocks {
  int bits = 0; ///< 0: none; else q < 2^bits (|q| < 2^(bits-1) when signed)
  int block = 32, zero = 0;
  bool isSigned = false;
  std::vector<uint8_t> q;
  std::vector<float> scale, min;
  /// The K types (Q4_K, Q5_K, Q6_K) as stored: per super-block of `super`
  /// inputs a half-precision scale (and, with minimums, the negated
  /// half-precision dmin), per block an 8-bit integer sub-scale (and
  /// sub-minimum): scale = half(superScale) * subScale (int8 when subSigned),
  /// min = half(superMin) * subMin, both exact in float and equal to
  /// `scale` / `min`. super is 0 for the other types.
  int super = 0;
  bool subSigned = false;
  std::vector<uint16_t> superScale, superMin;
  std::vector<uint8_t> subScale, subMin;
  bool empty() const { return bits == 0; }
};

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
  /// Int8 weights as stored by the checkpoint (GGUF Q8_0), kept so they are
  /// packed without a round trip through float: q8[i] * scale of its block of
  /// 32 along the last dimension, q8Scales[i / 32] (the file's f16 scale, exact
  /// in float). Empty unless the source was Q8_0; `data` holds the same values
  /// decoded.
  std::vector<int8_t> q8;
  std::vector<float> q8Scales;
  /// The 4-, 5- and 6-bit blocks as stored (Q4_0, Q4_1, Q4_K, Q5_1, Q5_K,
  /// Q6_K; Q5_0 goes to q8): empty unless the source was one.
  IntBlocks blocks;
  /// Set for a tensor read on demand (a language model's, decoded from the
  /// memory-mapped checkpoint only when its weights are packed): fills
  /// `data` (and q8/q8Scales or blocks) of a copy of this tensor, so memory
  /// holds one tensor at a time, not the checkpoint. Empty: the data is here.
  std::function<void(Tensor &)> load;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  bool empty() const { return shape.empty() && data.empty(); }
};

/// Named tensors the compiler may reference through `liquid.weight` ops.
using WeightStore = std::map<std::string, Tensor>;

enum class CellKind { CfC, WiredCfC, LTC };

/// y = x W^T + b, W is [out, in].
struct DenseLayer {
  Tensor weight, bias;
};

/// One CfCCell (for WiredCfC: one per wiring layer, without backbone).
struct CfCLayer {
  int64_t inFeatures = 0; ///< features of the layer's input (before concat)
  int64_t hidden = 0;     ///< units of this layer
  Tensor ff1W, ff1B;      ///< always present
  Tensor ff2W, ff2B, taW, taB, tbW, tbB; ///< modes default / no_gate
  Tensor wTau, A;         ///< mode pure, shape [hidden] (ncps stores [1, hidden])
  Tensor mask;            ///< [hidden, in+hidden] sparsity mask; empty if none
};

struct NcpsModel {
  std::string name;       ///< model name (spec file stem, sanitized)
  std::string specPath, weightsPath;
  CellKind kind = CellKind::CfC;
  int64_t inputSize = 0, stateSize = 0, outputSize = 0;

  // CfC / WiredCfC
  std::string mode = "default";          ///< default | no_gate | pure
  std::string activation = "lecun_tanh"; ///< backbone activation
  std::vector<DenseLayer> backbone;      ///< CfC only, may be empty
  std::vector<CfCLayer> layers;          ///< 1 for CfC, one per wiring layer
  bool hasProj = false;
  DenseLayer proj;                       ///< `fc` when proj_size is set

  // Mixed memory (CfC and LTC): LSTM run before the cell each step.
  bool mixedMemory = false;
  Tensor lstmInW, lstmInB, lstmRecW; ///< [4H, in], [4H], [4H, H]

  // LTC
  int64_t odeUnfolds = 6;
  double epsilon = 1e-8;
  bool implicitConstraints = true;
  std::string inputMapping = "affine", outputMapping = "affine";
  int64_t motorSize = 0;
  Tensor gleak, vleak, cm, sigma, mu, w, erev;
  Tensor sensorySigma, sensoryMu, sensoryW, sensoryErev;
  Tensor sparsityMask, sensorySparsityMask;
  Tensor inputW, inputB, outputW, outputB; ///< empty when the mapping lacks them

  /// Every tensor above, by state_dict key, for `liquid.weight` lookups.
  WeightStore weights;
};

/// Loads `specPath` (JSON) and the safetensors file it names (key "weights",
/// relative to the spec's folder) or else `<stem>.safetensors` beside it.
/// `weightsOverride`, if non-empty, replaces that choice.
/// On failure returns false and sets `err` to one line of the form
/// "<file>: <what is wrong, naming the tensor or field>".
bool loadNcpsModel(const std::string &specPath, NcpsModel &out,
                   std::string &err,
                   const std::string &weightsOverride = "");

} // namespace liquid

#endif // LIQUID_FRONTEND_NCPSMODEL_H
