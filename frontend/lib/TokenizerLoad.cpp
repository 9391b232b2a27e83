//===- TokenizerLoad.cpp - tokenizers from HF folders and GGUF files ------===//
//
// See liquid/Frontend/Tokenizer.h. Only structures the runtime reproduces
// exactly are accepted; anything else is an error naming the key.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Tokenizer.h"

#include "liquid/Frontend/Gguf.h"

#include "FileUtil.h"
#include "JsonFile.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <sys/stat.h>

namespace liquid {

using json = nlohmann::json;
using detail::oneLine;
using detail::printable;
using detail::isDir;
using detail::isFile;

namespace {

/// Ids a tokenizer.json may leave without a token (reserved, unused).
constexpr int64_t kMaxUnusedIds = 65536;

/// The folder of an HF checkpoint given as a folder or as its config.json;
/// empty for anything else (a .gguf file).
std::string hfFolder(const std::string &checkpoint) {
  if (isDir(checkpoint)) return checkpoint;
  size_t slash = checkpoint.find_last_of('/');
  std::string base = slash == std::string::npos ? checkpoint : checkpoint.substr(slash + 1);
  if (base == "config.json") return detail::parentDir(checkpoint, ".");
  return "";
}

/// The Llama-3 split as tokenizer.json files spell it (LFM2, Llama 3), and
/// GPT-2's.
const char *const kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char *const kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/// A token name in tokenizer_config.json: a string or {"content": ...}.
std::string tokenName(const json &v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return "";
}

/// The ByteLevel part of the pre-tokenizer; `useRegex` reports its flag.
bool byteLevelOk(const json &p, bool &useRegex) {
  if (!p.is_object() || p.value("type", "") != "ByteLevel") return false;
  if (p.value("add_prefix_space", false)) return false;
  useRegex = p.value("use_regex", true);
  return true;
}

/// Sequence[Split(regex, Isolated), ByteLevel(use_regex false)] or
/// ByteLevel(use_regex true): the GPT-2 or Llama-3 split.
bool readPreTokenizer(const json &t, TokenizerSpec &s, const std::string &file,
                      std::string &err) {
  const json &p = t.contains("pre_tokenizer") ? t["pre_tokenizer"] : json();
  bool useRegex = false;
  if (byteLevelOk(p, useRegex) && useRegex) {
    s.pre = TokenizerSpec::Pre::GPT2;
    return true;
  }
  if (p.is_object() && p.value("type", "") == "Sequence" && p.contains("pretokenizers") &&
      p["pretokenizers"].is_array() && p["pretokenizers"].size() == 2) {
    const json &split = p["pretokenizers"][0];
    if (split.is_object() && split.value("type", "") == "Split" &&
        split.value("behavior", "") == "Isolated" && !split.value("invert", false) &&
        split.contains("pattern") && split["pattern"].is_object() &&
        split["pattern"].contains("Regex") && split["pattern"]["Regex"].is_string() &&
        byteLevelOk(p["pretokenizers"][1], useRegex) && !useRegex) {
      std::string re = split["pattern"]["Regex"].get<std::string>();
      if (re == kLlama3Regex) {
        s.pre = TokenizerSpec::Pre::Llama3;
        return true;
      }
      if (re == kGpt2Regex) {
        s.pre = TokenizerSpec::Pre::GPT2;
        return true;
      }
      err = file + ": unsupported pre-tokenizer regex '" + printable(re, 80) +
            "' (supported: the GPT-2 and Llama-3 splits)";
      return false;
    }
  }
  err = file + ": unsupported pre_tokenizer " + printable(p.dump(), 120) +
        " (supported: ByteLevel, or Split(GPT-2 or Llama-3 regex) + ByteLevel)";
  return false;
}

/// model: BPE with vocab, merges, no byte fallback, no prefixes/suffixes.
bool readBpeModel(const json &t, TokenizerSpec &s, std::map<std::string, int32_t> &ids,
                  const std::string &file, std::string &err) {
  const json &m = t.contains("model") ? t["model"] : json();
  if (!m.is_object() || m.value("type", "") != "BPE") {
    err = file + ": model.type must be \"BPE\" (got " +
          printable(m.is_object() && m.contains("type") ? m["type"].dump() : "none", 40) + ")";
    return false;
  }
  for (const char *k : {"continuing_subword_prefix", "end_of_word_suffix", "dropout"})
    if (m.contains(k) && !m[k].is_null() && !(m[k].is_string() && m[k].get<std::string>().empty())) {
      err = file + ": model." + k + " is not supported";
      return false;
    }
  if (m.value("byte_fallback", false)) {
    err = file + ": model.byte_fallback is not supported with a byte-level BPE";
    return false;
  }
  s.ignoreMerges = m.value("ignore_merges", false);
  if (!m.contains("vocab") || !m["vocab"].is_object() || m["vocab"].empty()) {
    err = file + ": model.vocab is missing or empty";
    return false;
  }
  for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() >= (1 << 24)) {
      err = file + ": model.vocab['" + printable(it.key(), 40) + "'] is not a token id";
      return false;
    }
    ids[it.key()] = it.value().get<int32_t>();
  }
  const json &merges = m.contains("merges") ? m["merges"] : json::array();
  if (!merges.is_array()) {
    err = file + ": model.merges is not a list";
    return false;
  }
  for (size_t i = 0; i < merges.size(); ++i) {
    const json &e = merges[i];
    if (e.is_string()) {
      std::string v = e.get<std::string>();
      size_t sp = v.find(' ', 1);
      if (sp != std::string::npos) {
        s.merges.emplace_back(v.substr(0, sp), v.substr(sp + 1));
        continue;
      }
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      s.merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      continue;
    }
    err = file + ": model.merges[" + std::to_string(i) + "] is not a pair";
    return false;
  }
  return true;
}

/// added_tokens: special ones are control tokens, the others user-defined.
bool readAddedTokens(const json &t, std::map<std::string, int32_t> &ids,
                     std::map<int32_t, int32_t> &types, const std::string &file,
                     std::string &err) {
  if (!t.contains("added_tokens")) return true;
  if (!t["added_tokens"].is_array()) {
    err = file + ": added_tokens is not a list";
    return false;
  }
  for (const json &a : t["added_tokens"]) {
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
        !a.contains("content") || !a["content"].is_string() || a["id"].get<int64_t>() < 0 ||
        a["id"].get<int64_t>() >= (1 << 24)) {
      err = file + ": an added_tokens entry lacks an id or content";
      return false;
    }
    std::string text = a["content"].get<std::string>();
    for (const char *k : {"lstrip", "rstrip", "single_word"})
      if (a.value(k, false)) {
        err = file + ": added token '" + printable(text, 40) + "' sets " + k +
              ", which is not supported";
        return false;
      }
    int32_t id = a["id"].get<int32_t>();
    ids[text] = id;
    types[id] = a.value("special", false) ? 3 : 4;
  }
  return true;
}

/// bos/add_bos from the post-processor (TemplateProcessing "<bos> $A") or
/// tokenizer_config.json; eos, pad, chat template from the latter.
void readSpecialRoles(const json &t, const json &cfg, const std::map<std::string, int32_t> &ids,
                      TokenizerSpec &s) {
  auto idOf = [&](const std::string &name) {
    auto it = ids.find(name);
    return it == ids.end() ? -1 : it->second;
  };
  const json &pp = t.contains("post_processor") ? t["post_processor"] : json();
  if (pp.is_object() && pp.value("type", "") == "TemplateProcessing" && pp.contains("single") &&
      pp["single"].is_array() && !pp["single"].empty()) {
    const json &first = pp["single"][0];
    if (first.is_object() && first.contains("SpecialToken") && first["SpecialToken"].is_object()) {
      s.bos = idOf(first["SpecialToken"].value("id", ""));
      s.addBos = s.bos >= 0;
    }
    const json &last = pp["single"][pp["single"].size() - 1];
    if (pp["single"].size() > 1 && last.is_object() && last.contains("SpecialToken") &&
        last["SpecialToken"].is_object()) {
      s.eos = idOf(last["SpecialToken"].value("id", ""));
      s.addEos = s.eos >= 0;
    }
  }
  if (cfg.is_object()) {
    if (cfg.contains("bos_token") && s.bos < 0) s.bos = idOf(tokenName(cfg["bos_token"]));
    if (cfg.contains("eos_token")) s.eos = idOf(tokenName(cfg["eos_token"]));
    if (cfg.contains("pad_token")) s.pad = idOf(tokenName(cfg["pad_token"]));
    if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean())
      s.addBos = cfg["add_bos_token"].get<bool>() && s.bos >= 0;
    if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean())
      s.addEos = cfg["add_eos_token"].get<bool>() && s.eos >= 0;
    const json &ct = cfg.contains("chat_template") ? cfg["chat_template"] : json();
    if (ct.is_string()) {
      s.chatTemplate = ct.get<std::string>();
    } else if (ct.is_array()) { // [{name, template}]: the default one
      for (const json &e : ct)
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template") &&
            e["template"].is_string())
          s.chatTemplate = e["template"].get<std::string>();
    }
  }
}

/// eos_token_id of config.json / generation_config.json (an id or a list).
void readEogIds(const std::string &dir, TokenizerSpec &s) {
  for (const char *name : {"config.json", "generation_config.json"}) {
    std::string p = detail::joinPath(dir, name), ignored;
    json j;
    if (!isFile(p) || !detail::readJsonObject(p, j, ignored) || !j.contains("eos_token_id")) continue;
    const json &v = j["eos_token_id"];
    if (v.is_number_integer()) s.moreEog.push_back(v.get<int32_t>());
    if (v.is_array())
      for (const json &e : v)
        if (e.is_number_integer()) s.moreEog.push_back(e.get<int32_t>());
  }
}

bool loadHfTokenizer(const std::string &dir, TokenizerSpec &s, std::string &err) {
  std::string file = detail::joinPath(dir, "tokenizer.json");
  s.source = file;
  json t, cfg;
  if (!detail::readJsonObject(file, t, err)) return false;
  std::string cfgFile = detail::joinPath(dir, "tokenizer_config.json");
  if (isFile(cfgFile) && !detail::readJsonObject(cfgFile, cfg, err)) return false;
  try {
    if (t.contains("normalizer") && !t["normalizer"].is_null()) {
      err = file + ": unsupported normalizer " + printable(t["normalizer"].dump(), 80) +
            " (only byte-level BPE tokenizers without a normalizer are supported)";
      return false;
    }
    const json &dec = t.contains("decoder") ? t["decoder"] : json();
    if (!dec.is_null() && !(dec.is_object() && dec.value("type", "") == "ByteLevel")) {
      err = file + ": unsupported decoder " + printable(dec.dump(), 80) + " (expected ByteLevel)";
      return false;
    }
    std::map<std::string, int32_t> ids;
    std::map<int32_t, int32_t> types;
    if (!readBpeModel(t, s, ids, file, err) || !readPreTokenizer(t, s, file, err) ||
        !readAddedTokens(t, ids, types, file, err))
      return false;
    int32_t n = 0;
    for (auto &kv : ids) n = std::max(n, kv.second + 1);
    // Vocabularies are dense; a few reserved ids may be missing. A file
    // naming id 16,000,000 for its 600 tokens would make every later step
    // size itself for sixteen million.
    if (static_cast<int64_t>(n) > static_cast<int64_t>(ids.size()) + kMaxUnusedIds) {
      err = file + ": token ids reach " + std::to_string(n - 1) + " but only " +
            std::to_string(ids.size()) + " tokens are defined (at most " +
            std::to_string(kMaxUnusedIds) + " ids may be unused)";
      return false;
    }
    s.tokens.assign(n, "");
    s.types.assign(n, 5); // ids without a string: unused
    for (auto &kv : ids) {
      s.tokens[kv.second] = kv.first;
      auto ty = types.find(kv.second);
      s.types[kv.second] = ty == types.end() ? 1 : ty->second;
    }
    readSpecialRoles(t, cfg, ids, s);
    readEogIds(dir, s);
    std::string jinja = detail::joinPath(dir, "chat_template.jinja");
    if (s.chatTemplate.empty() && isFile(jinja)) {
      std::ifstream in(jinja, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      s.chatTemplate = ss.str();
    }
  } catch (const json::exception &e) {
    err = oneLine(file + ": unexpected structure: " + e.what());
    return false;
  }
  s.model = TokenizerSpec::Model::BPE;
  return true;
}

} // namespace

bool loadTokenizer(const std::string &checkpoint, TokenizerSpec &spec, std::string &err) {
  std::string dir = hfFolder(checkpoint);
  if (!dir.empty())
    return !isFile(detail::joinPath(dir, "tokenizer.json")) || loadHfTokenizer(dir, spec, err);
  auto f = GgufFile::open(checkpoint, err);
  if (!f) return false;
  return !f->find("tokenizer.ggml.model") || loadTokenizerFromGguf(*f, spec, err);
}

} // namespace liquid
