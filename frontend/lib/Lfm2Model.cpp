//===- Lfm2Model.cpp - LFM2 / LFM2-MoE checkpoints (HF and GGUF) ----------===//
//
// See liquid/Frontend/Lfm2Model.h and docs/lfm2-checkpoints.md.
//
// Loading is in three steps: (1) read the config (config.json or GGUF
// metadata) into an Lfm2Config, checking it for consistency; (2) collect the
// file's tensors under their canonical HF names (GGUF names translated,
// shapes reversed from ggml order); (3) check that exactly the tensors the
// config implies are there, with the right shapes, and move them into the
// model. Weights stay in the memory-mapped files. Nothing here throws.
//
// Canonical names and shapes (torch order) in Lfm2Model::tensors:
//  * HF names as in transformers' Lfm2 / Lfm2Moe state dicts; GGUF names are
//    mapped to them (token_embd -> model.embed_tokens, token_embd_norm or
//    output_norm -> model.embedding_norm, blk.{i}.attn_norm ->
//    model.layers.{i}.operator_norm, shortconv.* -> conv.*, attn_q/k/v/output
//    -> self_attn.q/k/v/out_proj, attn_q/k_norm -> self_attn.q/k_layernorm,
//    ffn_gate/up/down -> feed_forward.w1/w3/w2, ffn_gate_inp ->
//    feed_forward.gate, exp_probs_b.bias -> feed_forward.expert_bias,
//    output -> lm_head).
//  * The short-conv kernel is [hidden, L] in both formats (HF [hidden,1,L]).
//  * MoE experts keep the file's layout: HF per-expert tensors stay separate,
//    model.layers.{i}.feed_forward.experts.{e}.w1/w3/w2.weight ([I,H],
//    [I,H], [H,I]); GGUF stacked tensors ffn_gate/up/down_exps become ONE
//    WeightRef each, model.layers.{i}.feed_forward.experts.w1/w3/w2.weight,
//    torch shape [E, I, H] / [E, I, H] / [E, H, I] (expert e = slice e).
//  * "lm_head.weight" is present iff the head is untied (HF:
//    tie_word_embeddings / tie_embedding false; GGUF: an output.weight
//    tensor); a tied HF checkpoint that also stores lm_head.weight has it
//    dropped. Otherwise the head is model.embed_tokens.weight.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Lfm2Model.h"

#include "liquid/Frontend/Gguf.h"
#include "liquid/Frontend/Safetensors.h"

#include "FileUtil.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/stat.h>

namespace liquid {

/// Owns one memory-mapped checkpoint file (safetensors or GGUF).
class MappedFile {
public:
  std::unique_ptr<SafetensorsFile> st;
  std::unique_ptr<GgufFile> gguf;
};

const char *weightTypeName(WeightType t) {
  switch (t) {
  case WeightType::F32: return "F32";
  case WeightType::F16: return "F16";
  case WeightType::BF16: return "BF16";
  case WeightType::Q8_0: return "Q8_0";
  }
  return "?";
}

std::vector<float> toF32(const WeightRef &w) {
  try {
    std::vector<float> out;
    if (!w.data) return out;
    int64_t n = w.numel();
    if (n < 0) return out;
    GgmlType gt = GgmlType::F32;
    size_t need = 4 * static_cast<size_t>(n);
    switch (w.type) {
    case WeightType::F32: break;
    case WeightType::F16: gt = GgmlType::F16; need = 2 * static_cast<size_t>(n); break;
    case WeightType::BF16: gt = GgmlType::BF16; need = 2 * static_cast<size_t>(n); break;
    case WeightType::Q8_0:
      gt = GgmlType::Q8_0;
      if (n % kQ8_0Block != 0) return out;
      need = static_cast<size_t>(n / kQ8_0Block) * kQ8_0BlockBytes;
      break;
    }
    if (need > w.bytes) return out; // inconsistent ref: refuse to read past it
    out.resize(static_cast<size_t>(n));
    decodeToF32(gt, w.data, out.size(), out.data());
    return out;
  } catch (...) {
    return {};
  }
}

namespace {

using json = nlohmann::json;

using detail::joinPath;
using detail::keySuffix;
using detail::oneLine;
using detail::tensorSuffix;

/// Names are shown verbatim; loadLfm2Model makes the whole message one line.
constexpr detail::NameStyle kVerbatim{false};

bool isDir(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool isFile(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool startsWithGguf(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  char m[4] = {};
  return in.read(m, 4) && std::memcmp(m, "GGUF", 4) == 0;
}

/// Reads and parses a JSON file; one-line error naming the file.
bool readJson(const std::string &path, json &out, std::string &err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = path + ": cannot open file: " + std::strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    out = json::parse(ss.str());
  } catch (const json::exception &e) {
    err = oneLine(path + ": malformed JSON: " + e.what());
    return false;
  }
  if (!out.is_object()) {
    err = path + ": JSON is not an object";
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Config (HF config.json)
//===----------------------------------------------------------------------===//

/// Typed access to config.json keys with one-line errors.
struct JsonCfg {
  const json &j;
  const std::string &file;
  std::string &err;

  bool has(const char *k) const { return j.contains(k) && !j[k].is_null(); }
  bool missing(const char *k) {
    err = file + ": missing config key" + keySuffix(k, kVerbatim);
    return false;
  }
  bool getInt(const char *k, int64_t &out, bool required) {
    if (!has(k)) return required ? missing(k) : true;
    const json &v = j[k];
    if (v.is_number_integer()) {
      if (v.is_number_unsigned() && v.get<uint64_t>() > (uint64_t(1) << 62)) {
        err = file + ": value " + v.dump() + " is too large" +
              keySuffix(k, kVerbatim);
        return false;
      }
      out = v.get<int64_t>();
      return true;
    }
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
        out = static_cast<int64_t>(d);
        return true;
      }
    }
    err = file + ": expected an integer, got " + oneLine(v.dump()) +
          keySuffix(k, kVerbatim);
    return false;
  }
  bool getFloat(const char *k, double &out, bool required) {
    if (!has(k)) return required ? missing(k) : true;
    const json &v = j[k];
    if (!v.is_number()) {
      err = file + ": expected a number, got " + oneLine(v.dump()) +
            keySuffix(k, kVerbatim);
      return false;
    }
    out = v.get<double>();
    return true;
  }
  bool getBool(const char *k, bool &out) {
    if (!has(k)) return true;
    const json &v = j[k];
    if (!v.is_boolean()) {
      err = file + ": expected true/false, got " + oneLine(v.dump()) +
            keySuffix(k, kVerbatim);
      return false;
    }
    out = v.get<bool>();
    return true;
  }
  /// An integer or a non-empty list of integers (first one taken), as HF
  /// allows for eos_token_id.
  bool getTokenId(const char *k, int64_t &out) {
    if (!has(k)) return true;
    const json &v = j[k];
    if (v.is_array() && !v.empty() && v[0].is_number_integer()) {
      out = v[0].get<int64_t>();
      return true;
    }
    return getInt(k, out, false);
  }
};

/// Consistency checks shared by both formats. `file` and the key names are
/// format specific.
struct CfgKeys {
  const char *vocab, *hidden, *layers, *heads, *kvHeads, *headDim, *convL,
      *eps, *theta, *layerTypes, *experts, *topK, *dense, *expertFfn;
};
const CfgKeys kHfKeys = {"vocab_size",          "hidden_size",
                         "num_hidden_layers",   "num_attention_heads",
                         "num_key_value_heads", "head_dim",
                         "conv_L_cache",        "norm_eps",
                         "rope_theta",          "layer_types",
                         "num_experts",         "num_experts_per_tok",
                         "num_dense_layers",    "moe_intermediate_size"};

bool checkConfig(const Lfm2Config &c, const std::string &file,
                 const CfgKeys &k, const std::string &prefix,
                 std::string &err) {
  auto bad = [&](const char *key, const std::string &what) {
    err = file + ": " + what + keySuffix(prefix + key, kVerbatim);
    return false;
  };
  const int64_t kMax = int64_t(1) << 24;
  auto range = [&](const char *key, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi)
      return bad(key, "value " + std::to_string(v) + " out of range [" +
                          std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return true;
  };
  if (!range(k.vocab, c.vocab, 1, kMax) || !range(k.hidden, c.hidden, 1, kMax) ||
      !range(k.layers, c.layers, 1, 65536) ||
      !range(k.heads, c.heads, 1, kMax) ||
      !range(k.kvHeads, c.kvHeads, 1, kMax) ||
      !range(k.headDim, c.headDim, 1, kMax) || !range(k.convL, c.convL, 1, 4096))
    return false;
  if (c.kvHeads > c.heads || c.heads % c.kvHeads != 0)
    return bad(k.kvHeads, "key/value head count " + std::to_string(c.kvHeads) +
                              " does not divide the attention head count " +
                              std::to_string(c.heads));
  if (!(c.normEps > 0) || !std::isfinite(c.normEps))
    return bad(k.eps, "norm epsilon must be positive");
  if (!(c.ropeTheta > 0) || !std::isfinite(c.ropeTheta))
    return bad(k.theta, "rope theta must be positive");
  if (static_cast<int64_t>(c.isAttention.size()) != c.layers)
    return bad(k.layerTypes, "has " + std::to_string(c.isAttention.size()) +
                                 " entries for " + std::to_string(c.layers) +
                                 " layers");
  bool anyAttention = false;
  for (bool a : c.isAttention)
    anyAttention |= a;
  if (anyAttention && c.headDim % 2)
    return bad(k.headDim, "head size " + std::to_string(c.headDim) +
                              " must be even: rotary embeddings rotate pairs of features");
  if (c.arch == "lfm2moe") {
    if (!range(k.experts, c.experts, 1, 65536) ||
        !range(k.topK, c.expertsPerToken, 1, c.experts) ||
        !range(k.dense, c.denseLayers, 0, c.layers))
      return false;
    if (c.expertFfn != 0 && !range(k.expertFfn, c.expertFfn, 1, kMax))
      return false;
  }
  return true;
}

bool parseHfConfig(const json &j, const std::string &file, Lfm2Config &c,
                   bool &tied, std::string &err) {
  JsonCfg g{j, file, err};
  // Architecture.
  std::string mt;
  if (g.has("model_type")) {
    if (!j["model_type"].is_string()) {
      err = file + ": expected a string" + keySuffix("model_type", kVerbatim);
      return false;
    }
    mt = j["model_type"].get<std::string>();
  } else if (g.has("architectures") && j["architectures"].is_array() &&
             !j["architectures"].empty() && j["architectures"][0].is_string()) {
    std::string a = j["architectures"][0].get<std::string>();
    if (a == "Lfm2ForCausalLM") mt = "lfm2";
    else if (a == "Lfm2MoeForCausalLM") mt = "lfm2_moe";
  }
  if (mt.empty()) return g.missing("model_type");
  if (mt == "lfm2") c.arch = "lfm2";
  else if (mt == "lfm2_moe" || mt == "lfm2moe") c.arch = "lfm2moe";
  else {
    err = file + ": unsupported model_type '" + mt +
          "' (expected lfm2 or lfm2_moe)" + keySuffix("model_type", kVerbatim);
    return false;
  }
  const bool moe = c.arch == "lfm2moe";

  if (!g.getInt("vocab_size", c.vocab, true) ||
      !g.getInt("hidden_size", c.hidden, true) ||
      !g.getInt("num_hidden_layers", c.layers, true) ||
      !g.getInt("num_attention_heads", c.heads, true) ||
      !g.getInt("num_key_value_heads", c.kvHeads, true))
    return false;
  c.convL = 3;
  if (!g.getInt("conv_L_cache", c.convL, false)) return false;
  if (!g.getFloat("norm_eps", c.normEps, false)) return false;

  // rope theta: rope_parameters.rope_theta > theta > rope_theta > 1e6.
  c.ropeTheta = 1e6;
  if (!g.getFloat("rope_theta", c.ropeTheta, false) ||
      !g.getFloat("theta", c.ropeTheta, false))
    return false;
  if (g.has("rope_parameters")) {
    const json &rp = j["rope_parameters"];
    if (rp.is_object() && rp.contains("rope_theta")) {
      if (!rp["rope_theta"].is_number()) {
        err = file + ": expected a number" +
              keySuffix("rope_parameters.rope_theta", kVerbatim);
        return false;
      }
      c.ropeTheta = rp["rope_theta"].get<double>();
    }
  }

  bool convBias = false;
  if (!g.getBool("conv_bias", convBias)) return false;
  if (convBias) {
    err = file + ": conv_bias=true is not supported (LFM2 checkpoints have "
                 "no biases)" + keySuffix("conv_bias", kVerbatim);
    return false;
  }

  // head_dim: explicit, else hidden / heads.
  if (g.has("head_dim")) {
    if (!g.getInt("head_dim", c.headDim, false)) return false;
  } else {
    if (c.heads > 0 && c.hidden % c.heads != 0) {
      err = file + ": num_attention_heads " + std::to_string(c.heads) +
            " does not divide hidden_size " + std::to_string(c.hidden) +
            keySuffix("num_attention_heads", kVerbatim);
      return false;
    }
    c.headDim = c.heads > 0 ? c.hidden / c.heads : 0;
  }

  // Layer types.
  if (c.layers < 1 || c.layers > 65536) {
    err = file + ": value " + std::to_string(c.layers) +
          " out of range [1, 65536]" +
          keySuffix("num_hidden_layers", kVerbatim);
    return false;
  }
  std::vector<bool> fromTypes, fromIdxs;
  if (g.has("layer_types")) {
    const json &lt = j["layer_types"];
    if (!lt.is_array()) {
      err = file + ": expected a list of strings" +
            keySuffix("layer_types", kVerbatim);
      return false;
    }
    for (size_t i = 0; i < lt.size(); ++i) {
      std::string s = lt[i].is_string() ? lt[i].get<std::string>() : lt[i].dump();
      if (s == "full_attention") fromTypes.push_back(true);
      else if (s == "conv") fromTypes.push_back(false);
      else {
        err = oneLine(file + ": unknown layer type '" + s + "' at index " +
                      std::to_string(i) +
                      " (expected 'conv' or 'full_attention')" +
                      keySuffix("layer_types", kVerbatim));
        return false;
      }
    }
    if (static_cast<int64_t>(fromTypes.size()) != c.layers) {
      err = file + ": layer_types has " + std::to_string(fromTypes.size()) +
            " entries but num_hidden_layers is " + std::to_string(c.layers) +
            keySuffix("layer_types", kVerbatim);
      return false;
    }
  }
  if (g.has("full_attn_idxs")) {
    const json &fa = j["full_attn_idxs"];
    if (!fa.is_array()) {
      err = file + ": expected a list of layer indices" +
            keySuffix("full_attn_idxs", kVerbatim);
      return false;
    }
    fromIdxs.assign(static_cast<size_t>(c.layers), false);
    for (const auto &v : fa) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
          v.get<int64_t>() >= c.layers) {
        err = oneLine(file + ": layer index " + v.dump() +
                      " out of range [0, " + std::to_string(c.layers) + ")" +
                      keySuffix("full_attn_idxs", kVerbatim));
        return false;
      }
      size_t i = static_cast<size_t>(v.get<int64_t>());
      if (fromIdxs[i]) {
        err = file + ": duplicate layer index " + std::to_string(i) +
              keySuffix("full_attn_idxs", kVerbatim);
        return false;
      }
      fromIdxs[i] = true;
    }
  }
  if (!fromTypes.empty() && !fromIdxs.empty() && fromTypes != fromIdxs) {
    err = file + ": layer_types and full_attn_idxs disagree" +
          keySuffix("full_attn_idxs", kVerbatim);
    return false;
  }
  if (!fromTypes.empty()) c.isAttention = fromTypes;
  else if (!fromIdxs.empty()) c.isAttention = fromIdxs;
  else c.isAttention.assign(static_cast<size_t>(c.layers), true); // HF default

  if (!g.getTokenId("bos_token_id", c.bos) ||
      !g.getTokenId("eos_token_id", c.eos) ||
      !g.getTokenId("pad_token_id", c.pad) ||
      !g.getInt("max_position_embeddings", c.maxContext, false))
    return false;

  tied = true;
  if (g.has("tie_word_embeddings")) {
    if (!g.getBool("tie_word_embeddings", tied)) return false;
  } else if (!g.getBool("tie_embedding", tied)) {
    return false;
  }

  if (moe) {
    c.denseLayers = 2; // transformers' Lfm2MoeConfig defaults
    if (!g.getInt("num_experts", c.experts, true) ||
        !g.getInt("num_experts_per_tok", c.expertsPerToken, true) ||
        !g.getInt("num_dense_layers", c.denseLayers, false) ||
        !g.getInt("moe_intermediate_size", c.expertFfn, false) ||
        !g.getBool("norm_topk_prob", c.normTopkProb) ||
        !g.getFloat("routed_scaling_factor", c.routedScaling, false) ||
        !g.getBool("use_expert_bias", c.useExpertBias))
      return false;
    if (!std::isfinite(c.routedScaling) || !(c.routedScaling > 0)) {
      err = file + ": must be positive and finite" +
            keySuffix("routed_scaling_factor", kVerbatim);
      return false;
    }
    if (g.has("scoring_func")) {
      const json &v = j["scoring_func"];
      if (!v.is_string() || (v != "sigmoid" && v != "softmax")) {
        err = file + ": expected \"sigmoid\" or \"softmax\", got " + oneLine(v.dump()) +
              keySuffix("scoring_func", kVerbatim);
        return false;
      }
      c.expertScore = v.get<std::string>();
    }
    // Dense width of the leading dense layers (also read from w1 later).
    if (!g.getInt("intermediate_size", c.ffn, false)) return false;
  }
  return checkConfig(c, file, kHfKeys, "", err);
}

//===----------------------------------------------------------------------===//
// Config (GGUF metadata)
//===----------------------------------------------------------------------===//

bool parseGgufConfig(const GgufFile &f, Lfm2Config &c, int64_t &ffnMeta,
                     std::string &err) {
  const std::string &file = f.path();
  std::string arch;
  if (!f.getString("general.architecture", arch, err)) return false;
  if (arch != "lfm2" && arch != "lfm2moe") {
    err = file + ": unsupported architecture '" + arch +
          "' (expected lfm2 or lfm2moe)" +
          keySuffix("general.architecture", kVerbatim);
    return false;
  }
  c.arch = arch;
  const std::string p = arch + ".";
  auto key = [&](const char *k) { return p + k; };
  auto optInt = [&](const std::string &k, int64_t &out) {
    return !f.find(k) || f.getInt(k, out, err);
  };
  auto optFloat = [&](const std::string &k, double &out) {
    return !f.find(k) || f.getFloat(k, out, err);
  };

  if (!f.getInt(key("block_count"), c.layers, err) ||
      !f.getInt(key("embedding_length"), c.hidden, err))
    return false;
  if (c.layers < 1 || c.layers > 65536) {
    err = file + ": value " + std::to_string(c.layers) +
          " out of range [1, 65536]" + keySuffix(key("block_count"), kVerbatim);
    return false;
  }

  // head_count: a scalar, or a per-layer array whose non-zero entries agree.
  auto perLayer = [&](const std::string &k, std::vector<int64_t> &vals) {
    const GgufValue *v = f.find(k);
    if (!v) {
      err = file + ": missing metadata" + keySuffix(k, kVerbatim);
      return false;
    }
    if (v->isArray()) {
      if (!f.getIntArray(k, vals, err)) return false;
      if (static_cast<int64_t>(vals.size()) != c.layers) {
        err = file + ": has " + std::to_string(vals.size()) + " entries for " +
              std::to_string(c.layers) + " layers" + keySuffix(k, kVerbatim);
        return false;
      }
    } else {
      int64_t s;
      if (!f.getInt(k, s, err)) return false;
      vals.assign(static_cast<size_t>(c.layers), s);
    }
    return true;
  };
  auto common = [&](const std::string &k, const std::vector<int64_t> &vals,
                    int64_t &out) {
    out = 0;
    for (int64_t v : vals) {
      if (v < 0) {
        err = file + ": negative value " + std::to_string(v) +
              keySuffix(k, kVerbatim);
        return false;
      }
      if (v == 0) continue;
      if (out != 0 && v != out) {
        err = file + ": per-layer values differ (" + std::to_string(out) +
              " vs " + std::to_string(v) + "); one value is supported" +
              keySuffix(k, kVerbatim);
        return false;
      }
      out = v;
    }
    return true;
  };
  std::vector<int64_t> heads, kv;
  if (!perLayer(key("attention.head_count"), heads) ||
      !common(key("attention.head_count"), heads, c.heads) ||
      !perLayer(key("attention.head_count_kv"), kv) ||
      !common(key("attention.head_count_kv"), kv, c.kvHeads))
    return false;
  c.isAttention.clear();
  for (int64_t v : kv) c.isAttention.push_back(v != 0);
  if (c.kvHeads == 0) c.kvHeads = c.heads; // no attention layer at all

  if (f.find(key("attention.key_length"))) {
    if (!f.getInt(key("attention.key_length"), c.headDim, err)) return false;
  } else {
    if (c.heads > 0 && c.hidden % c.heads != 0) {
      err = file + ": attention.head_count " + std::to_string(c.heads) +
            " does not divide embedding_length " + std::to_string(c.hidden) +
            keySuffix(key("attention.head_count"), kVerbatim);
      return false;
    }
    c.headDim = c.heads > 0 ? c.hidden / c.heads : 0;
  }
  if (!f.getFloat(key("attention.layer_norm_rms_epsilon"), c.normEps, err) ||
      !f.getInt(key("shortconv.l_cache"), c.convL, err))
    return false;
  c.ropeTheta = 1e6;
  if (!optFloat(key("rope.freq_base"), c.ropeTheta)) return false;

  c.vocab = 0;
  if (!optInt(key("vocab_size"), c.vocab)) return false;
  if (c.vocab == 0)
    if (const GgufValue *t = f.find("tokenizer.ggml.tokens"))
      c.vocab = static_cast<int64_t>(t->arraySize());
  if (c.vocab == 0)
    if (const GgufTensorInfo *t = f.findTensor("token_embd.weight"))
      if (t->ne.size() == 2) c.vocab = t->ne[1];
  if (c.vocab == 0) {
    err = file + ": missing metadata" + keySuffix(key("vocab_size"), kVerbatim);
    return false;
  }
  c.maxContext = 0;
  if (!optInt(key("context_length"), c.maxContext)) return false;
  ffnMeta = 0;
  if (!optInt(key("feed_forward_length"), ffnMeta)) return false;
  if (!optInt("tokenizer.ggml.bos_token_id", c.bos) ||
      !optInt("tokenizer.ggml.eos_token_id", c.eos) ||
      !optInt("tokenizer.ggml.padding_token_id", c.pad))
    return false;

  if (arch == "lfm2moe") {
    if (!f.getInt(key("expert_count"), c.experts, err) ||
        !f.getInt(key("expert_used_count"), c.expertsPerToken, err) ||
        !f.getInt(key("leading_dense_block_count"), c.denseLayers, err) ||
        !optInt(key("expert_feed_forward_length"), c.expertFfn))
      return false;
    int64_t gating = 2;
    if (!optInt(key("expert_gating_func"), gating)) return false;
    if (gating != 1 && gating != 2) {
      err = file + ": expert gating function " + std::to_string(gating) +
            " is not supported (1 = softmax, 2 = sigmoid)" +
            keySuffix(key("expert_gating_func"), kVerbatim);
      return false;
    }
    c.expertScore = gating == 1 ? "softmax" : "sigmoid";
    if (const GgufValue *v = f.find(key("expert_weights_norm"))) {
      if (!v->isInteger()) {
        err = file + ": expected a bool" +
              keySuffix(key("expert_weights_norm"), kVerbatim);
        return false;
      }
      c.normTopkProb = v->i != 0;
    }
    if (!optFloat(key("expert_weights_scale"), c.routedScaling)) return false;
    if (c.routedScaling == 0) c.routedScaling = 1.0; // llama.cpp: 0 = unset
    if (!(c.routedScaling > 0) || !std::isfinite(c.routedScaling)) {
      err = file + ": routed scaling must be positive and finite" +
            keySuffix(key("expert_weights_scale"), kVerbatim);
      return false;
    }
  }
  CfgKeys keys = {"vocab_size",         "embedding_length",
                  "block_count",        "attention.head_count",
                  "attention.head_count_kv", "attention.key_length",
                  "shortconv.l_cache",  "attention.layer_norm_rms_epsilon",
                  "rope.freq_base",     "attention.head_count_kv",
                  "expert_count",       "expert_used_count",
                  "leading_dense_block_count", "expert_feed_forward_length"};
  return checkConfig(c, file, keys, p, err);
}

//===----------------------------------------------------------------------===//
// GGUF <-> canonical names
//===----------------------------------------------------------------------===//

struct NamePair {
  const char *gguf, *hf;
};
constexpr NamePair kLayerNames[] = {
    {"attn_norm.weight", "operator_norm.weight"},
    {"ffn_norm.weight", "ffn_norm.weight"},
    {"shortconv.conv.weight", "conv.conv.weight"},
    {"shortconv.in_proj.weight", "conv.in_proj.weight"},
    {"shortconv.out_proj.weight", "conv.out_proj.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.out_proj.weight"},
    {"attn_q_norm.weight", "self_attn.q_layernorm.weight"},
    {"attn_k_norm.weight", "self_attn.k_layernorm.weight"},
    {"ffn_gate.weight", "feed_forward.w1.weight"},
    {"ffn_up.weight", "feed_forward.w3.weight"},
    {"ffn_down.weight", "feed_forward.w2.weight"},
    {"ffn_gate_inp.weight", "feed_forward.gate.weight"},
    {"exp_probs_b.bias", "feed_forward.expert_bias"},
    {"ffn_gate_exps.weight", "feed_forward.experts.w1.weight"},
    {"ffn_up_exps.weight", "feed_forward.experts.w3.weight"},
    {"ffn_down_exps.weight", "feed_forward.experts.w2.weight"},
};
constexpr NamePair kTopNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"token_embd_norm.weight", "model.embedding_norm.weight"},
    {"output_norm.weight", "model.embedding_norm.weight"}, // older converters
    {"output.weight", "lm_head.weight"},
};

/// Parses "<prefix><decimal>.<rest>"; false if it does not match.
bool splitLayer(const std::string &n, const std::string &prefix, int64_t &layer,
                std::string &rest) {
  if (n.compare(0, prefix.size(), prefix) != 0) return false;
  size_t i = prefix.size(), j = i;
  while (j < n.size() && j - i < 7 && n[j] >= '0' && n[j] <= '9') ++j;
  if (j == i || j >= n.size() || n[j] != '.') return false;
  if (n[i] == '0' && j - i > 1) return false; // no leading zeros
  layer = std::stoll(n.substr(i, j - i));
  rest = n.substr(j + 1);
  return true;
}

/// GGUF name -> canonical HF name ("" if unknown).
std::string canonicalFromGguf(const std::string &n) {
  for (const auto &p : kTopNames)
    if (n == p.gguf) return p.hf;
  int64_t l;
  std::string rest;
  if (!splitLayer(n, "blk.", l, rest)) return "";
  for (const auto &p : kLayerNames)
    if (rest == p.gguf)
      return "model.layers." + std::to_string(l) + "." + p.hf;
  return "";
}

/// Canonical HF name -> GGUF name (for messages).
std::string ggufFromCanonical(const std::string &n) {
  for (const auto &p : kTopNames)
    if (n == p.hf) return p.gguf;
  int64_t l;
  std::string rest;
  if (splitLayer(n, "model.layers.", l, rest))
    for (const auto &p : kLayerNames)
      if (rest == p.hf) return "blk." + std::to_string(l) + "." + p.gguf;
  return n;
}

//===----------------------------------------------------------------------===//
// Tensor collection and validation
//===----------------------------------------------------------------------===//

struct Entry {
  WeightRef ref;
  std::string nameInFile;
  bool used = false;
};

struct Collected {
  bool gguf = false;
  std::string primaryFile; ///< named for missing tensors
  std::map<std::string, Entry> t;

  std::string display(const std::string &canon) const {
    auto it = t.find(canon);
    if (it != t.end()) return it->second.nameInFile;
    return gguf ? ggufFromCanonical(canon) : canon;
  }
  std::string fileOf(const std::string &canon) const {
    auto it = t.find(canon);
    return it != t.end() ? it->second.ref.file : primaryFile;
  }
  std::string shapeStr(const std::vector<int64_t> &torch) const {
    if (!gguf) return formatShape(torch);
    return "(ggml ne) " +
           formatShape(std::vector<int64_t>(torch.rbegin(), torch.rend()));
  }
};

struct Validator {
  Collected &col;
  Lfm2Model &out;
  std::string &err;

  bool has(const std::string &n) const { return col.t.count(n) != 0; }
  const Entry *peek(const std::string &n) const {
    auto it = col.t.find(n);
    return it == col.t.end() ? nullptr : &it->second;
  }
  bool missing(const std::string &n) {
    err = col.primaryFile + ": missing tensor" +
          tensorSuffix(col.display(n), kVerbatim);
    return false;
  }
  /// Requires tensor `n` with torch shape `shape`; moves it into the model.
  /// `alt`: an alternative on-disk shape with the same bytes (normalized to
  /// `shape`).
  bool expect(const std::string &n, const std::vector<int64_t> &shape,
              const std::vector<int64_t> &alt = {}) {
    auto it = col.t.find(n);
    if (it == col.t.end()) return missing(n);
    Entry &e = it->second;
    if (e.ref.shape != shape && (alt.empty() || e.ref.shape != alt)) {
      err = e.ref.file + ": shape " + col.shapeStr(e.ref.shape) +
            " does not match the config, expected " + col.shapeStr(shape) +
            tensorSuffix(e.nameInFile, kVerbatim);
      return false;
    }
    e.used = true;
    WeightRef r = e.ref;
    r.name = n;
    r.shape = shape;
    out.tensors[n] = std::move(r);
    return true;
  }
  /// Marks a tolerated tensor as used without keeping it.
  void drop(const std::string &n) {
    auto it = col.t.find(n);
    if (it != col.t.end()) it->second.used = true;
  }
  /// First dimension of a 2-D tensor, or 0.
  int64_t rows(const std::string &n, size_t dim = 0, size_t rank = 2) const {
    const Entry *e = peek(n);
    return e && e->ref.shape.size() == rank ? e->ref.shape[dim] : 0;
  }
};

bool validate(Collected &col, Lfm2Config &c, bool tied, int64_t ffnMeta,
              Lfm2Model &out, std::string &err) {
  Validator v{col, out, err};
  const int64_t H = c.hidden, V = c.vocab, L = c.convL;
  const int64_t qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
  const bool moe = c.arch == "lfm2moe";
  auto layer = [](int64_t i, const char *rest) {
    return "model.layers." + std::to_string(i) + "." + rest;
  };
  auto isDense = [&](int64_t i) { return !moe || i < c.denseLayers; };

  // Widths: dense FFN from the first dense layer's w1 (GGUF: the metadata
  // value when present), expert FFN from the config or the first expert w1.
  int64_t firstDense = -1, firstMoe = -1;
  for (int64_t i = 0; i < c.layers; ++i) {
    if (isDense(i) && firstDense < 0) firstDense = i;
    if (!isDense(i) && firstMoe < 0) firstMoe = i;
  }
  auto notMatrix = [&](const std::string &n, const char *want) {
    const Entry *e = v.peek(n);
    err = e->ref.file + ": shape " + col.shapeStr(e->ref.shape) + " is not a " +
          want + tensorSuffix(e->nameInFile, kVerbatim);
    return false;
  };
  if (firstDense >= 0) {
    const std::string w1 = layer(firstDense, "feed_forward.w1.weight");
    if (!v.has(w1)) return v.missing(w1);
    if (v.rows(w1) == 0) return notMatrix(w1, "[ffn, hidden] matrix");
    c.ffn = ffnMeta > 0 ? ffnMeta : v.rows(w1);
  } else if (ffnMeta > 0) {
    c.ffn = ffnMeta;
  }
  bool stacked = false;
  if (firstMoe >= 0) {
    const std::string sw1 = layer(firstMoe, "feed_forward.experts.w1.weight");
    const std::string ew1 = layer(firstMoe, "feed_forward.experts.0.w1.weight");
    stacked = col.gguf || v.has(sw1);
    if (c.expertFfn == 0) {
      const std::string &w1 = stacked ? sw1 : ew1;
      if (!v.has(w1)) return v.missing(w1);
      c.expertFfn = stacked ? v.rows(w1, 1, 3) : v.rows(w1);
      if (c.expertFfn == 0)
        return notMatrix(w1, stacked ? "[experts, ffn, hidden] tensor"
                                     : "[ffn, hidden] matrix");
    }
    if (col.gguf) // GGUF: the expert bias is optional; its presence decides
      c.useExpertBias = v.has(layer(firstMoe, "feed_forward.expert_bias"));
  }

  if (!v.expect("model.embed_tokens.weight", {V, H}) ||
      !v.expect("model.embedding_norm.weight", {H}))
    return false;
  if (col.gguf ? v.has("lm_head.weight") : !tied) {
    if (!v.expect("lm_head.weight", {V, H})) return false;
  } else {
    v.drop("lm_head.weight"); // tied: the head is embed_tokens
  }

  for (int64_t i = 0; i < c.layers; ++i) {
    if (!v.expect(layer(i, "operator_norm.weight"), {H}) ||
        !v.expect(layer(i, "ffn_norm.weight"), {H}))
      return false;
    if (c.isAttention[static_cast<size_t>(i)]) {
      if (!v.expect(layer(i, "self_attn.q_proj.weight"), {qDim, H}) ||
          !v.expect(layer(i, "self_attn.k_proj.weight"), {kvDim, H}) ||
          !v.expect(layer(i, "self_attn.v_proj.weight"), {kvDim, H}) ||
          !v.expect(layer(i, "self_attn.out_proj.weight"), {H, qDim}) ||
          !v.expect(layer(i, "self_attn.q_layernorm.weight"), {c.headDim}) ||
          !v.expect(layer(i, "self_attn.k_layernorm.weight"), {c.headDim}))
        return false;
    } else {
      if (!v.expect(layer(i, "conv.in_proj.weight"), {3 * H, H}) ||
          !v.expect(layer(i, "conv.conv.weight"), {H, L}, {H, 1, L}) ||
          !v.expect(layer(i, "conv.out_proj.weight"), {H, H}))
        return false;
    }
    if (isDense(i)) {
      if (!v.expect(layer(i, "feed_forward.w1.weight"), {c.ffn, H}) ||
          !v.expect(layer(i, "feed_forward.w3.weight"), {c.ffn, H}) ||
          !v.expect(layer(i, "feed_forward.w2.weight"), {H, c.ffn}))
        return false;
      continue;
    }
    const int64_t E = c.experts, I = c.expertFfn;
    if (!v.expect(layer(i, "feed_forward.gate.weight"), {E, H})) return false;
    if (c.useExpertBias) {
      if (!v.expect(layer(i, "feed_forward.expert_bias"), {E})) return false;
    }
    if (stacked) {
      if (!v.expect(layer(i, "feed_forward.experts.w1.weight"), {E, I, H}) ||
          !v.expect(layer(i, "feed_forward.experts.w3.weight"), {E, I, H}) ||
          !v.expect(layer(i, "feed_forward.experts.w2.weight"), {E, H, I}))
        return false;
    } else {
      for (int64_t e = 0; e < E; ++e) {
        const std::string pe =
            "feed_forward.experts." + std::to_string(e) + ".";
        if (!v.expect(layer(i, (pe + "w1.weight").c_str()), {I, H}) ||
            !v.expect(layer(i, (pe + "w3.weight").c_str()), {I, H}) ||
            !v.expect(layer(i, (pe + "w2.weight").c_str()), {H, I}))
          return false;
      }
    }
  }
  for (const auto &kv : col.t)
    if (!kv.second.used) {
      err = kv.second.ref.file + ": unexpected tensor (not part of an " +
            c.arch + " model with this config)" +
            tensorSuffix(kv.second.nameInFile, kVerbatim);
      return false;
    }
  return true;
}

//===----------------------------------------------------------------------===//
// HF folder
//===----------------------------------------------------------------------===//

bool weightTypeOf(DType d, WeightType &t) {
  switch (d) {
  case DType::F32: t = WeightType::F32; return true;
  case DType::F16: t = WeightType::F16; return true;
  case DType::BF16: t = WeightType::BF16; return true;
  default: return false;
  }
}

bool addSafetensor(const std::shared_ptr<MappedFile> &mf, const TensorInfo &ti,
                   Collected &col, std::string &err) {
  const SafetensorsFile &sf = *mf->st;
  WeightRef r;
  if (!weightTypeOf(ti.dtype, r.type)) {
    err = sf.path() + ": dtype " + dtypeName(ti.dtype) +
          " is not supported (F32, F16, BF16)" +
          tensorSuffix(ti.name, kVerbatim);
    return false;
  }
  r.name = ti.name;
  r.file = sf.path();
  r.shape = ti.shape;
  r.data = sf.rawData(ti);
  r.bytes = static_cast<size_t>(ti.nbytes());
  Entry e;
  e.ref = std::move(r);
  e.nameInFile = ti.name;
  col.t[ti.name] = std::move(e);
  return true;
}

bool loadHf(const std::string &dir, const std::string &configPath,
            Lfm2Model &m, std::string &err) {
  json j;
  if (!readJson(configPath, j, err)) return false;
  bool tied = true;
  if (!parseHfConfig(j, configPath, m.config, tied, err)) return false;

  Collected col;
  const std::string single = joinPath(dir, "model.safetensors");
  const std::string index = joinPath(dir, "model.safetensors.index.json");
  if (isFile(single)) {
    auto mf = std::make_shared<MappedFile>();
    mf->st = SafetensorsFile::open(single, err);
    if (!mf->st) return false;
    m.files.push_back(mf);
    col.primaryFile = single;
    for (const auto &ti : mf->st->tensors())
      if (!addSafetensor(mf, ti, col, err)) return false;
  } else if (isFile(index)) {
    json ij;
    if (!readJson(index, ij, err)) return false;
    col.primaryFile = index;
    if (!ij.contains("weight_map") || !ij["weight_map"].is_object()) {
      err = index + ": missing or non-object 'weight_map'" +
            keySuffix("weight_map", kVerbatim);
      return false;
    }
    std::map<std::string, std::shared_ptr<MappedFile>> shards;
    for (auto it = ij["weight_map"].begin(); it != ij["weight_map"].end(); ++it) {
      const std::string &name = it.key();
      if (!it.value().is_string()) {
        err = index + ": weight_map entry is not a file name" +
              tensorSuffix(name, kVerbatim);
        return false;
      }
      const std::string fn = it.value().get<std::string>();
      if (fn.empty() || fn[0] == '/' || fn.find("..") != std::string::npos) {
        err = index + ": shard file name '" + fn +
              "' must be a plain relative name" + tensorSuffix(name, kVerbatim);
        return false;
      }
      auto sh = shards.find(fn);
      if (sh == shards.end()) {
        auto mf = std::make_shared<MappedFile>();
        std::string e2;
        mf->st = SafetensorsFile::open(joinPath(dir, fn), e2);
        if (!mf->st) {
          err = e2 + " (listed in " + index + " for tensor '" + name + "')";
          return false;
        }
        m.files.push_back(mf);
        sh = shards.emplace(fn, mf).first;
      }
      const TensorInfo *ti = sh->second->st->find(name);
      if (!ti) {
        err = sh->second->st->path() + ": tensor listed in " + index +
              " is not in this shard" + tensorSuffix(name, kVerbatim);
        return false;
      }
      if (!addSafetensor(sh->second, *ti, col, err)) return false;
    }
  } else {
    err = dir + ": no model.safetensors or model.safetensors.index.json";
    return false;
  }
  return validate(col, m.config, tied, 0, m, err);
}

//===----------------------------------------------------------------------===//
// GGUF
//===----------------------------------------------------------------------===//

bool loadGguf(const std::string &path, Lfm2Model &m, std::string &err) {
  auto mf = std::make_shared<MappedFile>();
  mf->gguf = GgufFile::open(path, err);
  if (!mf->gguf) return false;
  m.files.push_back(mf);
  const GgufFile &f = *mf->gguf;
  int64_t ffnMeta = 0;
  if (!parseGgufConfig(f, m.config, ffnMeta, err)) return false;

  Collected col;
  col.gguf = true;
  col.primaryFile = path;
  for (const auto &ti : f.tensors()) {
    std::string canon = canonicalFromGguf(ti.name);
    if (canon.empty()) {
      err = path + ": unexpected tensor (not an " + m.config.arch +
            " tensor name)" + tensorSuffix(ti.name, kVerbatim);
      return false;
    }
    if (col.t.count(canon)) {
      err = path + ": tensor given twice (also as '" + col.t[canon].nameInFile +
            "')" + tensorSuffix(ti.name, kVerbatim);
      return false;
    }
    WeightRef r;
    switch (ti.type()) {
    case GgmlType::F32: r.type = WeightType::F32; break;
    case GgmlType::F16: r.type = WeightType::F16; break;
    case GgmlType::BF16: r.type = WeightType::BF16; break;
    case GgmlType::Q8_0: r.type = WeightType::Q8_0; break;
    }
    r.name = canon;
    r.file = path;
    r.shape = ti.torchShape();
    r.data = f.data(ti);
    r.bytes = static_cast<size_t>(ti.bytes);
    Entry e;
    e.ref = std::move(r);
    e.nameInFile = ti.name;
    col.t[canon] = std::move(e);
  }
  return validate(col, m.config, /*tied=*/true, ffnMeta, m, err);
}

} // namespace

bool loadLfm2Model(const std::string &path, Lfm2Model &out, std::string &err) {
  try {
    Lfm2Model m;
    m.path = path;
    bool ok;
    if (isDir(path)) {
      const std::string cfg = joinPath(path, "config.json");
      if (!isFile(cfg)) {
        err = path + ": no config.json in this folder";
        return false;
      }
      ok = loadHf(path, cfg, m, err);
    } else if (!isFile(path)) {
      err = path + ": no such file or folder";
      return false;
    } else if (startsWithGguf(path) ||
               (path.size() >= 5 &&
                path.compare(path.size() - 5, 5, ".gguf") == 0)) {
      ok = loadGguf(path, m, err);
    } else if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
      ok = loadHf(detail::parentDir(path, "."), path, m, err);
    } else {
      err = path + ": not a GGUF file, a config.json or a checkpoint folder";
      return false;
    }
    if (!ok) {
      err = oneLine(err);
      return false;
    }
    out = std::move(m);
    return true;
  } catch (...) {
    err = detail::exceptionMessage(path + ": cannot load checkpoint: ");
    return false;
  }
}

} // namespace liquid
