//===- fuzz_hf_checkpoint.cpp - libFuzzer harness: HF checkpoint folders --===//
//
// Input: an HF folder as parts (FuzzCommon.h): config.json,
// model.safetensors, tokenizer.json, tokenizer_config.json (an empty part is
// a missing file). Loads it as liquidc does: the LFM2 / LFM2-MoE config and
// tensors, then the tokenizer (built into the runtime image and used).
//
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"
#include "TokenizerCheck.h"

#include "liquid/Frontend/Lfm2Model.h"
#include "liquid/Frontend/Tokenizer.h"

using namespace liquid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto parts = liquid_fuzz::splitParts(data, size, 4);
  liquid_fuzz::writeScratch("config.json", parts[0], true);
  liquid_fuzz::writeScratch("model.safetensors", parts[1], true);
  liquid_fuzz::writeScratch("tokenizer.json", parts[2], true);
  liquid_fuzz::writeScratch("tokenizer_config.json", parts[3], true);
  const std::string &dir = liquid_fuzz::scratchDir();

  Lfm2Model model;
  std::string err;
  if (!loadLfm2Model(dir, model, err)) {
    liquid_fuzz::checkError("loadLfm2Model", err);
  } else {
    for (const auto &kv : model.tensors)
      if (kv.second.numel() <= (1 << 16)) (void)toF32(kv.second);
  }
  TokenizerSpec spec;
  err.clear();
  if (!loadTokenizer(dir, spec, err)) liquid_fuzz::checkError("loadTokenizer", err);
  else liquid_fuzz::exerciseTokenizer(spec);
  return 0;
}
