/* A terminal chat with a compiled LFM2 (liquid_add_model(NAME chatlm ...)):
 * one user message per line of stdin; each turn evaluates only its new
 * tokens, the model's caches carry the conversation.
 *   chat [--system TEXT] [-n MAX_TOKENS] [--weights FILE.lqw] */
#include "chatlm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_token(void *user, int32_t id)
{
    size_t n;
    const char *piece = chatlm_lm_token_piece((chatlm_lm *)user, id, 0, &n);
    fwrite(piece, 1, n, stdout);
    fflush(stdout);
    return 0;
}

/* Appends a chat part to *text: a message, the end of the assistant's turn
 * (role NULL, end 1) or the assistant's generation prompt (role NULL, end 0). */
static void append(chatlm_lm *m, char **text, size_t *len, const char *role, const char *content,
                   int end)
{
    int64_t n = role ? chatlm_lm_chat_message(m, role, content, NULL, 0)
                : end ? chatlm_lm_chat_end_of_turn(m, NULL, 0)
                      : chatlm_lm_chat_generation_prompt(m, NULL, 0);
    if (n < 0) {
        fprintf(stderr, "chat: %s\n", chatlm_lm_last_error());
        exit(1);
    }
    *text = realloc(*text, *len + (size_t)n + 1);
    char *at = *text + *len;
    if (role)
        chatlm_lm_chat_message(m, role, content, at, (size_t)n + 1);
    else if (end)
        chatlm_lm_chat_end_of_turn(m, at, (size_t)n + 1);
    else
        chatlm_lm_chat_generation_prompt(m, at, (size_t)n + 1);
    *len += (size_t)n;
}

int main(int argc, char **argv)
{
    const char *system = NULL, *weights = CHAT_WEIGHTS;
    long max_new = 256;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--system"))
            system = argv[i + 1];
        else if (!strcmp(argv[i], "-n"))
            max_new = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--weights"))
            weights = argv[i + 1];
    }
    chatlm_lm *m = chatlm_lm_create(weights, 2);
    if (!m) {
        fprintf(stderr, "chat: %s\n", chatlm_lm_last_error());
        return 1;
    }
    chatlm_lm_sampler sampler;
    chatlm_lm_sampler_init(&sampler, 0.0, 0, 1.0, 1); /* greedy */
    char line[4096];
    for (int turn = 0; fgets(line, sizeof line, stdin); ++turn) {
        line[strcspn(line, "\r\n")] = '\0';
        char *text = NULL;
        size_t len = 0;
        if (turn > 0)
            append(m, &text, &len, NULL, NULL, 1);
        else if (system)
            append(m, &text, &len, "system", system, 0);
        append(m, &text, &len, "user", line, 0);
        append(m, &text, &len, NULL, NULL, 0);
        int32_t ids[8192];
        int64_t n = chatlm_lm_tokenize(m, text, len, turn == 0 ? -1 : 0, 1, ids, 8192);
        free(text);
        if (n < 0 || n > 8192 ||
            chatlm_lm_generate(m, ids, n, max_new, &sampler, print_token, m) < 0) {
            fprintf(stderr, "chat: %s\n", chatlm_lm_last_error());
            return 1;
        }
        printf("\n");
    }
    chatlm_lm_destroy(m);
    return 0;
}
