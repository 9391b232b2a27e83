/*
 * liquid_cli.h - what the mains of liquidc's executables share (liquid_main.c,
 * liquid_lm_main.c): one-line error reports and .npy reading and writing.
 * Header-only, static functions; not part of any public API.
 */
#ifndef LIQUID_CLI_H
#define LIQUID_CLI_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ======================================================================== */
/* diagnostics                                                              */
/* ======================================================================== */

/* Prints "error: <what>: <message>" as one line. */
/* `src` into dst (cap bytes) on one line with no control character: line
 * breaks as spaces, ESC, BEL, ... spelled \xNN (from a file name, an
 * argument or a checkpoint); cut when full. */
static inline void lq_printable(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && n + 5 < cap; ++p) {
        if (*p == '\n' || *p == '\r')
            dst[n++] = ' ';
        else if (*p < 0x20 || *p == 0x7F)
            n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", *p);
        else
            dst[n++] = (char)*p;
    }
    dst[n] = '\0';
}

static void report(const char *what, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char safe_what[4 * sizeof msg], safe_msg[4 * sizeof msg];
    lq_printable(safe_what, sizeof safe_what, what);
    lq_printable(safe_msg, sizeof safe_msg, msg);
    fprintf(stderr, "error: %s: %s\n", safe_what, safe_msg);
}

/* ======================================================================== */
/* .npy reading and writing                                                  */
/* ======================================================================== */

#define NPY_MAX_DIMS 32
#define NPY_MAX_HEADER (1u << 20)

typedef struct {
    float *data; /* count floats (converted to float32, host order) */
    size_t count;
    int ndim;
    uint64_t shape[NPY_MAX_DIMS];
} npy_array;

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void swap_bytes(unsigned char *p, size_t n_items, size_t item)
{
    for (size_t i = 0; i < n_items; ++i, p += item)
        for (size_t a = 0, b = item - 1; a < b; ++a, --b) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* Formats a shape the way Python prints tuples: "(2, 3)", "(5,)", "()". */
static void format_shape(char *out, size_t cap, int ndim, const uint64_t *shape)
{
    size_t n = 0;
    n += (size_t)snprintf(out + n, cap - n, "(");
    for (int i = 0; i < ndim && n < cap; ++i)
        n += (size_t)snprintf(out + n, cap - n, "%s%" PRIu64, i ? ", " : "", shape[i]);
    if (n < cap)
        snprintf(out + n, cap - n, ndim == 1 ? ",)" : ")");
}

/* --- a small parser for the header dict, e.g.
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }          */
typedef struct {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        ++c->p;
}

static int peek(cursor *c)
{
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

/* Python string literal without escapes, in ' or ". */
static int parse_string(cursor *c, char *out, size_t cap)
{
    int q = peek(c);
    if (q != '\'' && q != '"')
        return -1;
    ++c->p;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap)
            return -1;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return -1;
    ++c->p;
    out[n] = '\0';
    return 0;
}

static int parse_word(cursor *c, char *out, size_t cap)
{
    size_t n = 0;
    while (c->p < c->end && ((*c->p >= 'A' && *c->p <= 'Z') || (*c->p >= 'a' && *c->p <= 'z'))) {
        if (n + 1 >= cap)
            return -1;
        out[n++] = *c->p++;
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

/* (d0, d1, ...) with optional trailing comma; Python may print "2L" in old files. */
static int parse_shape(cursor *c, npy_array *a)
{
    if (peek(c) != '(')
        return -1;
    ++c->p;
    a->ndim = 0;
    for (;;) {
        skip_ws(c);
        if (peek(c) == ')') {
            ++c->p;
            return 0;
        }
        if (peek(c) < '0' || peek(c) > '9' || a->ndim >= NPY_MAX_DIMS)
            return -1;
        uint64_t v = 0;
        while (peek(c) >= '0' && peek(c) <= '9') {
            if (v > (UINT64_MAX - 9) / 10)
                return -1;
            v = v * 10 + (uint64_t)(*c->p++ - '0');
        }
        if (peek(c) == 'L')
            ++c->p;
        a->shape[a->ndim++] = v;
        skip_ws(c);
        if (peek(c) == ',')
            ++c->p;
        else if (peek(c) != ')')
            return -1;
    }
}

/* Parses the header dict; sets *itemsize (4 or 8).  Returns 0 or -1 + err. */
static int parse_header(const char *h, size_t len, npy_array *a, size_t *itemsize, char *err,
                        size_t errcap)
{
    cursor c = {h, h + len};
    int have_descr = 0, have_order = 0, have_shape = 0;
    char key[64], val[64];
    skip_ws(&c);
    if (peek(&c) != '{')
        goto malformed;
    ++c.p;
    for (;;) {
        skip_ws(&c);
        if (peek(&c) == '}')
            break;
        if (parse_string(&c, key, sizeof key))
            goto malformed;
        skip_ws(&c);
        if (peek(&c) != ':')
            goto malformed;
        ++c.p;
        skip_ws(&c);
        if (!strcmp(key, "descr")) {
            if (parse_string(&c, val, sizeof val)) {
                snprintf(err, errcap, "unsupported dtype (structured or malformed 'descr'); "
                                      "expected float32 '<f4'");
                return -1;
            }
            if (!strcmp(val, "<f4"))
                *itemsize = 4;
            else if (!strcmp(val, "<f8"))
                *itemsize = 8;
            else {
                char shown[5 * sizeof val];
                lq_printable(shown, sizeof shown, val);
                snprintf(err, errcap, "unsupported dtype '%s', expected float32 '<f4' (or float64 '<f8')",
                         shown);
                return -1;
            }
            have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            if (parse_word(&c, val, sizeof val))
                goto malformed;
            if (!strcmp(val, "True")) {
                snprintf(err, errcap, "fortran_order=True is not supported; save a C-ordered "
                                      "array (numpy.ascontiguousarray)");
                return -1;
            }
            if (strcmp(val, "False"))
                goto malformed;
            have_order = 1;
        } else if (!strcmp(key, "shape")) {
            if (parse_shape(&c, a))
                goto malformed;
            have_shape = 1;
        } else {
            char shown[5 * sizeof key];
            lq_printable(shown, sizeof shown, key);
            snprintf(err, errcap, "malformed .npy header (unexpected key '%s')", shown);
            return -1;
        }
        skip_ws(&c);
        if (peek(&c) == ',')
            ++c.p;
        else if (peek(&c) != '}')
            goto malformed;
    }
    if (!have_descr || !have_order || !have_shape) {
        snprintf(err, errcap, "malformed .npy header (missing '%s')",
                 !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
        return -1;
    }
    return 0;
malformed:
    snprintf(err, errcap, "malformed .npy header");
    return -1;
}

static uint32_t rd_le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd_le32(const unsigned char *p)
{
    return rd_le16(p) | rd_le16(p + 2) << 16;
}

/* Loads a float32/float64 .npy file (versions 1.0, 2.0, 3.0) as float32. */
static inline int npy_load(const char *path, npy_array *a, char *err, size_t errcap)
{
    unsigned char pre[12];
    char *hdr = NULL;
    double *tmp = NULL;
    size_t itemsize = 0;
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot open: %s", strerror(errno));
        return -1;
    }
    long fsize = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        fsize = ftell(f);
    if (fsize < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errcap, "cannot read (not a regular file?)");
        goto fail;
    }
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        if (ferror(f))
            snprintf(err, errcap, "cannot read: %s", strerror(errno));
        else
            snprintf(err, errcap, "not a .npy file (bad magic)");
        goto fail;
    }
    size_t hlen, pre_len;
    if (pre[6] == 1) {
        if (fread(pre + 8, 1, 2, f) != 2)
            goto truncated_header;
        hlen = rd_le16(pre + 8);
        pre_len = 10;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 8, 1, 4, f) != 4)
            goto truncated_header;
        hlen = rd_le32(pre + 8);
        pre_len = 12;
    } else {
        snprintf(err, errcap, "unsupported .npy format version %d.%d", pre[6], pre[7]);
        goto fail;
    }
    if (hlen > NPY_MAX_HEADER) {
        snprintf(err, errcap, "malformed .npy header (%zu bytes long)", hlen);
        goto fail;
    }
    if ((uint64_t)fsize < pre_len + hlen)
        goto truncated_header;
    hdr = malloc(hlen + 1);
    if (!hdr) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    if (fread(hdr, 1, hlen, f) != hlen)
        goto truncated_header;
    hdr[hlen] = '\0';
    if (parse_header(hdr, hlen, a, &itemsize, err, errcap))
        goto fail;

    /* Element count, guarded against overflow. */
    uint64_t count = 1;
    for (int i = 0; i < a->ndim; ++i) {
        if (a->shape[i] && count > (uint64_t)(SIZE_MAX / 8) / a->shape[i]) {
            snprintf(err, errcap, "array too large");
            goto fail;
        }
        count *= a->shape[i];
    }
    uint64_t need = count * itemsize;
    uint64_t have = (uint64_t)fsize - pre_len - hlen;
    if (have < need) {
        snprintf(err, errcap, "truncated: expected %" PRIu64 " bytes of data, found %" PRIu64,
                 need, have);
        goto fail;
    }
    if (have > need) {
        snprintf(err, errcap, "%" PRIu64 " bytes of trailing data after the array", have - need);
        goto fail;
    }
    a->count = (size_t)count;
    a->data = malloc(count ? (size_t)count * sizeof(float) : sizeof(float));
    if (!a->data) {
        snprintf(err, errcap, "out of memory for %" PRIu64 " floats", count);
        goto fail;
    }
    const int swap = !host_is_little_endian();
    if (itemsize == 4) {
        if (fread(a->data, 4, a->count, f) != a->count)
            goto read_error;
        if (swap)
            swap_bytes((unsigned char *)a->data, a->count, 4);
    } else {
        enum { CHUNK = 4096 };
        tmp = malloc(CHUNK * sizeof(double));
        if (!tmp) {
            snprintf(err, errcap, "out of memory");
            goto fail;
        }
        for (size_t done = 0; done < a->count;) {
            size_t n = a->count - done < CHUNK ? a->count - done : CHUNK;
            if (fread(tmp, 8, n, f) != n)
                goto read_error;
            if (swap)
                swap_bytes((unsigned char *)tmp, n, 8);
            for (size_t i = 0; i < n; ++i)
                a->data[done + i] = (float)tmp[i];
            done += n;
        }
    }
    free(tmp);
    free(hdr);
    fclose(f);
    return 0;

truncated_header:
    snprintf(err, errcap, "truncated .npy header");
    goto fail;
read_error:
    snprintf(err, errcap, "read error: %s", ferror(f) ? strerror(errno) : "unexpected end of file");
fail:
    free(tmp);
    free(hdr);
    free(a->data);
    a->data = NULL;
    fclose(f);
    return -1;
}

#ifdef LQ_BARE_METAL
/* A microcontroller's test program reaches this machine's files through
 * semihosting, which has no stat, mkstemp or rename: outputs are written in
 * place (tmp is the path itself) and removed again on failure. */
static inline int lq_check_output(const char *path, char *err, size_t errcap)
{
    (void)path, (void)err, (void)errcap;
    return 0;
}

static inline FILE *lq_create_beside(const char *path, char *tmp, size_t tmpcap, char *err,
                                     size_t errcap)
{
    if ((size_t)snprintf(tmp, tmpcap, "%s", path) >= tmpcap) {
        snprintf(err, errcap, "path too long");
        tmp[0] = '\0';
        return NULL;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errcap, "cannot write: %s", strerror(errno));
        tmp[0] = '\0';
    }
    return f;
}

static inline int lq_rename(const char *tmp, const char *path)
{
    return strcmp(tmp, path) == 0 ? 0 : -1;
}
#else
static inline int lq_rename(const char *tmp, const char *path)
{
    return rename(tmp, path);
}

/* 0 when `path` can be an output: absent, or a regular file (a device, a
 * folder or a pipe is never replaced); else -1 with the reason in err. */
static inline int lq_check_output(const char *path, char *err, size_t errcap)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return 0;
    snprintf(err, errcap, "exists and is not a regular file (outputs replace only regular files)");
    return -1;
}

/* Creates a new file beside `path` named PATH-XXXXXX (mkstemp: O_EXCL, so
 * nothing planted there is written through), with the usual permissions;
 * its name in tmp. The stream, or NULL with the reason in err. */
static inline FILE *lq_create_beside(const char *path, char *tmp, size_t tmpcap, char *err,
                                     size_t errcap)
{
    if ((size_t)snprintf(tmp, tmpcap, "%s-XXXXXX", path) >= tmpcap) {
        snprintf(err, errcap, "path too long");
        return NULL;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errcap, "cannot create a file beside it: %s", strerror(errno));
        tmp[0] = '\0';
        return NULL;
    }
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        snprintf(err, errcap, "cannot write: %s", strerror(errno));
        close(fd);
        remove(tmp);
        tmp[0] = '\0';
    }
    return f;
}
#endif

/* Writes a float32 C-ordered .npy file (format 1.0) to a new file beside
 * `path` (lq_create_beside), whose name it puts in tmp (empty if none was
 * made): the caller renames it into place or removes it. */
static inline int npy_save_beside(const char *path, char *tmp, size_t tmpcap, const float *data,
                                  int ndim, const uint64_t *shape, char *err, size_t errcap)
{
    char dict[512], shp[256];
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    format_shape(shp, sizeof shp, ndim, shape);
    int dlen = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                        shp);
    /* Pad with spaces so that magic + header + '\n' is a multiple of 64. */
    size_t hlen = (size_t)dlen + 1;
    hlen = (10 + hlen + 63) / 64 * 64 - 10;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    size_t count = 1;
    for (int i = 0; i < ndim; ++i)
        count *= (size_t)shape[i];

    FILE *f = lq_create_beside(path, tmp, tmpcap, err, errcap);
    if (!f)
        return -1;
    int ok = fwrite(pre, 1, sizeof pre, f) == sizeof pre &&
             fwrite(dict, 1, (size_t)dlen, f) == (size_t)dlen;
    for (size_t i = (size_t)dlen + 1; ok && i < hlen; ++i)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    if (ok && host_is_little_endian()) {
        ok = fwrite(data, sizeof(float), count, f) == count;
    } else {
        for (size_t i = 0; ok && i < count; ++i) {
            unsigned char b[4];
            memcpy(b, &data[i], 4);
            swap_bytes(b, 1, 4);
            ok = fwrite(b, 1, 4, f) == 4;
        }
    }
    if (!ok)
        snprintf(err, errcap, "cannot write: %s", strerror(errno));
    if (fclose(f) != 0 && ok) {
        snprintf(err, errcap, "cannot write: %s", strerror(errno));
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* npy_save_beside, then renamed over `path`; nothing left behind on failure. */
static inline int npy_save(const char *path, const float *data, int ndim, const uint64_t *shape,
                           char *err, size_t errcap)
{
    char tmp[4096];
    int rc = npy_save_beside(path, tmp, sizeof tmp, data, ndim, shape, err, errcap);
    if (rc == 0 && lq_rename(tmp, path) != 0) {
        snprintf(err, errcap, "cannot rename %s into place: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc != 0 && tmp[0])
        remove(tmp);
    return rc;
}

#endif /* LIQUID_CLI_H */
