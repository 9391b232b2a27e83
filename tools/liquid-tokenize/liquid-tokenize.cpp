//===- liquid-tokenize.cpp - a checkpoint's tokenizer, as artifacts run it -===//
//
// Reads the tokenizer of a checkpoint the way liquidc does, builds the same
// image and runs the runtime's C tokenizer on it: what this tool prints is
// what a compiled program computes. For tests and for looking at a
// tokenizer before compiling.
//
//   liquid-tokenize CHECKPOINT --info
//   liquid-tokenize CHECKPOINT --jsonl FILE   # one JSON object per line:
//       {"text": T, "add_bos": B, "parse_special": P}  -> {"ids": [...], "detok_hex": H}
//       {"ids": [...], "special": S}              -> {"pieces_hex": [...], "eog": [...]}
//       {"messages": [...], "add_generation_prompt": G} -> {"prompt": T, "ids": [...]}
//   liquid-tokenize CHECKPOINT --image-out FILE
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Tokenizer.h"

#include "liquid_tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using json = nlohmann::json;
using namespace liquid;

namespace {

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "liquid-tokenize: error: %s\n", msg.c_str());
  std::exit(1);
}

std::string hex(const std::string &s) {
  static const char *d = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h += d[c >> 4];
    h += d[c & 15];
  }
  return h;
}

std::vector<int32_t> encode(const lq_tokenizer &t, const std::string &text, int bos, int special) {
  std::vector<int32_t> ids(text.size() + 8);
  int64_t n = lq_tok_encode(&t, text.data(), text.size(), bos, special, ids.data(),
                            static_cast<int64_t>(ids.size()));
  if (n == -2) die("the text has a byte the vocabulary has no token for");
  if (n < 0) die("out of memory");
  if (static_cast<size_t>(n) > ids.size()) {
    ids.resize(n);
    n = lq_tok_encode(&t, text.data(), text.size(), bos, special, ids.data(), n);
  }
  ids.resize(n);
  return ids;
}

std::string piece(const lq_tokenizer &t, int32_t id, int special) {
  size_t len;
  const char *p = lq_tok_piece(&t, id, special, &len);
  if (!p) die("token id " + std::to_string(id) + " is outside the vocabulary");
  return std::string(p, len);
}

std::string render(const lq_tokenizer &t, int64_t (*fn)(const lq_tokenizer *, char *, size_t)) {
  int64_t n = fn(&t, nullptr, 0);
  if (n < 0) die("the tokenizer has no chat template");
  std::string s(n + 1, '\0');
  fn(&t, s.data(), s.size());
  s.resize(n);
  return s;
}

json chat(const lq_tokenizer &t, const json &in) {
  int64_t n = lq_tok_chat_begin(&t, 1, nullptr, 0);
  if (n < 0) die("the tokenizer has no chat template");
  std::string withBos(n + 1, '\0');
  lq_tok_chat_begin(&t, 1, withBos.data(), withBos.size());
  withBos.resize(n);
  std::string body;
  for (const json &m : in["messages"]) {
    std::string role = m["role"], content = m["content"];
    int64_t k = lq_tok_chat_message(&t, role.c_str(), content.c_str(), nullptr, 0);
    std::string s(k + 1, '\0');
    lq_tok_chat_message(&t, role.c_str(), content.c_str(), s.data(), s.size());
    s.resize(k);
    body += s;
  }
  if (in.value("add_generation_prompt", false))
    body += render(t, [](const lq_tokenizer *x, char *o, size_t c) {
      return lq_tok_chat_generation_prompt(x, o, c);
    });
  return {{"prompt", withBos + body}, {"ids", encode(t, body, -1, 1)}};
}

json run(const lq_tokenizer &t, const json &in) {
  if (in.contains("messages")) return chat(t, in);
  if (in.contains("text")) {
    std::string text = in["text"];
    auto ids = encode(t, text, in.value("add_bos", false) ? 1 : 0,
                      in.value("parse_special", false) ? 1 : 0);
    std::string detok;
    for (int32_t id : ids) detok += piece(t, id, 1);
    return {{"ids", ids}, {"detok_hex", hex(detok)}};
  }
  int special = in.value("special", true) ? 1 : 0;
  json pieces = json::array(), eog = json::array();
  for (int32_t id : in["ids"].get<std::vector<int32_t>>()) {
    pieces.push_back(hex(piece(t, id, special)));
    eog.push_back(lq_tok_is_eog(&t, id) != 0);
  }
  return {{"pieces_hex", pieces}, {"eog", eog}};
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3 || !std::strcmp(argv[1], "--help")) {
    std::printf("usage: liquid-tokenize CHECKPOINT (--info | --jsonl FILE | --image-out FILE)\n"
                "       [--chat-template auto|chatml|none]\n");
    return argc < 3 ? 2 : 0;
  }
  std::string checkpoint = argv[1], mode = argv[2], arg = argc > 3 ? argv[3] : "";
  ChatTemplateChoice choice = ChatTemplateChoice::Auto;
  for (int i = 3; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--chat-template"))
      choice = !std::strcmp(argv[i + 1], "chatml") ? ChatTemplateChoice::ChatML
               : !std::strcmp(argv[i + 1], "none") ? ChatTemplateChoice::None
                                                   : ChatTemplateChoice::Auto;
  TokenizerSpec spec;
  std::vector<uint8_t> image;
  std::string err;
  if (!loadTokenizer(checkpoint, spec, err))
    die(err);
  if (spec.tokens.empty())
    die(checkpoint + ": has no tokenizer (no tokenizer.json; no tokenizer.ggml.model)");
  if (!buildTokenizerImage(spec, choice, image, err))
    die(err);
  lq_tokenizer t;
  char msg[256];
  if (lq_tok_open(&t, image.data(), image.size(), msg, sizeof msg) != 0) die(msg);
  if (mode == "--info") {
    std::printf("%s; image %zu bytes\n", describeTokenizer(spec).c_str(), image.size());
    return 0;
  }
  if (mode == "--image-out") {
    std::ofstream out(arg, std::ios::binary);
    out.write(reinterpret_cast<const char *>(image.data()), image.size());
    if (!out) die(arg + ": cannot write");
    return 0;
  }
  if (mode != "--jsonl") die("unknown mode " + mode);
  std::ifstream in(arg);
  if (!in) die(arg + ": cannot open");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j;
    try {
      j = json::parse(line);
      std::cout << run(t, j).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } catch (const json::exception &e) {
      die(arg + ": " + e.what());
    }
  }
  return 0;
}
