#include "internal.h"
#include <cpuid.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

// BLIS-style GEMM: B is packed once into NR-column panels per k-block (weights are packed at
// load time, in f32 or a 16-bit format), A is packed per (MC×KC) block into MR-row panels in a
// per-thread buffer, and a MR×NR register-tile micro-kernel runs over the packed panels. The A operand can be an
// implicit im2col of an NHWC image, so convolution is the same loop with no im2col buffer.

int obc_kblock_count(int k, int format) {
    int depth = format == OBC_BF16 ? OBC_KC_BF16 : OBC_KC_F32;
    return k <= 0 ? 0 : (k + depth - 1) / depth;
}

void obc_kblock(int k, int format, int index, int *k0, int *kc) {
    int blocks = obc_kblock_count(k, format);
    // Balanced blocks (320 → 160+160 rather than 256+64) keep every micro-kernel call long. Blocks
    // start at even depths so bf16's k-pairs never straddle two blocks.
    int begin = (int)((long)k * index / blocks) & ~1;
    int end = index + 1 == blocks ? k : (int)((long)k * (index + 1) / blocks) & ~1;
    *k0 = begin;
    *kc = end - begin;
}

static int round_up(int x, int to) { return (x + to - 1) / to * to; }

/// Depth a k-block of `kc` rows occupies in the packed layout of `format` (bf16 pads to pairs).
static int stored_depth(int kc, int format) { return format == OBC_BF16 ? round_up(kc, 2) : kc; }

size_t obc_packed_b_count(int k, int n, int format) {
    return (size_t)stored_depth(k, format) * (size_t)round_up(n, OBC_NR);
}

void obc_pack_b(const float *b, long ldb, int transposed, int k, int n,
                int panel_begin, int panel_end, int format, void *packed) {
    int npad = round_up(n, OBC_NR);
    int blocks = obc_kblock_count(k, format);
    size_t esize = obc_format_size(format);
    // Each panel is gathered in f32 and then stored in the packed format in one pass.
    float panel_f32[OBC_KC_MAX * OBC_NR];
    for (int blk = 0; blk < blocks; blk++) {
        int k0, kc;
        obc_kblock(k, format, blk, &k0, &kc);
        int depth = stored_depth(kc, format);
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
            // Block offsets: every block before the last has an even depth, stored as is.
            char *out = (char *)packed + ((size_t)k0 * npad + (size_t)panel * depth * OBC_NR) * esize;
            if (format == OBC_BF16) obc_pack_pairs_bf16(panel_f32, kc, OBC_NR, (uint16_t *)out);
            else obc_narrow(panel_f32, (long)kc * OBC_NR, format, out);
        }
    }
}

// MARK: Micro-kernels

/// Writes an accumulated tile (row-major MR×NR in `tile`) into the valid corner of C.
///
/// The sums are formed in the order of the vector kernels' full-tile stores, (acc + bias) +
/// addend with +0 for a missing bias: which rows fall in an edge tile depends on the row's
/// position in the batch, so any other order would make a batched image's last bits differ
/// from its run alone.
static void store_tile(const float *tile, float *c, long ldc, const float *c_in, long ldc_in, int mr, int nr,
                       const float *bias) {
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++) {
            float v = tile[i * OBC_NR + j] + (bias ? bias[j] : 0.0f);
            if (c_in) v += c_in[(size_t)i * ldc_in + j];
            ci[j] = v;
        }
    }
}

static void microkernel_generic(int kc, const void *a_, const void *b_, long ldb, long b_next,
                                float *c, long ldc, const float *c_in, long ldc_in, int mr, int nr,
                                const float *bias) {
    (void)b_next;
    const float *a = a_, *b = b_;
    float acc[OBC_MR * OBC_NR];
    memset(acc, 0, sizeof acc);
    for (int p = 0; p < kc; p++) {
        const float *ap = a + (size_t)p * OBC_MR, *bp = b + (size_t)p * ldb;
        for (int i = 0; i < OBC_MR; i++) {
            float ai = ap[i];
            for (int j = 0; j < OBC_NR; j++) acc[i * OBC_NR + j] += ai * bp[j];
        }
    }
    store_tile(acc, c, ldc, c_in, ldc_in, mr, nr, bias);
}

__attribute__((target("avx2,fma")))
static void microkernel_avx2(int kc, const void *a_, const void *b_, long ldb, long b_next,
                             float *c, long ldc, const float *c_in, long ldc_in, int mr, int nr,
                             const float *bias) {
    (void)b_next;
    const float *a = a_, *b = b_;
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    // Start pulling the addend in now so the final read-modify-write does not stall.
    if (c_in) for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(c_in + (size_t)i * ldc_in), _MM_HINT_T0);
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
        b += ldb;
    }
    if (mr == OBC_MR && nr == OBC_NR) {
        __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
        __m256 bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
#define OBC_STORE_ROW(i, lo, hi)                                                   \
        {                                                                          \
            float *ci = c + (size_t)(i) * ldc;                                     \
            __m256 x0 = _mm256_add_ps(lo, bias0), x1 = _mm256_add_ps(hi, bias1);   \
            if (c_in) {                                                            \
                const float *ri = c_in + (size_t)(i) * ldc_in;                     \
                x0 = _mm256_add_ps(x0, _mm256_loadu_ps(ri));                       \
                x1 = _mm256_add_ps(x1, _mm256_loadu_ps(ri + 8));                   \
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
    store_tile(tile, c, ldc, c_in, ldc_in, mr, nr, bias);
}

/// Stores the zmm accumulators of an MR×2NR tile (`lo` columns 0..<NR, `hi` NR..<2NR) into the
/// valid corner of C, adding bias and the addend as asked. Edges are masked loads and stores, so
/// no tile round-trips through memory.
__attribute__((target("avx512f"), always_inline))
static inline void store_tile_avx512(const __m512 lo[OBC_MR], const __m512 hi[OBC_MR], float *c, long ldc,
                                     const float *c_in, long ldc_in, int mr, int nr, const float *bias) {
    __mmask16 mlo = nr >= OBC_NR ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 mhi = nr >= 2 * OBC_NR ? 0xFFFF : nr <= OBC_NR ? 0 : (__mmask16)((1u << (nr - OBC_NR)) - 1);
    __m512 bias0 = bias ? _mm512_maskz_loadu_ps(mlo, bias) : _mm512_setzero_ps();
    __m512 bias1 = bias ? _mm512_maskz_loadu_ps(mhi, bias + OBC_NR) : _mm512_setzero_ps();
    // Rows are stored with constant indices so the accumulators stay in registers.
    for (int i = 0; i < OBC_MR; i++) {
        if (i >= mr) break;
        float *ci = c + (size_t)i * ldc;
        __m512 x0 = _mm512_add_ps(lo[i], bias0), x1 = _mm512_add_ps(hi[i], bias1);
        if (c_in) {
            const float *ri = c_in + (size_t)i * ldc_in;
            x0 = _mm512_add_ps(x0, _mm512_maskz_loadu_ps(mlo, ri));
            x1 = _mm512_add_ps(x1, _mm512_maskz_loadu_ps(mhi, ri + OBC_NR));
        }
        _mm512_mask_storeu_ps(ci, mlo, x0);
        _mm512_mask_storeu_ps(ci + OBC_NR, mhi, x1);
    }
}

/// AVX-512F: an MR×(panels·NR) tile, `panels` (2 or 4, a constant at each call site) zmm
/// accumulators per row: 12 or 24 independent FMA chains. Four panels load one A broadcast per
/// 4 FMAs instead of 2, which full-width AVX-512 cores (Zen 5) need to keep both 512-bit FMA
/// pipes fed; see `wide_tiles`.
__attribute__((target("avx512f"), always_inline))
static inline void f32_tile_zmm(int kc, const float *a, const float *b, long ldb, long b_next,
                                float *c, long ldc, const float *c_in, long ldc_in, int mr, int nr,
                                const float *bias, int panels) {
    __m512 acc[4][OBC_MR];
    for (int q = 0; q < 4; q++)
        for (int i = 0; i < OBC_MR; i++) acc[q][i] = _mm512_setzero_ps();
    // Start pulling the addend in now so the final read-modify-write does not stall.
    if (c_in) for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(c_in + (size_t)i * ldc_in), _MM_HINT_T0);
#pragma clang loop unroll_count(2)
    for (int p = 0; p < kc; p++) {
        const float *bp = b + (size_t)p * ldb;
        __m512 bq[4];
        for (int q = 0; q < panels; q++) bq[q] = _mm512_loadu_ps(bp + q * b_next);
        const float *ap = a + (size_t)p * OBC_MR;
        for (int i = 0; i < OBC_MR; i++) {
            __m512 av = _mm512_set1_ps(ap[i]);
            for (int q = 0; q < panels; q++) acc[q][i] = _mm512_fmadd_ps(av, bq[q], acc[q][i]);
        }
    }
    store_tile_avx512(acc[0], acc[1], c, ldc, c_in, ldc_in, mr, nr < 2 * OBC_NR ? nr : 2 * OBC_NR, bias);
    if (panels == 4)
        store_tile_avx512(acc[2], acc[3], c + 2 * OBC_NR, ldc, c_in ? c_in + 2 * OBC_NR : NULL, ldc_in, mr,
                          nr - 2 * OBC_NR, bias ? bias + 2 * OBC_NR : NULL);
}

/// Splits a tile of nr columns into the widest tiles that read only panels that exist: four
/// panels when nr > 3·NR, else two (and the one- or two-panel rest).
#define OBC_SPLIT_WIDE(tile, one, ...)                                                              \
    do {                                                                                            \
        if (nr > 3 * OBC_NR) { tile(__VA_ARGS__, 4); return; }                                      \
        if (nr > 2 * OBC_NR) {                                                                      \
            tile(kc, a, b, ldb, b_next, c, ldc, c_in, ldc_in, mr, 2 * OBC_NR, bias, 2);             \
            const void *b3 = (const char *)b + 2 * b_next * (long)sizeof(*(b));                     \
            one(kc, a, b3, ldb, b_next, c + 2 * OBC_NR, ldc, c_in ? c_in + 2 * OBC_NR : NULL, ldc_in, mr, \
                nr - 2 * OBC_NR, bias ? bias + 2 * OBC_NR : NULL);                                  \
            return;                                                                                 \
        }                                                                                           \
    } while (0)

/// AVX-512F kernel: tiles of 2 or 4 panels. A one-panel tile (GEMM's last column panel) goes to
/// the AVX2 kernel: a zmm version of it measured ~20% slower in attention.
__attribute__((target("avx512f")))
static void microkernel_avx512(int kc, const void *a_, const void *b_, long ldb, long b_next,
                               float *c, long ldc, const float *c_in, long ldc_in, int mr, int nr,
                               const float *bias) {
    if (nr <= OBC_NR) {
        microkernel_avx2(kc, a_, b_, ldb, b_next, c, ldc, c_in, ldc_in, mr, nr, bias);
        return;
    }
    const float *a = a_, *b = b_;
    OBC_SPLIT_WIDE(f32_tile_zmm, microkernel_avx2, kc, a, b, ldb, b_next, c, ldc, c_in, ldc_in, mr, nr, bias);
    f32_tile_zmm(kc, a, b, ldb, b_next, c, ldc, c_in, ldc_in, mr, nr, bias, 2);
}

/// The AVX512-BF16 tile: per k-pair, one `vdpbf16ps` per row and panel multiplies a broadcast
/// (a[i,p], a[i,p+1]) pair by 16 columns' pairs and adds both exact products into f32 lanes:
/// 32 multiply-adds per instruction, twice the f32 FMA. `panels` (1, 2 or 4) is a constant at
/// each call site, so each width compiles to its own loop.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"), always_inline))
static inline void bf16_tile(int kc, const uint16_t *a, const uint16_t *b, long ldb, long b_next,
                             float *c, long ldc, const float *c_in, long ldc_in, int mr, int nr,
                             const float *bias, int panels) {
    int pairs = (kc + 1) / 2;
    __m512 acc[4][OBC_MR];
    for (int q = 0; q < 4; q++)
        for (int i = 0; i < OBC_MR; i++) acc[q][i] = _mm512_setzero_ps();
    if (c_in) for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(c_in + (size_t)i * ldc_in), _MM_HINT_T0);
    const uint32_t *ap = (const uint32_t *)a;
#pragma clang loop unroll_count(2)
    for (int p = 0; p < pairs; p++) {
        const uint16_t *bp = b + (size_t)p * ldb;
        __m512bh bq[4];
        for (int q = 0; q < panels; q++) bq[q] = (__m512bh)_mm512_loadu_si512(bp + q * b_next);
        for (int i = 0; i < OBC_MR; i++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[(size_t)p * OBC_MR + i]);
            for (int q = 0; q < panels; q++) acc[q][i] = _mm512_dpbf16_ps(acc[q][i], av, bq[q]);
        }
    }
    store_tile_avx512(acc[0], acc[1], c, ldc, c_in, ldc_in, mr, nr < 2 * OBC_NR ? nr : 2 * OBC_NR, bias);
    if (panels == 4)
        store_tile_avx512(acc[2], acc[3], c + 2 * OBC_NR, ldc, c_in ? c_in + 2 * OBC_NR : NULL, ldc_in, mr,
                          nr - 2 * OBC_NR, bias ? bias + 2 * OBC_NR : NULL);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void bf16_one_panel(int kc, const void *a, const void *b, long ldb, long b_next,
                           float *c, long ldc, const float *c_in, long ldc_in, int mr, int nr, const float *bias) {
    bf16_tile(kc, a, b, ldb, b_next, c, ldc, c_in, ldc_in, mr, nr, bias, 1);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void microkernel_avx512bf16(int kc, const void *a_, const void *b_, long ldb, long b_next,
                                   float *c, long ldc, const float *c_in, long ldc_in, int mr, int nr,
                                   const float *bias) {
    const uint16_t *a = a_, *b = b_;
    if (nr <= OBC_NR) { bf16_tile(kc, a, b, ldb, b_next, c, ldc, c_in, ldc_in, mr, nr, bias, 1); return; }
    OBC_SPLIT_WIDE(bf16_tile, bf16_one_panel, kc, a, b, ldb, b_next, c, ldc, c_in, ldc_in, mr, nr, bias);
    bf16_tile(kc, a, b, ldb, b_next, c, ldc, c_in, ldc_in, mr, nr, bias, 2);
}

/// Panels per tile on the AVX-512 levels: 4 (a 6×64 tile, 24 accumulators) on cores that run a
/// 512-bit FMA in one pass, 2 (6×32) on those that split it into 256-bit halves. The wider tile
/// issues one A broadcast per 4 FMAs instead of 2 and re-reads each packed A panel from L2 half
/// as often; with full-width FMAs (Zen 5, two 512-bit pipes) that measured 12–15 % less CPU time
/// per bf16 UNet forward (docs/DECISIONS.md). Zen 4 (AMD family 0x19) takes two passes per zmm
/// FMA, so per cycle it needs half the operands and the measured 6×32 tile stays. Only AMD
/// families are told apart: Intel's AVX-512 cores differ in FMA ports by model, none was measured.
static int wide_tiles(void) {
    static int panels = 0;
    if (!panels) {
        panels = 2;
        unsigned eax, ebx, ecx, edx;
        if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) && ebx == 0x68747541 /* "Auth"enticAMD */ &&
            __get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
            unsigned family = (eax >> 8) & 0xF;
            if (family == 0xF) family += (eax >> 20) & 0xFF;
            if (family >= 0x1A) panels = 4; // Zen 5 and later
        }
    }
    return panels;
}

obc_microkernel_choice obc_select_bf16_microkernel(void) {
    return (obc_microkernel_choice){microkernel_avx512bf16, wide_tiles()};
}

obc_microkernel_choice obc_select_microkernel(void) {
    switch (obc_isa()) {
    case OBC_ISA_AVX512BF16:
    case OBC_ISA_AVX512: return (obc_microkernel_choice){microkernel_avx512, wide_tiles()};
    case OBC_ISA_AVX2: return (obc_microkernel_choice){microkernel_avx2, 1};
    default: return (obc_microkernel_choice){microkernel_generic, 1};
    }
}

// MARK: Packing A

/// Source of zeros for padded rows and convolution taps that fall outside the image.
static const float zero_row[OBC_KC_MAX];

/// Packs rows [i0, i0+mc) × depth [k0, k0+kc) of A into MR-row panels of `depth` (kc, or kc
/// rounded up to pairs) depths each, with `interleave` choosing the element layout.
static void pack_a(const obc_a_source *s, int i0, int mc, int k0, int kc, int depth, obc_interleave_fn interleave,
                   size_t esize, void *dst) {
    const float *rows[OBC_MR];
    for (int r = 0; r < mc; r += OBC_MR) {
        int valid = mc - r < OBC_MR ? mc - r : OBC_MR;
        char *panel = (char *)dst + (size_t)r * depth * esize;
        if (s->kind == 0) {
            for (int ii = 0; ii < OBC_MR; ii++)
                rows[ii] = ii < valid ? s->a + (size_t)(i0 + r + ii) * s->lda + k0 : zero_row;
            interleave(rows, kc, panel);
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
            interleave(rows, len, panel + (size_t)(k - k0) * OBC_MR * esize);
            k += len;
        }
    }
}

// MARK: Driver

static _Thread_local float *a_buffer, *b_buffer;
static _Thread_local uint16_t *a_pairs_buffer;

/// A per-thread 64-byte aligned scratch buffer of `bytes`, allocated on first use.
static void *thread_buffer(void *buffer, size_t bytes) {
    void **slot = buffer;
    if (!*slot && posix_memalign(slot, 64, bytes) != 0) abort();
    return *slot;
}

void obc_gemm(const obc_a_source *a, int m0, int m1, int n0, int n1, int n, int k,
              const void *packed_b, int b_format, float *c, long ldc, const float *bias,
              const float *addend, long ld_addend) {
    if (m0 >= m1 || n0 >= n1) return;
    if (k <= 0) {
        for (int i = m0; i < m1; i++) {
            float *ci = c + (size_t)i * ldc;
            const float *ri = addend ? addend + (size_t)i * ld_addend : NULL;
            for (int j = n0; j < n1; j++) ci[j] = (ri ? ri[j] : 0) + (bias ? bias[j] : 0);
        }
        return;
    }
    // bf16 operands run on the dot-product kernel where the CPU has one; elsewhere A is rounded
    // to bf16 in place and B's pairs are widened, so the f32 kernel forms the same products.
    int dot = b_format == OBC_BF16 && obc_isa() >= OBC_ISA_AVX512BF16;
    obc_microkernel_choice kernel = dot ? obc_select_bf16_microkernel() : obc_select_microkernel();
    int width = kernel.panels * OBC_NR;
    obc_interleave_fn interleave = obc_select_interleave(0), interleave_pairs = dot ? obc_select_interleave(1) : NULL;
    float *abuf = thread_buffer(&a_buffer, sizeof(float) * (OBC_MC * OBC_KC_MAX + 2));
    uint16_t *apairs = dot ? thread_buffer(&a_pairs_buffer, sizeof(uint16_t) * OBC_MC * OBC_KC_MAX) : NULL;
    // Half-precision panels are widened once per (panel, A block) into an L1-sized f32 buffer
    // and then reused by all MC/MR micro-kernel calls of the block, so the conversion costs
    // ~1/24 of what widening inside the micro-kernel would, and the f32 kernel runs unchanged.
    float *bwide = b_format == OBC_F32 || dot ? NULL : thread_buffer(&b_buffer, sizeof(float) * OBC_KC_MAX * 4 * OBC_NR);
    size_t esize = obc_format_size(b_format);
    int npad = round_up(n, OBC_NR);
    int blocks = obc_kblock_count(k, b_format);
    for (int jc = n0; jc < n1; jc += OBC_NC) {
        int jend = jc + OBC_NC < n1 ? jc + OBC_NC : n1;
        for (int blk = 0; blk < blocks; blk++) {
            int k0, kc;
            obc_kblock(k, b_format, blk, &k0, &kc);
            int depth = stored_depth(kc, b_format);
            // A packs straight into k-pairs when no pair straddles a convolution tap or the end.
            int pairs_direct = kc % 2 == 0 && (a->kind == 0 || a->channels % 2 == 0);
            const char *bblock = (const char *)packed_b + (size_t)k0 * npad * esize;
            // The first k-block adds bias and addend; later ones accumulate onto C.
            const float *blk_bias = blk == 0 ? bias : NULL, *blk_in = blk == 0 ? addend : c;
            long blk_ld = blk == 0 ? ld_addend : ldc;
            for (int ic = m0; ic < m1; ic += OBC_MC) {
                int mc = m1 - ic < OBC_MC ? m1 - ic : OBC_MC;
                if (dot && pairs_direct) {
                    pack_a(a, ic, mc, k0, kc, depth, interleave_pairs, sizeof(uint16_t), apairs);
                } else {
                    pack_a(a, ic, mc, k0, kc, kc, interleave, sizeof(float), abuf);
                    if (dot) {
                        for (int ir = 0; ir < mc; ir += OBC_MR)
                            obc_pack_pairs_bf16(abuf + (size_t)ir * kc, kc, OBC_MR, apairs + (size_t)ir * depth);
                    } else if (b_format == OBC_BF16) {
                        obc_round_to_format(abuf, abuf, (long)round_up(mc, OBC_MR) * kc, OBC_BF16);
                    }
                }
                for (int jr = jc; jr < jend; jr += width) {
                    int nr = jend - jr < width ? jend - jr : width;
                    // Adjacent panels are contiguous, so a two-panel tile widens both in one go.
                    int panels = (nr + OBC_NR - 1) / OBC_NR;
                    const char *stored = bblock + (size_t)(jr / OBC_NR) * depth * OBC_NR * esize;
                    const void *bpanel = stored;
                    // Row strides in the panel's elements: bf16 pairs hold two k-rows per row.
                    long ldb = dot ? 2 * OBC_NR : OBC_NR, b_next = (long)depth * OBC_NR;
                    if (bwide) {
                        if (b_format == OBC_BF16) {
                            for (int q = 0; q < panels; q++)
                                obc_unpack_pairs_bf16((const uint16_t *)stored + (size_t)q * depth * OBC_NR, kc, OBC_NR,
                                                      bwide + (size_t)q * kc * OBC_NR);
                        } else {
                            obc_widen(stored, (long)kc * panels * OBC_NR, b_format, bwide);
                        }
                        bpanel = bwide;
                        ldb = OBC_NR;
                        b_next = (long)kc * OBC_NR;
                    }
                    for (int ir = 0; ir < mc; ir += OBC_MR) {
                        int mr = mc - ir < OBC_MR ? mc - ir : OBC_MR;
                        const void *apanel = dot ? (const void *)(apairs + (size_t)ir * depth) : (const void *)(abuf + (size_t)ir * kc);
                        size_t row = (size_t)(ic + ir);
                        kernel.run(kc, apanel, bpanel, ldb, b_next, c + row * ldc + jr, ldc,
                                   blk_in ? blk_in + row * blk_ld + jr : NULL, blk_ld, mr, nr,
                                   blk_bias ? blk_bias + jr : NULL);
                    }
                }
            }
        }
    }
}
