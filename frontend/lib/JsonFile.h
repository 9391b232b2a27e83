//===- JsonFile.h - a JSON object file, read and parsed ----------*- C++ -*-===//
//
// Private to frontend/lib: the HF config and tokenizer readers' one way to
// read a JSON file, with a one-line error naming it.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_FRONTEND_LIB_JSONFILE_H
#define LIQUID_FRONTEND_LIB_JSONFILE_H

#include "FileUtil.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace liquid {
namespace detail {

/// Reads and parses the JSON object in `path`; false with "<path>: <why>".
inline bool readJsonObject(const std::string &path, nlohmann::json &out, std::string &err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err = path + ": cannot open file: " + std::strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (std::string deep = jsonDepthError(text.data(), text.data() + text.size()); !deep.empty()) {
    err = path + ": " + deep;
    return false;
  }
  try {
    out = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    err = oneLine(path + ": malformed JSON: " + e.what());
    return false;
  }
  if (!out.is_object()) {
    err = path + ": JSON is not an object";
    return false;
  }
  return true;
}

} // namespace detail
} // namespace liquid

#endif // LIQUID_FRONTEND_LIB_JSONFILE_H
