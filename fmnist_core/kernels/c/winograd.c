/* 3x3 stride-1 convolutions by Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray 2015), channels-last.
 * A 4x4 block of outputs costs 36 multiplications per input/output channel pair instead of 144: the input's 6x6
 * tile and the filter are each transformed, multiplied point by point (36 small matrix products over the
 * channels), and the product is transformed back. A direct convolution of the seed CNN's second layer sits near
 * what these cores do (oneDNN, about 115 GFLOP/s); this does the same with 4x fewer multiplications (2.25x with
 * F(2x2, 3x3), tried first: BENCHMARKS.md).
 *
 *   forward:          y = conv(x, w) + b            winograd_forward with U = winograd_filter(w, 0)
 *   input gradient:   dx = conv(pad(dy, 2 - P), rot180(w) with channels swapped)
 *                                                   winograd_forward with U = winograd_filter(w, 1)
 *   weight gradient:  dw = G^T [sum over tiles of (B^T x B) * (A dy A^T)] G, db = sum of dy
 *                                                   winograd_weight_grad
 * x (N, H, W, Ci), y (N, Ho, Wo, Co) with Ho = H + 2P - 2; w (Co, Ci, 3, 3) as PyTorch holds it; U (36, Ci, Co).
 * Work goes in blocks of BT tiles that stay in L2: transform the block's inputs, 36 products against U, transform
 * back. Channel counts are multiples of 16 (a product tile is 16 columns wide). Every output is
 * written by one block, and the weight gradient sums fixed blocks per thread in thread order, so the same
 * thread count gives the same result. Built and loaded by kernels/build.py, like first_stage.c. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"

#define MT 4           /* outputs per tile side */
#define AL 6           /* input tile side: MT + 3 - 1 */
#define NP (AL * AL)   /* transformed points per tile */
#define BT 24          /* tiles per block: a multiple of the product tile's rows (6 or 12) */

/* The kernel's vectors (simd.h's width-generic names): 16 floats where simd.h has them (AVX-512), else 8. A
 * product tile is 16 columns wide either way. */
#ifdef FMNIST_WIDE
#define LANES 16
#define PROWS 12       /* product tile: 12 rows x 1 vector */
#define SROWS 8        /* weight-sum tile: 8 rows x 1 vector */
#else
#define LANES 8
#define PROWS 6        /* product tile: 6 rows x 2 vectors */
#define SROWS 4        /* weight-sum tile: 4 rows x 2 vectors */
#endif
#define PV (16 / LANES) /* vectors per 16 columns */

/* One transformed point's BT x C block, padded by a cache line: blocks a multiple of 4 KiB apart would make the
 * NP streams a transform writes share a few L1 sets and evict each other. */
INLINE size_t plane_size(int C) { return (size_t)BT * C + 16; }


int winograd_points(void) { return NP; }

/* Hc x Wc: the outputs computed (top left), Ho x Wo: the output's size; tiles cover the first. */
typedef struct { int N, H, W, Ci, Co, P, Ho, Wo, Hc, Wc, TH, TW; long T; } Shape;

static Shape shape_of(int N, int H, int W, int Ci, int Co, int P, int Hc, int Wc) {
    Shape s = {N, H, W, Ci, Co, P, H + 2 * P - 2, W + 2 * P - 2, Hc, Wc, 0, 0, 0};
    s.TH = (Hc + MT - 1) / MT;
    s.TW = (Wc + MT - 1) / MT;
    s.T = (long)N * s.TH * s.TW;
    return s;
}

/* Where tile t's outputs start (top-left); its input starts P earlier (may be outside: those pixels are zeros). */
INLINE void tile_origin(const Shape *s, long t, int *n, int *ty, int *tx) {
    const long per_image = (long)s->TH * s->TW, r = t % per_image;
    *n = (int)(t / per_image);
    *ty = (int)(r / s->TW) * MT;
    *tx = (int)(r % s->TW) * MT;
}

/* The 1-D transforms, on 6 (or 4) vectors. B^T d (input), A^T m (output), A g (output gradient). */
INLINE void input_1d(const VF d[6], VF t[6]) {
    const VF four = SPL(4.f), five = SPL(5.f), two = SPL(2.f);
    const VF a = d[4] - four * d[2], b = d[3] - four * d[1], c = d[4] - d[2], e = two * (d[3] - d[1]);
    t[0] = four * d[0] - five * d[2] + d[4];
    t[1] = a + b;
    t[2] = a - b;
    t[3] = c + e;
    t[4] = c - e;
    t[5] = four * d[1] - five * d[3] + d[5];
}

INLINE void output_1d(const VF m[6], VF y[4]) {
    const VF a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], e = m[3] - m[4];
    y[0] = m[0] + a + c;
    y[1] = b + SPL(2.f) * e;
    y[2] = a + SPL(4.f) * c;
    y[3] = b + SPL(8.f) * e + m[5];
}

INLINE void grad_1d(const VF g[4], VF r[6]) {
    const VF p = g[0] + g[2], q = g[1] + g[3], p4 = g[0] + SPL(4.f) * g[2], q8 = SPL(2.f) * g[1] + SPL(8.f) * g[3];
    r[0] = g[0];
    r[1] = p + q;
    r[2] = p - q;
    r[3] = p4 + q8;
    r[4] = p4 - q8;
    r[5] = g[3];
}

/* V[xi][b][c] = (B^T d B)[xi] for the 6x6 input tile d of each tile b of the block, LANES channels at a time;
 * rows past `count` are zeros (they feed product rows nobody reads, and must not be NaN). Tiles wholly inside
 * the input load without a bounds check per pixel. */
static void input_transform(const float *x, const Shape *s, int C, int H, int W, long t0, int count, float *V) {
    const size_t plane = plane_size(C);
    for (int b = 0; b < count; b++) {
        int n, oy, ox;
        tile_origin(s, t0 + b, &n, &oy, &ox);
        const int y0 = oy - s->P, x0 = ox - s->P;
        const int inside = y0 >= 0 && x0 >= 0 && y0 + AL <= H && x0 + AL <= W;
        int row_ok[AL], col_ok[AL];
        for (int i = 0; i < AL; i++) {
            row_ok[i] = y0 + i >= 0 && y0 + i < H;
            col_ok[i] = x0 + i >= 0 && x0 + i < W;
        }
        const float *image = x + (size_t)n * H * W * C;
        for (int c = 0; c < C; c += LANES) {
            VF t[AL][AL]; /* t[j][i]: column combination j of input row i */
            for (int i = 0; i < AL; i++) {
                VF d[AL], r[AL];
                const float *row = image + ((ptrdiff_t)(y0 + i) * W + x0) * C + c;
                if (inside)
                    for (int j = 0; j < AL; j++) d[j] = LD(row + (size_t)j * C);
                else
                    for (int j = 0; j < AL; j++)
                        d[j] = row_ok[i] && col_ok[j] ? LD(row + (ptrdiff_t)j * C) : SPL(0.f);
                input_1d(d, r);
                for (int j = 0; j < AL; j++) t[j][i] = r[j];
            }
            float *out = V + (size_t)b * C + c;
            for (int j = 0; j < AL; j++) {
                VF r[AL];
                input_1d(t[j], r);
                for (int i = 0; i < AL; i++) ST(out + (size_t)(AL * i + j) * plane, r[i]);
            }
        }
    }
    for (int xi = 0; xi < NP; xi++)
        memset(V + xi * plane + (size_t)count * C, 0, sizeof(float) * (size_t)(BT - count) * C);
}

/* y (4x4 outputs, cropped at the edge of the computed ones) = A^T m A + bias for each tile of the block. */
static void output_transform(const float *M, const float *bias, const Shape *s, int C, int Ho, int Wo, long t0,
                             int count, float *y) {
    const size_t plane = plane_size(C);
    for (int b = 0; b < count; b++) {
        int n, oy, ox;
        tile_origin(s, t0 + b, &n, &oy, &ox);
        const int rows = s->Hc - oy < MT ? s->Hc - oy : MT, cols = s->Wc - ox < MT ? s->Wc - ox : MT;
        for (int c = 0; c < C; c += LANES) {
            const float *in = M + (size_t)b * C + c;
            VF r[MT][AL]; /* r[i][j]: row combination i of column j */
            for (int j = 0; j < AL; j++) {
                VF m[AL], o[MT];
                for (int i = 0; i < AL; i++) m[i] = LD(in + (size_t)(AL * i + j) * plane);
                output_1d(m, o);
                for (int i = 0; i < MT; i++) r[i][j] = o[i];
            }
            const VF bias_v = bias ? LD(bias + c) : SPL(0.f);
            for (int i = 0; i < rows; i++) {
                VF o[MT];
                output_1d(r[i], o);
                float *row = y + (((size_t)n * Ho + oy + i) * Wo + ox) * C + c;
                for (int j = 0; j < cols; j++) ST(row + (size_t)j * C, o[j] + bias_v);
            }
        }
    }
}


/* The same outputs, then 2x2 max-pool and ReLU: a 4x4 tile holds four whole pool windows (tiles start at
 * multiples of 4). Writes relu(max) to y (N, Ho/2, Wo/2, C) and which of the window's four outputs was the
 * maximum to choice (0..3 in reading order, the first of equal values, as PyTorch's max_pool2d). */
static void output_transform_pool_relu(const float *M, const float *bias, const Shape *s, int C, long t0,
                                       int count, float *y, int *choice) {
    const size_t plane = plane_size(C);
    const int Hp = s->Ho / 2, Wp = s->Wo / 2;
    for (int b = 0; b < count; b++) {
        int n, oy, ox;
        tile_origin(s, t0 + b, &n, &oy, &ox);
        for (int c = 0; c < C; c += LANES) {
            const float *in = M + (size_t)b * C + c;
            VF r[MT][AL], o[MT][MT];
            for (int j = 0; j < AL; j++) {
                VF m[AL], col[MT];
                for (int i = 0; i < AL; i++) m[i] = LD(in + (size_t)(AL * i + j) * plane);
                output_1d(m, col);
                for (int i = 0; i < MT; i++) r[i][j] = col[i];
            }
            const VF bias_v = bias ? LD(bias + c) : SPL(0.f);
            for (int i = 0; i < MT; i++) {
                output_1d(r[i], o[i]);
                for (int j = 0; j < MT; j++) o[i][j] += bias_v;
            }
            for (int wy = 0; wy < MT / 2; wy++)
                for (int wx = 0; wx < MT / 2; wx++) {
                    const int py = oy / 2 + wy, px = ox / 2 + wx;
                    if (py >= Hp || px >= Wp) continue;
                    VF best = o[2 * wy][2 * wx];
                    VI code = SPLI(0);
                    for (int k = 1; k < 4; k++) {
                        const VF v = o[2 * wy + k / 2][2 * wx + k % 2];
                        const VI greater = v > best;
                        best = SEL(greater, v, best);
                        code = (SPLI(k) & greater) | (code & ~greater);
                    }
                    const size_t at = (((size_t)n * Hp + py) * Wp + px) * C + c;
                    ST(y + at, SEL(best > SPL(0.f), best, SPL(0.f)));
                    memcpy(choice + at, &code, sizeof code);
                }
        }
    }
}

/* M[xi] (BT x Co) = V[xi] (BT x Ci) . U[xi] (Ci x Co): PROWS rows x 16 columns in registers at a time. */
static void block_products(const float *V, const float *U, float *M, int Ci, int Co) {
    for (int xi = 0; xi < NP; xi++) {
        const float *v = V + (size_t)xi * plane_size(Ci), *u = U + (size_t)xi * Ci * Co;
        float *m = M + (size_t)xi * plane_size(Co);
        for (int co = 0; co < Co; co += 16)
            for (int b = 0; b < BT; b += PROWS) {
                VF acc[PROWS][PV];
                for (int r = 0; r < PROWS; r++)
                    for (int j = 0; j < PV; j++) acc[r][j] = SPL(0.f);
                for (int ci = 0; ci < Ci; ci++) {
                    VF w[PV];
                    for (int j = 0; j < PV; j++) w[j] = LD(u + (size_t)ci * Co + co + j * LANES);
                    for (int r = 0; r < PROWS; r++) {
                        const VF a = SPL(v[(size_t)(b + r) * Ci + ci]);
                        for (int j = 0; j < PV; j++) acc[r][j] += a * w[j];
                    }
                }
                for (int r = 0; r < PROWS; r++)
                    for (int j = 0; j < PV; j++) ST(m + (size_t)(b + r) * Co + co + j * LANES, acc[r][j]);
            }
    }
}

static const float G[AL][3] = {
    {1.f / 4, 0.f, 0.f}, {-1.f / 6, -1.f / 6, -1.f / 6}, {-1.f / 6, 1.f / 6, -1.f / 6},
    {1.f / 24, 1.f / 12, 1.f / 6}, {1.f / 24, -1.f / 12, 1.f / 6}, {0.f, 0.f, 1.f},
};

/* G k for three filter taps k: G's zeros and shared sums spelled out (the full product is 3x the work). */
INLINE void filter_1d(const float k[3], float out[AL]) {
    const float sixth = 1.f / 6, even = k[0] + k[2], quarter = 0.25f * k[0] + k[2];
    out[0] = 0.25f * k[0];
    out[1] = -sixth * (even + k[1]);
    out[2] = -sixth * (even - k[1]);
    out[3] = sixth * (quarter + 0.5f * k[1]);
    out[4] = sixth * (quarter - 0.5f * k[1]);
    out[5] = k[2];
}

/* U[xi][a][b] = (G g G^T)[xi]: for the forward pass (transposed = 0) a = ci, b = co and g = w[co][ci]; for the
 * input gradient (transposed = 1) a = co, b = ci and g = w[co][ci] turned by 180 degrees. */
void winograd_filter(const float *w, float *U, int Ci, int Co, int transposed) {
    const int A = transposed ? Co : Ci, B = transposed ? Ci : Co;
#pragma omp parallel for schedule(static) if (A * B >= 1024)  /* once or twice a batch: over the team too */
    for (int a = 0; a < A; a++)
        for (int b0 = 0; b0 < B; b0 += 256) {
            float row[NP][256]; /* one a's values for every point, copied out whole: the NP blocks are a multiple
                                 * of 4 KiB apart, and writing them a float at a time would keep evicting one L1 set */
            const int width = B - b0 < 256 ? B - b0 : 256;
            for (int b = b0; b < b0 + width; b++) {
                const int co = transposed ? a : b, ci = transposed ? b : a;
                const float *g = w + ((size_t)co * Ci + ci) * 9;
                float k[3][3], t[3][AL], column[3], r[AL];
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++) k[i][j] = transposed ? g[(2 - i) * 3 + (2 - j)] : g[i * 3 + j];
                for (int j = 0; j < 3; j++) { /* t[j] = G times column j of k */
                    for (int i = 0; i < 3; i++) column[i] = k[i][j];
                    filter_1d(column, t[j]);
                }
                for (int i = 0; i < AL; i++) {
                    filter_1d((const float[3]){t[0][i], t[1][i], t[2][i]}, r);
                    for (int j = 0; j < AL; j++) row[AL * i + j][b - b0] = r[j];
                }
            }
            for (int xi = 0; xi < NP; xi++)
                memcpy(U + (size_t)xi * A * B + (size_t)a * B + b0, row[xi], sizeof(float) * width);
        }
}

static float *scratch(size_t floats) { return aligned_alloc(64, ((floats * sizeof(float) + 63) / 64) * 64); }

static int forward_driver(const float *x, const float *U, const float *bias, float *y, int *choice, int N, int H,
                          int W, int Ci, int Co, int P, int rows, int cols, int threads) {
    if (Ci % 16 || Co % 16 || N < 0 || P < 0 || P > 2 || H + 2 * P < 3 || W + 2 * P < 3) return -1;
    const int Ho = H + 2 * P - 2, Wo = W + 2 * P - 2;
    if (rows < 1 || rows > Ho || cols < 1 || cols > Wo || (choice && (rows != Ho || cols != Wo))) return -1;
    const Shape s = shape_of(N, H, W, Ci, Co, P, rows, cols);
    if (rows < Ho || cols < Wo)  /* outputs past the computed ones are zeros */
        for (int n = 0; n < N; n++)
            for (int r = 0; r < Ho; r++) {
                const int from = r < rows ? cols : 0;
                memset(y + (((size_t)n * Ho + r) * Wo + from) * Co, 0, sizeof(float) * (size_t)(Wo - from) * Co);
            }
    const long blocks = (s.T + BT - 1) / BT;
    int failed = 0;
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
    {
        float *V = scratch(NP * plane_size(Ci)), *M = scratch(NP * plane_size(Co));
        if (!V || !M) {
#pragma omp atomic write
            failed = 1;
        }
        /* dynamic: a core the VM takes away for a moment does not hold the other at the end */
#pragma omp for schedule(dynamic, 1)
        for (long k = 0; k < blocks; k++) {
            if (failed) continue;
            const long t0 = k * BT;
            const int count = (int)(s.T - t0 < BT ? s.T - t0 : BT);
            input_transform(x, &s, Ci, H, W, t0, count, V);
            block_products(V, U, M, Ci, Co);
            if (choice)
                output_transform_pool_relu(M, bias, &s, Co, t0, count, y, choice);
            else
                output_transform(M, bias, &s, Co, s.Ho, s.Wo, t0, count, y);
        }
        free(V);
        free(M);
    }
    return failed ? -2 : 0;
}

/* y = conv(x, w) + bias (bias may be NULL) with U from winograd_filter, computed for the first `rows` x `cols`
 * outputs and zeros past them (the caller knows they are: an input gradient where the pool dropped the output
 * gradient's last row and column). Returns 0, or < 0 when refused. */
int winograd_forward(const float *x, const float *U, const float *bias, float *y, int N, int H, int W, int Ci,
                     int Co, int P, int rows, int cols, int threads) {
    return forward_driver(x, U, bias, y, NULL, N, H, W, Ci, Co, P, rows, cols, threads);
}

/* y = relu(max_pool_2x2(conv(x, w) + bias)), (N, Ho/2, Wo/2, Co), and each pooled value's choice (see
 * output_transform_pool_relu), without writing the convolution's own output. */
int winograd_forward_pool_relu(const float *x, const float *U, const float *bias, float *y, int *choice, int N,
                               int H, int W, int Ci, int Co, int P, int threads) {
    if (H + 2 * P - 2 < 2 || W + 2 * P - 2 < 2 || !choice) return -1;  /* no whole pool window: nothing to pool */
    return forward_driver(x, U, bias, y, choice, N, H, W, Ci, Co, P, H + 2 * P - 2, W + 2 * P - 2, threads);
}

/* The convolution's output gradient g (N, Ho, Wo, C) from the pooled output's gradient gp (N, Ho/2, Wo/2, C):
 * each gradient goes to the window's chosen output where the pooled value passed the ReLU, zeros elsewhere.
 * Every output of a window is written (the gradient or a zero), LANES channels at a time, and only an odd
 * output's last row and column are zeroed apart. C is a multiple of 16, as in every Winograd layer. */
int pool_relu_backward(const float *gp, const float *y, const int *choice, float *g, int N, int Ho, int Wo, int C,
                       int threads) {
    if (C % 16 || N < 0 || Ho < 0 || Wo < 0) return -1;
    const int Hp = Ho / 2, Wp = Wo / 2;
#pragma omp parallel for num_threads(threads > 0 ? threads : 1) schedule(static)
    for (int n = 0; n < N; n++) {
        float *image = g + (size_t)n * Ho * Wo * C;
        for (int py = 0; py < Hp; py++) {
            for (int px = 0; px < Wp; px++) {
                const size_t at = (((size_t)n * Hp + py) * Wp + px) * C;
                for (int c = 0; c < C; c += LANES) {
                    const VF grad = LD(gp + at + c);
                    const VI passed = LD(y + at + c) > SPL(0.f), code = LDI(choice + at + c);
                    for (int k = 0; k < 4; k++)
                        ST(image + ((size_t)(2 * py + k / 2) * Wo + 2 * px + k % 2) * C + c,
                           SEL(passed & (code == SPLI(k)), grad, SPL(0.f)));
                }
            }
            if (Wo % 2)
                for (int row = 2 * py; row < 2 * py + 2; row++)
                    memset(image + ((size_t)row * Wo + Wo - 1) * C, 0, sizeof(float) * C);
        }
        for (int row = 2 * Hp; row < Ho; row++) memset(image + (size_t)row * Wo * C, 0, sizeof(float) * Wo * C);
    }
    return 0;
}

/* Gt[xi][b][c] = (A g A^T)[xi] for the 4x4 output-gradient block g of each tile (zeros past the edge), and
 * the block's share of the bias gradient. */
static void grad_transform(const float *g, const Shape *s, int C, long t0, int count, float *Gt, float *db) {
    const size_t plane = plane_size(C);
    for (int b = 0; b < count; b++) {
        int n, oy, ox;
        tile_origin(s, t0 + b, &n, &oy, &ox);
        const int rows = s->Ho - oy < MT ? s->Ho - oy : MT, cols = s->Wo - ox < MT ? s->Wo - ox : MT;
        for (int c = 0; c < C; c += LANES) {
            VF t[AL][MT], sum = LD(db + c); /* t[j][i]: combination j of output-gradient row i */
            for (int i = 0; i < MT; i++) {
                VF d[MT], r[AL];
                const float *row = g + (((size_t)n * s->Ho + oy + i) * s->Wo + ox) * C + c;
                for (int j = 0; j < MT; j++) {
                    d[j] = i < rows && j < cols ? LD(row + (size_t)j * C) : SPL(0.f);
                    sum += d[j];
                }
                grad_1d(d, r);
                for (int j = 0; j < AL; j++) t[j][i] = r[j];
            }
            ST(db + c, sum);
            float *out = Gt + (size_t)b * C + c;
            for (int j = 0; j < AL; j++) {
                VF r[AL];
                grad_1d(t[j], r);
                for (int i = 0; i < AL; i++) ST(out + (size_t)(AL * i + j) * plane, r[i]);
            }
        }
    }
    for (int xi = 0; xi < NP; xi++)
        memset(Gt + xi * plane + (size_t)count * C, 0, sizeof(float) * (size_t)(BT - count) * C);
}

/* S[xi] (Ci x Co) += V[xi]^T (Ci x BT) . Gt[xi] (BT x Co): SROWS rows x 16 columns of S in registers at a time. */
static void block_weight_sums(const float *V, const float *Gt, float *S, int Ci, int Co) {
    for (int xi = 0; xi < NP; xi++) {
        const float *v = V + (size_t)xi * plane_size(Ci), *gt = Gt + (size_t)xi * plane_size(Co);
        float *sum = S + (size_t)xi * Ci * Co;
        for (int ci = 0; ci < Ci; ci += SROWS)
            for (int co = 0; co < Co; co += 16) {
                VF acc[SROWS][PV];
                for (int r = 0; r < SROWS; r++)
                    for (int j = 0; j < PV; j++) acc[r][j] = LD(sum + (size_t)(ci + r) * Co + co + j * LANES);
                for (int b = 0; b < BT; b++) {
                    VF g[PV];
                    for (int j = 0; j < PV; j++) g[j] = LD(gt + (size_t)b * Co + co + j * LANES);
                    for (int r = 0; r < SROWS; r++) {
                        const VF a = SPL(v[(size_t)b * Ci + ci + r]);
                        for (int j = 0; j < PV; j++) acc[r][j] += a * g[j];
                    }
                }
                for (int r = 0; r < SROWS; r++)
                    for (int j = 0; j < PV; j++) ST(sum + (size_t)(ci + r) * Co + co + j * LANES, acc[r][j]);
            }
    }
}

/* dw (Co, Ci, 3, 3) and db (Co) of y = conv(x, w) + b, from x and the output gradient g (N, Ho, Wo, Co). */
int winograd_weight_grad(const float *x, const float *g, float *dw, float *db, int N, int H, int W, int Ci, int Co,
                         int P, int threads) {
    if (Ci % 16 || Co % 16 || N < 0 || P < 0 || P > 2 || H + 2 * P < 3 || W + 2 * P < 3) return -1;
    const Shape s = shape_of(N, H, W, Ci, Co, P, H + 2 * P - 2, W + 2 * P - 2);
    const long blocks = (s.T + BT - 1) / BT;
    if (threads > 64) threads = 64;
    if (threads < 1) threads = 1;
    const size_t sums_size = (size_t)NP * Ci * Co + Co;  /* each thread's S, then its bias sums */
    float *sums[64] = {0};
    int failed = 0;
    for (int t = 0; t < threads; t++)
        if (!(sums[t] = calloc(sums_size, sizeof(float)))) failed = 1;
    if (!failed) {
        /* fixed blocks per thread, summed in thread order: the result does not depend on timing */
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (int t = 0; t < threads; t++) {
            float *V = scratch(NP * plane_size(Ci)), *Gt = scratch(NP * plane_size(Co));
            if (!V || !Gt) {
#pragma omp atomic write
                failed = 1;
            } else {
                const long k0 = blocks * t / threads, k1 = blocks * (t + 1) / threads;
                for (long k = k0; k < k1; k++) {
                    const long t0 = k * BT;
                    const int count = (int)(s.T - t0 < BT ? s.T - t0 : BT);
                    input_transform(x, &s, Ci, H, W, t0, count, V);
                    grad_transform(g, &s, Co, t0, count, Gt, sums[t] + (size_t)NP * Ci * Co);
                    block_weight_sums(V, Gt, sums[t], Ci, Co);
                }
            }
            free(V);
            free(Gt);
        }
    }
    if (!failed) {
        float *S = sums[0];
        for (int t = 1; t < threads; t++)
            for (size_t i = 0; i < sums_size; i++) S[i] += sums[t][i];
        for (int co = 0; co < Co; co++) db[co] = S[(size_t)NP * Ci * Co + co];
        float (*column)[AL][AL] = malloc(sizeof(float) * AL * AL * Co);
        if (!column) failed = 1;
        for (int ci = 0; ci < Ci && column; ci++) {
            /* one input channel's sums for every point, read a row at a time: the NP blocks are a multiple of
             * 4 KiB apart, and gathering them a float at a time would keep evicting one L1 set */
            for (int xi = 0; xi < NP; xi++)
                for (int co = 0; co < Co; co++) column[co][xi / AL][xi % AL] = S[((size_t)xi * Ci + ci) * Co + co];
            for (int co = 0; co < Co; co++) {
                float (*m)[AL] = column[co], t[3][AL];
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < AL; j++) {
                        float acc = 0.f;
                        for (int k = 0; k < AL; k++) acc += G[k][i] * m[k][j];
                        t[i][j] = acc;
                    }
                float *out = dw + ((size_t)co * Ci + ci) * 9;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++) {
                        float acc = 0.f;
                        for (int k = 0; k < AL; k++) acc += t[i][k] * G[k][j];
                        out[i * 3 + j] = acc;
                    }
            }
        }
        free(column);
    }
    for (int t = 0; t < threads; t++) free(sums[t]);
    return failed ? -2 : 0;
}
