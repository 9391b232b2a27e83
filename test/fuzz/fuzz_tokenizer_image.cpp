//===- fuzz_tokenizer_image.cpp - libFuzzer harness: the runtime tokenizer -===//
//
// Input as parts (FuzzCommon.h): a tokenizer image (what a .lqw file carries
// after its weights) and a text. The programs' tokenizer must refuse a
// malformed image with one line, and encode any text with a valid one.
//
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"
#include "TokenizerCheck.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto parts = liquid_fuzz::splitParts(data, size, 2);
  // The programs map the image at a 64-byte aligned offset.
  std::vector<uint64_t> aligned((parts[0].size() + 7) / 8 + 1);
  std::memcpy(aligned.data(), parts[0].data(), parts[0].size());
  liquid_fuzz::exerciseImage(aligned.data(), parts[0].size(), parts[1]);
  return 0;
}
