/* Hand-written stand-in for a liquidc-generated P_config.h (prefix "fakemm"):
 * mixed-memory model (two states), 3 inputs, 5 hidden units, 5 cell units,
 * 2 outputs, weights loaded from a .lqw file. */
#define LQ_PREFIX fakemm
#define LQ_MODEL_NAME "fakemm"
#define LQ_INPUT_SIZE 3
#define LQ_OUTPUT_SIZE 2
#define LQ_NUM_STATES 2
#define LQ_STATE0_SIZE 5
#define LQ_STATE1_SIZE 5
#define LQ_STATE0_OFFSET 16
#define LQ_STATE1_OFFSET 0
#define LQ_INPUT_OFFSET 8
#define LQ_OUTPUT_OFFSET 24
#define LQ_ARENA_FLOATS 32
#define LQ_WEIGHTS_FLOATS 12
#define LQ_WEIGHTS_HASH 0xfedcba9876543210ULL
#define LQ_EMBEDDED_WEIGHTS 0
