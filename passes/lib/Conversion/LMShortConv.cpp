//===- LMShortConv.cpp - liquid.short_conv_mix ------------------------------===//
//
// The gated causal depthwise convolution over the conv cache.
//
//===----------------------------------------------------------------------===//
#include "LMEmitter.h"

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;

LogicalResult LMEmitter::emitShortConv(ShortConvMixOp op) {
  auto kt = cast<RankedTensorType>(op.getKernel().getType());
  int64_t h = kt.getDimSize(0), taps = kt.getDimSize(1);
  Buf bcx = act(op.getBcx()), y = act(op.getResult());
  Buf kernel = weight(op.getKernel(), PackLayout::Transposed);
  Buf cache{aMem, stateOffset(op.getStateAttr())}, window{aMem, scratch(op)};
  int64_t keep = (taps - 1) * h;
  // window = [cache rows | B * x rows]
  chunks(keep, Value(), [&](Value d, int64_t o) { st(ld(cache, d, o), window, d, o); });
  forRows([&](Value t) {
    Value in = muli(t, 3 * h), out = addi(muli(t, h), idx(keep));
    chunks(h, Value(), [&](Value d, int64_t o) {
      Value i = d ? addi(in, d) : in, w = d ? addi(out, d) : out;
      st(mul(ld(bcx, i, o), ld(bcx, i, o + 2 * h)), window, w, o);
    });
  });
  // y[t] = C[t] * sum_j k[:, j] * window[t + j]
  if (auto hk = readAttr<HalideKernelAttrHelper>(op)) {
    if (h % ::liquid::denseTile(packer.lanes))
      return op.emitOpError() << "a Halide conv needs whole tiles of channels, got " << h;
    callExternal(module, hk.getValue(),
                 {address(window), address(bcx), address(kernel), address(y), rows, idx(0), idx(0)});
  } else {
    forRows([&](Value t) {
      Value in = muli(t, 3 * h), wrow = muli(t, h), out = muli(t, h);
      for (int64_t c = 0; c < h; c += lanes) {
        Value acc = splat(0.0f);
        for (int64_t j = 0; j < taps; ++j)
          acc = add(acc, mul(ld(kernel, Value(), transposedAt(h, taps, j, c)),
                             ld(window, wrow, j * h + c)));
        st(mul(ld(bcx, in, h + c), acc), y, out, c);
      }
    });
  }
  // cache = the last taps - 1 rows of the window
  Value tail = muli(rows, h);
  chunks(keep, Value(), [&](Value d, int64_t o) {
    Value src = d ? addi(tail, d) : tail;
    st(ld(window, src, o), cache, d, o);
  });
  return success();
}
