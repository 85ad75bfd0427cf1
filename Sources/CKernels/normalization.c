#include "internal.h"
#include "vecmath.h"
#include <math.h>
#include <string.h>

// Normalisation kernels. Statistics accumulate in double (group norm sums 10⁵–10⁶ values per
// group); the per-element passes are vectorised over the contiguous channel axis.

/// Rows summed in float before the partials are flushed to double: short enough that the float
/// partial loses nothing measurable, long enough to keep the loop vectorised.
#define FLUSH_ROWS 32

void obc_channel_moments(const float *x, long rows, int c, double *sum, double *sumsq) {
    float ps[256], pq[256];
    for (int c0 = 0; c0 < c; c0 += 256) {
        int w = c - c0 < 256 ? c - c0 : 256;
        for (long r0 = 0; r0 < rows; r0 += FLUSH_ROWS) {
            long r1 = r0 + FLUSH_ROWS < rows ? r0 + FLUSH_ROWS : rows;
            memset(ps, 0, sizeof(float) * w);
            memset(pq, 0, sizeof(float) * w);
            for (long r = r0; r < r1; r++) {
                const float *p = x + r * c + c0;
                for (int j = 0; j < w; j++) { ps[j] += p[j]; pq[j] += p[j] * p[j]; }
            }
            for (int j = 0; j < w; j++) { sum[c0 + j] += ps[j]; sumsq[c0 + j] += pq[j]; }
        }
    }
}

__attribute__((target("avx2,fma")))
static void affine_rows_avx2(const float *x, const float *mul, const float *add, float *y,
                             long rows, int c, int act) {
    for (long r = 0; r < rows; r++) {
        const float *p = x + r * c;
        float *q = y + r * c;
        int j = 0;
        for (; j + 8 <= c; j += 8) {
            __m256 v = _mm256_fmadd_ps(_mm256_loadu_ps(p + j), _mm256_loadu_ps(mul + j), _mm256_loadu_ps(add + j));
            if (act == OBC_ACT_SILU) v = obc_x_sigmoid8(v, 1.0f);
            _mm256_storeu_ps(q + j, v);
        }
        if (j < c) {
            float t[8] = {0};
            for (int u = 0; j + u < c; u++) t[u] = p[j + u] * mul[j + u] + add[j + u];
            __m256 v = _mm256_loadu_ps(t);
            if (act == OBC_ACT_SILU) v = obc_x_sigmoid8(v, 1.0f);
            _mm256_storeu_ps(t, v);
            for (int u = 0; j + u < c; u++) q[j + u] = t[u];
        }
    }
}

void obc_affine_rows(const float *x, const float *mul, const float *add, float *y,
                     long rows, int c, int act) {
    if (obc_use_avx2() && (act == OBC_ACT_IDENTITY || act == OBC_ACT_SILU)) {
        affine_rows_avx2(x, mul, add, y, rows, c, act);
        return;
    }
    for (long r = 0; r < rows; r++) {
        for (int j = 0; j < c; j++) {
            float v = x[r * c + j] * mul[j] + add[j];
            if (act == OBC_ACT_SILU) v = obc_x_sigmoid1(v, 1.0f);
            else if (act == OBC_ACT_GELU) v = obc_gelu1(v);
            else if (act == OBC_ACT_QUICK_GELU) v = obc_x_sigmoid1(v, 1.702f);
            y[r * c + j] = v;
        }
    }
}

void obc_layer_norm(const float *x, const float *weight, const float *bias, float *y,
                    long rows, int c, float eps) {
    for (long r = 0; r < rows; r++) {
        const float *p = x + r * c;
        float *q = y + r * c;
        double sum = 0;
        for (int j = 0; j < c; j++) sum += p[j];
        float mean = (float)(sum / c);
        double sq = 0;
        for (int j = 0; j < c; j++) { double d = (double)(p[j] - mean); sq += d * d; }
        float inv = (float)(1.0 / sqrt(sq / c + (double)eps));
        for (int j = 0; j < c; j++) q[j] = (p[j] - mean) * inv * weight[j] + bias[j];
    }
}

__attribute__((target("avx2,fma")))
static void softmax_avx2(const float *x, float *y, long rows, int c) {
    for (long r = 0; r < rows; r++) {
        const float *p = x + r * c;
        float *q = y + r * c;
        float mx = -INFINITY;
        for (int j = 0; j < c; j++) mx = p[j] > mx ? p[j] : mx;
        __m256 vmx = _mm256_set1_ps(mx), vsum = _mm256_setzero_ps();
        int j = 0;
        for (; j + 8 <= c; j += 8) {
            __m256 e = obc_exp8(_mm256_sub_ps(_mm256_loadu_ps(p + j), vmx));
            vsum = _mm256_add_ps(vsum, e);
            _mm256_storeu_ps(q + j, e);
        }
        float lanes[8], sum = 0;
        _mm256_storeu_ps(lanes, vsum);
        for (int t = 0; t < 8; t++) sum += lanes[t];
        if (j < c) {
            float t[8];
            for (int u = 0; u < 8; u++) t[u] = j + u < c ? p[j + u] - mx : -INFINITY;
            _mm256_storeu_ps(t, obc_exp8(_mm256_loadu_ps(t)));
            for (int u = 0; j + u < c; u++) { q[j + u] = t[u]; sum += t[u]; }
        }
        float inv = 1.0f / sum;
        for (int u = 0; u < c; u++) q[u] *= inv;
    }
}

void obc_softmax(const float *x, float *y, long rows, int c) {
    if (obc_use_avx2()) { softmax_avx2(x, y, rows, c); return; }
    for (long r = 0; r < rows; r++) {
        const float *p = x + r * c;
        float *q = y + r * c;
        float mx = -INFINITY;
        for (int j = 0; j < c; j++) mx = p[j] > mx ? p[j] : mx;
        float sum = 0;
        for (int j = 0; j < c; j++) { q[j] = expf(p[j] - mx); sum += q[j]; }
        float inv = 1.0f / sum;
        for (int j = 0; j < c; j++) q[j] *= inv;
    }
}
