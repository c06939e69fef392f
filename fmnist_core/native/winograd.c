/* 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2015), channels-last.
 * A 2x2 block of outputs costs 16 multiplications per input/output channel pair instead of 36: the input's 4x4
 * tile and the filter are each transformed, multiplied point by point (16 small matrix products over the
 * channels), and the product is transformed back. A direct convolution of the seed CNN's second layer sits near
 * what these cores do (oneDNN, about 115 GFLOP/s); this does the same with 2.25x fewer multiplications.
 *
 *   forward:          y = conv(x, w) + b            winograd_forward with U = winograd_filter(w, 0)
 *   input gradient:   dx = conv(pad(dy, 2 - P), rot180(w) with channels swapped)
 *                                                   winograd_forward with U = winograd_filter(w, 1)
 *   weight gradient:  dw = G^T [sum over tiles of (B^T x B) * (A dy A^T)] G, db = sum of dy
 *                                                   winograd_weight_grad
 * x (N, H, W, Ci), y (N, Ho, Wo, Co) with Ho = H + 2P - 2; w (Co, Ci, 3, 3) as PyTorch holds it; U (16, Ci, Co).
 * Work goes in blocks of BT tiles that stay in L2: transform the block's inputs, 16 products against U, transform
 * back. Channel counts are multiples of 16 (one product tile is 6 rows x 2 vectors of 8). Every output is
 * written by one block, and the weight gradient sums fixed blocks per thread in thread order, so the same
 * thread count gives the same result. Built and loaded by native/__init__.py, like first_stage.c. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef float v8f __attribute__((vector_size(32)));
#define INLINE static inline __attribute__((always_inline))
#define BT 48 /* tiles per block: a multiple of the product tile's 6 rows */

/* One transformed point's BT x C block, padded by a cache line: with 16 blocks a multiple of 4 KiB apart,
 * the 16 streams a transform writes would share a few L1 sets and evict each other. */
INLINE size_t plane_size(int C) { return (size_t)BT * C + 16; }

INLINE v8f load8(const float *p) { v8f v; memcpy(&v, p, sizeof v); return v; }
INLINE void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }
INLINE v8f splat(float f) { return (v8f){f, f, f, f, f, f, f, f}; }

typedef struct { int N, H, W, Ci, Co, P, Ho, Wo, TH, TW; long T; } Shape;

static Shape shape_of(int N, int H, int W, int Ci, int Co, int P) {
    Shape s = {N, H, W, Ci, Co, P, H + 2 * P - 2, W + 2 * P - 2, 0, 0, 0};
    s.TH = (s.Ho + 1) / 2;
    s.TW = (s.Wo + 1) / 2;
    s.T = (long)N * s.TH * s.TW;
    return s;
}

/* Where tile t starts in the input (top-left, may be negative or past the edge: those pixels are zeros). */
INLINE void tile_origin(const Shape *s, long t, int *n, int *ty, int *tx) {
    const long per_image = (long)s->TH * s->TW, r = t % per_image;
    *n = (int)(t / per_image);
    *ty = (int)(r / s->TW) * 2;
    *tx = (int)(r % s->TW) * 2;
}

/* V[xi][b][c] = (B^T d B)[xi] for the 4x4 input tile d of each tile b of the block, 8 channels at a time;
 * rows past `count` are zeros (they feed product rows nobody reads, and must not be NaN). Tiles wholly inside
 * the input (most of them) load without a bounds check per pixel. */
static void input_transform(const float *x, const Shape *s, int C, int H, int W, long t0, int count, float *V) {
    const size_t plane = plane_size(C);
    for (int b = 0; b < count; b++) {
        int n, oy, ox;
        tile_origin(s, t0 + b, &n, &oy, &ox);
        const int y0 = oy - s->P, x0 = ox - s->P;
        const int inside = y0 >= 0 && x0 >= 0 && y0 + 4 <= H && x0 + 4 <= W;
        int row_ok[4], col_ok[4];
        for (int i = 0; i < 4; i++) {
            row_ok[i] = y0 + i >= 0 && y0 + i < H;
            col_ok[i] = x0 + i >= 0 && x0 + i < W;
        }
        const float *image = x + (size_t)n * H * W * C;
        for (int c = 0; c < C; c += 8) {
            v8f t[4][4]; /* t = d B: each input row's four column combinations */
            for (int i = 0; i < 4; i++) {
                v8f d[4];
                const float *row = image + ((ptrdiff_t)(y0 + i) * W + x0) * C + c;
                if (inside)
                    for (int j = 0; j < 4; j++) d[j] = load8(row + (size_t)j * C);
                else
                    for (int j = 0; j < 4; j++)
                        d[j] = row_ok[i] && col_ok[j] ? load8(row + (ptrdiff_t)j * C) : splat(0.f);
                t[i][0] = d[0] - d[2];
                t[i][1] = d[1] + d[2];
                t[i][2] = d[2] - d[1];
                t[i][3] = d[1] - d[3];
            }
            float *out = V + (size_t)b * C + c;
            for (int j = 0; j < 4; j++) {
                store8(out + (size_t)(0 + j) * plane, t[0][j] - t[2][j]);
                store8(out + (size_t)(4 + j) * plane, t[1][j] + t[2][j]);
                store8(out + (size_t)(8 + j) * plane, t[2][j] - t[1][j]);
                store8(out + (size_t)(12 + j) * plane, t[1][j] - t[3][j]);
            }
        }
    }
    for (int xi = 0; xi < 16; xi++)
        memset(V + xi * plane + (size_t)count * C, 0, sizeof(float) * (size_t)(BT - count) * C);
}

/* y (2x2 outputs, cropped at the edge) = A^T m A + bias for each tile of the block. */
static void output_transform(const float *M, const float *bias, const Shape *s, int C, int Ho, int Wo, long t0,
                             int count, float *y) {
    const size_t plane = plane_size(C);
    for (int b = 0; b < count; b++) {
        int n, oy, ox;
        tile_origin(s, t0 + b, &n, &oy, &ox);
        for (int c = 0; c < C; c += 8) {
            const float *in = M + (size_t)b * C + c;
            v8f m[4][4], r[2][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) m[i][j] = load8(in + (size_t)(4 * i + j) * plane);
            for (int j = 0; j < 4; j++) {
                r[0][j] = m[0][j] + m[1][j] + m[2][j];
                r[1][j] = m[1][j] - m[2][j] - m[3][j];
            }
            const v8f b8 = bias ? load8(bias + c) : splat(0.f);
            for (int i = 0; i < 2 && oy + i < Ho; i++) {
                float *row = y + (((size_t)n * Ho + oy + i) * Wo + ox) * C + c;
                store8(row, r[i][0] + r[i][1] + r[i][2] + b8);
                if (ox + 1 < Wo) store8(row + C, r[i][1] - r[i][2] - r[i][3] + b8);
            }
        }
    }
}

/* M[xi] (BT x Co) = V[xi] (BT x Ci) . U[xi] (Ci x Co): 6 rows x 16 columns in registers at a time. */
static void block_products(const float *V, const float *U, float *M, int Ci, int Co) {
    for (int xi = 0; xi < 16; xi++) {
        const float *v = V + (size_t)xi * plane_size(Ci), *u = U + (size_t)xi * Ci * Co;
        float *m = M + (size_t)xi * plane_size(Co);
        for (int co = 0; co < Co; co += 16)
            for (int b = 0; b < BT; b += 6) {
                v8f acc[6][2];
                for (int r = 0; r < 6; r++) acc[r][0] = acc[r][1] = splat(0.f);
                for (int ci = 0; ci < Ci; ci++) {
                    const v8f u0 = load8(u + (size_t)ci * Co + co), u1 = load8(u + (size_t)ci * Co + co + 8);
                    for (int r = 0; r < 6; r++) {
                        const v8f a = splat(v[(size_t)(b + r) * Ci + ci]);
                        acc[r][0] += a * u0;
                        acc[r][1] += a * u1;
                    }
                }
                for (int r = 0; r < 6; r++) {
                    store8(m + (size_t)(b + r) * Co + co, acc[r][0]);
                    store8(m + (size_t)(b + r) * Co + co + 8, acc[r][1]);
                }
            }
    }
}

static const float G[4][3] = {{1.f, 0.f, 0.f}, {.5f, .5f, .5f}, {.5f, -.5f, .5f}, {0.f, 0.f, 1.f}};

/* U[xi][a][b] = (G g G^T)[xi]: for the forward pass (transposed = 0) a = ci, b = co and g = w[co][ci]; for the
 * input gradient (transposed = 1) a = co, b = ci and g = w[co][ci] turned by 180 degrees. */
void winograd_filter(const float *w, float *U, int Ci, int Co, int transposed) {
    for (int co = 0; co < Co; co++)
        for (int ci = 0; ci < Ci; ci++) {
            const float *g = w + ((size_t)co * Ci + ci) * 9;
            float k[3][3], t[4][3];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) k[i][j] = transposed ? g[(2 - i) * 3 + (2 - j)] : g[i * 3 + j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 3; j++) t[i][j] = G[i][0] * k[0][j] + G[i][1] * k[1][j] + G[i][2] * k[2][j];
            const size_t at = transposed ? (size_t)co * Ci + ci : (size_t)ci * Co + co;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    U[(size_t)(4 * i + j) * Ci * Co + at] = t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
        }
}

static float *scratch(size_t floats) { return aligned_alloc(64, ((floats * sizeof(float) + 63) / 64) * 64); }

/* y = conv(x, w) + bias (bias may be NULL) with U from winograd_filter. Returns 0, or < 0 when refused. */
int winograd_forward(const float *x, const float *U, const float *bias, float *y, int N, int H, int W, int Ci,
                     int Co, int P, int threads) {
    if (Ci % 16 || Co % 16 || N < 0 || P < 0 || P > 2 || H + 2 * P < 3 || W + 2 * P < 3) return -1;
    const Shape s = shape_of(N, H, W, Ci, Co, P);
    const long blocks = (s.T + BT - 1) / BT;
    int failed = 0;
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
    {
        float *V = scratch(16 * plane_size(Ci)), *M = scratch(16 * plane_size(Co));
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
            output_transform(M, bias, &s, Co, s.Ho, s.Wo, t0, count, y);
        }
        free(V);
        free(M);
    }
    return failed ? -2 : 0;
}

/* Gt[xi][b][c] = (A g A^T)[xi] for the 2x2 output-gradient block g of each tile (zeros past the edge), and
 * the block's share of the bias gradient. */
static void grad_transform(const float *g, const Shape *s, int C, long t0, int count, float *Gt, float *db) {
    const size_t plane = plane_size(C);
    for (int b = 0; b < count; b++) {
        int n, oy, ox;
        tile_origin(s, t0 + b, &n, &oy, &ox);
        for (int c = 0; c < C; c += 8) {
            v8f d[2][2], r[4][2];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                    d[i][j] = (oy + i < s->Ho && ox + j < s->Wo)
                                  ? load8(g + (((size_t)n * s->Ho + oy + i) * s->Wo + ox + j) * C + c) : splat(0.f);
            store8(db + c, load8(db + c) + d[0][0] + d[0][1] + d[1][0] + d[1][1]);
            for (int j = 0; j < 2; j++) {
                r[0][j] = d[0][j];
                r[1][j] = d[0][j] + d[1][j];
                r[2][j] = d[0][j] - d[1][j];
                r[3][j] = -d[1][j];
            }
            float *out = Gt + (size_t)b * C + c;
            for (int i = 0; i < 4; i++) {
                store8(out + (size_t)(4 * i + 0) * plane, r[i][0]);
                store8(out + (size_t)(4 * i + 1) * plane, r[i][0] + r[i][1]);
                store8(out + (size_t)(4 * i + 2) * plane, r[i][0] - r[i][1]);
                store8(out + (size_t)(4 * i + 3) * plane, -r[i][1]);
            }
        }
    }
    for (int xi = 0; xi < 16; xi++)
        memset(Gt + xi * plane + (size_t)count * C, 0, sizeof(float) * (size_t)(BT - count) * C);
}

/* S[xi] (Ci x Co) += V[xi]^T (Ci x BT) . Gt[xi] (BT x Co): 4 rows x 16 columns of S in registers at a time. */
static void block_weight_sums(const float *V, const float *Gt, float *S, int Ci, int Co) {
    for (int xi = 0; xi < 16; xi++) {
        const float *v = V + (size_t)xi * plane_size(Ci), *gt = Gt + (size_t)xi * plane_size(Co);
        float *sum = S + (size_t)xi * Ci * Co;
        for (int ci = 0; ci < Ci; ci += 4)
            for (int co = 0; co < Co; co += 16) {
                v8f acc[4][2];
                for (int r = 0; r < 4; r++) {
                    acc[r][0] = load8(sum + (size_t)(ci + r) * Co + co);
                    acc[r][1] = load8(sum + (size_t)(ci + r) * Co + co + 8);
                }
                for (int b = 0; b < BT; b++) {
                    const v8f g0 = load8(gt + (size_t)b * Co + co), g1 = load8(gt + (size_t)b * Co + co + 8);
                    for (int r = 0; r < 4; r++) {
                        const v8f a = splat(v[(size_t)b * Ci + ci + r]);
                        acc[r][0] += a * g0;
                        acc[r][1] += a * g1;
                    }
                }
                for (int r = 0; r < 4; r++) {
                    store8(sum + (size_t)(ci + r) * Co + co, acc[r][0]);
                    store8(sum + (size_t)(ci + r) * Co + co + 8, acc[r][1]);
                }
            }
    }
}

/* dw (Co, Ci, 3, 3) and db (Co) of y = conv(x, w) + b, from x and the output gradient g (N, Ho, Wo, Co). */
int winograd_weight_grad(const float *x, const float *g, float *dw, float *db, int N, int H, int W, int Ci, int Co,
                         int P, int threads) {
    if (Ci % 16 || Co % 16 || N < 0 || P < 0 || P > 2 || H + 2 * P < 3 || W + 2 * P < 3) return -1;
    const Shape s = shape_of(N, H, W, Ci, Co, P);
    const long blocks = (s.T + BT - 1) / BT;
    if (threads > 64) threads = 64;
    if (threads < 1) threads = 1;
    const size_t sums_size = (size_t)16 * Ci * Co + Co;  /* each thread's S, then its bias sums */
    float *sums[64] = {0};
    int failed = 0;
    for (int t = 0; t < threads; t++)
        if (!(sums[t] = calloc(sums_size, sizeof(float)))) failed = 1;
    if (!failed) {
        /* fixed blocks per thread, summed in thread order: the result does not depend on timing */
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (int t = 0; t < threads; t++) {
            float *V = scratch(16 * plane_size(Ci)), *Gt = scratch(16 * plane_size(Co));
            if (!V || !Gt) {
#pragma omp atomic write
                failed = 1;
            } else {
                const long k0 = blocks * t / threads, k1 = blocks * (t + 1) / threads;
                for (long k = k0; k < k1; k++) {
                    const long t0 = k * BT;
                    const int count = (int)(s.T - t0 < BT ? s.T - t0 : BT);
                    input_transform(x, &s, Ci, H, W, t0, count, V);
                    grad_transform(g, &s, Co, t0, count, Gt, sums[t] + (size_t)16 * Ci * Co);
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
        for (int co = 0; co < Co; co++) {
            db[co] = S[(size_t)16 * Ci * Co + co];
            for (int ci = 0; ci < Ci; ci++) {
                float m[4][4], t[3][4];
                for (int xi = 0; xi < 16; xi++) m[xi / 4][xi % 4] = S[((size_t)xi * Ci + ci) * Co + co];
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 4; j++)
                        t[i][j] = G[0][i] * m[0][j] + G[1][i] * m[1][j] + G[2][i] * m[2][j] + G[3][i] * m[3][j];
                float *out = dw + ((size_t)co * Ci + ci) * 9;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        out[i * 3 + j] = t[i][0] * G[0][j] + t[i][1] * G[1][j] + t[i][2] * G[2][j] + t[i][3] * G[3][j];
            }
        }
    }
    for (int t = 0; t < threads; t++) free(sums[t]);
    return failed ? -2 : 0;
}
