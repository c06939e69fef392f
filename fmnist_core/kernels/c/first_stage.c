/* The first stage of a CNN, fused: conv over one input channel -> max-pool -> ReLU, forward and weight
 * gradient, without ever writing the full-resolution conv output (that traffic is what the stage costs
 * in PyTorch on a CPU). Layouts: image (N, H, W); weights transposed (K*K, C); output, pool choice and
 * gradient channels-last (N, Hp, Wq, C). C is a multiple of 8: one vector of 8 (or 16) floats per channel block.
 * Built and loaded by kernels/build.py; GCC or Clang (vector extensions), OpenMP where the compiler has it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"

#define MAX_K 7
#define MAX_POOL 4

typedef struct {
    const float *x, *wt, *b, *y_in, *g;
    float *y, *acc;
    int32_t *arg;
    const int32_t *arg_in;
    int n0, n1, H, W, C, K, P, pool;
    int failed;  /* set by a thread that could not get its memory */
} Work;


static void pad_image(const float *x, float *xp, int H, int W, int P) {
    const int Wpad = W + 2 * P;
    memset(xp, 0, sizeof(float) * (size_t)(H + 2 * P) * Wpad);
    for (int r = 0; r < H; r++) memcpy(xp + (size_t)(r + P) * Wpad + P, x + (size_t)r * W, sizeof(float) * W);
}

/* 8 channels at a time, and 16 where simd.h has 16-wide vectors and the channel count is a multiple of 16. */
#define BODY(name) SIMD_CAT3(name, _body, LANES)
#define LANES 8
#include "first_stage_body.h"
#undef LANES
#ifdef FMNIST_WIDE
#define LANES 16
#include "first_stage_body.h"
#undef LANES
#define WIDE(w) ((w)->C % 16 == 0)
#else
#define forward_body16 forward_body8
#define backward_body16 backward_body8
#define WIDE(w) 0
#endif

INLINE void forward_body(const Work *w, float *xp, const int K, const int pool) {
    if (WIDE(w)) forward_body16(w, xp, K, pool);
    else forward_body8(w, xp, K, pool);
}

INLINE void backward_body(const Work *w, float *xp, const int K, const int pool) {
    if (WIDE(w)) backward_body16(w, xp, K, pool);
    else backward_body8(w, xp, K, pool);
}

static void *forward_range(void *p) {
    Work *w = p;
    float *xp = malloc(sizeof(float) * (size_t)(w->H + 2 * w->P) * (w->W + 2 * w->P));
    if (!xp) { w->failed = 1; return NULL; }
    if (w->pool == 2 && w->K == 3) forward_body(w, xp, 3, 2);
    else if (w->pool == 2 && w->K == 5) forward_body(w, xp, 5, 2);
    else if (w->pool == 2 && w->K == 7) forward_body(w, xp, 7, 2);
    else forward_body(w, xp, w->K, w->pool);
    free(xp);
    return NULL;
}

static void *backward_range(void *p) {
    Work *w = p;
    float *xp = malloc(sizeof(float) * (size_t)(w->H + 2 * w->P) * (w->W + 2 * w->P));
    if (!xp) { w->failed = 1; return NULL; }
    if (w->pool == 2 && w->K == 3) backward_body(w, xp, 3, 2);
    else if (w->pool == 2 && w->K == 5) backward_body(w, xp, 5, 2);
    else if (w->pool == 2 && w->K == 7) backward_body(w, xp, 7, 2);
    else backward_body(w, xp, w->K, w->pool);
    free(xp);
    return NULL;
}

/* Split the images over `threads` threads of OpenMP (the same runtime and pool as PyTorch's, so they do
 * not fight its spinning workers for the cores); each keeps its own gradient sums (acc_size floats), added up
 * in thread order afterwards so that the same thread count gives the same result. */
static int run_split(const Work *base, float *sum, int N, int threads, void *(*fn)(void *), size_t acc_size) {
    Work works[64];
    if (threads > N) threads = N;
    if (threads > 64) threads = 64;
    if (threads < 1) threads = 1;
    int failed = 0;
    for (int t = 0; t < threads; t++) {
        works[t] = *base;
        works[t].n0 = (int)((long)N * t / threads);
        works[t].n1 = (int)((long)N * (t + 1) / threads);
        works[t].failed = 0;
        works[t].acc = acc_size ? calloc(acc_size, sizeof(float)) : NULL;
        if (acc_size && !works[t].acc) failed = 1;
    }
    if (!failed) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (int t = 0; t < threads; t++) fn(&works[t]);
        for (int t = 0; t < threads; t++) failed |= works[t].failed;
    }
    if (!failed) {
        for (size_t i = 0; i < acc_size; i++) {
            float total = 0.f;
            for (int t = 0; t < threads; t++) total += works[t].acc[i];
            sum[i] = total;
        }
    }
    for (int t = 0; t < threads; t++) free(works[t].acc);
    return failed ? -2 : 0;
}

static int supported(int C, int K, int pool) { return C % 8 == 0 && K >= 1 && K <= MAX_K && pool >= 1 && pool <= MAX_POOL; }

int first_stage_forward(const float *x, const float *wt, const float *b, float *y, int32_t *arg,
                        int N, int H, int W, int C, int K, int P, int pool, int threads) {
    if (!supported(C, K, pool)) return -1;
    const Work w = {.x = x, .wt = wt, .b = b, .y = y, .arg = arg, .H = H, .W = W, .C = C, .K = K, .P = P, .pool = pool};
    return run_split(&w, NULL, N, threads, forward_range, 0);
}

int first_stage_backward(const float *x, const float *y, const int32_t *arg, const float *g, float *dwt_db,
                         int N, int H, int W, int C, int K, int P, int pool, int threads) {
    if (!supported(C, K, pool)) return -1;
    const Work w = {.x = x, .y_in = y, .arg_in = arg, .g = g, .H = H, .W = W, .C = C, .K = K, .P = P, .pool = pool};
    return run_split(&w, dwt_db, N, threads, backward_range, (size_t)(K * K + 1) * C);
}
