//===- FrontendTest.cpp - safetensors reader and ncps loader tests --------===//
//
// Fixture tests read the shared ncps reference sets from
//   $LIQUID_FIXTURES_DIR (default: LIQUID_SOURCE_DIR "/../shared/fixtures")
// and are skipped, loudly, when that folder is absent. All other tests build
// their inputs in a private temporary directory.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"
#include "liquid/Frontend/NcpsModel.h"
#include "liquid/Frontend/Safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>


using namespace liquid;
namespace fs = std::filesystem;

using liquid::test::fixturesDir;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//


std::string ncpsDir() { return fixturesDir() + "/ncps"; }

bool haveFixtures() { return fs::is_directory(ncpsDir()); }

#define SKIP_WITHOUT_FIXTURES()                                                \
  do {                                                                         \
    if (!haveFixtures()) {                                                     \
      std::fprintf(stderr,                                                     \
                   "\n*** WARNING: ncps fixtures not found at '%s' -- "        \
                   "fixture tests are SKIPPED. Set LIQUID_FIXTURES_DIR. ***\n", \
                   ncpsDir().c_str());                                         \
      GTEST_SKIP() << "ncps fixtures not found at " << ncpsDir()               \
                   << " (set LIQUID_FIXTURES_DIR)";                            \
    }                                                                          \
  } while (0)

/// Temporary folders of this test file.
class TempDir : public liquid::test::TempDir {
public:
  TempDir() : liquid::test::TempDir("liquid_fe") {}
};

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  o.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

/// A safetensors file from a raw header string and a data section.
std::string rawFile(const std::string &header, const std::string &data) {
  return le64(header.size()) + header + data;
}

/// One header entry with explicit (possibly wrong) fields, for crafting files.
struct RawEntry {
  std::string name, dtype, shape, offsets; // JSON snippets for shape/offsets
  std::string bytes;
};

std::string f32Bytes(const std::vector<float> &v) {
  std::string s(4 * v.size(), '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b)
      s[4 * i + b] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  return s;
}

std::string shapeJson(const std::vector<int64_t> &shape) {
  return formatShape(shape);
}

/// Header + data from entries; the data section is the concatenation of the
/// entries' bytes in order (their `offsets` are written as given).
std::string rawFromEntries(const std::vector<RawEntry> &entries) {
  std::string h = "{", data;
  for (size_t i = 0; i < entries.size(); ++i) {
    const RawEntry &e = entries[i];
    if (i) h += ",";
    h += "\"" + e.name + "\":{\"dtype\":\"" + e.dtype + "\",\"shape\":" +
         e.shape + ",\"data_offsets\":" + e.offsets + "}";
    data += e.bytes;
  }
  h += "}";
  while (h.size() % 8) h += ' ';
  return rawFile(h, data);
}

/// Correct F32 entries for the given tensors (contiguous offsets).
std::vector<RawEntry>
entriesFor(const std::vector<std::pair<std::string, Tensor>> &ts) {
  std::vector<RawEntry> out;
  uint64_t off = 0;
  for (const auto &[name, t] : ts) {
    RawEntry e;
    e.name = name;
    e.dtype = "F32";
    e.shape = shapeJson(t.shape);
    e.bytes = f32Bytes(t.data);
    e.offsets = "[" + std::to_string(off) + "," +
                std::to_string(off + e.bytes.size()) + "]";
    off += e.bytes.size();
    out.push_back(e);
  }
  return out;
}

RawEntry *entryNamed(std::vector<RawEntry> &es, const std::string &name) {
  for (auto &e : es)
    if (e.name == name) return &e;
  return nullptr;
}

Tensor makeTensor(std::vector<int64_t> shape, float seed) {
  Tensor t;
  t.shape = std::move(shape);
  t.data.resize(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = std::sin(seed + 0.37f * static_cast<float>(i));
  return t;
}

using TensorList = std::vector<std::pair<std::string, Tensor>>;

/// A small CfC: input 3, units 4, `layers` backbone layers of 5 units
/// (Sequential indices given), mode default/no_gate or pure.
TensorList smallCfC(const std::string &prefix = "param.",
                    bool pure = false, std::vector<int> backboneIdx = {0}) {
  const int64_t in = 3, H = 4, bu = 5;
  TensorList ts;
  float seed = 0.5f;
  auto add = [&](const std::string &k, std::vector<int64_t> shape) {
    ts.emplace_back(prefix + k, makeTensor(std::move(shape), seed += 1.0f));
  };
  for (size_t i = 0; i < backboneIdx.size(); ++i) {
    const std::string b = "rnn_cell.backbone." + std::to_string(backboneIdx[i]);
    add(b + ".weight", {bu, i == 0 ? in + H : bu});
    add(b + ".bias", {bu});
  }
  const int64_t headIn = backboneIdx.empty() ? in + H : bu;
  add("rnn_cell.ff1.weight", {H, headIn});
  add("rnn_cell.ff1.bias", {H});
  if (pure) {
    add("rnn_cell.w_tau", {1, H});
    add("rnn_cell.A", {1, H});
  } else {
    for (const char *head : {"ff2", "time_a", "time_b"}) {
      add(std::string("rnn_cell.") + head + ".weight", {H, headIn});
      add(std::string("rnn_cell.") + head + ".bias", {H});
    }
  }
  return ts;
}

const char *kSmallSpec =
    R"({"class": "CfC", "input_size": 3, "units": 4, "mode": "default",
        "activation": "lecun_tanh", "backbone_units": 5, "backbone_layers": 1})";

/// Runs loadNcpsModel expecting failure; checks the error is one line and
/// contains every needle. Returns the error.
std::string expectLoadFails(const std::string &spec,
                            std::initializer_list<std::string> needles,
                            const std::string &override = "") {
  NcpsModel m;
  std::string err;
  EXPECT_FALSE(loadNcpsModel(spec, m, err, override)) << "spec " << spec;
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  for (const std::string &n : needles)
    EXPECT_NE(err.find(n), std::string::npos)
        << "error message lacks \"" << n << "\": " << err;
  return err;
}

std::string expectOpenFails(const std::string &path,
                            std::initializer_list<std::string> needles) {
  std::string err;
  auto f = SafetensorsFile::open(path, err);
  EXPECT_EQ(f, nullptr) << path;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  for (const std::string &n : needles)
    EXPECT_NE(err.find(n), std::string::npos)
        << "error message lacks \"" << n << "\": " << err;
  return err;
}

/// Writes spec text and (optionally) tensors into a temp dir.
class LoaderTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  std::string spec(const std::string &text,
                   const std::string &name = "model.json") {
    std::string p = dir_.file(name);
    writeBytes(p, text);
    return p;
  }
  std::string weights(const TensorList &ts,
                      const std::string &name = "model.safetensors") {
    std::string p = dir_.file(name), err;
    EXPECT_TRUE(writeSafetensors(p, ts, err)) << err;
    return p;
  }
  std::string raw(const std::string &bytes,
                  const std::string &name = "model.safetensors") {
    std::string p = dir_.file(name);
    writeBytes(p, bytes);
    return p;
  }
  TempDir dir_;
};

//===----------------------------------------------------------------------===//
// Fixture sets
//===----------------------------------------------------------------------===//

struct FixtureCase {
  const char *set;
  CellKind kind;
  int64_t in, state, out;
  std::vector<int64_t> layerSizes; // CfC: {H}; WiredCfC: per layer; LTC: {}
  size_t backbone;
  const char *mode;
  const char *activation;
  bool mixed;
  int64_t motor;  // LTC only
  bool implicit;  // LTC only
};

void PrintTo(const FixtureCase &c, std::ostream *os) { *os << c.set; }

class FixtureTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(FixtureTest, LoadsWithExpectedStructure) {
  SKIP_WITHOUT_FIXTURES();
  const FixtureCase &c = GetParam();
  const std::string specPath = ncpsDir() + "/" + c.set + ".json";
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(specPath, m, err)) << err;

  EXPECT_EQ(m.name, c.set);
  EXPECT_EQ(m.specPath, specPath);
  EXPECT_EQ(m.weightsPath, ncpsDir() + "/" + c.set + ".safetensors");
  EXPECT_EQ(m.kind, c.kind);
  EXPECT_EQ(m.inputSize, c.in);
  EXPECT_EQ(m.stateSize, c.state);
  EXPECT_EQ(m.outputSize, c.out);
  EXPECT_EQ(m.mixedMemory, c.mixed);
  EXPECT_FALSE(m.hasProj);

  if (c.kind == CellKind::LTC) {
    EXPECT_TRUE(m.layers.empty());
    EXPECT_EQ(m.motorSize, c.motor);
    EXPECT_EQ(m.implicitConstraints, c.implicit);
    EXPECT_EQ(m.odeUnfolds, 6);
    EXPECT_DOUBLE_EQ(m.epsilon, 1e-8);
    EXPECT_EQ(m.inputMapping, "affine");
    EXPECT_EQ(m.outputMapping, "affine");
    const int64_t N = c.state, S = c.in, M = c.motor;
    EXPECT_EQ(m.gleak.shape, (std::vector<int64_t>{N}));
    EXPECT_EQ(m.w.shape, (std::vector<int64_t>{N, N}));
    EXPECT_EQ(m.erev.shape, (std::vector<int64_t>{N, N}));
    EXPECT_EQ(m.sensoryW.shape, (std::vector<int64_t>{S, N}));
    EXPECT_EQ(m.sparsityMask.shape, (std::vector<int64_t>{N, N}));
    EXPECT_EQ(m.sensorySparsityMask.shape, (std::vector<int64_t>{S, N}));
    EXPECT_EQ(m.inputW.shape, (std::vector<int64_t>{S}));
    EXPECT_EQ(m.inputB.shape, (std::vector<int64_t>{S}));
    EXPECT_EQ(m.outputW.shape, (std::vector<int64_t>{M}));
    EXPECT_EQ(m.outputB.shape, (std::vector<int64_t>{M}));
    EXPECT_EQ(m.weights.size(), 17u);
  } else {
    EXPECT_EQ(m.mode, c.mode);
    EXPECT_EQ(m.activation, c.activation);
    EXPECT_EQ(m.backbone.size(), c.backbone);
    ASSERT_EQ(m.layers.size(), c.layerSizes.size());
    int64_t in = c.in;
    for (size_t l = 0; l < m.layers.size(); ++l) {
      const CfCLayer &L = m.layers[l];
      const int64_t h = c.layerSizes[l];
      EXPECT_EQ(L.hidden, h) << "layer " << l;
      EXPECT_EQ(L.inFeatures, in) << "layer " << l;
      EXPECT_EQ(L.ff1W.shape[0], h);
      EXPECT_EQ(L.ff1B.shape, (std::vector<int64_t>{h}));
      if (std::string(c.mode) == "pure") {
        EXPECT_EQ(L.wTau.shape, (std::vector<int64_t>{h}));
        EXPECT_EQ(L.A.shape, (std::vector<int64_t>{h}));
        EXPECT_TRUE(L.ff2W.empty());
      } else {
        EXPECT_EQ(L.ff2W.shape, L.ff1W.shape);
        EXPECT_EQ(L.taW.shape, L.ff1W.shape);
        EXPECT_EQ(L.tbW.shape, L.ff1W.shape);
        EXPECT_TRUE(L.wTau.empty());
      }
      if (c.kind == CellKind::WiredCfC) {
        EXPECT_EQ(L.ff1W.shape, (std::vector<int64_t>{h, in + h}));
        EXPECT_EQ(L.mask.shape, L.ff1W.shape);
        in = h;
      } else {
        EXPECT_TRUE(L.mask.empty());
      }
    }
  }
  if (c.mixed) {
    EXPECT_EQ(m.lstmInW.shape, (std::vector<int64_t>{4 * c.state, c.in}));
    EXPECT_EQ(m.lstmInB.shape, (std::vector<int64_t>{4 * c.state}));
    EXPECT_EQ(m.lstmRecW.shape, (std::vector<int64_t>{4 * c.state, c.state}));
  }

  // Every "param.*" tensor of the file is in the WeightStore under its
  // state_dict key, with identical data; nothing else is.
  std::string e;
  auto f = SafetensorsFile::open(m.weightsPath, e);
  ASSERT_NE(f, nullptr) << e;
  size_t params = 0;
  for (const TensorInfo &t : f->tensors()) {
    if (t.name.rfind("param.", 0) != 0) continue;
    ++params;
    const std::string key = t.name.substr(6);
    auto it = m.weights.find(key);
    ASSERT_NE(it, m.weights.end()) << key;
    EXPECT_EQ(it->second.name, key);
    EXPECT_EQ(it->second.numel(), t.numel()) << key;
    std::vector<float> v;
    ASSERT_TRUE(f->readF32(t, v, e)) << e;
    EXPECT_EQ(it->second.data, v) << key;
  }
  EXPECT_EQ(params, m.weights.size());
}

const FixtureCase kFixtures[] = {
    {"cfc_autoncp32_4", CellKind::WiredCfC, 8, 32, 4, {17, 11, 4}, 0,
     "default", "lecun_tanh", false, 0, true},
    {"cfc_fc32_4", CellKind::WiredCfC, 8, 32, 32, {32}, 0, "default",
     "lecun_tanh", false, 0, true},
    {"cfc_mixed_units16", CellKind::CfC, 8, 16, 16, {16}, 1, "default",
     "lecun_tanh", true, 0, true},
    {"cfc_ncp_10_6_3", CellKind::WiredCfC, 8, 19, 3, {10, 6, 3}, 0,
     "default", "lecun_tanh", false, 0, true},
    {"cfc_nogate_units20", CellKind::CfC, 8, 20, 20, {20}, 2, "no_gate",
     "silu", false, 0, true},
    {"cfc_pure_units24", CellKind::CfC, 8, 24, 24, {24}, 1, "pure", "relu",
     false, 0, true},
    {"cfc_units32", CellKind::CfC, 8, 32, 32, {32}, 1, "default",
     "lecun_tanh", false, 0, true},
    {"ltc_autoncp32_4", CellKind::LTC, 8, 32, 4, {}, 0, "", "", false, 4,
     true},
    {"ltc_fc16_4_implicit_false", CellKind::LTC, 8, 16, 4, {}, 0, "", "",
     false, 4, false},
    {"ltc_fc16_4_implicit_true", CellKind::LTC, 8, 16, 4, {}, 0, "", "",
     false, 4, true},
    {"ltc_units32", CellKind::LTC, 8, 32, 32, {}, 0, "", "", false, 32, true},
};

INSTANTIATE_TEST_SUITE_P(Ncps, FixtureTest, ::testing::ValuesIn(kFixtures),
                         [](const ::testing::TestParamInfo<FixtureCase> &i) {
                           return std::string(i.param.set);
                         });

TEST(FixtureExtra, AllElevenSetsPresent) {
  SKIP_WITHOUT_FIXTURES();
  size_t n = 0;
  for (const auto &e : fs::directory_iterator(ncpsDir()))
    if (e.path().extension() == ".json") ++n;
  EXPECT_EQ(n, 11u);
}

TEST(FixtureExtra, CfcBackboneShapes) {
  SKIP_WITHOUT_FIXTURES();
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(ncpsDir() + "/cfc_nogate_units20.json", m, err))
      << err;
  ASSERT_EQ(m.backbone.size(), 2u);
  EXPECT_EQ(m.backbone[0].weight.shape, (std::vector<int64_t>{64, 28}));
  EXPECT_EQ(m.backbone[0].weight.name, "rnn_cell.backbone.0.weight");
  EXPECT_EQ(m.backbone[1].weight.shape, (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(m.backbone[1].weight.name, "rnn_cell.backbone.2.weight");
  EXPECT_EQ(m.layers[0].ff1W.shape, (std::vector<int64_t>{20, 64}));
}

// The WiredCfC layer-0 mask must be |sensory adjacency|^T next to an all-ones
// recurrent block (FullyConnected: layer 0 holds neurons 0..N-1 in order).
TEST(FixtureExtra, WiredMaskMatchesAdjacency) {
  SKIP_WITHOUT_FIXTURES();
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(ncpsDir() + "/cfc_fc32_4.json", m, err)) << err;
  auto f = SafetensorsFile::open(m.weightsPath, err);
  ASSERT_NE(f, nullptr) << err;
  const TensorInfo *adj = f->find("wiring.sensory_adjacency_matrix");
  ASSERT_NE(adj, nullptr);
  EXPECT_EQ(adj->dtype, DType::I32);
  std::vector<int32_t> a;
  ASSERT_TRUE(f->readI32(*adj, a, err)) << err;
  std::vector<float> tmp;
  EXPECT_FALSE(f->readF32(*adj, tmp, err)); // integer tensors are not floats
  EXPECT_NE(err.find("wiring.sensory_adjacency_matrix"), std::string::npos);

  const Tensor &mask = m.layers.at(0).mask;
  const int64_t S = 8, N = 32;
  ASSERT_EQ(mask.shape, (std::vector<int64_t>{N, S + N}));
  for (int64_t h = 0; h < N; ++h) {
    for (int64_t s = 0; s < S; ++s)
      EXPECT_EQ(mask.data[h * (S + N) + s],
                static_cast<float>(std::abs(a[s * N + h])));
    for (int64_t r = 0; r < N; ++r)
      EXPECT_EQ(mask.data[h * (S + N) + S + r], 1.0f);
  }
}

TEST(FixtureExtra, LtcImplicitPairSharesParameters) {
  SKIP_WITHOUT_FIXTURES();
  NcpsModel a, b;
  std::string err;
  ASSERT_TRUE(
      loadNcpsModel(ncpsDir() + "/ltc_fc16_4_implicit_true.json", a, err))
      << err;
  ASSERT_TRUE(
      loadNcpsModel(ncpsDir() + "/ltc_fc16_4_implicit_false.json", b, err))
      << err;
  EXPECT_TRUE(a.implicitConstraints);
  EXPECT_FALSE(b.implicitConstraints);
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (const auto &[k, t] : a.weights) EXPECT_EQ(t.data, b.weights.at(k).data);
}

TEST(FixtureExtra, WeightsOverrideWins) {
  SKIP_WITHOUT_FIXTURES();
  // cfc_units32's spec with cfc_mixed_units16's weights: shapes differ.
  expectLoadFails(ncpsDir() + "/cfc_units32.json",
                  {"cfc_mixed_units16.safetensors", "rnn_cell."},
                  ncpsDir() + "/cfc_mixed_units16.safetensors");
}

//===----------------------------------------------------------------------===//
// Safetensors reader / writer
//===----------------------------------------------------------------------===//

TEST(Safetensors, WriteOpenReadRoundTrip) {
  TempDir d;
  const std::string p = d.file("rt.safetensors");
  TensorList ts = {{"b.matrix", makeTensor({3, 5}, 1.0f)},
                   {"a.vector", makeTensor({7}, 2.0f)},
                   {"c.scalar", makeTensor({}, 3.0f)},
                   {"d.empty", makeTensor({0, 4}, 4.0f)}};
  std::string err;
  ASSERT_TRUE(writeSafetensors(p, ts, err, {{"format", "pt"}})) << err;
  EXPECT_EQ(fs::file_size(p) % 4, 0u);

  auto f = SafetensorsFile::open(p, err);
  ASSERT_NE(f, nullptr) << err;
  EXPECT_EQ(f->path(), p);
  ASSERT_EQ(f->tensors().size(), 4u);
  EXPECT_EQ(f->tensors()[0].name, "a.vector"); // sorted by name
  EXPECT_EQ(f->metadata().at("format"), "pt");
  EXPECT_EQ(f->find("nope"), nullptr);
  for (const auto &[name, t] : ts) {
    const TensorInfo *info = f->find(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->dtype, DType::F32);
    EXPECT_EQ(info->shape, t.shape);
    EXPECT_EQ(info->numel(), t.numel());
    std::vector<float> v;
    ASSERT_TRUE(f->readF32(*info, v, err)) << err;
    EXPECT_EQ(v, t.data) << name;
    Tensor r;
    ASSERT_TRUE(f->readTensor(name, r, err)) << err;
    EXPECT_EQ(r.name, name);
    EXPECT_EQ(r.shape, t.shape);
    EXPECT_EQ(r.data, t.data);
  }
  Tensor r;
  EXPECT_FALSE(f->readTensor("missing.tensor", r, err));
  EXPECT_NE(err.find("missing.tensor"), std::string::npos);

  // The header is padded to 8 bytes and the data starts right after it.
  std::ifstream in(p, std::ios::binary);
  unsigned char len[8];
  in.read(reinterpret_cast<char *>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  EXPECT_EQ(n % 8, 0u);
}

TEST(Safetensors, WriterRejectsBadInput) {
  TempDir d;
  std::string err;
  Tensor bad = makeTensor({2, 2}, 0.0f);
  bad.data.pop_back();
  EXPECT_FALSE(writeSafetensors(d.file("x.safetensors"), {{"t", bad}}, err));
  EXPECT_NE(err.find("'t'"), std::string::npos) << err;
  Tensor ok = makeTensor({2}, 0.0f);
  EXPECT_FALSE(
      writeSafetensors(d.file("x.safetensors"), {{"t", ok}, {"t", ok}}, err));
  EXPECT_NE(err.find("duplicate"), std::string::npos) << err;
  EXPECT_FALSE(writeSafetensors(d.file("no/such/dir.safetensors"),
                                {{"t", ok}}, err));
  EXPECT_NE(err.find("dir.safetensors"), std::string::npos) << err;
}

TEST(Safetensors, HalfAndBFloat16Conversion) {
  // F16: 1, -2, 1/3 (rounded), max, min subnormal, -0, +inf, NaN
  const uint16_t h[] = {0x3C00, 0xC000, 0x3555, 0x7BFF,
                        0x0001, 0x8000, 0x7C00, 0x7E00};
  // BF16: 1, -3, 3.140625, 0, -inf, 1e-40-ish subnormal (0x0001)
  const uint16_t b[] = {0x3F80, 0xC040, 0x4049, 0x0000, 0xFF80, 0x0001};
  std::string hb, bb;
  for (uint16_t v : h) hb += {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  for (uint16_t v : b) bb += {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  std::string header = R"({"h":{"dtype":"F16","shape":[2,4],"data_offsets":[0,16]},)"
                       R"("b":{"dtype":"BF16","shape":[6],"data_offsets":[16,28]}})";
  TempDir d;
  const std::string p = d.file("half.safetensors");
  writeBytes(p, rawFile(header, hb + bb));
  std::string err;
  auto f = SafetensorsFile::open(p, err);
  ASSERT_NE(f, nullptr) << err;

  std::vector<float> v;
  ASSERT_TRUE(f->readF32(*f->find("h"), v, err)) << err;
  ASSERT_EQ(v.size(), 8u);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ(v[2], 0.333251953125f);
  EXPECT_EQ(v[3], 65504.0f);
  EXPECT_EQ(v[4], std::ldexp(1.0f, -24));
  EXPECT_EQ(v[5], 0.0f);
  EXPECT_TRUE(std::signbit(v[5]));
  EXPECT_TRUE(std::isinf(v[6]) && v[6] > 0);
  EXPECT_TRUE(std::isnan(v[7]));

  ASSERT_TRUE(f->readF32(*f->find("b"), v, err)) << err;
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -3.0f);
  EXPECT_EQ(v[2], 3.140625f);
  EXPECT_EQ(v[3], 0.0f);
  EXPECT_TRUE(std::isinf(v[4]) && v[4] < 0);
  EXPECT_GT(v[5], 0.0f);
  EXPECT_LT(v[5], 1e-38f);

  // Direct conversion helpers.
  EXPECT_EQ(halfToFloat(0x3800), 0.5f);
  EXPECT_EQ(halfToFloat(0x03FF), std::ldexp(1023.0f, -24)); // max subnormal
  EXPECT_EQ(halfToFloat(0x0400), std::ldexp(1.0f, -14));    // min normal
  EXPECT_EQ(bf16ToFloat(0x4000), 2.0f);
}

TEST(Safetensors, DTypeTable) {
  DType t;
  ASSERT_TRUE(parseDType("BF16", t));
  EXPECT_EQ(t, DType::BF16);
  EXPECT_EQ(dtypeSize(t), 2u);
  EXPECT_STREQ(dtypeName(DType::I64), "I64");
  EXPECT_FALSE(parseDType("F32 ", t));
  EXPECT_TRUE(dtypeIsFloat(DType::F16));
  EXPECT_FALSE(dtypeIsFloat(DType::I32));
}

TEST(Safetensors, UnalignedDataSection) {
  // An odd header length (no padding): the data section is unaligned and
  // the reader must not assume otherwise.
  std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  if (header.size() % 2 == 0) header += ' ';
  TempDir d;
  const std::string p = d.file("u.safetensors");
  writeBytes(p, rawFile(header, f32Bytes({1.5f, -2.25f})));
  std::string err;
  auto f = SafetensorsFile::open(p, err);
  ASSERT_NE(f, nullptr) << err;
  std::vector<float> v;
  ASSERT_TRUE(f->readF32(*f->find("x"), v, err)) << err;
  EXPECT_EQ(v, (std::vector<float>{1.5f, -2.25f}));
}

class SafetensorsErrors : public ::testing::Test {
protected:
  std::string write(const std::string &bytes) {
    std::string p = dir_.file("bad.safetensors");
    writeBytes(p, bytes);
    return p;
  }
  std::string entry(const std::string &name, const std::string &body) {
    return "\"" + name + "\":{" + body + "}";
  }
  TempDir dir_;
};

TEST_F(SafetensorsErrors, MissingFile) {
  expectOpenFails(dir_.file("absent.safetensors"),
                  {"absent.safetensors", "cannot open"});
}

TEST_F(SafetensorsErrors, Directory) {
  expectOpenFails(dir_.path(), {dir_.path(), "not a regular file"});
}

TEST_F(SafetensorsErrors, TooShort) {
  expectOpenFails(write(std::string("\x01\x02\x03", 3)),
                  {"bad.safetensors", "too short"});
  expectOpenFails(write(""), {"bad.safetensors", "too short"});
}

TEST_F(SafetensorsErrors, HeaderLengthPastEof) {
  expectOpenFails(write(le64(1000) + "{}"),
                  {"bad.safetensors", "header length 1000"});
}

TEST_F(SafetensorsErrors, HeaderLengthOverLimit) {
  expectOpenFails(write(le64(200ull * 1000 * 1000) + "{}"),
                  {"bad.safetensors", "100 MB"});
  expectOpenFails(write(le64(~0ull) + "{}"), {"bad.safetensors", "100 MB"});
}

TEST_F(SafetensorsErrors, MalformedJson) {
  expectOpenFails(write(rawFile("{\"a\": [1,2,}", "")),
                  {"bad.safetensors", "malformed header JSON"});
  expectOpenFails(write(rawFile("", "")),
                  {"bad.safetensors", "malformed header JSON"});
  expectOpenFails(write(rawFile("{\"a\":\"\xff\xfe\"}", "")),
                  {"bad.safetensors", "malformed header JSON"});
}

TEST_F(SafetensorsErrors, NonObjectHeader) {
  expectOpenFails(write(rawFile("[1,2,3]", "")),
                  {"bad.safetensors", "not an object"});
  expectOpenFails(write(rawFile("{\"t\": 5}", "")),
                  {"bad.safetensors", "'t'", "not a JSON object"});
}

TEST_F(SafetensorsErrors, MissingFields) {
  expectOpenFails(
      write(rawFile("{" + entry("t", R"("shape":[1],"data_offsets":[0,4])") + "}",
                    "abcd")),
      {"bad.safetensors", "'dtype'", "'t'"});
  expectOpenFails(
      write(rawFile("{" + entry("t", R"("dtype":"F32","data_offsets":[0,4])") + "}",
                    "abcd")),
      {"bad.safetensors", "'shape'", "'t'"});
  expectOpenFails(
      write(rawFile("{" + entry("t", R"("dtype":"F32","shape":[1])") + "}", "abcd")),
      {"bad.safetensors", "'data_offsets'", "'t'"});
  expectOpenFails(
      write(rawFile("{" + entry("t", R"("dtype":5,"shape":[1],"data_offsets":[0,4])") + "}",
                    "abcd")),
      {"bad.safetensors", "'dtype'", "'t'"});
  expectOpenFails(
      write(rawFile("{" + entry("t", R"("dtype":"F32","shape":[1],"data_offsets":[0])") + "}",
                    "abcd")),
      {"bad.safetensors", "'data_offsets'", "'t'"});
}

TEST_F(SafetensorsErrors, UnknownDtype) {
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"Q9","shape":[1],"data_offsets":[0,4])") + "}",
                    "abcd")),
      {"bad.safetensors", "unknown dtype 'Q9'", "'w'"});
}

TEST_F(SafetensorsErrors, BadDims) {
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":[-1],"data_offsets":[0,4])") + "}",
                    "abcd")),
      {"bad.safetensors", "negative", "'w'"});
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":[1.5],"data_offsets":[0,4])") + "}",
                    "abcd")),
      {"bad.safetensors", "not an integer", "'w'"});
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":["1"],"data_offsets":[0,4])") + "}",
                    "abcd")),
      {"bad.safetensors", "not an integer", "'w'"});
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":3,"data_offsets":[0,4])") + "}",
                    "abcd")),
      {"bad.safetensors", "'shape'", "'w'"});
}

TEST_F(SafetensorsErrors, BadOffsets) {
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":[1],"data_offsets":[4,0])") + "}",
                    "abcd")),
      {"bad.safetensors", "begin 4 > end 0", "'w'"});
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":[2],"data_offsets":[0,8])") + "}",
                    "abcd")),
      {"bad.safetensors", "out of range", "'w'"});
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":[1],"data_offsets":[-4,0])") + "}",
                    "abcd")),
      {"bad.safetensors", "negative", "'w'"});
}

TEST_F(SafetensorsErrors, ByteCountMismatch) {
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":[3],"data_offsets":[0,8])") + "}",
                    "abcdefgh")),
      {"bad.safetensors", "byte count 8", "'w'"});
  // numel * elemsize overflows 64 bits
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8])") + "}",
                    "abcdefgh")),
      {"bad.safetensors", "'w'"});
  // an empty tensor whose other dimensions overflow (numel() multiplies
  // them in order before reaching the zero)
  expectOpenFails(
      write(rawFile("{" + entry("w", R"("dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0])") + "}",
                    "")),
      {"bad.safetensors", "'w'", "overflow"});
}

TEST_F(SafetensorsErrors, DuplicateName) {
  const std::string e = R"("dtype":"F32","shape":[1],"data_offsets":[0,4])";
  expectOpenFails(write(rawFile("{" + entry("w", e) + "," + entry("w", e) + "}",
                                "abcd")),
                  {"bad.safetensors", "duplicate", "'w'"});
}

TEST_F(SafetensorsErrors, OverlappingTensors) {
  expectOpenFails(
      write(rawFile("{" + entry("a", R"("dtype":"F32","shape":[2],"data_offsets":[0,8])") +
                        "," + entry("b", R"("dtype":"F32","shape":[1],"data_offsets":[4,8])") +
                        "}",
                    "abcdefgh")),
      {"bad.safetensors", "overlap", "'a'", "'b'"});
}

TEST_F(SafetensorsErrors, BadMetadata) {
  expectOpenFails(write(rawFile(R"({"__metadata__":{"k":1}})", "")),
                  {"bad.safetensors", "__metadata__", "'k'"});
}

//===----------------------------------------------------------------------===//
// Loader: good synthetic inputs
//===----------------------------------------------------------------------===//

TEST_F(LoaderTest, SmallCfCWithPrefixedAndPlainKeys) {
  for (const char *prefix : {"param.", ""}) {
    SCOPED_TRACE(prefix);
    const std::string s = spec(kSmallSpec);
    weights(smallCfC(prefix));
    NcpsModel m;
    std::string err;
    ASSERT_TRUE(loadNcpsModel(s, m, err)) << err;
    EXPECT_EQ(m.kind, CellKind::CfC);
    EXPECT_EQ(m.name, "model");
    EXPECT_EQ(m.inputSize, 3);
    EXPECT_EQ(m.stateSize, 4);
    EXPECT_EQ(m.outputSize, 4);
    ASSERT_EQ(m.backbone.size(), 1u);
    EXPECT_EQ(m.backbone[0].weight.shape, (std::vector<int64_t>{5, 7}));
    EXPECT_EQ(m.layers.at(0).ff1W.name, "rnn_cell.ff1.weight");
    EXPECT_EQ(m.weights.size(), 10u);
    EXPECT_EQ(m.weights.count("rnn_cell.time_b.bias"), 1u);
  }
}

TEST_F(LoaderTest, ExactKeyPreferredOverPrefixed) {
  TensorList ts = smallCfC("");
  Tensor decoy = makeTensor({4}, 99.0f);
  Tensor exact;
  for (auto &[k, t] : ts)
    if (k == "rnn_cell.ff1.bias") exact = t;
  ts.emplace_back("param.rnn_cell.ff1.bias", decoy);
  const std::string s = spec(kSmallSpec);
  weights(ts);
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(s, m, err)) << err;
  EXPECT_EQ(m.layers[0].ff1B.data, exact.data);
}

TEST_F(LoaderTest, KwargsObjectTakesPrecedence) {
  // Top level says no_gate, constructor_kwargs_explicit says default + relu.
  const std::string s = spec(R"({"class": "CfC", "input_size": 3, "units": 4,
      "mode": "no_gate", "name": "my-model 1",
      "constructor_kwargs_explicit": {"mode": "default", "activation": "relu",
        "backbone_units": 5, "backbone_layers": 1, "backbone_dropout": 0.0,
        "proj_size": null, "mixed_memory": false}})");
  weights(smallCfC());
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(s, m, err)) << err;
  EXPECT_EQ(m.mode, "default");
  EXPECT_EQ(m.activation, "relu");
  EXPECT_EQ(m.name, "my_model_1");
}

TEST_F(LoaderTest, DefaultsWhenFieldsAbsent) {
  // No backbone fields: ncps defaults (1 layer of 128 units).
  const int64_t in = 2, H = 3;
  TensorList ts;
  ts.emplace_back("rnn_cell.backbone.0.weight", makeTensor({128, in + H}, 1));
  ts.emplace_back("rnn_cell.backbone.0.bias", makeTensor({128}, 2));
  for (const char *h : {"ff1", "ff2", "time_a", "time_b"}) {
    ts.emplace_back(std::string("rnn_cell.") + h + ".weight",
                    makeTensor({H, 128}, 3));
    ts.emplace_back(std::string("rnn_cell.") + h + ".bias", makeTensor({H}, 4));
  }
  weights(ts);
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(
      spec(R"({"class": "CfC", "input_size": 2, "units": 3, "mode": null})"), m,
      err))
      << err;
  EXPECT_EQ(m.mode, "default");
  EXPECT_EQ(m.activation, "lecun_tanh");
  EXPECT_EQ(m.backbone.size(), 1u);
}

TEST_F(LoaderTest, NoBackboneAndPureMode) {
  TensorList ts = smallCfC("param.", /*pure=*/true, /*backboneIdx=*/{});
  weights(ts);
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(spec(R"({"class": "CfC", "input_size": 3,
      "units": 4, "mode": "pure", "backbone_layers": 0})"),
                            m, err))
      << err;
  EXPECT_TRUE(m.backbone.empty());
  EXPECT_EQ(m.layers[0].ff1W.shape, (std::vector<int64_t>{4, 7}));
  EXPECT_EQ(m.layers[0].wTau.shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(m.weights.at("rnn_cell.A").shape, (std::vector<int64_t>{4}));
}

TEST_F(LoaderTest, BackboneDropoutShiftsIndices) {
  // 3 layers with dropout > 0: Sequential indices 0, 2, 5.
  weights(smallCfC("param.", false, {0, 2, 5}));
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(spec(R"({"class": "CfC", "input_size": 3,
      "units": 4, "backbone_units": 5, "backbone_layers": 3,
      "backbone_dropout": 0.1})"),
                            m, err))
      << err;
  ASSERT_EQ(m.backbone.size(), 3u);
  EXPECT_EQ(m.backbone[2].weight.name, "rnn_cell.backbone.5.weight");
  // The same checkpoint with dropout 0 in the spec still loads.
  ASSERT_TRUE(loadNcpsModel(spec(R"({"class": "CfC", "input_size": 3,
      "units": 4, "backbone_units": 5, "backbone_layers": 3})"),
                            m, err))
      << err;
}

TEST_F(LoaderTest, ProjectionAndMixedMemory) {
  TensorList ts = smallCfC();
  ts.emplace_back("param.lstm.input_map.weight", makeTensor({16, 3}, 1));
  ts.emplace_back("param.lstm.input_map.bias", makeTensor({16}, 2));
  ts.emplace_back("param.lstm.recurrent_map.weight", makeTensor({16, 4}, 3));
  ts.emplace_back("param.fc.weight", makeTensor({2, 4}, 4));
  ts.emplace_back("param.fc.bias", makeTensor({2}, 5));
  weights(ts);
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(spec(R"({"class": "CfC", "input_size": 3,
      "units": 4, "backbone_units": 5, "proj_size": 2, "mixed_memory": true})"),
                            m, err))
      << err;
  EXPECT_TRUE(m.hasProj);
  EXPECT_TRUE(m.mixedMemory);
  EXPECT_EQ(m.stateSize, 4);
  EXPECT_EQ(m.outputSize, 2);
  EXPECT_EQ(m.proj.weight.shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(m.lstmRecW.shape, (std::vector<int64_t>{16, 4}));
  EXPECT_EQ(m.weights.count("fc.bias"), 1u);
}

TEST_F(LoaderTest, WeightsFieldIsRelativeToSpec) {
  fs::create_directories(dir_.file("sub/w"));
  weights(smallCfC(), "sub/w/ckpt.safetensors");
  const std::string s =
      spec(std::string(kSmallSpec).insert(1, "\"weights\": \"w/ckpt.safetensors\","),
           "sub/spec.json");
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(s, m, err)) << err;
  EXPECT_EQ(m.weightsPath, dir_.file("sub/w/ckpt.safetensors"));
  EXPECT_EQ(m.name, "spec");
}

TEST_F(LoaderTest, WeightsOverride) {
  const std::string w = weights(smallCfC(), "elsewhere.safetensors");
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(spec(kSmallSpec), m, err, w)) << err;
  EXPECT_EQ(m.weightsPath, w);
}

TensorList smallWired(const std::vector<int64_t> &sizes, int64_t in) {
  TensorList ts;
  float seed = 0;
  for (size_t l = 0; l < sizes.size(); ++l) {
    const int64_t h = sizes[l];
    const std::string p = "param.rnn_cell.layer_" + std::to_string(l) + ".";
    for (const char *head : {"ff1", "ff2", "time_a", "time_b"}) {
      ts.emplace_back(p + head + ".weight", makeTensor({h, in + h}, seed += 1));
      ts.emplace_back(p + head + ".bias", makeTensor({h}, seed += 1));
    }
    Tensor mask = makeTensor({h, in + h}, 0);
    for (float &v : mask.data) v = v > 0 ? 1.0f : 0.0f;
    ts.emplace_back(p + "sparsity_mask", mask);
    in = h;
  }
  return ts;
}

TEST_F(LoaderTest, WiredCfCFromNcpWiring) {
  weights(smallWired({5, 3, 2}, 4));
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(spec(R"({"class": "CfC", "input_size": 4,
      "units": {"type": "NCP", "args": {"inter_neurons": 5,
        "command_neurons": 3, "motor_neurons": 2, "sensory_fanout": 2,
        "inter_fanout": 2, "recurrent_command_synapses": 1, "motor_fanin": 2}},
      "backbone_units": null, "backbone_layers": null})"),
                            m, err))
      << err;
  EXPECT_EQ(m.kind, CellKind::WiredCfC);
  EXPECT_EQ(m.stateSize, 10);
  EXPECT_EQ(m.outputSize, 2);
  ASSERT_EQ(m.layers.size(), 3u);
  EXPECT_EQ(m.layers[1].inFeatures, 5);
  EXPECT_EQ(m.layers[2].mask.shape, (std::vector<int64_t>{2, 5}));
}

TEST_F(LoaderTest, LtcLinearMappingsWithoutWiringSize) {
  // A Random wiring without units in args: N comes from the tensors;
  // "linear" mappings carry only input_w / output_w.
  const int64_t N = 6, S = 2;
  TensorList ts;
  for (const char *k : {"gleak", "vleak", "cm"})
    ts.emplace_back(std::string("rnn_cell.") + k, makeTensor({N}, 1));
  for (const char *k : {"sigma", "mu", "w", "erev", "sparsity_mask"})
    ts.emplace_back(std::string("rnn_cell.") + k, makeTensor({N, N}, 2));
  for (const char *k : {"sensory_sigma", "sensory_mu", "sensory_w",
                        "sensory_erev", "sensory_sparsity_mask"})
    ts.emplace_back(std::string("rnn_cell.") + k, makeTensor({S, N}, 3));
  ts.emplace_back("rnn_cell.input_w", makeTensor({S}, 4));
  ts.emplace_back("rnn_cell.output_w", makeTensor({3}, 5));
  weights(ts);
  NcpsModel m;
  std::string err;
  ASSERT_TRUE(loadNcpsModel(spec(R"({"class": "LTC", "input_size": 2,
      "units": {"type": "Random", "args": {"sparsity_level": 0.5}},
      "input_mapping": "linear", "output_mapping": "linear",
      "ode_unfolds": 3, "epsilon": 1e-6, "implicit_param_constraints": false})"),
                            m, err))
      << err;
  EXPECT_EQ(m.kind, CellKind::LTC);
  EXPECT_EQ(m.stateSize, N);
  EXPECT_EQ(m.outputSize, 3);
  EXPECT_EQ(m.motorSize, 3);
  EXPECT_EQ(m.odeUnfolds, 3);
  EXPECT_DOUBLE_EQ(m.epsilon, 1e-6);
  EXPECT_FALSE(m.implicitConstraints);
  EXPECT_EQ(m.inputMapping, "linear");
  EXPECT_TRUE(m.inputB.empty());
  EXPECT_TRUE(m.outputB.empty());
  EXPECT_EQ(m.weights.size(), 15u);
}

//===----------------------------------------------------------------------===//
// Loader: bad inputs (each names the file and the tensor / field)
//===----------------------------------------------------------------------===//

TEST_F(LoaderTest, TruncatedWeights) {
  const std::string s = spec(kSmallSpec);
  raw(std::string("\x10\x00\x00", 3));
  expectLoadFails(s, {"model.safetensors", "too short"});
}

TEST_F(LoaderTest, HeaderLengthBeyondEof) {
  const std::string s = spec(kSmallSpec);
  raw(le64(4096) + "{\"a\":1}");
  expectLoadFails(s, {"model.safetensors", "header length 4096"});
}

TEST_F(LoaderTest, MalformedHeaderJson) {
  const std::string s = spec(kSmallSpec);
  raw(rawFile("{\"rnn_cell.ff1.weight\": {\"dtype\": \"F32\",", ""));
  expectLoadFails(s, {"model.safetensors", "malformed header JSON"});
}

TEST_F(LoaderTest, UnknownDtype) {
  auto es = entriesFor(smallCfC());
  entryNamed(es, "param.rnn_cell.ff1.weight")->dtype = "F17";
  const std::string s = spec(kSmallSpec);
  raw(rawFromEntries(es));
  expectLoadFails(s, {"model.safetensors", "'param.rnn_cell.ff1.weight'",
                      "unknown dtype 'F17'"});
}

TEST_F(LoaderTest, WrongByteCount) {
  auto es = entriesFor(smallCfC());
  entryNamed(es, "param.rnn_cell.ff2.bias")->shape = "[5]"; // 16 bytes stored
  const std::string s = spec(kSmallSpec);
  raw(rawFromEntries(es));
  expectLoadFails(s, {"model.safetensors", "'param.rnn_cell.ff2.bias'",
                      "byte count 16"});
}

TEST_F(LoaderTest, OffsetsOutOfRange) {
  auto es = entriesFor(smallCfC());
  RawEntry *e = entryNamed(es, "param.rnn_cell.time_b.weight");
  e->offsets = "[100000,100080]";
  const std::string s = spec(kSmallSpec);
  raw(rawFromEntries(es));
  expectLoadFails(s, {"model.safetensors", "'param.rnn_cell.time_b.weight'",
                      "out of range"});
}

TEST_F(LoaderTest, MissingTensor) {
  TensorList ts = smallCfC();
  ts.pop_back(); // time_b.bias
  const std::string s = spec(kSmallSpec);
  weights(ts);
  expectLoadFails(s, {"model.safetensors", "'rnn_cell.time_b.bias'",
                      "not found"});
}

TEST_F(LoaderTest, WrongShape) {
  // Spec claims 6 units; the checkpoint has 4.
  const std::string s = spec(R"({"class": "CfC", "input_size": 3,
      "units": 6, "backbone_units": 5})");
  weights(smallCfC());
  expectLoadFails(s, {"model.safetensors: tensor 'rnn_cell.backbone.0.weight' "
                      "has shape [5,7], expected [5,9]"});
  // Right backbone, wrong head.
  TensorList ts = smallCfC();
  for (auto &[k, t] : ts)
    if (k == "param.rnn_cell.ff1.weight") t = makeTensor({4, 6}, 1);
  weights(ts);
  expectLoadFails(spec(kSmallSpec),
                  {"model.safetensors: tensor 'rnn_cell.ff1.weight' has shape "
                   "[4,6], expected [4,5]"});
}

TEST_F(LoaderTest, WrongDtype) {
  auto es = entriesFor(smallCfC());
  entryNamed(es, "param.rnn_cell.ff1.bias")->dtype = "I32"; // same byte count
  const std::string s = spec(kSmallSpec);
  raw(rawFromEntries(es));
  expectLoadFails(s, {"model.safetensors", "'rnn_cell.ff1.bias'", "I32"});
}

TEST_F(LoaderTest, MalformedSpecJson) {
  weights(smallCfC());
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 3,, })"),
                  {"model.json", "invalid JSON", "line 1"});
  expectLoadFails(spec("[1, 2]"), {"model.json", "not a JSON object"});
  expectLoadFails(spec(R"({"class": "CfC", "class": "LTC"})"),
                  {"model.json", "duplicate key 'class'"});
}

TEST_F(LoaderTest, MissingClass) {
  weights(smallCfC());
  expectLoadFails(spec(R"({"input_size": 3, "units": 4})"),
                  {"model.json", "'class'"});
  expectLoadFails(spec(R"({"class": "GRU", "input_size": 3, "units": 4})"),
                  {"model.json", "'class'", "GRU"});
}

TEST_F(LoaderTest, MissingOrBadSizeFields) {
  weights(smallCfC());
  expectLoadFails(spec(R"({"class": "CfC", "units": 4})"),
                  {"model.json", "'input_size'"});
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 3})"),
                  {"model.json", "'units'"});
  expectLoadFails(spec(R"({"class": "CfC", "input_size": -3, "units": 4})"),
                  {"model.json", "'input_size'"});
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 3, "units": 4.5})"),
                  {"model.json", "'units'"});
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 3, "units": 4,
      "backbone_layers": "two"})"),
                  {"model.json", "'backbone_layers'"});
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 3, "units": 4,
      "mixed_memory": 1})"),
                  {"model.json", "'mixed_memory'"});
}

TEST_F(LoaderTest, UnknownMode) {
  weights(smallCfC());
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 3, "units": 4,
      "constructor_kwargs_explicit": {"mode": "fancy"}})"),
                  {"model.json", "'mode'", "fancy"});
}

TEST_F(LoaderTest, UnknownActivation) {
  weights(smallCfC());
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 3, "units": 4,
      "activation": "softsign"})"),
                  {"model.json", "'activation'", "softsign"});
}

TEST_F(LoaderTest, MissingWeightsFile) {
  expectLoadFails(spec(kSmallSpec), {"model.safetensors", "cannot open"});
  expectLoadFails(spec(std::string(kSmallSpec).insert(1, "\"weights\": \"nope.st\",")),
                  {"nope.st", "cannot open"});
  expectLoadFails(spec(kSmallSpec), {"other.safetensors", "cannot open"},
                  dir_.file("other.safetensors"));
}

TEST_F(LoaderTest, MissingSpecFile) {
  expectLoadFails(dir_.file("absent.json"), {"absent.json", "cannot open"});
}

TEST_F(LoaderTest, UnexpectedTensors) {
  TensorList ts = smallCfC();
  ts.emplace_back("param.lstm.input_map.weight", makeTensor({16, 3}, 1));
  weights(ts);
  expectLoadFails(spec(kSmallSpec), {"model.safetensors",
                                     "'lstm.input_map.weight'",
                                     "'mixed_memory'"});
  // A no_gate/default checkpoint read as pure leaves ff2 etc. unused; the
  // missing pure tensors are reported first.
  weights(smallCfC());
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 3, "units": 4,
      "backbone_units": 5, "mode": "pure"})"),
                  {"model.safetensors", "'rnn_cell.w_tau'", "not found"});
  // Extra backbone layer.
  weights(smallCfC("param.", false, {0, 2}));
  expectLoadFails(spec(kSmallSpec), {"model.safetensors",
                                     "'rnn_cell.backbone.2.",
                                     "'backbone_layers'"});
}

TEST_F(LoaderTest, WiringErrors) {
  weights(smallWired({5, 3, 2}, 4));
  // backbone args with a wiring
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 4,
      "units": {"type": "NCP", "args": {}}, "backbone_units": 64})"),
                  {"model.json", "'backbone_units'"});
  // unknown wiring type
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 4,
      "units": {"type": "Grid", "args": {}}})"),
                  {"model.json", "'units.type'", "Grid"});
  // wiring sizes disagree with the tensors
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 4,
      "units": {"type": "NCP", "args": {"inter_neurons": 6,
        "command_neurons": 3, "motor_neurons": 2}}})"),
                  {"model.safetensors", "'units'", "[5,3,2]", "[6,3,2]"});
  // gap in the layer numbering
  TensorList ts = smallWired({5, 3, 2}, 4);
  TensorList gap;
  for (auto &[k, t] : ts)
    if (k.find("layer_1.") == std::string::npos) gap.emplace_back(k, t);
  weights(gap);
  expectLoadFails(spec(R"({"class": "CfC", "input_size": 4,
      "units": {"type": "NCP"}})"),
                  {"model.safetensors", "layer_2", "layer_1"});
}

TEST_F(LoaderTest, LtcErrors) {
  weights(smallCfC());
  expectLoadFails(spec(R"({"class": "LTC", "input_size": 3, "units": 4,
      "proj_size": 2})"),
                  {"model.json", "'proj_size'"});
  expectLoadFails(spec(R"({"class": "LTC", "input_size": 3, "units": 4,
      "ode_unfolds": 0})"),
                  {"model.json", "'ode_unfolds'"});
  expectLoadFails(spec(R"({"class": "LTC", "input_size": 3, "units": 4})"),
                  {"model.safetensors", "'rnn_cell.gleak'", "not found"});
}

} // namespace
