//===- fuzz_npy.cpp - libFuzzer harness: the programs' .npy reader --------===//
//
// Input: one .npy file, read by runtime/liquid_cli.h's npy_load (what a
// compiled cell program does with --input / --dt / --h0), through
// npy_shim.c (the reader is C).
//
//===----------------------------------------------------------------------===//
#include "FuzzCommon.h"

extern "C" int liquid_fuzz_npy(const char *path, char *err, size_t cap);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = liquid_fuzz::writeScratch("x.npy", data, size);
  char err[512] = "";
  if (liquid_fuzz_npy(path.c_str(), err, sizeof err) != 0)
    liquid_fuzz::checkError("npy_load", err);
  return 0;
}
