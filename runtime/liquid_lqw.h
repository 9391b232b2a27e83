/*
 * liquid_lqw.h - the .lqw weights file header, checked the same way by every
 * runtime (liquid_model.c reads the file, liquid_lm.c maps it).
 *
 * Format, all integers little-endian:
 *   offset  size  field
 *        0     8  magic      "LQWEIGHT" (no terminating NUL)
 *        8     4  version    uint32, 1 (weights only) or 2 (+ a tokenizer)
 *       12     4  reserved   uint32, written as 0, ignored on read
 *       16     8  hash       uint64, layout hash; must equal the model's
 *       24     8  count      uint64, number of floats; must equal the model's
 *       32     8  tok_off    version 2: uint64, offset of the tokenizer image
 *                            (liquid_tokenizer.h), = 64 + 4 * count rounded up
 *                            to a multiple of 64; version 1: zero, ignored
 *       40     8  tok_bytes  version 2: uint64, its size (> 0); version 1: 0
 *       48     8  checksum   uint64, lq_lqw_sum of every byte after the header
 *                            (0: none, files written before it existed);
 *                            checked on load unless $LIQUID_NO_VERIFY_WEIGHTS
 *                            is set (the programs' --no-verify-weights)
 *       56     8  padding    zero bytes, ignored on read
 *       64  4*count          float32 little-endian weights, in packed order
 *   tok_off  tok_bytes       version 2: the tokenizer image (zero padding
 *                            between the weights and it)
 * The file size must be exactly 64 + 4 * count bytes (version 1) or
 * tok_off + tok_bytes (version 2).
 */
#ifndef LIQUID_LQW_H
#define LIQUID_LQW_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LQ_LQW_HEADER_BYTES 64
#define LQ_LQW_VERSION 2u /* the newest; 1 is read too */

static inline uint32_t lq_lqw_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t lq_lqw_le64(const unsigned char *p)
{
    return (uint64_t)lq_lqw_le32(p) | (uint64_t)lq_lqw_le32(p + 4) << 32;
}

/* The checksum of the `n` bytes after a file's header: four interleaved
 * 64-bit multiply-xorshift lanes over little-endian words, the tail and the
 * length mixed in. Never 0 (0 in a header means "none"). */
static inline uint64_t lq_lqw_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

/* lq_lqw_sum in pieces: lq_lqw_sum_add takes whole 32-byte blocks (any
 * number of them), lq_lqw_sum_end the last `n % 32` bytes (as a block
 * padded with zeros) and the total length `n`. */
typedef struct {
    uint64_t lane[4];
} lq_lqw_sum_state;

static inline void lq_lqw_sum_begin(lq_lqw_sum_state *s)
{
    for (int j = 0; j < 4; ++j)
        s->lane[j] = (uint64_t)j + 1;
}

static inline void lq_lqw_sum_add(lq_lqw_sum_state *s, const unsigned char *p, uint64_t blocks)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < blocks; ++i, p += 32)
        for (int j = 0; j < 4; ++j) {
            uint64_t x = (s->lane[j] ^ lq_lqw_le64(p + 8 * j)) * k;
            s->lane[j] = x ^ (x >> 32);
        }
}

static inline uint64_t lq_lqw_sum_end(const lq_lqw_sum_state *s, const unsigned char *tailp,
                                      uint64_t n)
{
    lq_lqw_sum_state t = *s;
    if (n % 32) {
        unsigned char last[32] = {0};
        memcpy(last, tailp, (size_t)(n % 32));
        lq_lqw_sum_add(&t, last, 1);
    }
    uint64_t h = lq_lqw_mix(t.lane[0]) ^ lq_lqw_mix(t.lane[1] + 1) ^ lq_lqw_mix(t.lane[2] + 2) ^
                 lq_lqw_mix(t.lane[3] + 3) ^ lq_lqw_mix(n * 0x9e3779b97f4a7c15ull);
    return h ? h : 1;
}

static inline uint64_t lq_lqw_sum(const unsigned char *p, uint64_t n)
{
    lq_lqw_sum_state s;
    lq_lqw_sum_begin(&s);
    lq_lqw_sum_add(&s, p, n / 32);
    return lq_lqw_sum_end(&s, p + n / 32 * 32, n);
}

/* 0 if the bytes after the header (`body`, `n` of them) match the header's
 * checksum, it has none, or $LIQUID_NO_VERIFY_WEIGHTS is set; else -1 with
 * the problem in msg. */
static inline int lq_lqw_verify(const unsigned char *h, const unsigned char *body, uint64_t n,
                                char *msg, size_t cap)
{
    uint64_t want = lq_lqw_le64(h + 48);
    const char *skip = getenv("LIQUID_NO_VERIFY_WEIGHTS");
    if (want == 0 || (skip && *skip && strcmp(skip, "0") != 0))
        return 0;
    uint64_t got = lq_lqw_sum(body, n);
    if (got == want)
        return 0;
    snprintf(msg, cap, "checksum 0x%016" PRIx64 " does not match the header's 0x%016" PRIx64
             " (the file is corrupt; --no-verify-weights skips this check)", got, want);
    return -1;
}

/* Where the tokenizer image of a file with `count` floats starts. */
static inline uint64_t lq_lqw_tokenizer_offset(uint64_t count)
{
    return (LQ_LQW_HEADER_BYTES + 4u * count + 63u) / 64u * 64u;
}

/* Checks the header `h` (LQ_LQW_HEADER_BYTES bytes) of a file of `fsize`
 * bytes against the model `model` (its layout hash and float count).
 * Returns 0 if the file holds this model's weights, with the tokenizer
 * image's place in *tok_off / *tok_bytes (0 / 0 when there is none; either
 * pointer may be NULL); otherwise writes the problem (without the file name)
 * to `msg` and returns -1. */
static inline int lq_lqw_check(const unsigned char *h, uint64_t fsize, uint64_t want_hash,
                               uint64_t want_count, const char *model, char *msg, size_t cap,
                               uint64_t *tok_off, uint64_t *tok_bytes)
{
    if (fsize < LQ_LQW_HEADER_BYTES) {
        snprintf(msg, cap, "not a liquidc weights file (shorter than the %d-byte header)",
                 LQ_LQW_HEADER_BYTES);
        return -1;
    }
    if (memcmp(h, "LQWEIGHT", 8) != 0) {
        snprintf(msg, cap, "not a liquidc weights file (bad magic, expected \"LQWEIGHT\")");
        return -1;
    }
    uint32_t version = lq_lqw_le32(h + 8);
    if (version != 1 && version != 2) {
        snprintf(msg, cap, "unsupported weights file version %" PRIu32 " (expected 1 or 2)",
                 version);
        return -1;
    }
    uint64_t hash = lq_lqw_le64(h + 16);
    if (hash != want_hash) {
        snprintf(msg, cap,
                 "layout hash 0x%016" PRIx64 " does not match model 0x%016" PRIx64
                 " (compiled for another model)",
                 hash, want_hash);
        return -1;
    }
    uint64_t count = lq_lqw_le64(h + 24);
    if (count != want_count) {
        snprintf(msg, cap, "holds %" PRIu64 " floats, model %s expects %" PRIu64, count, model,
                 want_count);
        return -1;
    }
    uint64_t want_size = (uint64_t)LQ_LQW_HEADER_BYTES + 4u * want_count;
    uint64_t toff = 0, tbytes = 0;
    if (version == 2) {
        toff = lq_lqw_le64(h + 32);
        tbytes = lq_lqw_le64(h + 40);
        if (toff != lq_lqw_tokenizer_offset(want_count) || tbytes == 0 ||
            tbytes > UINT64_MAX - toff) {
            snprintf(msg, cap, "bad tokenizer section (offset %" PRIu64 ", %" PRIu64 " bytes)",
                     toff, tbytes);
            return -1;
        }
        want_size = toff + tbytes;
    }
    if (tok_off)
        *tok_off = toff;
    if (tok_bytes)
        *tok_bytes = tbytes;
    if (fsize != want_size) {
        snprintf(msg, cap, "file size %" PRIu64 " bytes, expected %" PRIu64 " (%s)", fsize,
                 want_size, fsize < want_size ? "truncated" : "trailing data");
        return -1;
    }
    return 0;
}

#endif /* LIQUID_LQW_H */
