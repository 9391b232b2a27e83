//===- Targets.h - named compilation targets --------------------*- C++ -*-===//
#ifndef LIQUID_TARGETS_TARGETS_H
#define LIQUID_TARGETS_TARGETS_H

#include <string>
#include <vector>

namespace liquid {

/// A target users name with --target. `triple`/`cpu`/`features` go to LLVM
/// ("host" is resolved to this machine at compile time); `cc` and `ar` build
/// the runtime and link artifacts; `runner` is the command prefix that runs
/// the target's programs on this machine (empty: native).
struct TargetInfo {
  std::string name, description;
  std::string triple, cpu, features;
  std::string cc, ar;
  std::vector<std::string> runner;
};

const std::vector<TargetInfo> &allTargets();
/// nullptr if unknown.
const TargetInfo *findTarget(const std::string &name);
/// "host, x86-64-v2, ..." for error messages.
std::string knownTargetNames();

} // namespace liquid

#endif
