//===- fuzz_ncps.cpp - libFuzzer harness: ncps specs and their weights ----===//
//
// Input as parts (FuzzCommon.h): an ncps spec (JSON) and its safetensors
// weights (m.json + m.safetensors beside it). Loads the model as liquidc
// does and reads every tensor it names.
//
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

#include "liquid/Frontend/NcpsModel.h"

using namespace liquid;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto parts = liquid_fuzz::splitParts(data, size, 2);
  std::string spec = liquid_fuzz::writeScratch("m.json", parts[0]);
  liquid_fuzz::writeScratch("m.safetensors", parts[1], true);
  NcpsModel model;
  std::string err;
  if (!loadNcpsModel(spec, model, err)) liquid_fuzz::checkError("loadNcpsModel", err);
  return 0;
}
