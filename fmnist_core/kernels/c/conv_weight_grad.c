/* Weight gradient of a stride-1 convolution in channels-last memory, the step oneDNN is slowest at here
 * (about 58 GFLOP/s for the seed CNN's second conv, against about 95 for its input gradient):
 *   dw[ky][kx][ci][co] = sum over n, y, x of  x[n][y + ky - P][x + kx - P][ci] * g[n][y][x][co]
 * and the bias gradient db[co] = sum over n, y, x of g[n][y][x][co] in the same pass over g.
 * x (N, H, W, Ci), g (N, Ho, Wo, Co), dw (K, K, Ci, Co), db (Co). Ci and Co are multiples of 8.
 * A tile of the gradient (CI_T input channels x CO_V vectors of 8 output channels, 8 vectors in all) stays in
 * registers while it runs over one image's positions; images are split over threads, each with its own sums,
 * added up in thread order (the same thread count gives the same result).
 * Built and loaded by kernels/build.py, like first_stage.c. */
#include <stdlib.h>
#include <string.h>

#include "simd.h"

typedef struct { int N, H, W, Ci, Ho, Wo, Co, K, P; } Shape;

INLINE void image_body(const float *x, const float *g, float *dw, const Shape *s, int n, const int CO_V) {
    const int CI_T = 8 / CO_V;
    const int H = s->H, W = s->W, Ci = s->Ci, Ho = s->Ho, Wo = s->Wo, Co = s->Co, K = s->K, P = s->P;
    for (int ky = 0; ky < K; ky++) {
        const int y_lo = P - ky > 0 ? P - ky : 0, y_hi = H + P - ky < Ho ? H + P - ky : Ho;
        for (int kx = 0; kx < K; kx++) {
            const int x_lo = P - kx > 0 ? P - kx : 0, x_hi = W + P - kx < Wo ? W + P - kx : Wo;
            for (int ci0 = 0; ci0 < Ci; ci0 += CI_T) {
                for (int co0 = 0; co0 < Co; co0 += 8 * CO_V) {
                    float *tile = dw + ((size_t)(ky * K + kx) * Ci + ci0) * Co + co0;
                    v8f acc[8];
                    for (int c = 0; c < CI_T; c++)
                        for (int v = 0; v < CO_V; v++) acc[c * CO_V + v] = load8(tile + (size_t)c * Co + 8 * v);
                    for (int y = y_lo; y < y_hi; y++) {
                        const float *grow = g + (((size_t)n * Ho + y) * Wo) * Co + co0;
                        const float *xrow = x + (((size_t)n * H + y + ky - P) * W + kx - P) * Ci + ci0;
                        for (int ox = x_lo; ox < x_hi; ox++) {
                            const float *gp = grow + (size_t)ox * Co, *xp = xrow + (size_t)ox * Ci;
                            v8f gv[4];
                            for (int v = 0; v < CO_V; v++) gv[v] = load8(gp + 8 * v);
                            for (int c = 0; c < CI_T; c++) {
                                const v8f b = splat8(xp[c]);
                                for (int v = 0; v < CO_V; v++) acc[c * CO_V + v] += b * gv[v];
                            }
                        }
                    }
                    for (int c = 0; c < CI_T; c++)
                        for (int v = 0; v < CO_V; v++) store8(tile + (size_t)c * Co + 8 * v, acc[c * CO_V + v]);
                }
            }
        }
    }
}

/* One image's share of the bias gradient: the sum of its Ho x Wo rows of g, 8 channels at a time. */
INLINE void image_bias(const float *g, float *db, const Shape *s, int n) {
    const size_t positions = (size_t)s->Ho * s->Wo;
    const float *rows = g + (size_t)n * positions * s->Co;
    for (int co = 0; co < s->Co; co += 8) {
        v8f acc = load8(db + co);
        for (size_t p = 0; p < positions; p++) acc += load8(rows + p * s->Co + co);
        store8(db + co, acc);
    }
}

int conv_weight_grad(const float *x, const float *g, float *dw, float *db, int N, int H, int W, int Ci, int Co,
                     int K, int P, int threads) {
    if (Ci % 8 || Co % 8 || K < 1 || N < 0) return -1;
    const Shape s = {N, H, W, Ci, H + 2 * P - K + 1, W + 2 * P - K + 1, Co, K, P};
    const size_t taps = (size_t)K * K * Ci * Co, size = taps + Co;  /* each thread's dw, then its db */
    if (threads > N) threads = N;
    if (threads > 64) threads = 64;
    if (threads < 1) threads = 1;
    float *sums[64];
    for (int t = 0; t < threads; t++) sums[t] = calloc(size, sizeof(float));
    for (int t = 0; t < threads; t++) if (!sums[t]) { for (int u = 0; u < threads; u++) free(sums[u]); return -2; }
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; t++) {
        const int n0 = (int)((long)N * t / threads), n1 = (int)((long)N * (t + 1) / threads);
        for (int n = n0; n < n1; n++) {
            if (Co % 32 == 0) image_body(x, g, sums[t], &s, n, 4);
            else if (Co % 16 == 0) image_body(x, g, sums[t], &s, n, 2);
            else image_body(x, g, sums[t], &s, n, 1);
            image_bias(g, sums[t] + taps, &s, n);
        }
    }
    for (size_t i = 0; i < size; i++) {
        float total = 0.f;
        for (int t = 0; t < threads; t++) total += sums[t][i];
        if (i < taps) dw[i] = total;
        else db[i - taps] = total;
    }
    for (int t = 0; t < threads; t++) free(sums[t]);
    return 0;
}
