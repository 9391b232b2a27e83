//===- Lfm2Config.h - LFM2 configs from config.json or GGUF ----*- C++ -*-===//
//
// Internal to the frontend: step (1) of Lfm2Model.cpp's loading.
//
//===----------------------------------------------------------------------===//
#ifndef LIQUID_FRONTEND_LFM2CONFIG_H
#define LIQUID_FRONTEND_LFM2CONFIG_H

#include "liquid/Frontend/Lfm2Model.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace liquid {
class GgufFile;
namespace detail {

/// config.json of an HF folder -> `c` (and whether the head is tied), checked
/// for consistency; one-line error naming `file` and the key.
bool parseHfConfig(const nlohmann::json &j, const std::string &file, Lfm2Config &c, bool &tied,
                   std::string &err);
/// The GGUF metadata -> `c`; `ffnMeta` is the feed-forward width the metadata
/// states (checked against the tensors later).
bool parseGgufConfig(const GgufFile &f, Lfm2Config &c, int64_t &ffnMeta, std::string &err);

} // namespace detail
} // namespace liquid

#endif
