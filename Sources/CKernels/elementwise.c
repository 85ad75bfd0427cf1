#include "internal.h"
#include "vecmath.h"
#include <string.h>

// Elementwise activations and arithmetic. The AVX2 forms run the vector math on 8 lanes and
// finish a ragged tail through an 8-lane staging buffer, so every element of a tensor gets the
// same approximation regardless of its position.

__attribute__((target("avx2,fma")))
static inline __m256 activate8(__m256 x, int act) {
    switch (act) {
    case OBC_ACT_SILU: return obc_x_sigmoid8(x, 1.0f);
    case OBC_ACT_GELU: return obc_gelu8(x);
    case OBC_ACT_QUICK_GELU: return obc_x_sigmoid8(x, 1.702f);
    default: return x;
    }
}

static inline float activate1(float x, int act) {
    switch (act) {
    case OBC_ACT_SILU: return obc_x_sigmoid1(x, 1.0f);
    case OBC_ACT_GELU: return obc_gelu1(x);
    case OBC_ACT_QUICK_GELU: return obc_x_sigmoid1(x, 1.702f);
    default: return x;
    }
}

__attribute__((target("avx2,fma")))
static void activation_avx2(const float *x, float *y, long n, int act) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, activate8(_mm256_loadu_ps(x + i), act));
    if (i < n) {
        float tail[8] = {0};
        memcpy(tail, x + i, sizeof(float) * (size_t)(n - i));
        _mm256_storeu_ps(tail, activate8(_mm256_loadu_ps(tail), act));
        memcpy(y + i, tail, sizeof(float) * (size_t)(n - i));
    }
}

void obc_activation(const float *x, float *y, long n, int act) {
    if (obc_use_avx2()) { activation_avx2(x, y, n, act); return; }
    for (long i = 0; i < n; i++) y[i] = activate1(x[i], act);
}

__attribute__((target("avx2,fma")))
static void geglu_avx2(const float *x, float *y, long rows, int c) {
    for (long r = 0; r < rows; r++) {
        const float *value = x + r * 2 * c, *gate = value + c;
        float *dst = y + r * c;
        int j = 0;
        for (; j + 8 <= c; j += 8)
            _mm256_storeu_ps(dst + j, _mm256_mul_ps(_mm256_loadu_ps(value + j), obc_gelu8(_mm256_loadu_ps(gate + j))));
        if (j < c) {
            float g[8] = {0};
            memcpy(g, gate + j, sizeof(float) * (size_t)(c - j));
            _mm256_storeu_ps(g, obc_gelu8(_mm256_loadu_ps(g)));
            for (int t = 0; j + t < c; t++) dst[j + t] = value[j + t] * g[t];
        }
    }
}

void obc_geglu(const float *x, float *y, long rows, int c) {
    if (obc_use_avx2()) { geglu_avx2(x, y, rows, c); return; }
    for (long r = 0; r < rows; r++) {
        const float *value = x + r * 2 * c, *gate = value + c;
        for (int j = 0; j < c; j++) y[r * c + j] = value[j] * obc_gelu1(gate[j]);
    }
}

// Plain arithmetic: the compiler vectorises these loops with the baseline ISA, which is already
// memory-bound, so there is no separate AVX2 form.
void obc_add(const float *a, const float *b, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void obc_scale(const float *a, float s, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = a[i] * s;
}

void obc_add_row_vector(const float *x, const float *v, float *y, long rows, int c) {
    for (long r = 0; r < rows; r++) {
        const float *src = x + r * c;
        float *dst = y + r * c;
        for (int j = 0; j < c; j++) dst[j] = src[j] + v[j];
    }
}
