#include "internal.h"
#include "halffloat.h"
#include <immintrin.h>

// The element formats of packed weights: sizes, the rounding applied when packing, the
// widening back to f32 that the GEMM applies to each f16 panel it streams, and the k-pair
// layout of bf16 operands.

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

// MARK: bf16 k-pairs

static void pack_pairs_generic(const float *x, int depth, int width, uint16_t *dst) {
    for (int p = 0; p < depth; p += 2) {
        const float *r0 = x + (size_t)p * width, *r1 = r0 + width;
        uint16_t *d = dst + (size_t)p * width;
        for (int j = 0; j < width; j++) {
            d[2 * j] = obc_f32_to_bf16(r0[j]);
            d[2 * j + 1] = p + 1 < depth ? obc_f32_to_bf16(r1[j]) : 0;
        }
    }
}

const uint16_t obc_pair_interleave16[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                            8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};

/// Two rows of 6 (an A panel's) or of a multiple of 16 (B panels, score tiles) are rounded by
/// `vcvtneps2bf16` and interleaved by one word permute per 16 columns.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void pack_pairs_avx512bf16(const float *x, int depth, int width, uint16_t *dst) {
    int p = 0;
    if (width % 16 == 0) {
        const __m512i order = _mm512_loadu_si512(obc_pair_interleave16);
        for (; p + 2 <= depth; p += 2) {
            const float *r0 = x + (size_t)p * width, *r1 = r0 + width;
            uint16_t *d = dst + (size_t)p * width;
            for (int j = 0; j < width; j += 16) {
                __m512i both = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(r1 + j), _mm512_loadu_ps(r0 + j));
                _mm512_storeu_si512(d + 2 * j, _mm512_permutexvar_epi16(order, both));
            }
        }
    } else if (width == 6) {
        static const uint16_t interleave6[16] = {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11, 12, 13, 14, 15};
        const __m256i order = _mm256_loadu_si256((const __m256i *)interleave6);
        for (; p + 2 <= depth; p += 2) {
            __m256i both = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(0x0fff, x + (size_t)p * 6));
            _mm256_mask_storeu_epi16(dst + (size_t)p * 6, 0x0fff, _mm256_permutexvar_epi16(order, both));
        }
    }
    if (p < depth) pack_pairs_generic(x + (size_t)p * width, depth - p, width, dst + (size_t)p * width);
}

void obc_pack_pairs_bf16(const float *x, int depth, int width, uint16_t *dst) {
    if (obc_isa() >= OBC_ISA_AVX512BF16) pack_pairs_avx512bf16(x, depth, width, dst);
    else pack_pairs_generic(x, depth, width, dst);
}

void obc_unpack_pairs_bf16(const uint16_t *x, int depth, int width, float *dst) {
    for (int p = 0; p < depth; p++) {
        const uint16_t *s = x + (size_t)(p & ~1) * width + (p & 1);
        float *d = dst + (size_t)p * width;
        for (int j = 0; j < width; j++) d[j] = obc_bf16_to_f32(s[2 * j]);
    }
}
