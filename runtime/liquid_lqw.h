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
 *       48    16  padding    zero bytes, ignored on read
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
