//===- fuzz_gguf.cpp - libFuzzer harness: GGUF reader, LFM2 and tokenizer --===//
//
// Input: one .gguf file. Opens it, reads every metadata key through the
// typed getters, decodes the small tensors (every block format), then loads
// it as liquidc does: the embedded tokenizer (and its runtime image, opened
// and used by the programs' tokenizer) and the LFM2 / LFM2-MoE model.
//
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"
#include "TokenizerCheck.h"

#include "liquid/Frontend/Gguf.h"
#include "liquid/Frontend/Lfm2Model.h"
#include "liquid/Frontend/Tokenizer.h"

using namespace liquid;

namespace {

void readMetadata(const GgufFile &f) {
  for (const std::string &k : f.keys()) {
    int64_t i;
    double d;
    std::string s, err;
    std::vector<int64_t> v;
    if (!f.find(k)) std::abort(); // keys() and the map must agree
    if (!f.getInt(k, i, err)) liquid_fuzz::checkError("getInt", err);
    err.clear();
    if (!f.getFloat(k, d, err)) liquid_fuzz::checkError("getFloat", err);
    err.clear();
    if (!f.getString(k, s, err)) liquid_fuzz::checkError("getString", err);
    err.clear();
    if (!f.getIntArray(k, v, err)) liquid_fuzz::checkError("getIntArray", err);
    (void)f.find(k)->typeName();
  }
}

void decodeTensors(const GgufFile &f) {
  for (const GgufTensorInfo &t : f.tensors()) {
    if (f.findTensor(t.name) == nullptr) std::abort();
    int64_t n = t.numel();
    if (n <= 0 || n > (1 << 16)) continue;
    std::vector<float> out(static_cast<size_t>(n));
    decodeToF32(t.type(), f.data(t), static_cast<size_t>(n), out.data());
    IntBlocks blocks;
    (void)decomposeBlocks(t.type(), f.data(t), static_cast<size_t>(n), blocks);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = liquid_fuzz::writeScratch("x.gguf", data, size);
  std::string err;
  auto f = GgufFile::open(path, err);
  if (!f) {
    liquid_fuzz::checkError("GgufFile::open", err);
    return 0;
  }
  readMetadata(*f);
  decodeTensors(*f);

  TokenizerSpec spec;
  err.clear();
  if (!loadTokenizerFromGguf(*f, spec, err)) liquid_fuzz::checkError("loadTokenizerFromGguf", err);
  else liquid_fuzz::exerciseTokenizer(spec);

  Lfm2Model model;
  err.clear();
  if (!loadLfm2Model(path, model, err)) {
    liquid_fuzz::checkError("loadLfm2Model", err);
    return 0;
  }
  for (const auto &kv : model.tensors)
    if (kv.second.numel() <= (1 << 16)) (void)toF32(kv.second);
  return 0;
}
