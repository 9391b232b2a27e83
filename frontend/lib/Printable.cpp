//===- Printable.cpp - text from a file, safe for a terminal ---------------===//
#include "liquid/Frontend/Printable.h"

#include "FileUtil.h"

std::string liquid::printableLine(const std::string &s) {
  return detail::printable(detail::oneLine(s));
}
