/* The first stage's forward and backward bodies for one vector width, included by first_stage.c once per
 * width it builds with LANES defined: VF, LD, SPL and the other width-generic names of simd.h, and BODY(name)
 * naming a body for this width. */
/* The bodies take K and pool as arguments so that the compiler, given constants, unrolls the taps and keeps
 * the pool window's accumulators (forward) or the K*K weight-gradient sums (backward) in registers. */
INLINE void BODY(forward)(const Work *w, float *xp, const int K, const int pool) {
    const int H = w->H, W = w->W, C = w->C, P = w->P, S = pool * pool;
    const int Wpad = W + 2 * P, Hp = (H + 2 * P - K + 1) / pool, Wq = (W + 2 * P - K + 1) / pool;
    for (int n = w->n0; n < w->n1; n++) {
        pad_image(w->x + (size_t)n * H * W, xp, H, W, P);
        for (int cb = 0; cb < C; cb += LANES) {
            const VF bias = LD(w->b + cb);
            for (int py = 0; py < Hp; py++) for (int px = 0; px < Wq; px++) {
                const float *corner = xp + (size_t)py * pool * Wpad + px * pool;
                VF acc[MAX_POOL * MAX_POOL] = {0}; /* S >= 1; zeroed only to say so to the compiler */
                for (int s = 0; s < S; s++) acc[s] = bias;
                for (int ky = 0; ky < K; ky++) for (int kx = 0; kx < K; kx++) {
                    const VF wk = LD(w->wt + (size_t)(ky * K + kx) * C + cb);
                    for (int s = 0; s < S; s++) acc[s] += SPL(corner[(s / pool + ky) * Wpad + s % pool + kx]) * wk;
                }
                VF best = acc[0];
                VI which = SPLI(0);
                for (int s = 1; s < S; s++) {  /* strictly greater: the first maximum wins, as in PyTorch */
                    const VI better = acc[s] > best;
                    best = SEL(better, acc[s], best);
                    which = SELI(better, SPLI(s), which);
                }
                const size_t at = (((size_t)n * Hp + py) * Wq + px) * C + cb;
                ST(w->y + at, SEL(best > SPL(0.f), best, SPL(0.f)));
                STI(w->arg + at, which);
            }
        }
    }
}

INLINE void BODY(backward)(const Work *w, float *xp, const int K, const int pool) {
    const int H = w->H, W = w->W, C = w->C, P = w->P, S = pool * pool, KK = K * K;
    const int Wpad = W + 2 * P, Hp = (H + 2 * P - K + 1) / pool, Wq = (W + 2 * P - K + 1) / pool;
    for (int n = w->n0; n < w->n1; n++) {
        pad_image(w->x + (size_t)n * H * W, xp, H, W, P);
        for (int cb = 0; cb < C; cb += LANES) {
            VF dw[MAX_K * MAX_K];
            for (int k = 0; k < KK; k++) dw[k] = LD(w->acc + (size_t)k * C + cb);
            VF db = LD(w->acc + (size_t)KK * C + cb);
            for (int py = 0; py < Hp; py++) for (int px = 0; px < Wq; px++) {
                const size_t at = (((size_t)n * Hp + py) * Wq + px) * C + cb;
                const VF g = SEL(LD(w->y_in + at) > SPL(0.f), LD(w->g + at), SPL(0.f)); /* ReLU */
                const VI which = LDI(w->arg_in + at);
                const float *corner = xp + (size_t)py * pool * Wpad + px * pool;
                db += g;
                for (int s = 0; s < S; s++) {
                    const VF m = SEL(which == SPLI(s), g, SPL(0.f)); /* max-pool routes to one tap */
                    for (int ky = 0; ky < K; ky++) for (int kx = 0; kx < K; kx++)
                        dw[ky * K + kx] += SPL(corner[(s / pool + ky) * Wpad + s % pool + kx]) * m;
                }
            }
            for (int k = 0; k < KK; k++) ST(w->acc + (size_t)k * C + cb, dw[k]);
            ST(w->acc + (size_t)KK * C + cb, db);
        }
    }
}

