//===- NcpsModel.cpp - load an ncps JSON spec + safetensors weights -------===//
//
// Implements loadNcpsModel (see liquid/Frontend/NcpsModel.h and
// docs/spec-format.md). Semantics follow ncps 1.0.1 (torch):
//   * CfC + int units      -> CellKind::CfC       (rnn_cell.backbone.*, heads)
//   * CfC + wiring object  -> CellKind::WiredCfC  (rnn_cell.layer_<l>.*)
//   * LTC (int or wiring)  -> CellKind::LTC       (rnn_cell.gleak, ...)
// plus optional mixed memory (lstm.*) and, for CfC, a projection (fc.*).
// Every tensor is checked for presence, float dtype and exact shape; tensors
// of the model's namespaces (rnn_cell., lstm., fc.) that the spec does not
// use are rejected. Nothing throws out of loadNcpsModel.
//
//===----------------------------------------------------------------------===//
#include "liquid/Frontend/NcpsModel.h"
#include "liquid/Frontend/Safetensors.h"

#include "FileUtil.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace liquid {

namespace {

using json = nlohmann::json;

constexpr int64_t kMaxSize = 1ll << 31; // bound for any size field
const char *const kParamPrefix = "param.";

using detail::joinPath;
using detail::oneLine;

std::string shortJson(const json &j) {
  std::string s = j.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string baseName(const std::string &path) {
  size_t p = path.find_last_of('/');
  return p == std::string::npos ? path : path.substr(p + 1);
}

std::string stemOf(const std::string &path) {
  std::string b = baseName(path);
  size_t dot = b.find_last_of('.');
  if (dot != std::string::npos && dot > 0) b = b.substr(0, dot);
  return b;
}

/// A C-identifier-like name: [A-Za-z0-9_], not starting with a digit.
std::string sanitizeName(const std::string &s) {
  std::string r;
  for (unsigned char c : s)
    r += (std::isalnum(c) || c == '_') ? static_cast<char>(c) : '_';
  if (r.empty()) r = "model";
  if (std::isdigit(static_cast<unsigned char>(r[0]))) r = "_" + r;
  return r;
}

/// What the spec says about the wiring (units given as an object).
struct WiringSpec {
  std::string type;                    ///< AutoNCP | NCP | FullyConnected | Random
  std::optional<int64_t> units;        ///< total neurons, if derivable
  std::optional<int64_t> outputDim;    ///< motor neurons, if given
  std::vector<int64_t> layerSizes;     ///< WiredCfC layer sizes, if derivable
  std::string describe;                ///< e.g. AutoNCP(units=32, output_size=4)
};

class Loader {
public:
  Loader(const std::string &specPath, std::string &err, NcpsModel &m)
      : specPath_(specPath), err_(err), m_(m) {}

  bool run(const std::string &weightsOverride);

private:
  // --- errors -------------------------------------------------------------
  bool failSpec(const std::string &msg) {
    err_ = oneLine(specPath_ + ": " + msg);
    return false;
  }
  bool failW(const std::string &msg) {
    err_ = oneLine(wpath_ + ": " + msg);
    return false;
  }

  // --- spec fields ----------------------------------------------------------
  /// Kwarg lookup: constructor_kwargs_explicit first (if present), then the
  /// top level. Null counts as absent (= the ncps default).
  const json *kwarg(const char *name) const {
    if (kw_) {
      auto it = kw_->find(name);
      if (it != kw_->end() && !it->is_null()) return &*it;
    }
    auto it = root_.find(name);
    if (it != root_.end() && !it->is_null()) return &*it;
    return nullptr;
  }
  const json *top(const char *name) const {
    auto it = root_.find(name);
    return (it != root_.end() && !it->is_null()) ? &*it : nullptr;
  }

  bool intValue(const json &j, const std::string &field, int64_t lo,
                int64_t hi, int64_t &out) {
    bool ok = false;
    int64_t v = 0;
    if (j.is_number_unsigned()) {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(hi)) {
        v = static_cast<int64_t>(u);
        ok = v >= lo;
      }
    } else if (j.is_number_integer()) {
      v = j.get<int64_t>();
      ok = v >= lo && v <= hi;
    }
    if (!ok)
      return failSpec("field '" + field + "' must be an integer in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) +
                      "], got " + shortJson(j));
    out = v;
    return true;
  }
  bool optInt(const char *name, int64_t lo, int64_t hi, int64_t &out) {
    const json *j = kwarg(name);
    return !j || intValue(*j, name, lo, hi, out);
  }
  bool optBool(const char *name, bool &out) {
    const json *j = kwarg(name);
    if (!j) return true;
    if (!j->is_boolean())
      return failSpec(std::string("field '") + name +
                      "' must be true or false, got " + shortJson(*j));
    out = j->get<bool>();
    return true;
  }
  bool optString(const char *name, std::string &out) {
    const json *j = kwarg(name);
    if (!j) return true;
    if (!j->is_string())
      return failSpec(std::string("field '") + name +
                      "' must be a string, got " + shortJson(*j));
    out = j->get<std::string>();
    return true;
  }
  bool optNumber(const char *name, double lo, double hi, double &out) {
    const json *j = kwarg(name);
    if (!j) return true;
    if (!j->is_number() || !std::isfinite(j->get<double>()) ||
        j->get<double>() < lo || j->get<double>() > hi) {
      std::ostringstream os;
      os << "field '" << name << "' must be a number in [" << lo << ", "
         << hi << "], got " << shortJson(*j);
      return failSpec(os.str());
    }
    out = j->get<double>();
    return true;
  }

  bool parseWiring(const json &u, WiringSpec &w);

  // --- tensors --------------------------------------------------------------
  /// Finds state_dict key `key` (exact name preferred, else "param." + key).
  const TensorInfo *lookup(const std::string &key) const {
    if (const TensorInfo *t = st_->find(key)) return t;
    return st_->find(kParamPrefix + key);
  }
  bool checkFloat(const std::string &key, const TensorInfo &t) {
    if (!dtypeIsFloat(t.dtype))
      return failW("tensor '" + key + "' has dtype " + dtypeName(t.dtype) +
                   ", expected a float dtype (F32, F16 or BF16)");
    return true;
  }
  /// Loads `key` with exactly `shape` (or, if given, `altShape`, e.g. [1,H]
  /// vs [H]); the result has shape `shape`.
  bool load(const std::string &key, const std::vector<int64_t> &shape,
            Tensor &out, const std::vector<int64_t> *altShape = nullptr) {
    const TensorInfo *t = lookup(key);
    if (!t)
      return failW("tensor '" + key + "' not found" +
                   (hint_.empty() ? "" : " (" + hint_ + ")"));
    if (!checkFloat(key, *t)) return false;
    if (t->shape != shape && !(altShape && t->shape == *altShape))
      return failW("tensor '" + key + "' has shape " + formatShape(t->shape) +
                   ", expected " +
                   formatShape(altShape ? *altShape : shape));
    std::string e;
    out = Tensor();
    if (!st_->readF32(*t, out.data, e)) {
      err_ = oneLine(e);
      return false;
    }
    out.name = key;
    out.shape = shape;
    used_.insert(key);
    m_.weights[key] = out;
    return true;
  }
  bool loadDense(const std::string &prefix, int64_t outF, int64_t inF,
                 DenseLayer &d, bool withBias = true) {
    if (!load(prefix + ".weight", {outF, inF}, d.weight)) return false;
    return !withBias || load(prefix + ".bias", {outF}, d.bias);
  }

  bool loadHeads(const std::string &prefix, int64_t headIn, int64_t h,
                 bool masked, CfCLayer &L);
  bool loadCfC(int64_t units);
  bool loadWiredCfC(const WiringSpec &w);
  bool loadLTC(const std::optional<WiringSpec> &w, int64_t intUnits);
  bool loadMixedMemory();
  bool checkUnused();

  std::string specPath_;
  std::string &err_;
  NcpsModel &m_;
  json root_;
  const json *kw_ = nullptr;
  std::string wpath_;
  std::unique_ptr<SafetensorsFile> st_;
  std::set<std::string> used_; ///< state_dict keys consumed (no prefix)
  int64_t backboneLayers_ = 0;
  std::string hint_; ///< appended to "not found" errors
};

//===----------------------------------------------------------------------===//
// Spec
//===----------------------------------------------------------------------===//

bool Loader::parseWiring(const json &u, WiringSpec &w) {
  auto ty = u.find("type");
  if (ty == u.end() || ty->is_null())
    return failSpec("missing required field 'units.type' (wiring type)");
  if (!ty->is_string())
    return failSpec("field 'units.type' must be a string, got " +
                    shortJson(*ty));
  w.type = ty->get<std::string>();
  if (w.type != "AutoNCP" && w.type != "NCP" && w.type != "FullyConnected" &&
      w.type != "Random")
    return failSpec("field 'units.type' must be one of AutoNCP, NCP, "
                    "FullyConnected, Random, got \"" + w.type + "\"");
  json args = json::object();
  auto a = u.find("args");
  if (a != u.end() && !a->is_null()) {
    if (!a->is_object())
      return failSpec("field 'units.args' must be an object, got " +
                      shortJson(*a));
    args = *a;
  }
  auto argInt = [&](const char *k, std::optional<int64_t> &out) {
    auto it = args.find(k);
    if (it == args.end() || it->is_null()) return true;
    int64_t v = 0;
    if (!intValue(*it, std::string("units.args.") + k, 1, kMaxSize, v))
      return false;
    out = v;
    return true;
  };
  std::optional<int64_t> units, outDim, outSize, inter, command, motor;
  if (!argInt("units", units) || !argInt("output_dim", outDim) ||
      !argInt("output_size", outSize) || !argInt("inter_neurons", inter) ||
      !argInt("command_neurons", command) || !argInt("motor_neurons", motor))
    return false;

  std::ostringstream desc;
  desc << w.type << "(";
  if (w.type == "NCP") {
    if (inter && command && motor) {
      w.units = *inter + *command + *motor;
      w.layerSizes = {*inter, *command, *motor};
    }
    w.outputDim = motor;
    desc << "inter_neurons=" << (inter ? std::to_string(*inter) : "?")
         << ", command_neurons=" << (command ? std::to_string(*command) : "?")
         << ", motor_neurons=" << (motor ? std::to_string(*motor) : "?");
  } else if (w.type == "AutoNCP") {
    w.units = units;
    w.outputDim = outSize ? outSize : outDim;
    if (units && w.outputDim) {
      if (*w.outputDim >= *units - 2)
        return failSpec("field 'units.args.output_size' must be less than "
                        "units - 2 (ncps AutoNCP), got " +
                        std::to_string(*w.outputDim) + " with units=" +
                        std::to_string(*units));
      // ncps AutoNCP: command = max(int(0.4 * (units - out)), 1).
      const int64_t ic = *units - *w.outputDim;
      const int64_t cmd =
          std::max<int64_t>(static_cast<int64_t>(0.4 * static_cast<double>(ic)), 1);
      w.layerSizes = {ic - cmd, cmd, *w.outputDim};
    }
    desc << "units=" << (units ? std::to_string(*units) : "?")
         << ", output_size="
         << (w.outputDim ? std::to_string(*w.outputDim) : "?");
  } else { // FullyConnected, Random: one layer of all units
    w.units = units;
    w.outputDim = outDim ? outDim : outSize;
    if (units) w.layerSizes = {*units};
    desc << "units=" << (units ? std::to_string(*units) : "?");
    if (w.outputDim) desc << ", output_dim=" << *w.outputDim;
  }
  desc << ")";
  w.describe = desc.str();
  if (w.units && w.outputDim && *w.outputDim > *w.units)
    return failSpec("wiring " + w.describe +
                    " has more output neurons than units (field 'units.args')");
  return true;
}

bool Loader::run(const std::string &weightsOverride) {
  // --- read and parse the spec --------------------------------------------
  std::ifstream in(specPath_, std::ios::binary);
  if (!in)
    return failSpec(std::string("cannot open spec file: ") +
                    std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad()) return failSpec("cannot read spec file");
  std::string dup;
  int dupDepth;
  if (std::string deep = detail::jsonDepthError(text.data(), text.data() + text.size());
      !deep.empty())
    return failSpec(deep);
  try {
    root_ = detail::parseRejectingDuplicates<json>(
        text.data(), text.data() + text.size(), dup, dupDepth);
  } catch (const json::exception &e) {
    std::string msg = e.what();
    // drop nlohmann's "[json.exception.parse_error.101] " tag
    if (!msg.empty() && msg[0] == '[') {
      size_t p = msg.find("] ");
      if (p != std::string::npos) msg = msg.substr(p + 2);
    }
    return failSpec("invalid JSON: " + msg);
  }
  if (!root_.is_object()) return failSpec("spec is not a JSON object");
  if (!dup.empty())
    return failSpec("invalid JSON: duplicate key '" + dup + "'");

  auto kwIt = root_.find("constructor_kwargs_explicit");
  if (kwIt != root_.end() && !kwIt->is_null()) {
    if (!kwIt->is_object())
      return failSpec("field 'constructor_kwargs_explicit' must be an object");
    kw_ = &*kwIt;
  }

  m_.specPath = specPath_;

  // name
  std::string name = stemOf(specPath_);
  if (const json *n = top("name")) {
    if (!n->is_string())
      return failSpec("field 'name' must be a string, got " + shortJson(*n));
    name = n->get<std::string>();
  }
  m_.name = sanitizeName(name);

  // class
  const json *cls = top("class");
  if (!cls) return failSpec("missing required field 'class' (\"CfC\" or \"LTC\")");
  if (!cls->is_string() ||
      (cls->get<std::string>() != "CfC" && cls->get<std::string>() != "LTC"))
    return failSpec("field 'class' must be \"CfC\" or \"LTC\", got " +
                    shortJson(*cls));
  const bool isLTC = cls->get<std::string>() == "LTC";

  // input_size
  const json *isz = top("input_size");
  if (!isz) return failSpec("missing required field 'input_size'");
  if (!intValue(*isz, "input_size", 1, kMaxSize, m_.inputSize)) return false;

  // units
  const json *units = top("units");
  if (!units) return failSpec("missing required field 'units'");
  std::optional<WiringSpec> wiring;
  int64_t intUnits = 0;
  if (units->is_object()) {
    wiring.emplace();
    if (!parseWiring(*units, *wiring)) return false;
  } else if (units->is_number_integer()) {
    if (!intValue(*units, "units", 1, kMaxSize, intUnits)) return false;
  } else {
    return failSpec("field 'units' must be a positive integer or a wiring "
                    "object {\"type\": ..., \"args\": {...}}, got " +
                    shortJson(*units));
  }

  // kwargs common to both classes
  if (!optBool("mixed_memory", m_.mixedMemory)) return false;

  int64_t projSize = 0;
  if (!isLTC) {
    if (!optString("mode", m_.mode)) return false;
    if (m_.mode != "default" && m_.mode != "no_gate" && m_.mode != "pure")
      return failSpec("field 'mode' must be one of default, no_gate, pure, "
                      "got \"" + m_.mode + "\"");
    if (!optString("activation", m_.activation)) return false;
    const std::string &a = m_.activation;
    if (a != "lecun_tanh" && a != "tanh" && a != "relu" && a != "gelu" &&
        a != "silu")
      return failSpec("field 'activation' must be one of lecun_tanh, tanh, "
                      "relu, gelu, silu, got \"" + a + "\"");
    if (!optInt("proj_size", 1, kMaxSize, projSize)) return false;
  } else {
    if (const json *p = kwarg("proj_size"))
      return failSpec("field 'proj_size' is not supported by LTC (ncps LTC "
                      "has no projection), got " + shortJson(*p));
    if (!optInt("ode_unfolds", 1, 1 << 20, m_.odeUnfolds)) return false;
    if (!optNumber("epsilon", 0.0, 1e30, m_.epsilon)) return false;
    if (!optBool("implicit_param_constraints", m_.implicitConstraints))
      return false;
    for (auto [field, dst] : {std::make_pair("input_mapping", &m_.inputMapping),
                              std::make_pair("output_mapping",
                                             &m_.outputMapping)}) {
      if (!optString(field, *dst)) return false;
      // ncps: "affine" -> w and b, "linear" -> w only, anything else -> none
      if (*dst != "affine" && *dst != "linear") *dst = "none";
    }
  }

  // --- weights ---------------------------------------------------------------
  const std::string specDir = detail::parentDir(specPath_, "");
  if (!weightsOverride.empty()) {
    wpath_ = weightsOverride;
  } else if (const json *w = top("weights")) {
    if (!w->is_string() || w->get<std::string>().empty())
      return failSpec("field 'weights' must be a non-empty string (path "
                      "relative to the spec's folder), got " + shortJson(*w));
    wpath_ = joinPath(specDir, w->get<std::string>());
  } else {
    wpath_ = joinPath(specDir, stemOf(specPath_) + ".safetensors");
  }
  m_.weightsPath = wpath_;
  {
    std::string e;
    st_ = SafetensorsFile::open(wpath_, e);
    if (!st_) {
      err_ = oneLine(e);
      return false;
    }
  }

  // --- cell -------------------------------------------------------------------
  if (isLTC) {
    if (!loadLTC(wiring, intUnits)) return false;
  } else if (wiring) {
    if (!loadWiredCfC(*wiring)) return false;
  } else {
    if (!loadCfC(intUnits)) return false;
  }
  if (m_.mixedMemory && !loadMixedMemory()) return false;
  if (projSize > 0) {
    m_.hasProj = true;
    hint_ = "field 'proj_size' is " + std::to_string(projSize);
    if (!loadDense("fc", projSize, m_.outputSize, m_.proj)) return false;
    hint_.clear();
    m_.outputSize = projSize;
  }
  return checkUnused();
}

//===----------------------------------------------------------------------===//
// CfC / WiredCfC
//===----------------------------------------------------------------------===//

bool Loader::loadHeads(const std::string &prefix, int64_t headIn, int64_t h,
                       bool masked, CfCLayer &L) {
  L.hidden = h;
  hint_ = "field 'mode' is '" + m_.mode + "'";
  if (!load(prefix + "ff1.weight", {h, headIn}, L.ff1W) ||
      !load(prefix + "ff1.bias", {h}, L.ff1B))
    return false;
  if (m_.mode == "pure") {
    const std::vector<int64_t> onDisk = {1, h};
    if (!load(prefix + "w_tau", {h}, L.wTau, &onDisk) ||
        !load(prefix + "A", {h}, L.A, &onDisk))
      return false;
  } else {
    if (!load(prefix + "ff2.weight", {h, headIn}, L.ff2W) ||
        !load(prefix + "ff2.bias", {h}, L.ff2B) ||
        !load(prefix + "time_a.weight", {h, headIn}, L.taW) ||
        !load(prefix + "time_a.bias", {h}, L.taB) ||
        !load(prefix + "time_b.weight", {h, headIn}, L.tbW) ||
        !load(prefix + "time_b.bias", {h}, L.tbB))
      return false;
  }
  hint_.clear();
  if (masked && !load(prefix + "sparsity_mask", {h, headIn}, L.mask))
    return false;
  return true;
}

bool Loader::loadCfC(int64_t units) {
  m_.kind = CellKind::CfC;
  const int64_t H = units, in = m_.inputSize;
  int64_t bu = 128, bl = 1;
  double dropout = 0.0;
  if (!optInt("backbone_units", 1, kMaxSize, bu) ||
      !optInt("backbone_layers", 0, 1 << 16, bl) ||
      !optNumber("backbone_dropout", 0.0, 1.0, dropout))
    return false;
  backboneLayers_ = bl;

  // nn.Sequential indices of the Linear layers: [Linear, act] then
  // [Linear, act(, Dropout if dropout > 0)] per extra layer. The dropout only
  // shifts indices; if the checkpoint uses the other numbering, accept it.
  auto index = [](int64_t i, bool withDropout) {
    return i == 0 ? 0 : (withDropout ? 3 * i - 1 : 2 * i);
  };
  for (int64_t i = 0; i < bl; ++i) {
    std::string key =
        "rnn_cell.backbone." + std::to_string(index(i, dropout > 0.0));
    const std::string alt =
        "rnn_cell.backbone." + std::to_string(index(i, !(dropout > 0.0)));
    if (!lookup(key + ".weight") && lookup(alt + ".weight")) key = alt;
    DenseLayer d;
    if (!loadDense(key, bu, i == 0 ? in + H : bu, d)) return false;
    m_.backbone.push_back(std::move(d));
  }
  CfCLayer L;
  L.inFeatures = in;
  if (!loadHeads("rnn_cell.", bl > 0 ? bu : in + H, H, false, L))
    return false;
  m_.layers.push_back(std::move(L));
  m_.stateSize = H;
  m_.outputSize = H;
  return true;
}

bool Loader::loadWiredCfC(const WiringSpec &w) {
  m_.kind = CellKind::WiredCfC;
  for (const char *f : {"backbone_units", "backbone_layers", "backbone_dropout"})
    if (const json *j = kwarg(f))
      return failSpec(std::string("field '") + f + "' must be null when "
                      "'units' is a wiring (ncps rejects backbone arguments "
                      "for a wired CfC), got " + shortJson(*j));

  // Which rnn_cell.layer_<l> exist?
  std::map<int64_t, std::string> found; // index -> an example key
  const std::string lp = "rnn_cell.layer_";
  for (const TensorInfo &t : st_->tensors()) {
    std::string k = t.name;
    if (k.compare(0, 6, kParamPrefix) == 0) k = k.substr(6);
    if (k.compare(0, lp.size(), lp) != 0) continue;
    size_t p = lp.size(), q = p;
    while (q < k.size() && std::isdigit(static_cast<unsigned char>(k[q]))) ++q;
    if (q == p || q - p > 6 || q >= k.size() || k[q] != '.') continue;
    found.emplace(std::stoll(k.substr(p, q - p)), k);
  }
  int64_t count = 0;
  while (found.count(count)) ++count;
  if (count == 0)
    return failW("tensor 'rnn_cell.layer_0.ff1.weight' not found (a CfC "
                 "with a wiring needs rnn_cell.layer_<l>.* tensors)");
  if (found.rbegin()->first >= count)
    return failW("tensor '" + found.rbegin()->second + "' found but no "
                 "tensors of 'rnn_cell.layer_" + std::to_string(count) +
                 "': wiring layers must be numbered from 0 without gaps");

  int64_t in = m_.inputSize, total = 0;
  std::vector<int64_t> sizes;
  for (int64_t l = 0; l < count; ++l) {
    const std::string prefix = lp + std::to_string(l) + ".";
    const std::string key = prefix + "ff1.weight";
    const TensorInfo *t = lookup(key);
    if (!t) return failW("tensor '" + key + "' not found");
    if (!checkFloat(key, *t)) return false;
    if (t->shape.size() != 2 || t->shape[0] < 1 ||
        t->shape[1] != in + t->shape[0])
      return failW("tensor '" + key + "' has shape " + formatShape(t->shape) +
                   ", expected [hidden, " + std::to_string(in) +
                   " + hidden] (layer input " + std::to_string(in) +
                   " features)");
    const int64_t h = t->shape[0];
    CfCLayer L;
    L.inFeatures = in;
    if (!loadHeads(prefix, in + h, h, true, L)) return false;
    m_.layers.push_back(std::move(L));
    sizes.push_back(h);
    total += h;
    in = h;
  }
  if (!w.layerSizes.empty() && w.layerSizes != sizes)
    return failW("wiring layer sizes " + formatShape(sizes) +
                 " of the rnn_cell.layer_<l> tensors do not match field "
                 "'units' of the spec: " + w.describe + " has layers " +
                 formatShape(w.layerSizes));
  if (w.units && *w.units != total)
    return failW("wiring layers of the tensors have " +
                 std::to_string(total) + " units in total, but field 'units' "
                 "of the spec says " + w.describe);
  m_.stateSize = total;
  m_.outputSize = sizes.back();
  return true;
}

//===----------------------------------------------------------------------===//
// LTC
//===----------------------------------------------------------------------===//

bool Loader::loadLTC(const std::optional<WiringSpec> &w, int64_t intUnits) {
  m_.kind = CellKind::LTC;
  const int64_t S = m_.inputSize;
  int64_t N = intUnits;
  if (w) {
    if (w->units) {
      N = *w->units;
    } else { // size from the weights
      const TensorInfo *g = lookup("rnn_cell.gleak");
      if (!g) return failW("tensor 'rnn_cell.gleak' not found");
      if (g->shape.size() != 1 || g->shape[0] < 1)
        return failW("tensor 'rnn_cell.gleak' has shape " +
                     formatShape(g->shape) + ", expected [units]");
      N = g->shape[0];
    }
  }
  int64_t M = N;
  if (w && w->outputDim) {
    M = *w->outputDim;
  } else if (w && m_.outputMapping != "none") {
    const TensorInfo *o = lookup("rnn_cell.output_w");
    if (o && o->shape.size() == 1 && o->shape[0] >= 1) M = o->shape[0];
  }
  if (M > N)
    return failW("LTC output size " + std::to_string(M) + " exceeds units " +
                 std::to_string(N) + " (tensor 'rnn_cell.output_w')");

  const std::string p = "rnn_cell.";
  hint_ = "field 'class' is 'LTC'";
  if (!load(p + "gleak", {N}, m_.gleak) || !load(p + "vleak", {N}, m_.vleak) ||
      !load(p + "cm", {N}, m_.cm) || !load(p + "sigma", {N, N}, m_.sigma) ||
      !load(p + "mu", {N, N}, m_.mu) || !load(p + "w", {N, N}, m_.w) ||
      !load(p + "erev", {N, N}, m_.erev) ||
      !load(p + "sensory_sigma", {S, N}, m_.sensorySigma) ||
      !load(p + "sensory_mu", {S, N}, m_.sensoryMu) ||
      !load(p + "sensory_w", {S, N}, m_.sensoryW) ||
      !load(p + "sensory_erev", {S, N}, m_.sensoryErev) ||
      !load(p + "sparsity_mask", {N, N}, m_.sparsityMask) ||
      !load(p + "sensory_sparsity_mask", {S, N}, m_.sensorySparsityMask))
    return false;
  hint_ = "field 'input_mapping' is '" + m_.inputMapping + "'";
  if (m_.inputMapping != "none" && !load(p + "input_w", {S}, m_.inputW))
    return false;
  if (m_.inputMapping == "affine" && !load(p + "input_b", {S}, m_.inputB))
    return false;
  hint_ = "field 'output_mapping' is '" + m_.outputMapping + "'";
  if (m_.outputMapping != "none" && !load(p + "output_w", {M}, m_.outputW))
    return false;
  if (m_.outputMapping == "affine" && !load(p + "output_b", {M}, m_.outputB))
    return false;
  hint_.clear();
  m_.stateSize = N;
  m_.motorSize = M;
  m_.outputSize = M;
  return true;
}

//===----------------------------------------------------------------------===//
// Shared pieces
//===----------------------------------------------------------------------===//

bool Loader::loadMixedMemory() {
  const int64_t H = m_.stateSize, in = m_.inputSize;
  hint_ = "field 'mixed_memory' is true";
  return load("lstm.input_map.weight", {4 * H, in}, m_.lstmInW) &&
         load("lstm.input_map.bias", {4 * H}, m_.lstmInB) &&
         load("lstm.recurrent_map.weight", {4 * H, H}, m_.lstmRecW);
}

bool Loader::checkUnused() {
  for (const TensorInfo &t : st_->tensors()) {
    std::string k = t.name;
    if (k.compare(0, 6, kParamPrefix) == 0) k = k.substr(6);
    const bool ours = k.compare(0, 9, "rnn_cell.") == 0 ||
                      k.compare(0, 5, "lstm.") == 0 ||
                      k.compare(0, 3, "fc.") == 0;
    if (!ours || used_.count(k)) continue;
    std::string hint;
    if (k.compare(0, 5, "lstm.") == 0)
      hint = "field 'mixed_memory' is false";
    else if (k.compare(0, 3, "fc.") == 0)
      hint = "field 'proj_size' is not set";
    else if (k.compare(0, 18, "rnn_cell.backbone.") == 0)
      hint = "field 'backbone_layers' is " + std::to_string(backboneLayers_);
    else if (m_.kind == CellKind::LTC)
      hint = "check fields 'input_mapping'/'output_mapping' ('" +
             m_.inputMapping + "'/'" + m_.outputMapping + "')";
    else
      hint = "check fields 'mode' ('" + m_.mode + "') and 'units'";
    return failW("unexpected tensor '" + k + "' is not used by the model "
                 "described in " + specPath_ + " (" + hint + ")");
  }
  return true;
}

} // namespace

bool loadNcpsModel(const std::string &specPath, NcpsModel &out,
                   std::string &err, const std::string &weightsOverride) {
  try {
    NcpsModel m;
    Loader loader(specPath, err, m);
    if (!loader.run(weightsOverride)) return false;
    out = std::move(m);
    return true;
  } catch (...) {
    err = detail::exceptionMessage(specPath + ": cannot load model: ");
    return false;
  }
}

} // namespace liquid
