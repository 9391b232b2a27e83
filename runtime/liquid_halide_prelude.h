/*
 * liquid_halide_prelude.h - what the C entry points of liquid-halide-gen's
 * kernels (liquid_halide_shims.c, generated per model) need besides their
 * own code. The generator defines, before including this:
 *   LQ_HALIDE_FREESTANDING  no C library (Hexagon): the halide_buffer_t ABI
 *                           of HalideRuntime.h spelled out here
 *   LQ_HALIDE_PROFILE       Halide's profiler reports go to stderr
 *   LQ_HALIDE_GPU           GPU entry points: errors reported with the kernel
 *                           that failed, device allocations reused
 */
#ifndef LIQUID_HALIDE_PRELUDE_H
#define LIQUID_HALIDE_PRELUDE_H

#include <stddef.h>
#include <stdint.h>

#ifdef LQ_HALIDE_FREESTANDING
enum { halide_type_int = 0, halide_type_uint = 1, halide_type_float = 2 };
struct halide_type_t {
    uint8_t code;
    uint8_t bits;
    uint16_t lanes;
};
typedef struct halide_dimension_t {
    int32_t min, extent, stride;
    uint32_t flags;
} halide_dimension_t;
struct halide_buffer_t {
    uint64_t device;
    const void *device_interface;
    uint8_t *host;
    uint64_t flags;
    struct halide_type_t type;
    int32_t dimensions;
    halide_dimension_t *dim;
    void *padding;
};
#else
#include "HalideRuntime.h"
#endif

#ifdef LQ_HALIDE_PROFILE
#include <stdio.h>
static void liquid_profile_print(void *uc, const char *msg)
{
    (void)uc;
    fputs(msg, stderr); /* not the program's output */
}
__attribute__((constructor)) static void liquid_profile_init(void)
{
    halide_set_custom_print(liquid_profile_print);
}
#endif

#ifdef LQ_HALIDE_GPU
#include <stdio.h>
#include <stdlib.h>
/* the runtime's last error message, reported with the kernel that failed */
static char liquid_gpu_message[256];
static void liquid_gpu_error(void *uc, const char *msg)
{
    size_t len = 0;
    (void)uc;
    while (msg[len] && len + 1 < sizeof liquid_gpu_message)
        ++len;
    while (len && msg[len - 1] == '\n')
        --len;
    for (size_t i = 0; i < len; ++i)
        liquid_gpu_message[i] = msg[i];
    liquid_gpu_message[len] = 0;
}
static void liquid_gpu_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    halide_set_error_handler(liquid_gpu_error); /* report, don't abort */
    halide_reuse_device_allocations(NULL, 1);
}
static void liquid_gpu_fail(const char *kernel, int rc)
{
    fprintf(stderr, "liquid: error: GPU kernel %s failed: %s (Halide error %d); this program "
                    "needs an NVIDIA GPU and its driver (libcuda)\n",
            kernel, liquid_gpu_message, rc);
    exit(1);
}
#endif

#endif /* LIQUID_HALIDE_PRELUDE_H */
