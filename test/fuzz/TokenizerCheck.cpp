//===- TokenizerCheck.cpp - drive a loaded tokenizer through the runtime --===//
#include "TokenizerCheck.h"
#include "FuzzCommon.h"

#include "liquid/Frontend/Tokenizer.h"

#include "liquid_tokenizer.h"

#include <cstdlib>
#include <vector>

namespace liquid_fuzz {
namespace {

const char kSample[] = "Hello, world! 123 \xe2\x80\x94 caf\xc3\xa9\n\t<|im_start|>user x\xff";

void encodeAndRender(const lq_tokenizer &t, const std::string &text) {
  for (int special = 0; special < 2; ++special) {
    std::vector<int32_t> ids(64);
    int64_t n = lq_tok_encode(&t, text.data(), text.size(), -1, special, ids.data(),
                              static_cast<int64_t>(ids.size()));
    if (n > static_cast<int64_t>(ids.size())) {
      ids.resize(static_cast<size_t>(n));
      int64_t again = lq_tok_encode(&t, text.data(), text.size(), -1, special, ids.data(), n);
      if (again != n) std::abort(); // the count must not depend on the buffer
    }
    for (int64_t i = 0; i < n && i < static_cast<int64_t>(ids.size()); ++i) {
      if (ids[i] < 0 || ids[i] >= lq_tok_count(&t)) std::abort();
      size_t len = 0;
      if (!lq_tok_piece(&t, ids[i], special, &len)) std::abort();
      (void)lq_tok_is_eog(&t, ids[i]);
    }
    lq_utf8_stream s{};
    std::vector<char> out(3 * text.size() + 16);
    (void)lq_tok_utf8_feed(&s, text.data(), text.size(), out.data());
    (void)lq_tok_utf8_flush(&s, out.data());
  }
  char buf[256];
  (void)lq_tok_chat_begin(&t, 1, buf, sizeof buf);
  (void)lq_tok_chat_message(&t, "user", text.c_str(), buf, sizeof buf);
  (void)lq_tok_chat_generation_prompt(&t, buf, sizeof buf);
  (void)lq_tok_chat_end_of_turn(&t, buf, sizeof buf);
}

} // namespace

void exerciseImage(const void *image, size_t bytes, const std::string &text) {
  lq_tokenizer t;
  char err[512] = "";
  if (lq_tok_open(&t, image, bytes, err, sizeof err) != 0) {
    checkError("lq_tok_open", err);
    return;
  }
  encodeAndRender(t, text);
  encodeAndRender(t, kSample);
}

void exerciseTokenizer(const liquid::TokenizerSpec &spec, const std::string &text) {
  if (spec.tokens.empty()) return;
  (void)liquid::describeTokenizer(spec);
  std::vector<uint8_t> image;
  std::string err;
  if (!liquid::buildTokenizerImage(spec, liquid::ChatTemplateChoice::Auto, image, err)) {
    checkError("buildTokenizerImage", err);
    image.clear();
    err.clear();
    if (!liquid::buildTokenizerImage(spec, liquid::ChatTemplateChoice::None, image, err)) {
      checkError("buildTokenizerImage", err);
      return;
    }
  }
  lq_tokenizer t;
  char msg[512] = "";
  if (lq_tok_open(&t, image.data(), image.size(), msg, sizeof msg) != 0) {
    std::fprintf(stderr, "liquid-fuzz: the runtime rejects an image liquidc built: %s\n", msg);
    std::abort();
  }
  encodeAndRender(t, text);
  encodeAndRender(t, kSample);
}

} // namespace liquid_fuzz
