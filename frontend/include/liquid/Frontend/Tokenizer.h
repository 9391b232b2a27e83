//===- Tokenizer.h - a checkpoint's tokenizer, read and stored --*- C++ -*-===//
//
// Reads the tokenizer of a Hugging Face folder (tokenizer.json +
// tokenizer_config.json, optional generation_config.json / config.json for
// end-of-generation ids) or of a GGUF file (tokenizer.ggml.* keys) into one
// description, and builds from it the tokenizer image the runtime encodes
// and decodes with (runtime/liquid_tokenizer.h). Supported: byte-level BPE
// with the GPT-2 or Llama-3 pre-tokenizer split (LFM2 uses the latter) and
// SentencePiece-style vocabularies (GGUF tokenizer.ggml.model "llama").
// Everything else is an error that names what is not supported, never an
// approximate tokenizer.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_FRONTEND_TOKENIZER_H
#define LIQUID_FRONTEND_TOKENIZER_H

#include <cstdint>
#include <string>
#include <vector>

namespace liquid {

class GgufFile;

struct TokenizerSpec {
  enum class Model { BPE, SPM } model = Model::BPE;
  enum class Pre { None, GPT2, Llama3 } pre = Pre::None;
  bool ignoreMerges = false, addBos = false, addEos = false, addSpacePrefix = false;
  /// Vocabulary strings as stored (byte-level BPE: GPT-2's byte-to-character
  /// form; SentencePiece: spaces as U+2581), their types (GGUF
  /// token_type values: 1 normal, 2 unknown, 3 control, 4 user-defined,
  /// 5 unused, 6 byte) and SentencePiece scores.
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  /// BPE merges "left right" pairs, rank = index.
  std::vector<std::pair<std::string, std::string>> merges;
  int32_t bos = -1, eos = -1, pad = -1, unk = -1;
  /// More ids that end a generation (eot, eom, generation_config's list).
  std::vector<int32_t> moreEog;
  std::string chatTemplate; ///< Jinja source, empty if none
  std::string source;       ///< the file it came from, for messages
};

/// The chat template choice of the command line.
enum class ChatTemplateChoice { Auto, ChatML, None };

/// Reads the tokenizer of an HF folder (or of the folder of its config.json)
/// or of a .gguf file. A checkpoint without one (no tokenizer.json; no
/// tokenizer.ggml.model) leaves `spec.tokens` empty. False with a one-line
/// error naming the file and the key at fault.
bool loadTokenizer(const std::string &checkpoint, TokenizerSpec &spec, std::string &err);
bool loadTokenizerFromGguf(const GgufFile &f, TokenizerSpec &spec, std::string &err);

/// What the image holds, for messages (and `liquidc --print-tokenizer`-style
/// summaries): "byte-level BPE (llama3 split), 50261 tokens, 50000 merges, ...".
std::string describeTokenizer(const TokenizerSpec &spec);

/// Builds the runtime's tokenizer image. Fails (naming the token, merge or
/// template) when the runtime could not reproduce the tokenizer exactly, or
/// when the chat template is not recognised and `chat` is Auto.
bool buildTokenizerImage(const TokenizerSpec &spec, ChatTemplateChoice chat,
                         std::vector<uint8_t> &image, std::string &err);

} // namespace liquid

#endif // LIQUID_FRONTEND_TOKENIZER_H
