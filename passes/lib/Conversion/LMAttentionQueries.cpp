//===- LMAttentionQueries.cpp - the queries of liquid.attention ------------===//
//
// The second half of attention on the LLVM path: causal GQA softmax over the
// KV cache. A work item is a block of query rows times the query heads that
// share one KV head; each cached key and value row is read once per item,
// for all its queries (not once per query: at long contexts the cache is
// far larger than the caches of the CPU, so this is what sets the speed).
// Keys go by in tiles of kAttnKeyTile with an online softmax (running max,
// sum and rescaled accumulators per query in the thread's scratch), so the
// scratch does not grow with the context.
//
//===----------------------------------------------------------------------===//
#include "LMEmitter.h"

using namespace mlir;
using namespace mlir::liquid;
using namespace mlir::liquid::lm;

void LMEmitter::attendBlocks(const AttnBlock &a, ShareFn forShare, QueryFn query) {
  const int64_t R = a.rowsPerBlock, G = a.group, hd = a.hd, nc = a.nc, kvw = a.kvw;
  const int64_t kvh = kvw / hd, heads = G * kvh, nq = R * G;
  // Queries per group of the two inner loops: their vectors (queries in A,
  // accumulators in C) fill about half the vector registers.
  const int64_t regs = lanes >= 16 ? 16 : 8;
  const int64_t qg = std::max<int64_t>(1, std::min<int64_t>(4, regs / nc));
  const int64_t qpad = ::liquid::roundUp(nq, qg), bk = kAttnKeyTile, tv = bk / lanes;
  // The thread's scratch: rotated queries, accumulators, a tile of scores,
  // then the running max, sum and the last rescale factor of each query.
  const int64_t oQ = 0, oAcc = qpad * hd, oS = 2 * qpad * hd, oM = oS + qpad * bk,
                oL = oM + qpad, oAl = oL + qpad;
  Buf sc{aMem, 0};
  const float negInf = -std::numeric_limits<float>::infinity();
  auto minu = [&](Value x, Value y) { return arith::MinUIOp::create(b, loc, x, y).getResult(); };
  auto divu = [&](Value x, int64_t c) { return arith::DivUIOp::create(b, loc, x, idx(c)); };
  auto i32s = [&](Value ix) {
    auto vt = VectorType::get({lanes}, b.getI32Type());
    Value s = arith::IndexCastOp::create(b, loc, b.getI32Type(), ix);
    return vector::BroadcastOp::create(b, loc, vt, s).getResult();
  };
  SmallVector<int32_t> iota(lanes);
  for (int64_t l = 0; l < lanes; ++l)
    iota[l] = static_cast<int32_t>(l);
  Value lane = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({lanes}, b.getI32Type()), ArrayRef<int32_t>(iota)));
  // Offsets in the scratch: per query (qi a loop index), then fixed.
  auto qAt = [&](Value qi, int64_t stride) { return addi(a.base, muli(qi, stride)); };
  auto storeScalar = [&](Value v, Value base, int64_t off) {
    memref::StoreOp::create(b, loc, v, aMem, ValueRange{addi(base, idx(off))});
  };
  // body(i) for i = 0, step, ... < n: a loop in the code, not unrolled (the
  // queries' bodies are long when head_dim leaves narrow vectors; unrolling
  // them made attention alone ~70k lines of IR and minutes of compile time).
  auto forEach = [&](int64_t n, int64_t step, function_ref<void(Value)> body) {
    dloop(idx(0), idx(n), step, {}, [&](Value i, ValueRange) -> SmallVector<Value> {
      body(i);
      return {};
    });
  };

  Value blocks = divu(addi(rows, idx(R - 1)), R);
  forShare(muli(blocks, kvh), [&](Value item) {
    Value g = arith::RemUIOp::create(b, loc, item, idx(kvh));
    Value t0 = muli(divu(item, kvh), R);
    Value last = arith::SubIOp::create(b, loc, minu(rows, addi(t0, idx(R))), idx(1));
    Value kend = addi(pos, addi(last, idx(1)));
    Value gOff = muli(g, hd);
    // Query qi is (row qi / G, head qi % G of the group); the padding ones
    // repeat the block's last query (the last row may be short: clamped).
    auto clampQ = [&](Value qi) { return minu(qi, idx(nq - 1)); };
    auto rowOf = [&](Value qi) { return minu(addi(t0, divu(clampQ(qi), G)), last); };
    auto headOf = [&](Value qi) {
      return addi(muli(g, G), arith::RemUIOp::create(b, loc, clampQ(qi), idx(G)));
    };
    forEach(qpad, 1, [&](Value qi) {
      Value t = rowOf(qi);
      SmallVector<Value> xs = query(addi(muli(t, heads * hd), muli(headOf(qi), hd)), addi(pos, t));
      for (int64_t c = 0; c < nc; ++c) {
        st(xs[c], sc, qAt(qi, hd), oQ + c * lanes);
        st(splat(0.0f), sc, qAt(qi, hd), oAcc + c * lanes);
      }
      storeScalar(scalar(negInf), qAt(qi, 1), oM);
      storeScalar(scalar(0.0f), qAt(qi, 1), oL);
    });
    dloop(idx(0), kend, bk, {}, [&](Value j0, ValueRange) -> SmallVector<Value> {
      Value jEnd = minu(addi(j0, idx(bk)), kend);
      // A. Scores of the tile's keys, qg queries per pass over the keys.
      forEach(qpad, qg, [&](Value q0) {
        Value qBase = qAt(q0, hd), sBase = qAt(q0, bk);
        SmallVector<Value> qv;
        for (int64_t i = 0; i < qg * nc; ++i)
          qv.push_back(ld(sc, qBase, oQ + (i / nc) * hd + (i % nc) * lanes));
        dloop(j0, jEnd, 1, {}, [&](Value j, ValueRange) -> SmallVector<Value> {
          Value row = addi(muli(j, kvw), gOff), jj = arith::SubIOp::create(b, loc, j, j0);
          SmallVector<Value> kv;
          for (int64_t c = 0; c < nc; ++c)
            kv.push_back(ld(a.kc, row, c * lanes));
          for (int64_t i = 0; i < qg; ++i) {
            Value acc = splat(0.0f);
            for (int64_t c = 0; c < nc; ++c)
              acc = add(acc, mul(qv[i * nc + c], kv[c]));
            Value s = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
            storeScalar(s, addi(sBase, jj), oS + i * bk);
          }
          return {};
        });
      });
      // B. Online softmax: each query's keys past its position are masked.
      forEach(qpad, 1, [&](Value qi) {
        Value sBase = qAt(qi, bk), mBase = qAt(qi, 1);
        Value endV = i32s(addi(pos, addi(rowOf(qi), idx(1))));
        SmallVector<Value> sv, ok;
        Value mx = splat(negInf);
        for (int64_t c = 0; c < tv; ++c) {
          Value key = arith::AddIOp::create(b, loc, lane, i32s(addi(j0, idx(c * lanes))));
          ok.push_back(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, key, endV));
          sv.push_back(arith::SelectOp::create(b, loc, ok.back(), ld(sc, sBase, oS + c * lanes),
                                               splat(negInf)));
          mx = arith::MaximumFOp::create(b, loc, mx, sv.back());
        }
        Value mOld = ldScalar(sc, mBase, oM);
        Value mNew = arith::MaximumFOp::create(
            b, loc, mOld, vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF, mx));
        // exp(-inf) need not be 0 in the polynomial: the first tile's factor
        // (max still -inf) is 0 by choice.
        Value first = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mOld, scalar(negInf));
        Value alpha = arith::SelectOp::create(
            b, loc, first, scalar(0.0f),
            math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, mOld, mNew)));
        Value mNewV = bcast(mNew), sum = splat(0.0f);
        for (int64_t c = 0; c < tv; ++c) {
          // (the short exp of the sigmoids: arguments <= 0 here, masked lanes
          // clamped, then zeroed)
          Value e = expForSigmoid(arith::SubFOp::create(b, loc, sv[c], mNewV));
          e = arith::SelectOp::create(b, loc, ok[c], e, splat(0.0f));
          st(e, sc, sBase, oS + c * lanes);
          sum = add(sum, e);
        }
        Value l = arith::AddFOp::create(
            b, loc, arith::MulFOp::create(b, loc, ldScalar(sc, mBase, oL), alpha),
            vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, sum));
        storeScalar(mNew, mBase, oM);
        storeScalar(l, mBase, oL);
        storeScalar(alpha, mBase, oAl);
      });
      // C. acc = acc * alpha + sum_j p_j v_j, qg queries per pass.
      forEach(qpad, qg, [&](Value q0) {
        Value aBase = qAt(q0, hd), sBase = qAt(q0, bk), mBase = qAt(q0, 1);
        SmallVector<Value> acc;
        for (int64_t i = 0; i < qg; ++i) {
          Value al = bcast(ldScalar(sc, mBase, oAl + i));
          for (int64_t c = 0; c < nc; ++c)
            acc.push_back(mul(ld(sc, aBase, oAcc + i * hd + c * lanes), al));
        }
        acc = dloop(j0, jEnd, 1, acc, [&](Value j, ValueRange in) {
          Value row = addi(muli(j, kvw), gOff), jj = arith::SubIOp::create(b, loc, j, j0);
          SmallVector<Value> vv, next;
          for (int64_t c = 0; c < nc; ++c)
            vv.push_back(ld(a.vc, row, c * lanes));
          for (int64_t i = 0; i < qg; ++i) {
            Value p = bcast(ldScalar(sc, addi(sBase, jj), oS + i * bk));
            for (int64_t c = 0; c < nc; ++c)
              next.push_back(add(in[i * nc + c], mul(p, vv[c])));
          }
          return next;
        });
        for (int64_t i = 0; i < qg; ++i)
          for (int64_t c = 0; c < nc; ++c)
            st(acc[i * nc + c], sc, aBase, oAcc + i * hd + c * lanes);
      });
      return {};
    });
    // The block's outputs: every query of a row that exists.
    forEach(nq, 1, [&](Value qi) {
      Value t = addi(t0, divu(qi, G));
      Value exists = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, t, rows);
      auto ifOp = scf::IfOp::create(b, loc, exists, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      Value inv = bcast(arith::DivFOp::create(b, loc, scalar(1.0f), ldScalar(sc, qAt(qi, 1), oL)));
      Value head = addi(muli(g, G), arith::RemUIOp::create(b, loc, qi, idx(G)));
      Value yOff = addi(muli(t, heads * hd), muli(head, hd));
      for (int64_t c = 0; c < nc; ++c)
        st(mul(ld(sc, qAt(qi, hd), oAcc + c * lanes), inv), a.y, yOff, c * lanes);
    });
  });
}
