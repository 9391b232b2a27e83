/* The programs' .npy reader (runtime/liquid_cli.h, C) behind one C call for
 * fuzz_npy.cpp: loads `path`, reads every element the shape claims, frees.
 * 0 on success; -1 with the reader's message in err. */
#include "liquid_cli.h"

int liquid_fuzz_npy(const char *path, char *err, size_t cap);

int liquid_fuzz_npy(const char *path, char *err, size_t cap)
{
    npy_array a;
    if (npy_load(path, &a, err, cap) != 0)
        return -1;
    uint64_t n = 1;
    for (int i = 0; i < a.ndim; ++i)
        n *= a.shape[i];
    if (n != a.count)
        abort(); /* the shape and the element count must agree */
    volatile float sink = 0;
    for (uint64_t i = 0; i < n; i += 97)
        sink = sink + a.data[i];
    if (n)
        sink = sink + a.data[n - 1];
    free(a.data);
    return 0;
}
