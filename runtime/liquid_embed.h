/*
 * liquid_embed.h - the weights blob compiled into an artifact (.incbin).
 * Included by liquid_model.c and liquid_lm_main.c when LQ_EMBEDDED_WEIGHTS
 * is 1; needs LQ_PREFIX and LQ_WEIGHTS_PATH (absolute path of the raw
 * little-endian float32 blob, without '"' or '\\'). Declares
 * P_weights_data and P_weights_data_end (and P_tokenizer_data, _end).
 */
#ifndef LIQUID_EMBED_H
#define LIQUID_EMBED_H

#ifndef LQ_CAT
#define LQ_CAT_(a, b) a##b
#define LQ_CAT(a, b) LQ_CAT_(a, b)
#endif
#ifndef LQ_STR
#define LQ_STR_(a) #a
#define LQ_STR(a) LQ_STR_(a)
#endif
#ifndef LQ_SYM
#define LQ_SYM(suffix) LQ_CAT(LQ_PREFIX, suffix)
#endif

#if LQ_EMBEDDED_WEIGHTS
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "liquid runtime: embedded (little-endian) weights are not supported on big-endian targets; use a .lqw file"
#endif
/* P_weights_data: the raw blob, 64-byte aligned, in .rodata (ELF, GNU as
 * syntax accepted by gcc/clang for x86-64, aarch64 and riscv64).  The
 * symbols are global with hidden visibility: they never leave a shared
 * library.  P_weights_data_end marks the end, to check the size.  A language
 * model with a tokenizer also gets P_tokenizer_data(_end), the image at
 * LQ_TOKENIZER_PATH. */
#define LQ_INCBIN(name, path)                                                                     \
    __asm__("\t.pushsection .rodata\n"                                                            \
            "\t.balign 64\n"                                                                      \
            "\t.globl " LQ_STR(LQ_PREFIX) name "\n"                                               \
            "\t.hidden " LQ_STR(LQ_PREFIX) name "\n"                                              \
            "\t.type " LQ_STR(LQ_PREFIX) name ", %object\n" LQ_STR(LQ_PREFIX) name ":\n"          \
            "\t.incbin \"" path "\"\n"                                                            \
            "\t.globl " LQ_STR(LQ_PREFIX) name "_end\n"                                           \
            "\t.hidden " LQ_STR(LQ_PREFIX) name "_end\n" LQ_STR(LQ_PREFIX) name "_end:\n"         \
            "\t.size " LQ_STR(LQ_PREFIX) name ", " LQ_STR(LQ_PREFIX) name                          \
            "_end - " LQ_STR(LQ_PREFIX) name "\n"                                                  \
            "\t.popsection\n")
LQ_INCBIN("_weights_data", LQ_WEIGHTS_PATH);
extern const unsigned char LQ_SYM(_weights_data)[] __attribute__((visibility("hidden")));
extern const unsigned char LQ_SYM(_weights_data_end)[] __attribute__((visibility("hidden")));
#if defined(LQ_TOKENIZER) && LQ_TOKENIZER
LQ_INCBIN("_tokenizer_data", LQ_TOKENIZER_PATH);
extern const unsigned char LQ_SYM(_tokenizer_data)[] __attribute__((visibility("hidden")));
extern const unsigned char LQ_SYM(_tokenizer_data_end)[] __attribute__((visibility("hidden")));
#endif
#endif

#endif /* LIQUID_EMBED_H */
