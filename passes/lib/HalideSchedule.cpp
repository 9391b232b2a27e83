//===- HalideSchedule.cpp - the --halide-schedule file ---------------------===//
#include "liquid/Passes/HalideKernels.h"

#include "llvm/Support/MemoryBuffer.h"

#include <nlohmann/json.hpp>

namespace liquid {

using json = nlohmann::json;

static const char *const kSchedules[] = {"llvm", "hand", "mullapudi2016", "adams2019", "li2018"};

static bool knownSchedule(const std::string &s) {
  for (const char *k : kSchedules)
    if (s == k)
      return true;
  return false;
}

std::string HalideSchedule::choose(const std::string &kernel, const std::string &weight) const {
  if (auto it = byName.find(kernel); it != byName.end())
    return it->second;
  if (auto it = byName.find(weight); it != byName.end())
    return it->second;
  return fallback;
}

bool loadHalideSchedule(const std::string &path, HalideSchedule &out, std::string &err) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf) {
    err = path + ": cannot read the schedule file: " + buf.getError().message();
    return false;
  }
  json j = json::parse((*buf)->getBuffer().begin(), (*buf)->getBuffer().end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    err = path + ": not a JSON object";
    return false;
  }
  for (auto &[key, v] : j.items()) {
    if (key == "default") {
      if (!v.is_string() || !knownSchedule(v.get<std::string>())) {
        err = path + ": \"default\" must be one of llvm, hand, mullapudi2016, adams2019, li2018";
        return false;
      }
      out.fallback = v.get<std::string>();
    } else if (key == "kernels") {
      if (!v.is_object()) {
        err = path + ": \"kernels\" must map kernel or weight names to schedules";
        return false;
      }
      for (auto &[name, s] : v.items()) {
        if (!s.is_string() || !knownSchedule(s.get<std::string>())) {
          err = path + ": kernel '" + name +
                "': the schedule must be one of llvm, hand, mullapudi2016, adams2019, li2018";
          return false;
        }
        out.byName[name] = s.get<std::string>();
      }
    } else {
      err = path + ": unknown key '" + key + "' (expected default, kernels)";
      return false;
    }
  }
  return true;
}

} // namespace liquid
