/*
 * liquid_lm_state.c - snapshots of a language-model context: the conv
 * caches and the used rows of the KV caches, with a header that identifies
 * the model, so that a restored context continues bit-identically.
 *
 * Layout (little-endian, like the .lqw file):
 *   offset  size  field
 *        0     8  magic "LQSTATE1"
 *        8     4  version, uint32 = 1
 *       12     4  pending token (int32; -1: none), see P_lm_generate
 *       16     8  weights layout hash (uint64; must equal LQ_WEIGHTS_HASH)
 *       24     8  position: tokens in the caches (uint64, <= LQ_MAX_CONTEXT)
 *       32     8  floats that follow (uint64)
 *       40    24  zero
 *       64        each conv cache whole, then for each KV cache its key rows
 *                 [0, position) and its value rows [0, position)
 *
 * The cache places come from the configuration header, as
 *   LQ_CONV_CACHES  {offset, floats}, ...      (LQ_NUM_CONV_CACHES of them)
 *   LQ_KV_CACHES    {offset, row_floats}, ...  (LQ_NUM_KV_CACHES; keys at
 *                   offset, values at offset + LQ_MAX_CONTEXT * row_floats)
 * each entry followed by a comma.
 */
#include "liquid_lm_runtime.h"

#include <string.h>

#define lq_set_error LQ_SYM(_lm_set_error)

static const int64_t lq_conv[][2] = {LQ_CONV_CACHES{-1, 0}};
static const int64_t lq_kv[][2] = {LQ_KV_CACHES{-1, 0}};

#define LQ_STATE_HEADER 64

static uint64_t lq_state_floats(int64_t pos)
{
    uint64_t n = 0;
    for (int i = 0; i < LQ_NUM_CONV_CACHES; ++i)
        n += (uint64_t)lq_conv[i][1];
    for (int i = 0; i < LQ_NUM_KV_CACHES; ++i)
        n += 2u * (uint64_t)pos * (uint64_t)lq_kv[i][1];
    return n;
}

size_t LQ_SYM(_lm_state_size)(const LQ_LM *m)
{
    return m ? LQ_STATE_HEADER + 4 * (size_t)lq_state_floats(LQ_SYM(_lm_position)(m)) : 0;
}

/* Copies the caches to (save) or from (load) the snapshot's payload. */
static void lq_state_copy(float *arena, unsigned char *payload, int64_t pos, int save)
{
    unsigned char *p = payload; /* may be unaligned: bytes, memcpy only */
#define LQ_MOVE(at, n)                                                                           \
    do {                                                                                         \
        if (save)                                                                                \
            memcpy(p, arena + (at), sizeof(float) * (size_t)(n));                                \
        else                                                                                     \
            memcpy(arena + (at), p, sizeof(float) * (size_t)(n));                                \
        p += sizeof(float) * (size_t)(n);                                                        \
    } while (0)
    for (int i = 0; i < LQ_NUM_CONV_CACHES; ++i)
        LQ_MOVE(lq_conv[i][0], lq_conv[i][1]);
    for (int i = 0; i < LQ_NUM_KV_CACHES; ++i) {
        LQ_MOVE(lq_kv[i][0], pos * lq_kv[i][1]);
        LQ_MOVE(lq_kv[i][0] + (int64_t)LQ_MAX_CONTEXT * lq_kv[i][1], pos * lq_kv[i][1]);
    }
#undef LQ_MOVE
}

size_t LQ_SYM(_lm_state_save)(LQ_LM *m, void *buf, size_t cap)
{
    size_t need = LQ_SYM(_lm_state_size)(m);
    if (!m || !buf || cap < need) {
        lq_set_error("%s: state_save: needs a buffer of %zu bytes", LQ_MODEL_NAME, need);
        return 0;
    }
    int64_t pos = LQ_SYM(_lm_position)(m);
    unsigned char *h = buf;
    memset(h, 0, LQ_STATE_HEADER);
    memcpy(h, "LQSTATE1", 8);
    uint32_t version = 1;
    int32_t pending = *LQ_SYM(_lm_pending_slot)(m);
    uint64_t hash = (uint64_t)LQ_WEIGHTS_HASH, upos = (uint64_t)pos, n = lq_state_floats(pos);
    memcpy(h + 8, &version, 4);
    memcpy(h + 12, &pending, 4);
    memcpy(h + 16, &hash, 8);
    memcpy(h + 24, &upos, 8);
    memcpy(h + 32, &n, 8);
    lq_state_copy(LQ_SYM(_lm_arena)(m), h + LQ_STATE_HEADER, pos, 1);
    return need;
}

int LQ_SYM(_lm_state_load)(LQ_LM *m, const void *buf, size_t len)
{
    const unsigned char *h = buf;
    uint32_t version;
    int32_t pending;
    uint64_t hash, pos, n;
    if (!m || !buf || len < LQ_STATE_HEADER || memcmp(h, "LQSTATE1", 8) != 0) {
        lq_set_error("%s: state_load: not a liquidc state snapshot", LQ_MODEL_NAME);
        return 1;
    }
    memcpy(&version, h + 8, 4);
    memcpy(&pending, h + 12, 4);
    memcpy(&hash, h + 16, 8);
    memcpy(&pos, h + 24, 8);
    memcpy(&n, h + 32, 8);
    if (version != 1 || hash != (uint64_t)LQ_WEIGHTS_HASH) {
        lq_set_error("%s: state_load: the snapshot is of another model (layout hash 0x%016llx, "
                     "this one 0x%016llx) or version (%u)",
                     LQ_MODEL_NAME, (unsigned long long)hash,
                     (unsigned long long)LQ_WEIGHTS_HASH, version);
        return 1;
    }
    if (pos > (uint64_t)LQ_MAX_CONTEXT || n != lq_state_floats((int64_t)pos) ||
        len != LQ_STATE_HEADER + 4 * (size_t)n || pending < -1 || pending >= LQ_VOCAB) {
        lq_set_error("%s: state_load: inconsistent snapshot (position %llu, %zu bytes)",
                     LQ_MODEL_NAME, (unsigned long long)pos, len);
        return 1;
    }
    LQ_SYM(_lm_reset)(m);
    lq_state_copy(LQ_SYM(_lm_arena)(m), (unsigned char *)(uintptr_t)(h + LQ_STATE_HEADER),
                  (int64_t)pos, 0);
    LQ_SYM(_lm_set_position)(m, (int64_t)pos);
    *LQ_SYM(_lm_pending_slot)(m) = pending;
    return 0;
}
