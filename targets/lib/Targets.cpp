//===- Targets.cpp - the target registry -----------------------------------===//
#include "liquid/Targets/Targets.h"

namespace liquid {

const std::vector<TargetInfo> &allTargets() {
  static const std::vector<TargetInfo> targets = {
      {"host", "this machine: its triple, CPU and features", "host", "host", "host", "cc", "ar",
       {}},
      {"x86-64-v2", "x86-64 with SSE4.2 / POPCNT (no AVX)", "x86_64-linux-gnu", "x86-64-v2", "",
       "cc", "ar", {}},
      {"x86-64-v3", "x86-64 with AVX2 / FMA / BMI2", "x86_64-linux-gnu", "x86-64-v3", "", "cc",
       "ar", {}},
      {"aarch64-linux", "64-bit Arm Linux with NEON (runs here under qemu-aarch64)",
       "aarch64-linux-gnu", "generic", "+neon", "aarch64-linux-gnu-gcc", "aarch64-linux-gnu-ar",
       {"qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"}},
  };
  return targets;
}

const TargetInfo *findTarget(const std::string &name) {
  for (const TargetInfo &t : allTargets())
    if (t.name == name)
      return &t;
  return nullptr;
}

std::string knownTargetNames() {
  std::string s;
  for (const TargetInfo &t : allTargets())
    s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

} // namespace liquid
