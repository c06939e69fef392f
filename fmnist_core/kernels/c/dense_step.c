/* One chunk of an MLP training step in one call: take the images, forward through every layer, softmax
 * cross-entropy with label smoothing, and the gradients of every weight and bias, added into the caller's
 * buffers. A batch-32 MLP step is about 25 tiny PyTorch operators at 5-20 us each on this machine, more than
 * its arithmetic; here they are loops, and the three matrix products go to the BLAS sgemm PyTorch itself uses
 * (its address comes from Python). The same chunk is a CNN's head (dense_head_chunk): its input is the last
 * pooled map, as floats, and it also gives that map's gradient.
 *   layer l: a[l+1] = a[l] W_l^T + b_l, then ReLU except after the last layer (PyTorch's nn.Linear layout)
 *   loss   : mean over the chunk of -(1-e) log p_y - (e/K) sum_k log p_k
 *   grads  : d logits = (p - (1-e) onehot(y) - e/K) * grad_scale   (grad_scale = 1 / images in the batch)
 * Row-major float32. Built and loaded by kernels/build.py. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Sizes are passed as 64-bit integers: a BLAS built with 32-bit integers (LP64) reads their low half, one built with
 * 64-bit integers (ILP64) all of it, and on a little-endian machine both read the same number. Passing a 32-bit int
 * to an ILP64 sgemm would have it read 4 bytes past it. (bindings.checked_sgemm also tries one product first.) */
typedef long long blas_int;
typedef void (*sgemm_fn)(const char *transa, const char *transb, const blas_int *m, const blas_int *n,
                         const blas_int *k, const float *alpha, const float *a, const blas_int *lda, const float *b,
                         const blas_int *ldb, const float *beta, float *c, const blas_int *ldc);

enum { MAX_LAYERS = 8 };

/* Row-major y (B x O) = x (B x I) W^T, W (O x I); sgemm is column-major, so it computes y^T = W x^T. */
static void forward_product(sgemm_fn sgemm, const float *x, const float *w, float *y, int B, int I, int O) {
    const float one = 1.f, zero = 0.f;
    const blas_int b = B, i = I, o = O;
    sgemm("T", "N", &o, &b, &i, &one, w, &i, x, &i, &zero, y, &o);
}

/* dW (O x I) (+)= g^T (O x B) x (B x I). */
static void weight_product(sgemm_fn sgemm, const float *g, const float *x, float *dw, int B, int I, int O,
                           int accumulate) {
    const float one = 1.f, beta = accumulate ? 1.f : 0.f;
    const blas_int b = B, i = I, o = O;
    sgemm("N", "T", &i, &o, &b, &one, x, &i, g, &o, &beta, dw, &i);
}

/* dx (B x I) = g (B x O) W (O x I). */
static void input_product(sgemm_fn sgemm, const float *g, const float *w, float *dx, int B, int I, int O) {
    const float one = 1.f, zero = 0.f;
    const blas_int b = B, i = I, o = O;
    sgemm("N", "N", &i, &b, &o, &one, w, &i, g, &o, &zero, dx, &i);
}

/* x (B x pixels) = the images index[0..B) as floats in [0, 1], as the trainer's as_input makes them. */
void gather_images(const uint8_t *images, const int64_t *index, int B, int pixels, float *x) {
    enum { AHEAD = 4 };  /* images a shuffled batch reads are scattered over the data set: fetch ahead of use */
#pragma omp parallel for schedule(static) if (B >= 32)
    for (int b = 0; b < B; b++) {
        if (b + AHEAD < B) {
            const uint8_t *next = images + (size_t)index[b + AHEAD] * pixels;
            for (int i = 0; i < pixels; i += 64) __builtin_prefetch(next + i);
        }
        const uint8_t *from = images + (size_t)index[b] * pixels;
        for (int i = 0; i < pixels; i++) x[(size_t)b * pixels + i] = from[i] / 255.f;
    }
}

/* The layers' input is the images index[0..B) (widths[0] uint8 pixels each), or `features` (B x widths[0] floats)
 * where not NULL; with `feature_grad`, the loss's gradient by those features is written there. widths[layers]
 * classes. Returns 0, or < 0 for bad arguments (-2: out of memory). The chunk's summed loss is added to *loss_sum
 * and its right answers to *correct (the epoch's running sums, PyTorch scalars the trainer keeps). */
static int train_chunk(sgemm_fn sgemm, const uint8_t *images, const float *features, float *feature_grad,
                      const int64_t *labels, const int64_t *index, int B, int layers, const int *widths,
                      float *const *weights, float *const *biases, float *const *weight_grads,
                      float *const *bias_grads, float grad_scale, float smoothing, int accumulate, float *loss_sum,
                      int64_t *correct) {
    if (!sgemm || B < 1 || layers < 1 || layers > MAX_LAYERS || (!images && !features)) return -1;
    size_t offsets[MAX_LAYERS + 2], total = 0, widest = 0;
    for (int l = 0; l <= layers; l++) {
        if (widths[l] < 1) return -1;
        offsets[l] = total;
        total += (size_t)B * widths[l];
        if ((size_t)widths[l] > widest) widest = widths[l];
    }
    float *work = malloc((total + 2 * (size_t)B * widest) * sizeof(float));
    if (!work) return -2;
    float *grad = work + total, *grad_below = grad + (size_t)B * widest;

    const float *input = features ? features : work;  /* layer 0's input: the features, else the images */
    if (!features) gather_images(images, index, B, widths[0], work);
    for (int l = 0; l < layers; l++) {
        const int I = widths[l], O = widths[l + 1];
        float *y = work + offsets[l + 1];
        forward_product(sgemm, l == 0 ? input : work + offsets[l], weights[l], y, B, I, O);
        const int relu = l < layers - 1;
        for (int b = 0; b < B; b++)
            for (int o = 0; o < O; o++) {
                float v = y[(size_t)b * O + o] + biases[l][o];
                y[(size_t)b * O + o] = relu && v < 0.f ? 0.f : v;
            }
    }

    const int K = widths[layers];
    const float *logits = work + offsets[layers];
    double chunk_loss = 0.0;
    int64_t right = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        int best = 0;
        for (int k = 1; k < K; k++) if (z[k] > z[best]) best = k;  /* the first maximum, as torch.argmax */
        const int64_t y = labels[index[b]];
        right += best == y;
        double sum = 0.0, log_prob_sum = 0.0;
        for (int k = 0; k < K; k++) sum += exp((double)z[k] - z[best]);
        const double log_norm = z[best] + log(sum);
        for (int k = 0; k < K; k++) log_prob_sum += z[k] - log_norm;
        chunk_loss += -(1.0 - smoothing) * (z[y] - log_norm) - smoothing / K * log_prob_sum;
        for (int k = 0; k < K; k++) {
            const double target = (k == y ? 1.0 - smoothing : 0.0) + smoothing / K;
            grad[(size_t)b * K + k] = (float)((exp(z[k] - log_norm) - target) * grad_scale);
        }
    }
    *loss_sum += (float)chunk_loss;
    *correct += right;

    for (int l = layers - 1; l >= 0; l--) {
        const int I = widths[l], O = widths[l + 1];
        const float *below = l == 0 ? input : work + offsets[l];
        weight_product(sgemm, grad, below, weight_grads[l], B, I, O, accumulate);
        for (int o = 0; o < O; o++) {
            float sum = 0.f;
            for (int b = 0; b < B; b++) sum += grad[(size_t)b * O + o];
            bias_grads[l][o] = accumulate ? bias_grads[l][o] + sum : sum;
        }
        if (l == 0) {
            if (feature_grad) input_product(sgemm, grad, weights[0], feature_grad, B, I, O);
            break;
        }
        input_product(sgemm, grad, weights[l], grad_below, B, I, O);
        for (size_t e = 0; e < (size_t)B * I; e++) if (below[e] <= 0.f) grad_below[e] = 0.f;  /* ReLU's mask */
        float *swap = grad; grad = grad_below; grad_below = swap;
    }
    free(work);
    return 0;
}

int dense_train_chunk(sgemm_fn sgemm, const uint8_t *images, const int64_t *labels, const int64_t *index, int B,
                      int layers, const int *widths, float *const *weights, float *const *biases,
                      float *const *weight_grads, float *const *bias_grads, float grad_scale, float smoothing,
                      int accumulate, float *loss_sum, int64_t *correct) {
    return train_chunk(sgemm, images, NULL, NULL, labels, index, B, layers, widths, weights, biases, weight_grads,
                       bias_grads, grad_scale, smoothing, accumulate, loss_sum, correct);
}

/* A CNN's dense layers as the chunk above: `features` (B x widths[0]) in, their gradient to `feature_grad`; the
 * labels of the images index[0..B). */
int dense_head_chunk(sgemm_fn sgemm, const float *features, float *feature_grad, const int64_t *labels,
                     const int64_t *index, int B, int layers, const int *widths, float *const *weights,
                     float *const *biases, float *const *weight_grads, float *const *bias_grads, float grad_scale,
                     float smoothing, int accumulate, float *loss_sum, int64_t *correct) {
    if (!features || !feature_grad) return -1;
    return train_chunk(sgemm, NULL, features, feature_grad, labels, index, B, layers, widths, weights, biases,
                       weight_grads, bias_grads, grad_scale, smoothing, accumulate, loss_sum, correct);
}

/* Adam on n parameters, as torch's fused Adam (no weight decay, no amsgrad): the moments are updated in
 * place, then p -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps). */
/* Built with -fno-math-errno (kernels/build.py): with errno kept, GCC calls sqrtf one float at a time here,
 * and this step took longer than the rest of a batch-32 step. */
static void adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                 float lr, float beta1, float beta2, float eps, int step) {
    const double correction1 = 1.0 - pow(beta1, step), correction2 = 1.0 - pow(beta2, step);
    const float step_size = (float)(lr / correction1), correction2_root = (float)sqrt(correction2);
    const float keep1 = 1.f - beta1, keep2 = 1.f - beta2;
    for (size_t i = 0; i < n; i++) {
        const float mi = m[i] + (g[i] - m[i]) * keep1, vi = beta2 * v[i] + keep2 * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        p[i] -= step_size * mi / (sqrtf(vi) / correction2_root + eps);
    }
}

/* A whole batch-sized chunk and the Adam step after it, in one call: a batch-32 step spent a third of its time
 * in the optimizer's separate pass (and its dispatch) over the 100,000 weights the chunk has just written.
 * The gradients land in weight_grads / bias_grads (overwritten), the moments in exp_avgs / exp_avg_sqs (weights
 * then biases of each layer, in order). */
int dense_train_step_adam(sgemm_fn sgemm, const uint8_t *images, const int64_t *labels, const int64_t *index,
                          int B, int layers, const int *widths, float *const *weights, float *const *biases,
                          float *const *weight_grads, float *const *bias_grads, float smoothing, float *loss_sum,
                          int64_t *correct, float *const *exp_avgs, float *const *exp_avg_sqs, float lr,
                          float beta1, float beta2, float eps, int step) {
    const int status = train_chunk(sgemm, images, NULL, NULL, labels, index, B, layers, widths, weights, biases,
                                   weight_grads, bias_grads, 1.f / B, smoothing, 0, loss_sum, correct);
    if (status != 0) return status;
    for (int l = 0; l < layers; l++) {
        const size_t outputs = widths[l + 1], inputs = widths[l];
        adam(weights[l], weight_grads[l], exp_avgs[2 * l], exp_avg_sqs[2 * l], outputs * inputs, lr, beta1, beta2,
             eps, step);
        adam(biases[l], bias_grads[l], exp_avgs[2 * l + 1], exp_avg_sqs[2 * l + 1], outputs, lr, beta1, beta2, eps,
             step);
    }
    return 0;
}
