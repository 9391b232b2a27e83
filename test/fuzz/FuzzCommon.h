//===- FuzzCommon.h - shared by the libFuzzer harnesses ---------*- C++ -*-===//
//
// The readers under test take paths, as liquidc does, so each harness writes
// its input into a scratch folder of its own (on /dev/shm when there is one)
// and hands the reader that path. An input for a reader of several files
// (an HF folder, an ncps spec and its weights) is split into parts at a
// separator line; the seed makers write the same format.
//
// Besides "no crash, no sanitizer report", every harness asserts the error
// contract: a failed load sets a non-empty, one-line message (checkError).
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_TEST_FUZZ_FUZZCOMMON_H
#define LIQUID_TEST_FUZZ_FUZZCOMMON_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace liquid_fuzz {

/// Separates the parts of a multi-file input (see splitParts).
inline const char *kPartSeparator = "\n#--liquid-fuzz-part--#\n";

/// The process's scratch folder (created once, removed at exit).
const std::string &scratchDir();

/// Writes `n` bytes to scratchDir()/name and returns the path; an empty
/// part with `removeIfEmpty` removes the file instead (a missing file).
std::string writeScratch(const char *name, const uint8_t *data, size_t n,
                         bool removeIfEmpty = false);
inline std::string writeScratch(const char *name, const std::string &s,
                                bool removeIfEmpty = false) {
  return writeScratch(name, reinterpret_cast<const uint8_t *>(s.data()), s.size(),
                      removeIfEmpty);
}

/// Splits the input at kPartSeparator into exactly `n` parts (missing parts
/// are empty; extra separators stay in the last part).
std::vector<std::string> splitParts(const uint8_t *data, size_t size, size_t n);

/// Aborts (a finding) when a failed load's message breaks the contract:
/// it must be non-empty and on one line.
void checkError(const char *what, const std::string &err);

} // namespace liquid_fuzz

#endif // LIQUID_TEST_FUZZ_FUZZCOMMON_H
