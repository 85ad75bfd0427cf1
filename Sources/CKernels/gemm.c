#include "internal.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

// BLIS-style GEMM: B is packed once into NR-column panels per k-block (weights are packed at
// load time, in f32 or a 16-bit format), A is packed per (MC×KC) block into MR-row panels in a
// per-thread buffer, and a MR×NR register-tile micro-kernel runs over the packed panels. The A operand can be an
// implicit im2col of an NHWC image, so convolution is the same loop with no im2col buffer.

int obc_kblock_count(int k) { return k <= 0 ? 0 : (k + OBC_KC - 1) / OBC_KC; }

void obc_kblock(int k, int index, int *k0, int *kc) {
    int blocks = obc_kblock_count(k);
    // Balanced blocks (320 → 160+160 rather than 256+64) keep every micro-kernel call long.
    int begin = (int)((long)k * index / blocks), end = (int)((long)k * (index + 1) / blocks);
    *k0 = begin;
    *kc = end - begin;
}

static int round_up(int x, int to) { return (x + to - 1) / to * to; }

size_t obc_packed_b_count(int k, int n) { return (size_t)k * (size_t)round_up(n, OBC_NR); }

void obc_pack_b(const float *b, long ldb, int transposed, int k, int n,
                int panel_begin, int panel_end, int format, void *packed) {
    int npad = round_up(n, OBC_NR);
    int blocks = obc_kblock_count(k);
    size_t esize = obc_format_size(format);
    // Each panel is gathered in f32 and then stored in the packed format in one pass.
    float panel_f32[OBC_KC * OBC_NR];
    for (int blk = 0; blk < blocks; blk++) {
        int k0, kc;
        obc_kblock(k, blk, &k0, &kc);
        for (int panel = panel_begin; panel < panel_end; panel++) {
            float *dst = panel_f32;
            int j0 = panel * OBC_NR, width = n - j0 < OBC_NR ? n - j0 : OBC_NR;
            if (!transposed) {
                for (int p = 0; p < kc; p++) {
                    const float *src = b + (size_t)(k0 + p) * ldb + j0;
                    float *row = dst + (size_t)p * OBC_NR;
                    memcpy(row, src, sizeof(float) * width);
                    for (int j = width; j < OBC_NR; j++) row[j] = 0;
                }
            } else {
                for (int j = 0; j < OBC_NR; j++) {
                    if (j >= width) {
                        for (int p = 0; p < kc; p++) dst[(size_t)p * OBC_NR + j] = 0;
                        continue;
                    }
                    const float *src = b + (size_t)(j0 + j) * ldb + k0;
                    for (int p = 0; p < kc; p++) dst[(size_t)p * OBC_NR + j] = src[p];
                }
            }
            size_t offset = (size_t)k0 * npad + (size_t)panel * kc * OBC_NR;
            obc_narrow(panel_f32, (long)kc * OBC_NR, format, (char *)packed + offset * esize);
        }
    }
}

// MARK: Micro-kernels

/// Writes an accumulated tile (row-major MR×NR in `tile`) into the valid corner of C.
static void store_tile(const float *tile, float *c, long ldc, int mr, int nr, int load_c,
                       const float *bias) {
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++) {
            float v = tile[i * OBC_NR + j];
            if (load_c) v += ci[j];
            if (bias) v += bias[j];
            ci[j] = v;
        }
    }
}

static void microkernel_generic(int kc, const float *a, const float *b, float *c, long ldc,
                                int mr, int nr, int load_c, const float *bias) {
    float acc[OBC_MR * OBC_NR];
    memset(acc, 0, sizeof acc);
    for (int p = 0; p < kc; p++) {
        const float *ap = a + (size_t)p * OBC_MR, *bp = b + (size_t)p * OBC_NR;
        for (int i = 0; i < OBC_MR; i++) {
            float ai = ap[i];
            for (int j = 0; j < OBC_NR; j++) acc[i * OBC_NR + j] += ai * bp[j];
        }
    }
    store_tile(acc, c, ldc, mr, nr, load_c, bias);
}

__attribute__((target("avx2,fma")))
static void microkernel_avx2(int kc, const float *a, const float *b, float *c, long ldc,
                             int mr, int nr, int load_c, const float *bias) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    // Start pulling the C tile in now so the final read-modify-write does not stall.
    for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
#pragma clang loop unroll_count(4)
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av;
        av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        a += OBC_MR;
        b += OBC_NR;
    }
    if (mr == OBC_MR && nr == OBC_NR) {
        __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
        __m256 bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
#define OBC_STORE_ROW(i, lo, hi)                                                   \
        {                                                                          \
            float *ci = c + (size_t)(i) * ldc;                                     \
            __m256 x0 = _mm256_add_ps(lo, bias0), x1 = _mm256_add_ps(hi, bias1);   \
            if (load_c) {                                                          \
                x0 = _mm256_add_ps(x0, _mm256_loadu_ps(ci));                       \
                x1 = _mm256_add_ps(x1, _mm256_loadu_ps(ci + 8));                   \
            }                                                                      \
            _mm256_storeu_ps(ci, x0);                                              \
            _mm256_storeu_ps(ci + 8, x1);                                          \
        }
        OBC_STORE_ROW(0, c00, c01) OBC_STORE_ROW(1, c10, c11) OBC_STORE_ROW(2, c20, c21)
        OBC_STORE_ROW(3, c30, c31) OBC_STORE_ROW(4, c40, c41) OBC_STORE_ROW(5, c50, c51)
#undef OBC_STORE_ROW
        return;
    }
    float tile[OBC_MR * OBC_NR];
    _mm256_storeu_ps(tile + 0 * 16, c00); _mm256_storeu_ps(tile + 0 * 16 + 8, c01);
    _mm256_storeu_ps(tile + 1 * 16, c10); _mm256_storeu_ps(tile + 1 * 16 + 8, c11);
    _mm256_storeu_ps(tile + 2 * 16, c20); _mm256_storeu_ps(tile + 2 * 16 + 8, c21);
    _mm256_storeu_ps(tile + 3 * 16, c30); _mm256_storeu_ps(tile + 3 * 16 + 8, c31);
    _mm256_storeu_ps(tile + 4 * 16, c40); _mm256_storeu_ps(tile + 4 * 16 + 8, c41);
    _mm256_storeu_ps(tile + 5 * 16, c50); _mm256_storeu_ps(tile + 5 * 16 + 8, c51);
    store_tile(tile, c, ldc, mr, nr, load_c, bias);
}

/// AVX-512F: an MR×2NR tile over two adjacent packed panels (12 zmm accumulators, enough
/// independent FMA chains to keep both 512-bit FMA ports busy). A one-panel tile (attention's
/// tiles, GEMM's last column panel) goes to the AVX2 kernel: a zmm version of it measured
/// ~20% slower in attention. Edges are masked loads and stores, so no tile round-trips
/// through memory.
__attribute__((target("avx512f")))
static void microkernel_avx512(int kc, const float *a, const float *b, float *c, long ldc,
                               int mr, int nr, int load_c, const float *bias) {
    if (nr <= OBC_NR) {
        microkernel_avx2(kc, a, b, c, ldc, mr, nr, load_c, bias);
        return;
    }
    __m512 lo[OBC_MR], hi[OBC_MR];
    for (int i = 0; i < OBC_MR; i++) lo[i] = hi[i] = _mm512_setzero_ps();
    // Start pulling the C tile in now so the final read-modify-write does not stall.
    for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
    const float *b_next = b + (size_t)kc * OBC_NR;
#pragma clang loop unroll_count(2)
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b + (size_t)p * OBC_NR), b1 = _mm512_loadu_ps(b_next + (size_t)p * OBC_NR);
        const float *ap = a + (size_t)p * OBC_MR;
        for (int i = 0; i < OBC_MR; i++) {
            __m512 av = _mm512_set1_ps(ap[i]);
            lo[i] = _mm512_fmadd_ps(av, b0, lo[i]);
            hi[i] = _mm512_fmadd_ps(av, b1, hi[i]);
        }
    }
    __mmask16 mhi = nr >= 2 * OBC_NR ? 0xFFFF : (__mmask16)((1u << (nr - OBC_NR)) - 1);
    __m512 bias0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    __m512 bias1 = bias ? _mm512_maskz_loadu_ps(mhi, bias + OBC_NR) : _mm512_setzero_ps();
    // Rows are stored with constant indices so the accumulators stay in registers.
    for (int i = 0; i < OBC_MR; i++) {
        if (i >= mr) break;
        float *ci = c + (size_t)i * ldc;
        __m512 x0 = _mm512_add_ps(lo[i], bias0), x1 = _mm512_add_ps(hi[i], bias1);
        if (load_c) {
            x0 = _mm512_add_ps(x0, _mm512_loadu_ps(ci));
            x1 = _mm512_add_ps(x1, _mm512_maskz_loadu_ps(mhi, ci + OBC_NR));
        }
        _mm512_storeu_ps(ci, x0);
        _mm512_mask_storeu_ps(ci + OBC_NR, mhi, x1);
    }
}

obc_microkernel_choice obc_select_microkernel(void) {
    switch (obc_isa()) {
    case OBC_ISA_AVX512: return (obc_microkernel_choice){microkernel_avx512, 2};
    case OBC_ISA_AVX2: return (obc_microkernel_choice){microkernel_avx2, 1};
    default: return (obc_microkernel_choice){microkernel_generic, 1};
    }
}

// MARK: Packing A

/// Source of zeros for padded rows and convolution taps that fall outside the image.
static const float zero_row[OBC_KC];

/// Interleaves `len` values from each of MR row pointers into a packed panel (`dst[p*MR + i]`).
static void interleave_rows(const float *const rows[OBC_MR], int len, float *dst) {
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3], *r4 = rows[4], *r5 = rows[5];
    for (int p = 0; p < len; p++) {
        float *d = dst + (size_t)p * OBC_MR;
        d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p];
    }
}

/// Packs rows [i0, i0+mc) × depth [k0, k0+kc) of A into MR-row panels.
static void pack_a(const obc_a_source *s, int i0, int mc, int k0, int kc, float *dst) {
    const float *rows[OBC_MR];
    for (int r = 0; r < mc; r += OBC_MR) {
        int valid = mc - r < OBC_MR ? mc - r : OBC_MR;
        float *panel = dst + (size_t)r * kc;
        if (s->kind == 0) {
            for (int ii = 0; ii < OBC_MR; ii++)
                rows[ii] = ii < valid ? s->a + (size_t)(i0 + r + ii) * s->lda + k0 : zero_row;
            interleave_rows(rows, kc, panel);
            continue;
        }
        // Implicit im2col: depth index = (ky·kernel + kx)·channels + c. Split [k0, k0+kc) at tap
        // boundaries; within a tap every row reads a contiguous run of one input pixel.
        int cin = s->channels, per_image = s->out_height * s->out_width;
        int k = k0;
        while (k < k0 + kc) {
            int tap = k / cin, c0 = k % cin;
            int len = cin - c0 < k0 + kc - k ? cin - c0 : k0 + kc - k;
            int ky = tap / s->kernel, kx = tap % s->kernel;
            for (int ii = 0; ii < OBC_MR; ii++) {
                rows[ii] = zero_row;
                if (ii >= valid) continue;
                int i = i0 + r + ii;
                int image = i / per_image, pix = i % per_image;
                int oy = pix / s->out_width, ox = pix % s->out_width;
                int iy = oy * s->stride - s->padding + ky, ix = ox * s->stride - s->padding + kx;
                if (iy < 0 || iy >= s->height || ix < 0 || ix >= s->width) continue;
                rows[ii] = s->a + (((size_t)image * s->height + iy) * s->width + ix) * cin + c0;
            }
            interleave_rows(rows, len, panel + (size_t)(k - k0) * OBC_MR);
            k += len;
        }
    }
}

// MARK: Driver

static _Thread_local float *a_buffer, *b_buffer;

/// A per-thread 64-byte aligned scratch buffer of `count` floats, allocated on first use.
static float *thread_buffer(float **buffer, size_t count) {
    if (!*buffer) {
        void *p = NULL;
        if (posix_memalign(&p, 64, sizeof(float) * count) != 0) abort();
        *buffer = p;
    }
    return *buffer;
}

void obc_gemm(const obc_a_source *a, int m0, int m1, int n0, int n1, int n, int k,
              const void *packed_b, int b_format, float *c, long ldc, const float *bias,
              int accumulate) {
    if (m0 >= m1 || n0 >= n1) return;
    if (k <= 0) {
        for (int i = m0; i < m1; i++) {
            float *ci = c + (size_t)i * ldc;
            for (int j = n0; j < n1; j++) ci[j] = (accumulate ? ci[j] : 0) + (bias ? bias[j] : 0);
        }
        return;
    }
    obc_microkernel_choice kernel = obc_select_microkernel();
    int width = kernel.panels * OBC_NR;
    float *abuf = thread_buffer(&a_buffer, (size_t)OBC_MC * OBC_KC);
    // Half-precision panels are widened once per (panel, A block) into an L1-sized f32 buffer
    // and then reused by all MC/MR micro-kernel calls of the block, so the conversion costs
    // ~1/24 of what widening inside the micro-kernel would, and the f32 kernel runs unchanged.
    float *bwide = b_format == OBC_F32 ? NULL : thread_buffer(&b_buffer, (size_t)OBC_KC * 2 * OBC_NR);
    size_t esize = obc_format_size(b_format);
    int npad = round_up(n, OBC_NR);
    int blocks = obc_kblock_count(k);
    for (int jc = n0; jc < n1; jc += OBC_NC) {
        int jend = jc + OBC_NC < n1 ? jc + OBC_NC : n1;
        for (int blk = 0; blk < blocks; blk++) {
            int k0, kc;
            obc_kblock(k, blk, &k0, &kc);
            const char *bblock = (const char *)packed_b + (size_t)k0 * npad * esize;
            int load_c = blk == 0 ? accumulate : 1;
            const float *blk_bias = blk == 0 ? bias : NULL;
            for (int ic = m0; ic < m1; ic += OBC_MC) {
                int mc = m1 - ic < OBC_MC ? m1 - ic : OBC_MC;
                pack_a(a, ic, mc, k0, kc, abuf);
                for (int jr = jc; jr < jend; jr += width) {
                    int nr = jend - jr < width ? jend - jr : width;
                    // Adjacent panels are contiguous, so a two-panel tile widens both in one go.
                    int panels = (nr + OBC_NR - 1) / OBC_NR;
                    const void *stored = bblock + (size_t)(jr / OBC_NR) * kc * OBC_NR * esize;
                    const float *bpanel = stored;
                    if (bwide) {
                        obc_widen(stored, (long)kc * panels * OBC_NR, b_format, bwide);
                        bpanel = bwide;
                    }
                    for (int ir = 0; ir < mc; ir += OBC_MR) {
                        int mr = mc - ir < OBC_MR ? mc - ir : OBC_MR;
                        kernel.run(kc, abuf + (size_t)ir * kc, bpanel, c + (size_t)(ic + ir) * ldc + jr,
                               ldc, mr, nr, load_c, blk_bias ? blk_bias + jr : NULL);
                    }
                }
            }
        }
    }
}
