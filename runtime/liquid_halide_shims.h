/*
 * liquid_halide_shims.h - the C entry points of liquid-halide-gen's kernels.
 *
 * The forward and step kernels call each Halide kernel through a C function
 * that takes bare pointers (the arena, the packed weights) and wraps them in
 * halide_buffer_t before calling the kernel's pipelines. The code of those
 * functions is here, once; the file liquid-halide-gen writes per model
 * (liquid_halide_shims.c) only instantiates it, one line per kernel:
 *
 *   LQ_HL_MATMUL(liquid_hl0, LQ_HL_F32, 64, 64)       products (CPU)
 *   LQ_HL_MATMUL_Q8(liquid_hl1, 64, 64, 32, 36)
 *   LQ_HL_MATMUL_GPU(liquid_hl2, LQ_HL_F16, 64, 64, 1024)
 *   LQ_HL_CONV(liquid_hl3, 512, 64, 3)                 short convolutions
 *   LQ_HL_ATTENTION(liquid_hl4, 512, 128, 64, 4096)    attention
 *   LQ_HL_EPILOGUE(liquid_hl5, 64) / LQ_HL_EPILOGUE_PURE(...)   CfC epilogues
 *
 * The packed weight layouts are those of liquid/Passes/PackedFormat.h:
 * Transposed column tiles of W outputs, [K, W] per tile (F32, F16), or per
 * tile K / 32 blocks of W float scales then [32, W] int8 (Q8).
 * Include liquid_halide_prelude.h first.
 */
#ifndef LIQUID_HALIDE_SHIMS_H
#define LIQUID_HALIDE_SHIMS_H

#ifndef LIQUID_HALIDE_PRELUDE_H
#error "include liquid_halide_prelude.h first"
#endif

/* The element types of a product's packed weights. */
enum {
    LQ_HL_F32 = 0,      /* float */
    LQ_HL_F16 = 1,      /* half, as float16 */
    LQ_HL_F16_BITS = 2, /* half, as uint16 bits (targets whose Halide has no float16) */
    LQ_HL_Q8 = 3        /* int8 blocks of 32 with float scales */
};

typedef int (*lq_hl_pipeline3)(struct halide_buffer_t *, struct halide_buffer_t *,
                               struct halide_buffer_t *);
typedef int (*lq_hl_pipeline4)(struct halide_buffer_t *, struct halide_buffer_t *,
                               struct halide_buffer_t *, struct halide_buffer_t *);

/* One product kernel: k_ inputs, column tiles of w_ outputs, its pipelines for
 * rows of 4 and for one row (x, w, y; Q8: x, scales, q, y). */
struct lq_hl_matmul {
    const char *name;
    int32_t k, w;
    int weight;
    /* Q8: inputs per block and bytes per block and output column (its scale
     * and int8 weights), PackedFormat.h's q8::kBlock and q8::blockBytes(1) */
    int32_t q8_block, q8_bytes;
    lq_hl_pipeline3 rows4, row1;
    lq_hl_pipeline4 rows4_q8, row1_q8;
};

/* A product's packed weights as Halide buffers. */
struct lq_hl_weights {
    halide_dimension_t wd[3], sd[3], qd[4];
    struct halide_buffer_t wb, sb, qb;
};

static inline void lq_hl_float_type(struct halide_buffer_t *b)
{
    b->type.code = halide_type_float;
    b->type.bits = 32;
    b->type.lanes = 1;
}

/* Describes `tiles` column tiles of packed weights starting at `base`; the
 * buffers' other fields stay as they are. */
static inline void lq_hl_describe_weights(const struct lq_hl_matmul *s, struct lq_hl_weights *p,
                                          int32_t tiles, const uint8_t *base)
{
    const int32_t k_ = s->k, w_ = s->w;
    if (s->weight != LQ_HL_Q8) {
        p->wd[0] = (halide_dimension_t){0, w_, 1, 0};
        p->wd[1] = (halide_dimension_t){0, k_, w_, 0};
        p->wd[2] = (halide_dimension_t){0, tiles, k_ * w_, 0};
        p->wb.type.code = s->weight == LQ_HL_F16_BITS ? halide_type_uint : halide_type_float;
        p->wb.type.bits = s->weight == LQ_HL_F32 ? 32 : 16;
        p->wb.type.lanes = 1;
        p->wb.dimensions = 3;
        p->wb.dim = p->wd;
        p->wb.host = (uint8_t *)base;
        return;
    }
    const int32_t b_ = k_ / s->q8_block, blockBytes = s->q8_bytes * w_, tileBytes = b_ * blockBytes;
    p->sd[0] = (halide_dimension_t){0, w_, 1, 0};
    p->sd[1] = (halide_dimension_t){0, b_, blockBytes / 4, 0};
    p->sd[2] = (halide_dimension_t){0, tiles, tileBytes / 4, 0};
    p->qd[0] = (halide_dimension_t){0, w_, 1, 0};
    p->qd[1] = (halide_dimension_t){0, s->q8_block, w_, 0};
    p->qd[2] = (halide_dimension_t){0, b_, blockBytes, 0};
    p->qd[3] = (halide_dimension_t){0, tiles, tileBytes, 0};
    lq_hl_float_type(&p->sb);
    p->sb.dimensions = 3;
    p->sb.dim = p->sd;
    p->sb.host = (uint8_t *)base;
    p->qb.type.code = halide_type_int;
    p->qb.type.bits = 8;
    p->qb.type.lanes = 1;
    p->qb.dimensions = 4;
    p->qb.dim = p->qd;
    p->qb.host = (uint8_t *)base + 4 * w_;
}

/* Bytes from the start of a product's packed weights to output t0 (the
 * start of a column tile). */
static inline size_t lq_hl_tile_offset(const struct lq_hl_matmul *s, int64_t t0)
{
    if (s->weight == LQ_HL_Q8)
        return (size_t)(t0 / s->w) * (size_t)(s->k / s->q8_block) * (size_t)(s->q8_bytes * s->w);
    return (size_t)t0 * (size_t)s->k * (s->weight == LQ_HL_F32 ? 4 : 2);
}

static inline int lq_hl_run(const struct lq_hl_matmul *s, int rows4, struct halide_buffer_t *x,
                            struct lq_hl_weights *p, struct halide_buffer_t *y)
{
    if (s->weight == LQ_HL_Q8)
        return (rows4 ? s->rows4_q8 : s->row1_q8)(x, &p->sb, &p->qb, y);
    return (rows4 ? s->rows4 : s->row1)(x, &p->wb, y);
}

/* A product on the CPU: this thread's column tiles [t0, t1) of `rows` rows
 * (rows of 4, then one at a time); y has n floats per row. */
static inline void lq_hl_matmul_cpu(const struct lq_hl_matmul *s, const float *x, const void *w,
                                    float *y, int64_t rows, int64_t n, int64_t t0, int64_t t1)
{
    const int32_t k_ = s->k, w_ = s->w, nt = (int32_t)((t1 - t0) / w_);
    if (nt <= 0 || rows <= 0)
        return;
    halide_dimension_t xd[2] = {{0, k_, 1, 0}, {0, 0, k_, 0}};
    halide_dimension_t yd[3] = {{0, w_, 1, 0}, {0, nt, w_, 0}, {0, 0, (int32_t)n, 0}};
    struct halide_buffer_t xb = {0}, yb = {0};
    struct lq_hl_weights p = {0};
    lq_hl_float_type(&xb);
    xb.dimensions = 2;
    xb.dim = xd;
    yb.type = xb.type;
    yb.dimensions = 3;
    yb.dim = yd;
    yb.host = (uint8_t *)(y + t0);
    lq_hl_describe_weights(s, &p, nt, (const uint8_t *)w + lq_hl_tile_offset(s, t0));
    int64_t full = rows / 4 * 4;
    if (full) {
        xd[1].extent = (int32_t)full;
        yd[2].extent = (int32_t)full;
        xb.host = (uint8_t *)x;
        yb.host = (uint8_t *)(y + t0);
        lq_hl_run(s, 1, &xb, &p, &yb);
    }
    for (int64_t r = full; r < rows; ++r) {
        xd[1].extent = 1;
        yd[2].extent = 1;
        xb.host = (uint8_t *)(x + r * k_);
        yb.host = (uint8_t *)(y + r * n + t0);
        lq_hl_run(s, 0, &xb, &p, &yb);
    }
}

#define LQ_HL_DECLARE_PIPELINES3(name)                                                          \
    int name##_rows4(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *); \
    int name##_row1(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *);
#define LQ_HL_DECLARE_PIPELINES4(name)                                                          \
    int name##_rows4(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *, \
                     struct halide_buffer_t *);                                                 \
    int name##_row1(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *,  \
                    struct halide_buffer_t *);
#define LQ_HL_ENTRY(name)                                                                       \
    void name(const float *x, const void *w, float *y, int64_t rows, int64_t n, int64_t t0,     \
              int64_t t1)

/* A product with F32 or F16 weights (LQ_HL_F32, LQ_HL_F16, LQ_HL_F16_BITS). */
#define LQ_HL_MATMUL(name, weight, k_, w_)                                                        \
    LQ_HL_DECLARE_PIPELINES3(name)                                                              \
    LQ_HL_ENTRY(name)                                                                           \
    {                                                                                           \
        static const struct lq_hl_matmul s = {#name, k_, w_, weight, 0, 0, name##_rows4, name##_row1, 0, 0}; \
        lq_hl_matmul_cpu(&s, x, w, y, rows, n, t0, t1);                                         \
    }
/* A product with int8 weights in blocks of qb_ inputs, qbytes_ bytes per block
 * and output column. */
#define LQ_HL_MATMUL_Q8(name, k_, w_, qb_, qbytes_)                                                 \
    LQ_HL_DECLARE_PIPELINES4(name)                                                              \
    LQ_HL_ENTRY(name)                                                                           \
    {                                                                                           \
        static const struct lq_hl_matmul s = {#name, k_, w_, LQ_HL_Q8, qb_, qbytes_, 0, 0, name##_rows4, name##_row1}; \
        lq_hl_matmul_cpu(&s, x, w, y, rows, n, t0, t1);                                         \
    }

#ifdef LQ_HALIDE_GPU
/* A product on the GPU: one call runs every column tile of the n outputs
 * (the thread whose non-empty share starts at tile 0 launches it, the others
 * return; the forward kernel's barrier after the product waits for it). The
 * weights stay on the device after their first upload (`p` outlives the
 * call); x goes up and y comes back on each call. A failed launch (no GPU,
 * no driver) ends the program with one line naming the kernel. */
static inline void lq_hl_matmul_gpu(const struct lq_hl_matmul *s, struct lq_hl_weights *p,
                                    int32_t n_, const float *x, const void *w, float *y,
                                    int64_t rows, int64_t n, int64_t t0, int64_t t1)
{
    const int32_t k_ = s->k, w_ = s->w, nt_ = n_ / w_;
    if (t0 != 0 || t1 <= 0 || rows <= 0)
        return;
    liquid_gpu_init();
    struct halide_buffer_t *first = s->weight == LQ_HL_Q8 ? &p->sb : &p->wb;
    if (first->host != (uint8_t *)w) {
        struct halide_buffer_t *bufs[2] = {first, s->weight == LQ_HL_Q8 ? &p->qb : 0};
        for (int i = 0; i < 2; ++i)
            if (bufs[i] && bufs[i]->device)
                halide_device_free(NULL, bufs[i]);
        lq_hl_describe_weights(s, p, nt_, (const uint8_t *)w);
        for (int i = 0; i < 2; ++i)
            if (bufs[i])
                bufs[i]->flags = halide_buffer_flag_host_dirty;
    }
    int64_t full = rows / 4 * 4;
    for (int part = 0; part < 2; ++part) {
        int64_t r0 = part ? full : 0, nr = part ? rows - full : full;
        if (nr == 0)
            continue;
        halide_dimension_t xd[2] = {{0, k_, 1, 0}, {0, part ? 1 : (int32_t)nr, k_, 0}};
        halide_dimension_t yd[3] = {
            {0, w_, 1, 0}, {0, nt_, w_, 0}, {0, part ? 1 : (int32_t)nr, (int32_t)n, 0}};
        for (int64_t r = r0; r < r0 + nr; r += part ? 1 : nr) {
            struct halide_buffer_t xb = {0}, yb = {0};
            lq_hl_float_type(&xb);
            xb.dimensions = 2;
            xb.dim = xd;
            xb.host = (uint8_t *)(x + r * k_);
            xb.flags = halide_buffer_flag_host_dirty;
            yb.type = xb.type;
            yb.dimensions = 3;
            yb.dim = yd;
            yb.host = (uint8_t *)(y + r * n);
            int rc = lq_hl_run(s, !part, &xb, p, &yb);
            if (rc == 0)
                rc = halide_copy_to_host(NULL, &yb);
            halide_device_free(NULL, &xb);
            halide_device_free(NULL, &yb);
            if (rc != 0)
                liquid_gpu_fail(s->name, rc);
        }
    }
}

/* A product on the GPU; n_ outputs in all. */
#define LQ_HL_MATMUL_GPU(name, weight, k_, w_, n_)                                                 \
    LQ_HL_DECLARE_PIPELINES3(name)                                                              \
    LQ_HL_ENTRY(name)                                                                           \
    {                                                                                           \
        static const struct lq_hl_matmul s = {#name, k_, w_, weight, 0, 0, name##_rows4, name##_row1, 0, 0}; \
        static struct lq_hl_weights p;                                                          \
        lq_hl_matmul_gpu(&s, &p, n_, x, w, y, rows, n, t0, t1);                                  \
    }
#define LQ_HL_MATMUL_GPU_Q8(name, k_, w_, qb_, qbytes_, n_)                                          \
    LQ_HL_DECLARE_PIPELINES4(name)                                                              \
    LQ_HL_ENTRY(name)                                                                           \
    {                                                                                           \
        static const struct lq_hl_matmul s = {#name, k_, w_, LQ_HL_Q8, qb_, qbytes_, 0, 0, name##_rows4, name##_row1}; \
        static struct lq_hl_weights p;                                                          \
        lq_hl_matmul_gpu(&s, &p, n_, x, w, y, rows, n, t0, t1);                                  \
    }
#endif /* LQ_HALIDE_GPU */

/* The causal depthwise convolution of a short-conv mixer: h_ channels in
 * tiles of w_, `taps` taps; the window holds taps - 1 rows of history, then
 * the call's rows. */
static inline void lq_hl_conv(lq_hl_pipeline4 conv, int32_t h_, int32_t w_, int32_t taps,
                              const float *win, const float *bcx, const float *kw, float *y,
                              int64_t rows)
{
    if (rows <= 0)
        return;
    halide_dimension_t wd[2] = {{0, h_, 1, 0}, {0, (int32_t)rows + taps - 1, h_, 0}};
    halide_dimension_t bd[2] = {{0, 3 * h_, 1, 0}, {0, (int32_t)rows, 3 * h_, 0}};
    halide_dimension_t kd[3] = {{0, w_, 1, 0}, {0, taps, w_, 0}, {0, h_ / w_, taps * w_, 0}};
    halide_dimension_t yd[2] = {{0, h_, 1, 0}, {0, (int32_t)rows, h_, 0}};
    struct halide_buffer_t wb = {0}, bb = {0}, kb = {0}, yb = {0};
    lq_hl_float_type(&wb);
    bb.type = kb.type = yb.type = wb.type;
    wb.dimensions = 2;
    wb.dim = wd;
    wb.host = (uint8_t *)win;
    bb.dimensions = 2;
    bb.dim = bd;
    bb.host = (uint8_t *)bcx;
    kb.dimensions = 3;
    kb.dim = kd;
    kb.host = (uint8_t *)kw;
    yb.dimensions = 2;
    yb.dim = yd;
    yb.host = (uint8_t *)y;
    conv(&wb, &bb, &kb, &yb);
}
#define LQ_HL_CONV(name, h_, w_, taps)                                                            \
    int name##_conv(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *, \
                    struct halide_buffer_t *);                                                  \
    void name(const float *win, const float *bcx, const float *kw, float *y, int64_t rows,      \
              int64_t unused0, int64_t unused1)                                                 \
    {                                                                                           \
        (void)unused0;                                                                          \
        (void)unused1;                                                                          \
        lq_hl_conv(name##_conv, h_, w_, taps, win, bcx, kw, y, rows);                             \
    }

/* Attention for `rows` rows at positions pos..: qw_ = heads x d_ query
 * floats per row, kw_ = kv_heads x d_ per cache row, ctx_ cache rows. */
typedef int (*lq_hl_attention_pipeline)(struct halide_buffer_t *, struct halide_buffer_t *,
                                        struct halide_buffer_t *, struct halide_buffer_t *,
                                        struct halide_buffer_t *, struct halide_buffer_t *, int32_t,
                                        struct halide_buffer_t *);
static inline void lq_hl_attention(lq_hl_attention_pipeline attention, int32_t qw_, int32_t kw_,
                                   int32_t d_, int32_t ctx_, const float *q, const float *kc,
                                   const float *vc, float *y, const float *qn, const float *cos_t,
                                   const float *sin_t, int64_t rows, int64_t pos)
{
    if (rows <= 0)
        return;
    halide_dimension_t qd[2] = {{0, qw_, 1, 0}, {0, (int32_t)rows, qw_, 0}};
    halide_dimension_t kd[2] = {{0, kw_, 1, 0}, {0, ctx_, kw_, 0}};
    halide_dimension_t nd[1] = {{0, d_, 1, 0}};
    halide_dimension_t td[2] = {{0, d_ / 2, 1, 0}, {0, ctx_, d_ / 2, 0}};
    struct halide_buffer_t b[7] = {{0}};
    const void *host[7] = {q, kc, vc, qn, cos_t, sin_t, y};
    halide_dimension_t *dims[7] = {qd, kd, kd, nd, td, td, qd};
    for (int i = 0; i < 7; ++i) {
        lq_hl_float_type(&b[i]);
        b[i].dimensions = i == 3 ? 1 : 2;
        b[i].dim = dims[i];
        b[i].host = (uint8_t *)host[i];
    }
    attention(&b[0], &b[1], &b[2], &b[3], &b[4], &b[5], (int32_t)pos, &b[6]);
}
#define LQ_HL_ATTENTION(name, qw_, kw_, d_, ctx_)                                                   \
    int name##_attention(struct halide_buffer_t *, struct halide_buffer_t *,                    \
                         struct halide_buffer_t *, struct halide_buffer_t *,                    \
                         struct halide_buffer_t *, struct halide_buffer_t *, int32_t,           \
                         struct halide_buffer_t *);                                             \
    void name(const float *q, const float *kc, const float *vc, float *y, const float *qn,      \
              const float *cos_t, const float *sin_t, int64_t rows, int64_t pos)                \
    {                                                                                           \
        lq_hl_attention(name##_attention, qw_, kw_, d_, ctx_, q, kc, vc, y, qn, cos_t, sin_t, rows, \
                        pos);                                                                   \
    }

/* A CfC epilogue of h_ units: z holds the fused heads (4 h_; pure: h_). */
static inline void lq_hl_epilogue_buffers(int32_t h_, int pure, const float *z, const float *w_tau,
                                          const float *a, float *y, halide_dimension_t *zd,
                                          halide_dimension_t *hd, struct halide_buffer_t *b)
{
    *zd = (halide_dimension_t){0, pure ? h_ : 4 * h_, 1, 0};
    const void *host[4] = {z, w_tau, a, y};
    for (int i = 0; i < 4; ++i) {
        if (i)
            hd[i - 1] = (halide_dimension_t){0, h_, 1, 0};
        lq_hl_float_type(&b[i]);
        b[i].dimensions = 1;
        b[i].dim = i ? &hd[i - 1] : zd;
        b[i].host = (uint8_t *)host[i];
    }
}
#define LQ_HL_EPILOGUE(name, h_)                                                                 \
    int name##_epilogue(struct halide_buffer_t *, float, struct halide_buffer_t *);             \
    void name(const float *z, const float *w_tau, const float *a, float *y, float ts)           \
    {                                                                                           \
        halide_dimension_t zd, hd[3];                                                           \
        struct halide_buffer_t b[4] = {{0}};                                                    \
        lq_hl_epilogue_buffers(h_, 0, z, w_tau, a, y, &zd, hd, b);                               \
        name##_epilogue(&b[0], ts, &b[3]);                                                      \
    }
#define LQ_HL_EPILOGUE_PURE(name, h_)                                                            \
    int name##_epilogue(struct halide_buffer_t *, struct halide_buffer_t *,                     \
                        struct halide_buffer_t *, float, struct halide_buffer_t *);             \
    void name(const float *z, const float *w_tau, const float *a, float *y, float ts)           \
    {                                                                                           \
        halide_dimension_t zd, hd[3];                                                           \
        struct halide_buffer_t b[4] = {{0}};                                                    \
        lq_hl_epilogue_buffers(h_, 1, z, w_tau, a, y, &zd, hd, b);                               \
        name##_epilogue(&b[0], &b[1], &b[2], ts, &b[3]);                                        \
    }

#endif /* LIQUID_HALIDE_SHIMS_H */
