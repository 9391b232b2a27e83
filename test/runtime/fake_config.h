/* Hand-written stand-in for a liquidc-generated P_config.h (prefix "fake"):
 * single-state model, 4 inputs, 4 state units, 3 outputs, weights loaded from
 * a .lqw file.  The slots are spread over the arena, with gaps, so that
 * offset mix-ups show.  See runtime/liquid_runtime.h for the macro list. */
#define LQ_PREFIX fake
#define LQ_MODEL_NAME "fake"
#define LQ_INPUT_SIZE 4
#define LQ_OUTPUT_SIZE 3
#define LQ_NUM_STATES 1
#define LQ_STATE0_SIZE 4
#define LQ_STATE1_SIZE 0
#define LQ_STATE0_OFFSET 16
#define LQ_STATE1_OFFSET 0
#define LQ_INPUT_OFFSET 0
#define LQ_OUTPUT_OFFSET 40
#define LQ_ARENA_FLOATS 48
#define LQ_WEIGHTS_FLOATS 7
#define LQ_WEIGHTS_HASH 0x0123456789abcdefULL
#define LQ_EMBEDDED_WEIGHTS 0
#define LQ_COMPILER_VERSION "test"
