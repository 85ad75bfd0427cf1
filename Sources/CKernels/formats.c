#include "internal.h"
#include "halffloat.h"
#include <immintrin.h>

// The element formats of packed weights: sizes, the rounding applied when packing, and the
// widening back to f32 that the GEMM applies to each panel it streams.

size_t obc_format_size(int format) { return format == OBC_F32 ? 4 : 2; }

void obc_narrow(const float *x, long n, int format, void *dst) {
    uint16_t *h = dst;
    if (format == OBC_F16) {
        for (long i = 0; i < n; i++) h[i] = obc_f32_to_f16(x[i]);
    } else if (format == OBC_BF16) {
        for (long i = 0; i < n; i++) h[i] = obc_f32_to_bf16(x[i]);
    } else {
        memcpy(dst, x, sizeof(float) * (size_t)n);
    }
}

static void widen_generic(const void *x, long n, int format, float *dst) {
    const uint16_t *h = x;
    if (format == OBC_F16) {
        for (long i = 0; i < n; i++) dst[i] = obc_f16_to_f32(h[i]);
    } else if (format == OBC_BF16) {
        for (long i = 0; i < n; i++) dst[i] = obc_bf16_to_f32(h[i]);
    } else {
        memcpy(dst, x, sizeof(float) * (size_t)n);
    }
}

__attribute__((target("avx2,fma,f16c")))
static void widen_avx2(const void *x, long n, int format, float *dst) {
    const uint16_t *h = x;
    long i = 0;
    if (format == OBC_F16) {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    } else if (format == OBC_BF16) {
        for (; i + 8 <= n; i += 8) {
            __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(h + i)));
            _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16)));
        }
    }
    widen_generic(format == OBC_F32 ? x : h + i, n - i, format, dst + i);
}

void obc_widen(const void *x, long n, int format, float *dst) {
    if (obc_use_avx2()) widen_avx2(x, n, format, dst);
    else widen_generic(x, n, format, dst);
}

void obc_round_to_format(const float *x, float *y, long n, int format) {
    if (format == OBC_F32) {
        memmove(y, x, sizeof(float) * (size_t)n);
        return;
    }
    uint16_t half[256];
    for (long i = 0; i < n; i += 256) {
        long len = n - i < 256 ? n - i : 256;
        obc_narrow(x + i, len, format, half);
        obc_widen(half, len, format, y + i);
    }
}
