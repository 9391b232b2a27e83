//===- TestUtil.h - shared by the unit tests ---------------------*- C++ -*-===//
#ifndef LIQUID_TEST_UNIT_TESTUTIL_H
#define LIQUID_TEST_UNIT_TESTUTIL_H

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <stdlib.h>

#ifndef LIQUID_SOURCE_DIR
#error "compile with -DLIQUID_SOURCE_DIR=\"<repository root>\""
#endif

namespace liquid::test {

/// $LIQUID_FIXTURES_DIR, else ../shared/fixtures beside the checkout.
inline std::string fixturesDir() {
  if (const char *env = std::getenv("LIQUID_FIXTURES_DIR"))
    if (*env) return env;
  return std::string(LIQUID_SOURCE_DIR) + "/../shared/fixtures";
}

/// A fresh directory under $TMPDIR (or /tmp), removed at destruction.
class TempDir {
public:
  explicit TempDir(const std::string &prefix = "liquid") {
    const char *t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/" + prefix + "_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data())) path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  std::string operator/(const std::string &name) const { return file(name); }

private:
  std::string path_;
};

} // namespace liquid::test

#endif
