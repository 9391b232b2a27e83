//===- TokenizerImage.cpp - GGUF tokenizers; the runtime's image ----------===//
//
// See liquid/Frontend/Tokenizer.h and runtime/liquid_tokenizer.h (the image
// layout, shared with the runtime).
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Tokenizer.h"

#include "liquid/Frontend/Gguf.h"

#include "FileUtil.h"

#include "liquid_tokenizer.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace liquid {

using detail::printable;

//===----------------------------------------------------------------------===//
// GGUF
//===----------------------------------------------------------------------===//

namespace {

bool optInt(const GgufFile &f, const std::string &key, int64_t &out, std::string &err) {
  if (!f.find(key)) return true;
  return f.getInt(key, out, err);
}

/// tokenizer.ggml.pre values whose split the runtime implements.
bool ggufPre(const std::string &pre, TokenizerSpec &s) {
  if (pre == "gpt-2" || pre == "gpt2") {
    s.pre = TokenizerSpec::Pre::GPT2;
    return true;
  }
  if (pre == "lfm2" || pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe") {
    s.pre = TokenizerSpec::Pre::Llama3;
    s.ignoreMerges = true;
    s.addBos = true;
    return true;
  }
  return false;
}

} // namespace

bool loadTokenizerFromGguf(const GgufFile &f, TokenizerSpec &s, std::string &err) {
  const std::string &file = f.path();
  s.source = file;
  std::string model;
  if (!f.getString("tokenizer.ggml.model", model, err)) return false;
  if (model == "gpt2") {
    s.model = TokenizerSpec::Model::BPE;
    std::string pre = "default";
    if (f.find("tokenizer.ggml.pre") && !f.getString("tokenizer.ggml.pre", pre, err)) return false;
    if (!ggufPre(pre, s)) {
      err = file + ": tokenizer.ggml.pre '" + printable(pre, 40) +
            "' is not supported (supported: lfm2, llama3, llama-bpe, gpt-2)";
      return false;
    }
  } else if (model == "llama") {
    s.model = TokenizerSpec::Model::SPM;
    s.addBos = true;
    s.addSpacePrefix = true;
  } else {
    err = file + ": tokenizer.ggml.model '" + printable(model, 40) +
          "' is not supported (supported: gpt2 = byte-level BPE, llama = SentencePiece)";
    return false;
  }
  const GgufValue *tokens = f.find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->isArray() || tokens->elemType != GgufType::STRING ||
      tokens->strings.empty()) {
    err = file + ": tokenizer.ggml.tokens must be a non-empty array of strings";
    return false;
  }
  s.tokens = tokens->strings;
  size_t n = s.tokens.size();
  if (const GgufValue *types = f.find("tokenizer.ggml.token_type")) {
    if (!types->isArray() || types->ints.size() != n) {
      err = file + ": tokenizer.ggml.token_type must be " + std::to_string(n) + " integers";
      return false;
    }
    s.types.assign(types->ints.begin(), types->ints.end());
  } else {
    s.types.assign(n, LQ_TOK_NORMAL);
  }
  if (s.model == TokenizerSpec::Model::SPM) {
    const GgufValue *scores = f.find("tokenizer.ggml.scores");
    if (!scores || !scores->isArray() || scores->floats.size() != n) {
      err = file + ": tokenizer.ggml.scores must be " + std::to_string(n) + " floats";
      return false;
    }
    s.scores.assign(scores->floats.begin(), scores->floats.end());
  } else {
    const GgufValue *merges = f.find("tokenizer.ggml.merges");
    if (!merges || !merges->isArray() || merges->elemType != GgufType::STRING) {
      err = file + ": tokenizer.ggml.merges must be an array of strings";
      return false;
    }
    for (size_t i = 0; i < merges->strings.size(); ++i) {
      const std::string &m = merges->strings[i];
      size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) {
        err = file + ": tokenizer.ggml.merges[" + std::to_string(i) + "] is not 'left right'";
        return false;
      }
      s.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
  }
  int64_t bos = -1, eos = -1, pad = -1, unk = -1, eot = -1, eom = -1, addBos = s.addBos,
          addEos = 0, spacePrefix = s.addSpacePrefix;
  if (!optInt(f, "tokenizer.ggml.bos_token_id", bos, err) ||
      !optInt(f, "tokenizer.ggml.eos_token_id", eos, err) ||
      !optInt(f, "tokenizer.ggml.padding_token_id", pad, err) ||
      !optInt(f, "tokenizer.ggml.unknown_token_id", unk, err) ||
      !optInt(f, "tokenizer.ggml.eot_token_id", eot, err) ||
      !optInt(f, "tokenizer.ggml.eom_token_id", eom, err) ||
      !optInt(f, "tokenizer.ggml.add_bos_token", addBos, err) ||
      !optInt(f, "tokenizer.ggml.add_eos_token", addEos, err) ||
      !optInt(f, "tokenizer.ggml.add_space_prefix", spacePrefix, err))
    return false;
  for (int64_t *id : {&bos, &eos, &pad, &unk, &eot, &eom})
    if (*id < -1 || *id >= static_cast<int64_t>(n)) {
      err = file + ": a tokenizer.ggml.*_token_id (" + std::to_string(*id) +
            ") is outside the vocabulary of " + std::to_string(n);
      return false;
    }
  s.bos = static_cast<int32_t>(bos);
  s.eos = static_cast<int32_t>(eos);
  s.pad = static_cast<int32_t>(pad);
  s.unk = static_cast<int32_t>(unk);
  for (int64_t id : {eot, eom})
    if (id >= 0) s.moreEog.push_back(static_cast<int32_t>(id));
  s.addBos = addBos && s.bos >= 0;
  s.addEos = addEos && s.eos >= 0;
  s.addSpacePrefix = spacePrefix != 0;
  if (f.find("tokenizer.chat_template") &&
      !f.getString("tokenizer.chat_template", s.chatTemplate, err))
    return false;
  return true;
}

//===----------------------------------------------------------------------===//
// The image
//===----------------------------------------------------------------------===//

namespace {

/// GPT-2's byte-level alphabet: byte -> code point, and back.
struct ByteLevel {
  uint32_t toCp[256];
  std::unordered_map<uint32_t, uint8_t> toByte;
  ByteLevel() {
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      toCp[b] = printable ? b : 256 + extra++;
      toByte[toCp[b]] = static_cast<uint8_t>(b);
    }
  }
  /// The bytes a vocabulary string stands for; false if a character is not
  /// in the alphabet.
  bool unmap(const std::string &s, std::string &out) const {
    out.clear();
    for (size_t i = 0; i < s.size();) {
      unsigned char c = s[i];
      uint32_t cp;
      size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      if (i + len > s.size()) return false;
      cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
      for (size_t j = 1; j < len; ++j) cp = cp << 6 | (s[i + j] & 0x3F);
      auto it = toByte.find(cp);
      if (it == toByte.end()) return false;
      out += static_cast<char>(it->second);
      i += len;
    }
    return true;
  }
};

const ByteLevel &byteLevel() {
  static const ByteLevel table;
  return table;
}

/// Names of end-of-turn tokens models use (as llama.cpp recognises them).
bool endsGeneration(const std::string &text) {
  static const char *const names[] = {"<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end|>",
                                      "<end_of_turn>", "<|end_of_text|>", "<|eom_id|>",
                                      "<EOT>", "<|return|>", "<end_of_utterance>"};
  for (const char *n : names)
    if (text == n) return true;
  return false;
}

uint32_t pow2AtLeast(size_t n) {
  uint32_t p = 16;
  while (p < n) p <<= 1;
  return p;
}

struct Entry {
  std::string key, piece;
  bool hasKey = false;
};

/// Keys and pieces of every token (see liquid_tokenizer.h).
bool tokenEntries(const TokenizerSpec &s, std::vector<Entry> &out, std::string &err) {
  const ByteLevel &bl = byteLevel();
  out.resize(s.tokens.size());
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    const std::string &tok = s.tokens[i];
    int32_t ty = s.types[i];
    Entry &e = out[i];
    if (ty < LQ_TOK_NORMAL || ty > LQ_TOK_BYTE) {
      err = s.source + ": token " + std::to_string(i) + " has unknown type " + std::to_string(ty);
      return false;
    }
    if (ty == LQ_TOK_UNUSED) continue;
    if (s.model == TokenizerSpec::Model::BPE) {
      e.hasKey = bl.unmap(tok, e.key);
      if (ty == LQ_TOK_NORMAL || ty == LQ_TOK_BYTE) {
        if (!e.hasKey) {
          err = s.source + ": token " + std::to_string(i) + " '" + printable(tok, 40) +
                "' is not in the byte-level alphabet (unsupported vocabulary)";
          return false;
        }
        e.piece = e.key;
      } else {
        e.piece = tok;
      }
      continue;
    }
    e.key = tok;
    e.hasKey = true;
    if (ty == LQ_TOK_BYTE) {
      unsigned v = 0;
      if (tok.size() != 6 || std::sscanf(tok.c_str(), "<0x%2X>", &v) != 1) {
        err = s.source + ": byte token " + std::to_string(i) + " '" + printable(tok, 20) +
              "' is not <0xXX>";
        return false;
      }
      e.piece = std::string(1, static_cast<char>(v));
    } else if (ty == LQ_TOK_NORMAL || ty == LQ_TOK_USER_DEFINED) {
      for (size_t p = 0; p < tok.size();) {
        if (tok.compare(p, 3, "\xE2\x96\x81") == 0) {
          e.piece += ' ';
          p += 3;
        } else {
          e.piece += tok[p++];
        }
      }
    } else {
      e.piece = tok;
    }
  }
  return true;
}

/// The chat template the runtime renders, or an error.
bool recognizeChat(const TokenizerSpec &s, ChatTemplateChoice choice, uint32_t &kind,
                   uint32_t &flags, std::string &err) {
  kind = LQ_CHAT_NONE;
  flags = 0;
  const std::string &t = s.chatTemplate;
  if (choice == ChatTemplateChoice::None || (choice == ChatTemplateChoice::Auto && t.empty()))
    return true;
  bool chatml = t.find("<|im_start|>") != std::string::npos &&
                t.find("<|im_end|>") != std::string::npos &&
                t.find("<|im_sep|>") == std::string::npos &&
                t.find("<end_of_utterance>") == std::string::npos;
  if (choice == ChatTemplateChoice::Auto && !chatml) {
    err = s.source + ": chat template not recognised ('" + printable(t, 60) +
          "'); pass --chat-template chatml to use ChatML or --chat-template none";
    return false;
  }
  bool hasStart = std::find(s.tokens.begin(), s.tokens.end(), "<|im_start|>") != s.tokens.end();
  bool hasEnd = std::find(s.tokens.begin(), s.tokens.end(), "<|im_end|>") != s.tokens.end();
  if (!hasStart || !hasEnd) {
    err = s.source + ": the vocabulary has no <|im_start|>/<|im_end|> tokens for a ChatML "
                     "chat template; pass --chat-template none";
    return false;
  }
  kind = LQ_CHAT_CHATML;
  if (t.find("bos_token") != std::string::npos) flags |= LQ_CHAT_BOS_TEXT;
  return true;
}

/// Appends a section (8-byte aligned) and returns its offset.
template <typename T>
uint32_t section(std::vector<uint8_t> &img, const T *data, size_t count) {
  img.resize((img.size() + 7) / 8 * 8);
  uint32_t off = static_cast<uint32_t>(img.size());
  const uint8_t *p = reinterpret_cast<const uint8_t *>(data);
  img.insert(img.end(), p, p + count * sizeof(T));
  return off;
}

} // namespace

bool buildTokenizerImage(const TokenizerSpec &s, ChatTemplateChoice chat,
                         std::vector<uint8_t> &image, std::string &err) {
  size_t n = s.tokens.size();
  bool bpe = s.model == TokenizerSpec::Model::BPE;
  if (n == 0 || n >= (1u << 24) || s.types.size() != n || (!bpe && s.scores.size() != n)) {
    err = s.source + ": inconsistent tokenizer (" + std::to_string(n) + " tokens)";
    return false;
  }
  std::vector<Entry> entries;
  if (!tokenEntries(s, entries, err)) return false;
  lq_tok_header h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, LQ_TOK_MAGIC, 8);
  h.version = LQ_TOK_VERSION;
  h.model = bpe ? LQ_TOK_MODEL_BPE : LQ_TOK_MODEL_SPM;
  h.pre = s.pre == TokenizerSpec::Pre::GPT2     ? LQ_TOK_PRE_GPT2
          : s.pre == TokenizerSpec::Pre::Llama3 ? LQ_TOK_PRE_LLAMA3
                                                : LQ_TOK_PRE_NONE;
  h.flags = (s.addBos ? LQ_TOK_ADD_BOS : 0) | (s.addEos ? LQ_TOK_ADD_EOS : 0) |
            (s.ignoreMerges ? LQ_TOK_IGNORE_MERGES : 0) |
            (s.addSpacePrefix ? LQ_TOK_ADD_SPACE_PREFIX : 0);
  h.n_tokens = static_cast<uint32_t>(n);
  h.bos = s.bos;
  h.eos = s.eos;
  h.pad = s.pad;
  h.unk = s.unk;
  if (!recognizeChat(s, chat, h.chat, h.chat_flags, err)) return false;

  // Strings and token records; the lookup table (a later id wins a key).
  std::string strings;
  std::vector<lq_tok_token> toks(n);
  for (size_t i = 0; i < n; ++i) {
    toks[i] = {static_cast<uint32_t>(strings.size()), 0, 0, 0,
               static_cast<uint32_t>(s.types[i]), 0};
    strings += entries[i].key;
    toks[i].key_len = static_cast<uint32_t>(entries[i].key.size());
    toks[i].piece_off = static_cast<uint32_t>(strings.size());
    strings += entries[i].piece;
    toks[i].piece_len = static_cast<uint32_t>(entries[i].piece.size());
  }
  std::vector<int32_t> lookup(pow2AtLeast(2 * n), -1);
  std::unordered_map<std::string, int32_t> byKey;
  for (size_t i = 0; i < n; ++i)
    if (entries[i].hasKey) byKey[entries[i].key] = static_cast<int32_t>(i);
  for (auto &kv : byKey) {
    uint32_t mask = static_cast<uint32_t>(lookup.size() - 1);
    uint32_t j = lq_tok_hash_bytes(reinterpret_cast<const unsigned char *>(kv.first.data()),
                                   kv.first.size()) & mask;
    while (lookup[j] >= 0) j = (j + 1) & mask;
    lookup[j] = kv.second;
  }
  auto idOfKey = [&](const std::string &k) {
    auto it = byKey.find(k);
    return it == byKey.end() ? -1 : it->second;
  };

  // Every byte has a token: its byte-level character, or <0xXX>. A
  // SentencePiece vocabulary may lack some (llama.cpp then fails on text
  // that needs them; so does the runtime).
  int32_t byteTok[256];
  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    byteTok[b] = bpe ? idOfKey(std::string(1, static_cast<char>(b))) : idOfKey(hex);
    if (!bpe && byteTok[b] < 0) byteTok[b] = idOfKey(std::string(1, static_cast<char>(b)));
    if (byteTok[b] < 0 && bpe) {
      err = s.source + ": byte 0x" + std::string(hex + 3, 2) +
            " has no token (the vocabulary cannot encode every text)";
      return false;
    }
  }

  // Merges by token ids: a merge of strings that are not tokens never
  // applies (every symbol is a token); its result must be one.
  std::vector<lq_tok_merge> merges;
  if (bpe) {
    const ByteLevel &bl = byteLevel();
    merges.assign(pow2AtLeast(2 * s.merges.size() + 1), {-1, -1, -1, -1});
    uint32_t mask = static_cast<uint32_t>(merges.size() - 1);
    std::string l, r, lr;
    for (size_t i = 0; i < s.merges.size(); ++i) {
      if (!bl.unmap(s.merges[i].first, l) || !bl.unmap(s.merges[i].second, r)) continue;
      int32_t li = idOfKey(l), ri = idOfKey(r), res = idOfKey(l + r);
      if (li < 0 || ri < 0) continue;
      if (res < 0) {
        err = s.source + ": merge " + std::to_string(i) + " '" +
              printable(s.merges[i].first + " " + s.merges[i].second, 40) +
              "' makes a string that is not a token (unsupported vocabulary)";
        return false;
      }
      uint32_t j = lq_tok_hash_pair(li, ri) & mask;
      while (merges[j].rank >= 0 && !(merges[j].left == li && merges[j].right == ri))
        j = (j + 1) & mask;
      if (merges[j].rank < 0) merges[j] = {li, ri, static_cast<int32_t>(i), res};
    }
  }

  // Specials, longest text first; end-of-generation ids.
  std::vector<int32_t> specials, eog;
  for (size_t i = 0; i < n; ++i) {
    int32_t ty = s.types[i];
    if ((ty == LQ_TOK_CONTROL || ty == LQ_TOK_USER_DEFINED || ty == LQ_TOK_UNKNOWN) &&
        !entries[i].piece.empty())
      specials.push_back(static_cast<int32_t>(i));
    if (ty != LQ_TOK_NORMAL && endsGeneration(s.tokens[i])) eog.push_back(static_cast<int32_t>(i));
  }
  std::sort(specials.begin(), specials.end(), [&](int32_t a, int32_t b) {
    size_t la = entries[a].piece.size(), lb = entries[b].piece.size();
    return la != lb ? la > lb : a < b;
  });
  if (s.eos >= 0) eog.push_back(s.eos);
  for (int32_t id : s.moreEog)
    if (id >= 0 && static_cast<size_t>(id) < n) eog.push_back(id);
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());

  image.assign(sizeof h, 0);
  h.tokens_off = section(image, toks.data(), n);
  h.strings_off = section(image, strings.data(), strings.size());
  h.strings_bytes = static_cast<uint32_t>(strings.size());
  h.lookup_off = section(image, lookup.data(), lookup.size());
  h.lookup_slots = static_cast<uint32_t>(lookup.size());
  h.merges_off = section(image, merges.data(), merges.size());
  h.merge_slots = static_cast<uint32_t>(merges.size());
  h.scores_off = section(image, s.scores.data(), bpe ? 0 : n);
  h.specials_off = section(image, specials.data(), specials.size());
  h.n_specials = static_cast<uint32_t>(specials.size());
  h.eog_off = section(image, eog.data(), eog.size());
  h.n_eog = static_cast<uint32_t>(eog.size());
  h.byte_tokens_off = section(image, byteTok, 256);
  h.chat_off = section(image, "", 0);
  image.resize((image.size() + 7) / 8 * 8);
  if (image.size() >= (uint64_t(1) << 32)) {
    err = s.source + ": the tokenizer is too large to store (over 4 GiB)";
    return false;
  }
  h.bytes = static_cast<uint32_t>(image.size());
  std::memcpy(image.data(), &h, sizeof h);
  return true;
}

std::string describeTokenizer(const TokenizerSpec &s) {
  std::string d = s.model == TokenizerSpec::Model::BPE ? "byte-level BPE" : "SentencePiece BPE";
  if (s.model == TokenizerSpec::Model::BPE)
    d += s.pre == TokenizerSpec::Pre::Llama3 ? " (Llama-3 split)" : " (GPT-2 split)";
  d += ", " + std::to_string(s.tokens.size()) + " tokens";
  if (s.model == TokenizerSpec::Model::BPE) d += ", " + std::to_string(s.merges.size()) + " merges";
  d += ", bos " + std::to_string(s.bos) + (s.addBos ? " (added)" : "") + ", eos " +
       std::to_string(s.eos);
  return d;
}

} // namespace liquid
