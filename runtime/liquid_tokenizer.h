/*
 * liquid_tokenizer.h - a checkpoint's tokenizer as liquidc stores it (the
 * "tokenizer image", a trailer of the .lqw file) and the C API that encodes
 * and decodes with it. One header for both sides: liquidc (C++) writes the
 * image with these structures and hash functions, the runtime (C) reads it in
 * place (memory-mapped, never copied or parsed).
 *
 * Image layout: all integers little-endian, every section 8-byte aligned,
 * offsets in bytes from the start of the image.
 *   lq_tok_header
 *   tokens     lq_tok_token[n_tokens]     key and piece strings, type
 *   strings    bytes                      the strings the tokens point into
 *   lookup     int32[lookup_slots]        open addressing on lq_tok_hash_bytes
 *                                         of a token's key; -1 = empty slot
 *   merges     lq_tok_merge[merge_slots]  BPE only: (left, right) -> rank,
 *                                         result; open addressing on
 *                                         lq_tok_hash_pair; rank -1 = empty
 *   scores     float[n_tokens]            SentencePiece only
 *   specials   int32[n_specials]          tokens cut out of text before
 *                                         pre-tokenization, longest key first
 *   eog        int32[n_eog]               ids that end a generation
 *   byte_tokens int32[256]                the token of each byte (BPE: its
 *                                         byte-level character; SentencePiece:
 *                                         <0xXX>), -1 if none
 *   chat       bytes                      reserved for template data (unused)
 *
 * Key: the bytes the encoder looks a token up by (byte-level BPE: the
 * token's bytes after undoing the GPT-2 byte-to-character mapping;
 * SentencePiece: the vocabulary text, spaces as U+2581). Piece: the bytes a
 * token decodes to (control tokens: their text, shown only when asked).
 *
 * Functions are prefixed per model in an artifact (P_tok_encode, ...) when
 * LQ_PREFIX is defined, lq_tok_encode otherwise (liquidc's own tools).
 */
#ifndef LIQUID_TOKENIZER_H
#define LIQUID_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LQ_TOK_MAGIC "LQTOKENS"
#define LQ_TOK_VERSION 1u

/* lq_tok_header.model */
enum { LQ_TOK_MODEL_BPE = 1, LQ_TOK_MODEL_SPM = 2 };
/* lq_tok_header.pre: the pre-tokenizer split (BPE only) */
enum { LQ_TOK_PRE_NONE = 0, LQ_TOK_PRE_GPT2 = 1, LQ_TOK_PRE_LLAMA3 = 2 };
/* lq_tok_header.flags */
enum {
    LQ_TOK_ADD_BOS = 1,          /* prepend bos when encoding a prompt */
    LQ_TOK_ADD_EOS = 2,          /* append eos */
    LQ_TOK_IGNORE_MERGES = 4,    /* BPE: a pre-token that is a token is kept whole */
    LQ_TOK_ADD_SPACE_PREFIX = 8, /* SentencePiece: a space before text that follows bos/a special */
};
/* lq_tok_token.type (the GGUF tokenizer.ggml.token_type values) */
enum {
    LQ_TOK_NORMAL = 1,
    LQ_TOK_UNKNOWN = 2,
    LQ_TOK_CONTROL = 3,
    LQ_TOK_USER_DEFINED = 4,
    LQ_TOK_UNUSED = 5,
    LQ_TOK_BYTE = 6,
};
/* lq_tok_header.chat: the chat template, recognised at compile time */
enum { LQ_CHAT_NONE = 0, LQ_CHAT_CHATML = 1 };
/* lq_tok_header.chat_flags */
enum { LQ_CHAT_BOS_TEXT = 1 /* the template starts with the bos token's text */ };

typedef struct {
    char magic[8]; /* LQ_TOK_MAGIC, no NUL */
    uint32_t version, bytes;
    uint32_t model, pre, flags, n_tokens;
    int32_t bos, eos, pad, unk; /* -1: none */
    uint32_t chat, chat_flags;
    uint32_t tokens_off, strings_off, strings_bytes;
    uint32_t lookup_off, lookup_slots;
    uint32_t merges_off, merge_slots;
    uint32_t scores_off;
    uint32_t specials_off, n_specials;
    uint32_t eog_off, n_eog;
    uint32_t byte_tokens_off;
    uint32_t chat_off, chat_bytes;
    uint32_t reserved[5];
} lq_tok_header; /* 128 bytes */

typedef struct {
    uint32_t key_off, key_len;
    uint32_t piece_off, piece_len;
    uint32_t type, reserved;
} lq_tok_token;

typedef struct {
    int32_t left, right, rank, result;
} lq_tok_merge;

/* FNV-1a over bytes: the lookup table's hash. */
static inline uint32_t lq_tok_hash_bytes(const unsigned char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; ++i)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

/* The merge table's hash of an ordered id pair. */
static inline uint32_t lq_tok_hash_pair(int32_t left, int32_t right)
{
    uint32_t h = (uint32_t)left * 0x9E3779B1u ^ ((uint32_t)right + 0x7F4A7C15u) * 0x85EBCA77u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

/* ---- the runtime API ------------------------------------------------------ */

#if defined(LQ_PREFIX)
#define LQ_TOK_CAT_(a, b) a##b
#define LQ_TOK_CAT(a, b) LQ_TOK_CAT_(a, b)
#define LQ_TOK_FN(name) LQ_TOK_CAT(LQ_PREFIX, LQ_TOK_CAT(_tok_, name))
#else
#define LQ_TOK_FN(name) lq_tok_##name
#endif

/* A view of an image (valid while the image is). */
typedef struct {
    const unsigned char *base;
    const lq_tok_header *h;
    const lq_tok_token *tokens;
} lq_tokenizer;

/* Checks an image of `bytes` bytes (every offset, length and id) and fills
 * `t`. 0 on success; otherwise writes the problem to `err` and returns -1. */
int LQ_TOK_FN(open)(lq_tokenizer *t, const void *image, size_t bytes, char *err, size_t cap);

/* Encodes `len` bytes of `text` (any bytes: invalid UTF-8 is read as U+FFFD,
 * as llama.cpp does). add_bos: 1/0, or -1 for the tokenizer's setting (the
 * same for add_eos). parse_special: special-token texts in `text` become
 * their ids (otherwise they are ordinary text). Writes at most `cap` ids and
 * returns how many the text needs (call again with a larger buffer if that is
 * more than `cap`); -1 when out of memory; -2 when the text has a byte that
 * a SentencePiece vocabulary without all 256 byte tokens cannot encode. */
int64_t LQ_TOK_FN(encode)(const lq_tokenizer *t, const char *text, size_t len, int add_bos,
                          int parse_special, int32_t *ids, int64_t cap);

/* The bytes token `id` decodes to, or NULL (length 0) for an id outside the
 * vocabulary. special = 0 renders control tokens as nothing. */
const char *LQ_TOK_FN(piece)(const lq_tokenizer *t, int32_t id, int special, size_t *len);

/* 1 if `id` ends a generation. */
int LQ_TOK_FN(is_eog)(const lq_tokenizer *t, int32_t id);

/* Number of tokens. */
static inline int32_t lq_tok_count(const lq_tokenizer *t) { return (int32_t)t->h->n_tokens; }

/* Chat: renders one message of the recognised template into `out` (at most
 * `cap` bytes, NUL-terminated when it fits) and returns its length; the
 * opening text (with_bos: the bos token's text where the template has it)
 * and the assistant generation prompt are separate calls so that a turn can
 * append only its new text. -1: the tokenizer has no chat template. */
int64_t LQ_TOK_FN(chat_message)(const lq_tokenizer *t, const char *role, const char *content,
                                char *out, size_t cap);
int64_t LQ_TOK_FN(chat_begin)(const lq_tokenizer *t, int with_bos, char *out, size_t cap);
int64_t LQ_TOK_FN(chat_generation_prompt)(const lq_tokenizer *t, char *out, size_t cap);
/* The text that ends an assistant turn in a transcript (after the generated
 * text, which stops at the end-of-turn token). */
int64_t LQ_TOK_FN(chat_end_of_turn)(const lq_tokenizer *t, char *out, size_t cap);

/* Streaming UTF-8: bytes in, only whole valid UTF-8 sequences out (an
 * invalid byte becomes U+FFFD); a sequence split across pieces is held back
 * until it is complete. `out` needs room for 3 * n + 4 bytes. */
typedef struct {
    unsigned char held[4];
    int n_held;
} lq_utf8_stream;
size_t LQ_TOK_FN(utf8_feed)(lq_utf8_stream *s, const char *in, size_t n, char *out);
/* Ends the stream: what is held back becomes U+FFFD. `out` needs 12 bytes. */
size_t LQ_TOK_FN(utf8_flush)(lq_utf8_stream *s, char *out);

#ifdef __cplusplus
}
#endif

#endif /* LIQUID_TOKENIZER_H */
