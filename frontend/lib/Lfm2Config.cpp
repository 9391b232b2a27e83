//===- Lfm2Config.cpp - LFM2 configs from config.json or GGUF ---------------===//
//
// Step (1) of loading an LFM2 checkpoint (see Lfm2Model.cpp): the config,
// from config.json or the GGUF metadata, checked for consistency.
//
//===----------------------------------------------------------------------===//
#include "Lfm2Config.h"

#include "liquid/Frontend/Gguf.h"

#include "FileUtil.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace liquid {
namespace detail {

using json = nlohmann::json;

namespace {
/// Names are shown verbatim; loadLfm2Model makes the whole message one line.
constexpr NameStyle kVerbatim{false};

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
      *eps, *theta, *layerTypes, *experts, *topK, *dense, *expertFfn, *maxContext;
};
const CfgKeys kHfKeys = {"vocab_size",          "hidden_size",
                         "num_hidden_layers",   "num_attention_heads",
                         "num_key_value_heads", "head_dim",
                         "conv_L_cache",        "norm_eps",
                         "rope_theta",          "layer_types",
                         "num_experts",         "num_experts_per_tok",
                         "num_dense_layers",    "moe_intermediate_size",
                         "max_position_embeddings"};

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
      !range(k.headDim, c.headDim, 1, kMax) || !range(k.convL, c.convL, 1, 4096) ||
      !range(k.maxContext, c.maxContext, 0, int64_t(1) << 40)) // 0: not given
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

} // namespace

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
                  "leading_dense_block_count", "expert_feed_forward_length",
                  "context_length"};
  return checkConfig(c, file, keys, p, err);
}

} // namespace detail
} // namespace liquid
