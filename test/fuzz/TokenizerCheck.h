//===- TokenizerCheck.h - drive a loaded tokenizer through the runtime -*- C++ -*-===//
#ifndef LIQUID_TEST_FUZZ_TOKENIZERCHECK_H
#define LIQUID_TEST_FUZZ_TOKENIZERCHECK_H

#include <cstddef>
#include <string>

namespace liquid {
struct TokenizerSpec;
}

namespace liquid_fuzz {

/// Builds the runtime image of `spec` (as liquidc does) and, when that
/// succeeds, requires the programs' tokenizer to accept it (abort if not:
/// the compiler must never ship an image its runtime rejects), then encodes
/// `text` and a fixed sample, renders every id and the chat pieces.
void exerciseTokenizer(const liquid::TokenizerSpec &spec, const std::string &text = "");

/// Opens a runtime image of `bytes` bytes (any bytes: a fuzzed .lqw tail);
/// when the runtime accepts it, encodes `text` and renders the ids.
void exerciseImage(const void *image, size_t bytes, const std::string &text);

} // namespace liquid_fuzz

#endif // LIQUID_TEST_FUZZ_TOKENIZERCHECK_H
