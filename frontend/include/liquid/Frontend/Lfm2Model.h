//===- Lfm2Model.h - LFM2 / LFM2-MoE checkpoints (HF and GGUF) --*- C++ -*-===//
//
// An LFM2-family checkpoint as the compiler sees it: the architecture config
// and every weight, by canonical (Hugging Face) name, in torch shape order,
// left in the file's own encoding (F32, F16, BF16, Q8_0) and memory-mapped,
// never copied at load time. No MLIR here.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_FRONTEND_LFM2MODEL_H
#define LIQUID_FRONTEND_LFM2MODEL_H

#include "liquid/Frontend/NcpsModel.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace liquid {

struct Lfm2Config {
  std::string arch = "lfm2"; ///< "lfm2" or "lfm2moe"
  int64_t vocab = 0, hidden = 0, layers = 0;
  int64_t heads = 0, kvHeads = 0, headDim = 0;
  int64_t ffn = 0;     ///< dense feed-forward width (from the w1 tensor shape)
  int64_t convL = 0;   ///< conv_L_cache (kernel size of the short convolution)
  double normEps = 1e-5, ropeTheta = 1e6;
  std::vector<bool> isAttention; ///< per layer: full attention (else short conv)
  int64_t bos = 1, eos = 2, pad = 0;
  int64_t maxContext = 0; ///< context_length / max_position_embeddings if given
  // LFM2-MoE (arch "lfm2moe"); zero for dense models.
  int64_t experts = 0, expertsPerToken = 0, expertFfn = 0, denseLayers = 0;
  bool normTopkProb = true, useExpertBias = true;
  double routedScaling = 1.0;
  /// Router score function: "sigmoid" (LFM2-MoE) or "softmax" (HF
  /// `scoring_func`, GGUF `expert_gating_func` 1).
  std::string expertScore = "sigmoid";
};

enum class WeightType { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K };
const char *weightTypeName(WeightType t);
/// The 4-, 5- and 6-bit GGUF block formats (kept as integer blocks for the
/// products; MoE experts compute from them only after widening).
bool isWidenOnly(WeightType t);

/// One tensor of the checkpoint. `shape` is in torch order ([out, in] for
/// linear weights; the short-conv kernel is normalized to [hidden, L]).
/// `data` points into a memory-mapped file owned by the Lfm2Model.
struct WeightRef {
  std::string name; ///< canonical HF name, e.g. "model.layers.0.conv.in_proj.weight"
  std::string file; ///< file it lives in
  std::vector<int64_t> shape;
  WeightType type = WeightType::F32;
  const void *data = nullptr;
  size_t bytes = 0;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

/// Decodes a tensor to float32 (Q8_0: per block of 32, int8 * f16 scale).
std::vector<float> toF32(const WeightRef &w);
/// The integers, scales and minimums of a block-type weight (Q4_0 ... Q6_K,
/// Q8_0; see decomposeBlocks); false for the float types or a bad ref.
bool toIntBlocks(const WeightRef &w, IntBlocks &out);

/// Lets the operating system take back the memory of w's pages (read from
/// the file again if used again): the compiler calls it once it has decoded
/// a tensor, so its memory does not grow with the checkpoint's size.
void dropPages(const WeightRef &w);

class MappedFile; // defined in Lfm2Model.cpp

struct Lfm2Model {
  Lfm2Config config;
  std::string path;                        ///< what the user passed
  std::map<std::string, WeightRef> tensors; ///< by canonical name
  std::vector<std::shared_ptr<MappedFile>> files;
  const WeightRef *find(const std::string &name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
  }
};

/// Loads a Hugging Face checkpoint folder (config.json + model.safetensors or
/// model.safetensors.index.json shards), a config.json path inside one, or a
/// GGUF file (architectures lfm2 / lfm2moe). Checks every tensor's presence,
/// shape and type against the config. On failure returns false with one line
/// in `err` naming the file and the tensor or key at fault.
bool loadLfm2Model(const std::string &path, Lfm2Model &out, std::string &err);

} // namespace liquid

#endif // LIQUID_FRONTEND_LFM2MODEL_H
