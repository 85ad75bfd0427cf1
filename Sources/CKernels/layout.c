#include "internal.h"
#include <immintrin.h>

// Layout changes: 2-D transposes (NCHW ↔ NHWC, convolution weights into (ky, kx, in) order,
// attention's operand panels) and the interleaving of MR rows into the GEMM's A panels. The
// AVX2 forms move 8×8 blocks through registers; the compiler's own vectorisation of these
// strided loops uses gathers and scatters, which are slow on AMD's cores.

#define TILE 32

static void transpose_generic(const float *src, long lds, int rows, int cols, float *dst, long ldd, const float *scale) {
    for (long r0 = 0; r0 < rows; r0 += TILE) {
        long r1 = r0 + TILE < rows ? r0 + TILE : rows;
        for (long c0 = 0; c0 < cols; c0 += TILE) {
            long c1 = c0 + TILE < cols ? c0 + TILE : cols;
            for (long r = r0; r < r1; r++)
                for (long c = c0; c < c1; c++) dst[c * ldd + r] = src[r * lds + c] * (scale ? scale[c] : 1.0f);
        }
    }
}

static void interleave_rows_generic(const float *const rows[OBC_MR], int len, void *dst_) {
    float *dst = dst_;
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3], *r4 = rows[4], *r5 = rows[5];
    for (int p = 0; p < len; p++) {
        float *d = dst + (size_t)p * OBC_MR;
        d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p];
    }
}

/// Transposes 8 rows of 8 lanes into 8 columns (`c[j]` = lane j of every row).
__attribute__((target("avx2"), always_inline))
static inline void transpose8x8(const __m256 r[8], __m256 c[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    c[0] = _mm256_permute2f128_ps(u0, u4, 0x20); c[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    c[2] = _mm256_permute2f128_ps(u2, u6, 0x20); c[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    c[4] = _mm256_permute2f128_ps(u0, u4, 0x31); c[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    c[6] = _mm256_permute2f128_ps(u2, u6, 0x31); c[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/// 8 depths at a time: 6 rows (and 2 zero rows) transposed in registers, each column's 6 values
/// stored with its 2 zero lanes overhanging.
__attribute__((target("avx2")))
static void interleave_rows_avx2(const float *const rows[OBC_MR], int len, void *dst_) {
    float *dst = dst_;
    int p = 0;
    for (; p + 8 <= len; p += 8) {
        __m256 r[8], c[8];
        for (int i = 0; i < OBC_MR; i++) r[i] = _mm256_loadu_ps(rows[i] + p);
        r[6] = r[7] = _mm256_setzero_ps();
        transpose8x8(r, c);
        // In increasing order, each full store's last two lanes are overwritten by the next one's
        // (the buffer has two floats of slack for the last): AMD's vmaskmovps stores are slow.
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (size_t)(p + j) * OBC_MR, c[j]);
    }
    if (p < len) {
        const float *tail[OBC_MR];
        for (int i = 0; i < OBC_MR; i++) tail[i] = rows[i] + p;
        interleave_rows_generic(tail, len - p, dst + (size_t)p * OBC_MR);
    }
}

/// The bf16 form: each row's 16 depths become 8 k-pairs (32-bit lanes) by `vcvtneps2bf16`, and
/// the same 8×8 transpose of 32-bit lanes interleaves the rows.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void interleave_rows_pairs(const float *const rows[OBC_MR], int len, void *dst_) {
    uint16_t *dst = dst_;
    int p = 0;
    for (; p + 16 <= len; p += 16) {
        __m256 r[8], c[8];
        for (int i = 0; i < OBC_MR; i++) r[i] = (__m256)_mm512_cvtneps_pbh(_mm512_loadu_ps(rows[i] + p));
        r[6] = r[7] = _mm256_setzero_ps();
        transpose8x8(r, c);
        for (int j = 0; j < 8; j++) _mm256_mask_storeu_ps((float *)(dst + (size_t)(p + 2 * j) * OBC_MR), 0x3F, c[j]);
    }
    for (; p < len; p += 2) {
        float pair[2 * OBC_MR];
        for (int i = 0; i < OBC_MR; i++) { pair[i] = rows[i][p]; pair[OBC_MR + i] = rows[i][p + 1]; }
        obc_pack_pairs_bf16(pair, 2, OBC_MR, dst + (size_t)p * OBC_MR);
    }
}

__attribute__((target("avx2")))
static void transpose_avx2(const float *src, long lds, int rows, int cols, float *dst, long ldd, const float *scale) {
    int r8 = rows & ~7, c8 = cols & ~7;
    for (int r0 = 0; r0 < r8; r0 += 8)
        for (int c0 = 0; c0 < c8; c0 += 8) {
            __m256 r[8], c[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (size_t)(r0 + i) * lds + c0);
            transpose8x8(r, c);
            for (int j = 0; j < 8; j++) {
                __m256 v = scale ? _mm256_mul_ps(c[j], _mm256_set1_ps(scale[c0 + j])) : c[j];
                _mm256_storeu_ps(dst + (size_t)(c0 + j) * ldd + r0, v);
            }
        }
    // The ragged edges: the last rows (all columns) and the last columns (whole blocks of rows).
    if (r8 < rows) transpose_generic(src + (size_t)r8 * lds, lds, rows - r8, cols, dst + r8, ldd, scale);
    if (c8 < cols) transpose_generic(src + c8, lds, r8, cols - c8, dst + (size_t)c8 * ldd, ldd, scale ? scale + c8 : NULL);
}

void obc_transpose_strided(const float *src, long lds, int rows, int cols, float *dst, long ldd, const float *col_scale) {
    if (obc_use_avx2()) transpose_avx2(src, lds, rows, cols, dst, ldd, col_scale);
    else transpose_generic(src, lds, rows, cols, dst, ldd, col_scale);
}

void obc_transpose(const float *src, long rows, long cols, float *dst) {
    obc_transpose_strided(src, cols, (int)rows, (int)cols, dst, rows, NULL);
}

obc_interleave_fn obc_select_interleave(int pairs) {
    if (pairs) return interleave_rows_pairs;
    return obc_use_avx2() ? interleave_rows_avx2 : interleave_rows_generic;
}
