//===- fuzz_tokenizer.cpp - libFuzzer harness: HF tokenizers and encoding -===//
//
// Input as parts (FuzzCommon.h): tokenizer.json, tokenizer_config.json and a
// text. Loads the tokenizer as liquidc does, builds the runtime image
// (which the programs' tokenizer must then accept) and encodes the text.
//
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"
#include "TokenizerCheck.h"

#include "liquid/Frontend/Tokenizer.h"

using namespace liquid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto parts = liquid_fuzz::splitParts(data, size, 3);
  liquid_fuzz::writeScratch("tokenizer.json", parts[0], true);
  liquid_fuzz::writeScratch("tokenizer_config.json", parts[1], true);
  TokenizerSpec spec;
  std::string err;
  if (!loadTokenizer(liquid_fuzz::scratchDir(), spec, err)) {
    liquid_fuzz::checkError("loadTokenizer", err);
    return 0;
  }
  liquid_fuzz::exerciseTokenizer(spec, parts[2]);
  return 0;
}
