//===- WeightEval.cpp - compile-time weight arithmetic ---------------------===//
#include "WeightEval.h"

#include <cmath>

namespace liquid {

static int64_t round8(int64_t n) { return (n + 7) / 8 * 8; }

const char *layoutName(PackLayout l) {
  switch (l) {
  case PackLayout::Vector: return "vector";
  case PackLayout::Rows: return "rows";
  case PackLayout::Transposed: return "transposed";
  }
  return "?";
}

int64_t packedFloats(const std::vector<int64_t> &shape, PackLayout l) {
  switch (l) {
  case PackLayout::Vector: {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return round8(n);
  }
  case PackLayout::Rows: return shape[0] * round8(shape[1]);
  case PackLayout::Transposed: return shape[1] * round8(shape[0]);
  }
  return 0;
}

void packTensor(const Tensor &t, PackLayout l, std::vector<float> &out) {
  size_t start = out.size();
  out.resize(start + packedFloats(t.shape, l), 0.0f);
  float *dst = out.data() + start;
  switch (l) {
  case PackLayout::Vector:
    std::copy(t.data.begin(), t.data.end(), dst);
    break;
  case PackLayout::Rows: {
    int64_t r = t.shape[0], c = t.shape[1], cp = round8(c);
    for (int64_t i = 0; i < r; ++i)
      std::copy(t.data.begin() + i * c, t.data.begin() + (i + 1) * c, dst + i * cp);
    break;
  }
  case PackLayout::Transposed: {
    int64_t n = t.shape[0], k = t.shape[1], np = round8(n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j)
        dst[j * np + i] = t.data[i * k + j];
    break;
  }
  }
}

Tensor concatTensors(const std::vector<const Tensor *> &parts, int64_t dim) {
  Tensor r;
  r.shape = parts.front()->shape;
  r.shape[dim] = 0;
  for (const Tensor *p : parts)
    r.shape[dim] += p->shape[dim];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= r.shape[i];
  for (size_t i = dim + 1; i < r.shape.size(); ++i) inner *= r.shape[i];
  r.data.reserve(r.numel());
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor *p : parts) {
      int64_t chunk = p->shape[dim] * inner;
      r.data.insert(r.data.end(), p->data.begin() + o * chunk, p->data.begin() + (o + 1) * chunk);
    }
  return r;
}

Tensor mulTensors(const Tensor &a, const Tensor &b) {
  Tensor r;
  r.shape = a.shape;
  r.data.resize(a.data.size());
  for (size_t i = 0; i < a.data.size(); ++i)
    r.data[i] = a.data[i] * b.data[i];
  return r;
}

Tensor mapTensor(const Tensor &a, const std::string &fn) {
  Tensor r;
  r.shape = a.shape;
  r.data.resize(a.data.size());
  for (size_t i = 0; i < a.data.size(); ++i) {
    float x = a.data[i];
    if (fn == "softplus") // torch.nn.Softplus(beta=1, threshold=20)
      r.data[i] = x > 20.0f ? x : static_cast<float>(std::log1p(std::exp(static_cast<double>(x))));
    else if (fn == "relu")
      r.data[i] = x > 0.0f ? x : 0.0f;
    else if (fn == "abs")
      r.data[i] = std::fabs(x);
    else
      r.data[i] = -x;
  }
  return r;
}

uint64_t fnv1a(const std::string &s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

} // namespace liquid
