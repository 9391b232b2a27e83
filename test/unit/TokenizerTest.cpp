//===- TokenizerTest.cpp - the tokenizer image and the C tokenizer --------===//
//
// What the llama.cpp fixtures (test/e2e/tokenizer.test) cannot show: a
// SentencePiece vocabulary built by hand (merges by score, ties to the left,
// the space prefix, byte fallback), invalid UTF-8 input, the vocabularies
// liquidc must refuse, streaming UTF-8 output, and damaged images.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/Tokenizer.h"

#include "liquid_tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace liquid;

namespace {

const std::string kSp = "\xE2\x96\x81"; // U+2581, SentencePiece's space

/// A SentencePiece vocabulary: <unk>, <s>, </s>, the 256 byte tokens, then
/// pieces with scores.
TokenizerSpec spmSpec(const std::vector<std::pair<std::string, float>> &pieces) {
  TokenizerSpec s;
  s.model = TokenizerSpec::Model::SPM;
  s.source = "spm-test";
  s.addBos = true;
  s.addSpacePrefix = true;
  s.tokens = {"<unk>", "<s>", "</s>"};
  s.types = {LQ_TOK_UNKNOWN, LQ_TOK_CONTROL, LQ_TOK_CONTROL};
  s.scores = {0, 0, 0};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    s.tokens.push_back(buf);
    s.types.push_back(LQ_TOK_BYTE);
    s.scores.push_back(0);
  }
  for (auto &p : pieces) {
    s.tokens.push_back(p.first);
    s.types.push_back(LQ_TOK_NORMAL);
    s.scores.push_back(p.second);
  }
  s.unk = 0;
  s.bos = 1;
  s.eos = 2;
  return s;
}

/// A byte-level BPE vocabulary: the 256 byte characters, then the merges'
/// results, then <|endoftext|> as a control token.
TokenizerSpec bpeSpec(const std::vector<std::pair<std::string, std::string>> &merges) {
  TokenizerSpec s;
  s.model = TokenizerSpec::Model::BPE;
  s.pre = TokenizerSpec::Pre::Llama3;
  s.source = "bpe-test";
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    uint32_t cp = keep ? b : 256 + extra++;
    std::string u;
    if (cp < 0x80)
      u = std::string(1, static_cast<char>(cp));
    else {
      u += static_cast<char>(0xC0 | cp >> 6);
      u += static_cast<char>(0x80 | (cp & 0x3F));
    }
    s.tokens.push_back(u);
  }
  for (auto &m : merges) {
    s.tokens.push_back(m.first + m.second);
    s.merges.push_back(m);
  }
  s.tokens.push_back("<|endoftext|>");
  s.types.assign(s.tokens.size(), LQ_TOK_NORMAL);
  s.types.back() = LQ_TOK_CONTROL;
  s.eos = static_cast<int32_t>(s.tokens.size() - 1);
  return s;
}

struct Built {
  std::vector<uint8_t> image;
  lq_tokenizer t;
};

void build(const TokenizerSpec &s, Built &b) {
  std::string err;
  ASSERT_TRUE(buildTokenizerImage(s, ChatTemplateChoice::Auto, b.image, err)) << err;
  char msg[256];
  ASSERT_EQ(lq_tok_open(&b.t, b.image.data(), b.image.size(), msg, sizeof msg), 0) << msg;
}

std::vector<int32_t> enc(const lq_tokenizer &t, const std::string &text, int bos = 0) {
  std::vector<int32_t> ids(4 * text.size() + 8);
  int64_t n = lq_tok_encode(&t, text.data(), text.size(), bos, 1, ids.data(),
                            static_cast<int64_t>(ids.size()));
  ids.resize(n < 0 ? 0 : n);
  return ids;
}

int32_t id(const TokenizerSpec &s, const std::string &tok) {
  for (size_t i = 0; i < s.tokens.size(); ++i)
    if (s.tokens[i] == tok) return static_cast<int32_t>(i);
  return -1;
}

TEST(Tokenizer, SentencePieceMergesByScoreAndFallsBackToBytes) {
  auto s = spmSpec({{kSp, -5}, {"a", -3}, {"b", -3}, {kSp + "a", -1}, {"ab", -2},
                    {kSp + "ab", -0.5f}, {"é", -4}});
  Built b;
  build(s, b);
  // " ab": ▁a (-1) beats ab (-2), then ▁a + b = ▁ab.
  EXPECT_EQ(enc(b.t, "ab"), std::vector<int32_t>({id(s, kSp + "ab")}));
  // bos, then "▁a" "▁" "b": ▁b is no token; "c" is none either: its byte.
  EXPECT_EQ(enc(b.t, "a bc", 1),
            std::vector<int32_t>({1, id(s, kSp + "a"), id(s, kSp), id(s, "b"), 3 + 'c'}));
  EXPECT_EQ(enc(b.t, "é"), std::vector<int32_t>({id(s, kSp), id(s, "é")}));
  EXPECT_EQ(enc(b.t, "ü"), std::vector<int32_t>({id(s, kSp), 3 + 0xC3, 3 + 0xBC}));
  // Equal scores: the left pair first. "▁aa": ▁a and aa tie at -1.
  auto t2 = spmSpec({{kSp, -5}, {"a", -3}, {kSp + "a", -1}, {"aa", -1}});
  Built b2;
  build(t2, b2);
  EXPECT_EQ(enc(b2.t, "aa"), std::vector<int32_t>({id(t2, kSp + "a"), id(t2, "a")}));
  // Text after a special token gets the space prefix too (as in llama.cpp).
  EXPECT_EQ(enc(b2.t, "</s>a"), std::vector<int32_t>({2, id(t2, kSp + "a")}));
  size_t n;
  EXPECT_EQ(std::string(lq_tok_piece(&b.t, id(s, kSp + "ab"), 0, &n), n), " ab");
  EXPECT_EQ(std::string(lq_tok_piece(&b.t, 3 + 0x41, 0, &n), n), "A");
}

TEST(Tokenizer, SentencePieceWithoutSomeByteTokensFailsOnlyOnTextNeedingThem) {
  auto s = spmSpec({{kSp, -5}, {"a", -3}});
  s.tokens[3 + 'z'] = "z"; // <0x7A> gone, "z" a normal piece
  s.types[3 + 'z'] = LQ_TOK_NORMAL;
  s.tokens[3 + 'q'] = "<0x71>x"; // no token for byte 0x71 at all
  s.types[3 + 'q'] = LQ_TOK_NORMAL;
  Built b;
  build(s, b);
  EXPECT_EQ(enc(b.t, "az"), std::vector<int32_t>({id(s, kSp), id(s, "a"), 3 + 'z'}));
  int32_t ids[16];
  EXPECT_EQ(lq_tok_encode(&b.t, "aq", 2, 0, 1, ids, 16), -2);
}

TEST(Tokenizer, ByteLevelBpeMergesByRankAndReadsBadUtf8AsReplacement) {
  auto s = bpeSpec({{"a", "b"}, {"b", "c"}, {"ab", "c"}});
  Built b;
  build(s, b);
  // "abc": ab (rank 0) before bc (rank 1), then ab + c.
  EXPECT_EQ(enc(b.t, "abc"), std::vector<int32_t>({id(s, "abc")}));
  EXPECT_EQ(enc(b.t, "bcab"), std::vector<int32_t>({id(s, "bc"), id(s, "ab")}));
  // A lone continuation byte is U+FFFD (EF BF BD): three byte tokens.
  auto ids = enc(b.t, "\x80");
  ASSERT_EQ(ids.size(), 3u);
  std::string bytes;
  for (int32_t i : ids) {
    size_t n;
    bytes += std::string(lq_tok_piece(&b.t, i, 1, &n), n);
  }
  EXPECT_EQ(bytes, "\xEF\xBF\xBD");
  EXPECT_TRUE(lq_tok_is_eog(&b.t, s.eos));
  EXPECT_EQ(enc(b.t, "x<|endoftext|>").back(), s.eos);
}

TEST(Tokenizer, RefusesWhatItCannotReproduce) {
  std::vector<uint8_t> img;
  std::string err;
  auto s = bpeSpec({{"a", "b"}});
  s.tokens.erase(s.tokens.begin() + 256); // "ab" is no longer a token
  s.types.erase(s.types.begin() + 256);
  EXPECT_FALSE(buildTokenizerImage(s, ChatTemplateChoice::Auto, img, err));
  EXPECT_NE(err.find("merge 0 'a b' makes a string that is not a token"), std::string::npos)
      << err;
  auto t = bpeSpec({});
  t.chatTemplate = "{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}";
  EXPECT_FALSE(buildTokenizerImage(t, ChatTemplateChoice::Auto, img, err));
  EXPECT_NE(err.find("chat template not recognised"), std::string::npos) << err;
  EXPECT_TRUE(buildTokenizerImage(t, ChatTemplateChoice::None, img, err)) << err;
  EXPECT_FALSE(buildTokenizerImage(t, ChatTemplateChoice::ChatML, img, err));
  EXPECT_NE(err.find("no <|im_start|>/<|im_end|> tokens"), std::string::npos) << err;
  auto u = spmSpec({});
  u.tokens[3 + 7] = "<0xZZ>";
  EXPECT_FALSE(buildTokenizerImage(u, ChatTemplateChoice::Auto, img, err));
  EXPECT_NE(err.find("byte token 10 '<0xZZ>' is not <0xXX>"), std::string::npos) << err;
}

std::string feed(lq_utf8_stream &st, const std::string &in) {
  std::string out(3 * in.size() + 12, '\0');
  out.resize(lq_tok_utf8_feed(&st, in.data(), in.size(), out.data()));
  return out;
}

TEST(Tokenizer, StreamsOnlyWholeValidUtf8) {
  lq_utf8_stream st = {};
  EXPECT_EQ(feed(st, "h\xC3"), "h");
  EXPECT_EQ(feed(st, "\xA9llo"), "\xC3\xA9llo");
  EXPECT_EQ(feed(st, "\xF0\x9F"), "");
  EXPECT_EQ(feed(st, "\x98"), "");
  EXPECT_EQ(feed(st, "\x80!"), "\xF0\x9F\x98\x80!");
  // Invalid: a stray continuation byte, an overlong form, a surrogate.
  EXPECT_EQ(feed(st, "\x80"), "\xEF\xBF\xBD");
  EXPECT_EQ(feed(st, "\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(feed(st, "\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  // A cut sequence followed by ASCII: the lead byte is replaced.
  EXPECT_EQ(feed(st, "\xE2\x82"), "");
  EXPECT_EQ(feed(st, "x"), "\xEF\xBF\xBD\xEF\xBF\xBDx");
  EXPECT_EQ(feed(st, "\xE2"), "");
  char out[12];
  EXPECT_EQ(std::string(out, lq_tok_utf8_flush(&st, out)), "\xEF\xBF\xBD");
}

TEST(Tokenizer, DamagedImagesAreRefusedOrHarmless) {
  auto s = spmSpec({{kSp, -5}, {"a", -3}, {kSp + "a", -1}});
  Built b;
  build(s, b);
  char msg[256];
  lq_tokenizer t;
  std::vector<uint8_t> img = b.image;
  img[0] ^= 1;
  EXPECT_NE(lq_tok_open(&t, img.data(), img.size(), msg, sizeof msg), 0);
  EXPECT_NE(lq_tok_open(&t, b.image.data(), b.image.size() - 8, msg, sizeof msg), 0);
  // Every byte of the header and a sample of the rest, set to 0xFF: the
  // image is refused, or it encodes and decodes without leaving it.
  for (size_t i = 0; i < img.size(); i += i < sizeof(lq_tok_header) ? 1 : 97) {
    img = b.image;
    img[i] = 0xFF;
    if (lq_tok_open(&t, img.data(), img.size(), msg, sizeof msg) != 0) continue;
    int32_t ids[64];
    int64_t n = lq_tok_encode(&t, "a a b", 5, -1, 1, ids, 64);
    ASSERT_GE(n, 0);
    for (int64_t k = 0; k < n && k < 64; ++k) {
      size_t len;
      lq_tok_piece(&t, ids[k], 1, &len);
    }
  }
}

} // namespace
