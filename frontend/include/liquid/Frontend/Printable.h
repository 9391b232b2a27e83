//===- Printable.h - text from a file, safe for a terminal ------*- C++ -*-===//
#ifndef LIQUID_FRONTEND_PRINTABLE_H
#define LIQUID_FRONTEND_PRINTABLE_H

#include <string>

namespace liquid {

/// `s` on one line with no control character: line breaks as spaces, ESC,
/// BEL, ... spelled \xNN (the readers' own escaping, for messages whose
/// parts come from a checkpoint or the command line).
std::string printableLine(const std::string &s);

} // namespace liquid

#endif
