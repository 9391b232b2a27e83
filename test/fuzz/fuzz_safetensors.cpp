//===- fuzz_safetensors.cpp - libFuzzer harness: the safetensors reader ----===//
//
// Input: one .safetensors file. Opens it, reads every tensor the way the
// importers do (F32 conversion, I32 for wirings) and the metadata.
//
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

#include "liquid/Frontend/Safetensors.h"

using namespace liquid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = liquid_fuzz::writeScratch("x.safetensors", data, size);
  std::string err;
  auto f = SafetensorsFile::open(path, err);
  if (!f) {
    liquid_fuzz::checkError("SafetensorsFile::open", err);
    return 0;
  }
  size_t bytes = 0;
  for (const auto &kv : f->metadata()) bytes += kv.first.size() + kv.second.size();
  for (const TensorInfo &t : f->tensors()) {
    (void)formatShape(t.shape);
    if (f->find(t.name) != &t) std::abort(); // the index must agree with the list
    const uint8_t *raw = f->rawData(t);
    for (uint64_t i = 0; i < t.nbytes(); i += 4096) bytes += raw[i];
    std::vector<float> fl;
    std::vector<int32_t> in;
    std::string e1, e2;
    if (!f->readF32(t, fl, e1)) liquid_fuzz::checkError("readF32", e1);
    else if (static_cast<int64_t>(fl.size()) != t.numel()) std::abort();
    if (!f->readI32(t, in, e2)) liquid_fuzz::checkError("readI32", e2);
  }
  return bytes == 0x7fffffff; // keep the reads
}
