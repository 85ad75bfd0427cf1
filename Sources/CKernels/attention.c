#include "internal.h"
#include "vecmath.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// Flash-style attention computed transposed. For a block of BQ queries and BK keys the GEMM
// micro-kernel forms Sᵀ = K·Qᵀ (keys as A rows, queries as B columns), the online softmax
// runs down each 16-query column panel with one vector lane per query (no horizontal
// reductions), and the resulting Pᵀ is read in place as the B operand of the second product
// Oᵀ += Vᵀ·Pᵀ. Only a BK×BQ tile of scores exists at a time (60 KiB), so 4096×4096
// self-attention needs no tokens×tokens buffer. In bf16, Q, K, V and P are rounded to bf16
// (k-pair layout) and both products are bf16 dot products accumulated in f32; the softmax
// stays f32. On bf16 dot products the scores come from their own loop (`scores_panel_pairs`,
// which also takes their max) and the softmax writes the probabilities straight to k-pairs:
// together 15 % off SD1.x's 4096-token, 40-wide heads (DECISIONS, "Performance IV").

#define BQ 64  // queries per block: 4 panels of OBC_NR
#define BK 240 // keys per block: 40 micro-kernel row panels (a multiple of OBC_MR and of 16)

/// Grows a per-thread, 64-byte aligned scratch buffer to at least `count` floats.
static float *grow(float **buffer, size_t *capacity, size_t count) {
    if (*capacity < count) {
        free(*buffer);
        void *p = NULL;
        if (posix_memalign(&p, 64, sizeof(float) * (count ? count : 1)) != 0) abort();
        *buffer = p;
        *capacity = count;
    }
    return *buffer;
}

static _Thread_local float *k_buf, *v_buf, *q_buf, *s_buf, *o_buf, *pairs_buf, *zero_buf;
static _Thread_local size_t k_cap, v_cap, q_cap, s_cap, o_cap, pairs_cap, zero_cap;

static int round_up(int x, int to) { return (x + to - 1) / to * to; }

/// Online-softmax step for one 16-query panel of raw scores `s` (`s[jj*lds + q]` = q·k, keys
/// jj < kb, key index j0 + jj, query index q0 + q): turns them into exp(scale·(s − new max)) in
/// place (zero where masked), updates the running raw max `m` and sum `l`, and returns in
/// `correction` the factor exp(scale·(old max − new max)) that rescales what was accumulated so
/// far. Scaling here rather than pre-scaling Q keeps bf16's rounded Q exactly q's rounding.
typedef void (*softmax_panel_fn)(float *s, long lds, int kb, int j0, int q0, int causal, float *m, float *l,
                                 float *correction, float scale);

static void softmax_panel_generic(float *s, long lds, int kb, int j0, int q0, int causal,
                                  float *m, float *l, float *correction, float scale) {
    for (int q = 0; q < OBC_NR; q++) {
        int visible = causal ? q0 + q - j0 + 1 : kb; // keys jj < visible are unmasked
        if (visible > kb) visible = kb;
        float mx = m[q];
        for (int jj = 0; jj < visible; jj++) mx = s[jj * lds + q] > mx ? s[jj * lds + q] : mx;
        correction[q] = m[q] == -INFINITY ? 0.0f : expf((m[q] - mx) * scale);
        float sum = 0;
        for (int jj = 0; jj < kb; jj++) {
            float p = jj < visible ? expf((s[jj * lds + q] - mx) * scale) : 0.0f;
            s[jj * lds + q] = p;
            sum += p;
        }
        l[q] = l[q] * correction[q] + sum;
        m[q] = mx;
    }
}

__attribute__((target("avx2,fma")))
static void softmax_panel_avx2(float *s, long lds, int kb, int j0, int q0, int causal,
                               float *m, float *l, float *correction, float scale) {
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
    __m256 query0 = _mm256_add_ps(lane, _mm256_set1_ps((float)q0));
    __m256 query1 = _mm256_add_ps(query0, _mm256_set1_ps(8.0f));
    __m256 old0 = _mm256_loadu_ps(m), old1 = _mm256_loadu_ps(m + 8);
    __m256 mx0 = old0, mx1 = old1;
    for (int jj = 0; jj < kb; jj++) {
        __m256 s0 = _mm256_loadu_ps(s + jj * lds), s1 = _mm256_loadu_ps(s + jj * lds + 8);
        if (causal) {
            __m256 key = _mm256_set1_ps((float)(j0 + jj));
            s0 = _mm256_blendv_ps(neg_inf, s0, _mm256_cmp_ps(key, query0, _CMP_LE_OQ));
            s1 = _mm256_blendv_ps(neg_inf, s1, _mm256_cmp_ps(key, query1, _CMP_LE_OQ));
        }
        mx0 = _mm256_max_ps(mx0, s0);
        mx1 = _mm256_max_ps(mx1, s1);
    }
    // Lanes with no visible key yet keep max −∞; their exp(−∞ − −∞) is masked to zero.
    __m256 seen0 = _mm256_cmp_ps(old0, neg_inf, _CMP_NEQ_OQ), seen1 = _mm256_cmp_ps(old1, neg_inf, _CMP_NEQ_OQ);
    __m256 corr0 = _mm256_and_ps(obc_exp8(_mm256_mul_ps(_mm256_sub_ps(old0, mx0), vscale)), seen0);
    __m256 corr1 = _mm256_and_ps(obc_exp8(_mm256_mul_ps(_mm256_sub_ps(old1, mx1), vscale)), seen1);
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
    for (int jj = 0; jj < kb; jj++) {
        float *row = s + jj * lds;
        __m256 e0 = obc_exp8(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row), mx0), vscale));
        __m256 e1 = obc_exp8(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + 8), mx1), vscale));
        if (causal) {
            __m256 key = _mm256_set1_ps((float)(j0 + jj));
            e0 = _mm256_and_ps(e0, _mm256_cmp_ps(key, query0, _CMP_LE_OQ));
            e1 = _mm256_and_ps(e1, _mm256_cmp_ps(key, query1, _CMP_LE_OQ));
        }
        _mm256_storeu_ps(row, e0);
        _mm256_storeu_ps(row + 8, e1);
        sum0 = _mm256_add_ps(sum0, e0);
        sum1 = _mm256_add_ps(sum1, e1);
    }
    _mm256_storeu_ps(l, _mm256_fmadd_ps(_mm256_loadu_ps(l), corr0, sum0));
    _mm256_storeu_ps(l + 8, _mm256_fmadd_ps(_mm256_loadu_ps(l + 8), corr1, sum1));
    _mm256_storeu_ps(m, mx0);
    _mm256_storeu_ps(m + 8, mx1);
    _mm256_storeu_ps(correction, corr0);
    _mm256_storeu_ps(correction + 8, corr1);
}

/// The panel's new running max: `m` and the scores of its visible keys jj < kb, or `block_max`
/// where the scores' product already took it (non-causal bf16 pairs).
__attribute__((target("avx512f"), always_inline))
static inline __m512 panel_max_zmm(const float *s, long lds, int kb, int j0, __m512 query, int causal,
                                   const float *m, const float *block_max) {
    __m512 mx = _mm512_loadu_ps(m);
    if (block_max) return _mm512_max_ps(mx, _mm512_loadu_ps(block_max));
    for (int jj = 0; jj < kb; jj++) {
        __mmask16 visible = causal ? _mm512_cmp_ps_mask(_mm512_set1_ps((float)(j0 + jj)), query, _CMP_LE_OQ) : 0xFFFF;
        mx = _mm512_mask_max_ps(mx, visible, mx, _mm512_loadu_ps(s + jj * lds));
    }
    return mx;
}

/// exp(scale·(s − max)) of key row jj, zero where masked: past kb, or after the query (causal).
/// `coarse` (a constant at each call site) takes the base-2 exp for bf16 probabilities, its
/// log₂e folded into `vscale` and `mx_scaled`.
__attribute__((target("avx512f"), always_inline))
static inline __m512 panel_exp_zmm(const float *s, long lds, int jj, int kb, int j0, __m512 query, int causal,
                                   __m512 vscale, __m512 mx_scaled, int coarse) {
    __mmask16 visible = jj >= kb ? 0 : causal ? _mm512_cmp_ps_mask(_mm512_set1_ps((float)(j0 + jj)), query, _CMP_LE_OQ) : 0xFFFF;
    __m512 x = _mm512_fmsub_ps(_mm512_loadu_ps(s + jj * lds), vscale, mx_scaled);
    return _mm512_maskz_mov_ps(visible, coarse ? obc_exp2_16_coarse(x) : obc_exp16(x));
}

/// What a panel's step keeps between its exps: the 16 queries' indices, the new max (also
/// scaled for the exp's argument), the exp's scale, and the old sums' correction factor.
typedef struct {
    __m512 query, mx, mx_scaled, vscale, corr;
} panel_step;

/// Opens a panel's step: the new max and the correction exp(scale·(old max − new max)).
/// `coarse` (a constant at each call site) takes the base-2 exp for bf16 probabilities, its
/// log₂e folded into `vscale` and `mx_scaled`.
__attribute__((target("avx512f"), always_inline))
static inline panel_step panel_begin(const float *s, long lds, int kb, int j0, int q0, int causal, const float *m,
                                     const float *block_max, float scale, int coarse) {
    panel_step st;
    st.query = _mm512_add_ps(_mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_ps((float)q0));
    __m512 old = _mm512_loadu_ps(m);
    st.mx = panel_max_zmm(s, lds, kb, j0, st.query, causal, m, block_max);
    // Lanes with no visible key yet keep max −∞; their exp(−∞ − −∞) is masked to zero.
    st.corr = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(old, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ),
                                  obc_exp16(_mm512_mul_ps(_mm512_sub_ps(old, st.mx), _mm512_set1_ps(scale))));
    st.vscale = _mm512_set1_ps(coarse ? scale * 1.44269504088896341f : scale);
    st.mx_scaled = _mm512_mul_ps(st.mx, st.vscale);
    return st;
}

/// Closes a panel's step: l ← l·correction + sum, and the new max and correction stored.
__attribute__((target("avx512f"), always_inline))
static inline void panel_end(panel_step st, __m512 sum, float *m, float *l, float *correction) {
    _mm512_storeu_ps(l, _mm512_fmadd_ps(_mm512_loadu_ps(l), st.corr, sum));
    _mm512_storeu_ps(m, st.mx);
    _mm512_storeu_ps(correction, st.corr);
}

/// The same step with one zmm per key row: a panel's 16 queries are exactly one vector.
__attribute__((target("avx512f"), always_inline))
static inline void softmax_panel_zmm(float *s, long lds, int kb, int j0, int q0, int causal, float *m, float *l,
                                     float *correction, float scale, int coarse) {
    panel_step st = panel_begin(s, lds, kb, j0, q0, causal, m, NULL, scale, coarse);
    __m512 sum = _mm512_setzero_ps();
    for (int jj = 0; jj < kb; jj++) {
        __m512 e = panel_exp_zmm(s, lds, jj, kb, j0, st.query, causal, st.vscale, st.mx_scaled, coarse);
        _mm512_storeu_ps(s + jj * lds, e);
        sum = _mm512_add_ps(sum, e);
    }
    panel_end(st, sum, m, l, correction);
}

__attribute__((target("avx512f")))
static void softmax_panel_avx512(float *s, long lds, int kb, int j0, int q0, int causal,
                                 float *m, float *l, float *correction, float scale) {
    softmax_panel_zmm(s, lds, kb, j0, q0, causal, m, l, correction, scale, 0);
}

__attribute__((target("avx512f")))
static void softmax_panel_avx512_coarse(float *s, long lds, int kb, int j0, int q0, int causal,
                                        float *m, float *l, float *correction, float scale) {
    softmax_panel_zmm(s, lds, kb, j0, q0, causal, m, l, correction, scale, 1);
}

/// The bf16 dot-product path's step: the probabilities go straight to bf16 k-pairs, as the
/// second product reads them (`pairs[(jj/2)·2·ldp + 2q + jj%2]`, rows kb…kb_stored zero),
/// two key rows per conversion, instead of to `s` and a packing pass; with `block_max` (the
/// scores' product took it) the max pass over `s` is skipped.
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void softmax_panel_pairs(const float *s, long lds, int kb, int kb_stored, int j0, int q0, int causal, float *m,
                                float *l, float *correction, float scale, uint16_t *pairs, long ldp, const float *block_max) {
    const __m512i interleave = _mm512_loadu_si512(obc_pair_interleave16);
    panel_step st = panel_begin(s, lds, kb, j0, q0, causal, m, block_max, scale, 1);
    __m512 sum = _mm512_setzero_ps();
    for (int jj = 0; jj < kb_stored; jj += 2) {
        __m512 e0 = panel_exp_zmm(s, lds, jj, kb, j0, st.query, causal, st.vscale, st.mx_scaled, 1);
        __m512 e1 = panel_exp_zmm(s, lds, jj + 1, kb, j0, st.query, causal, st.vscale, st.mx_scaled, 1);
        sum = _mm512_add_ps(_mm512_add_ps(sum, e0), e1);
        __m512i both = (__m512i)_mm512_cvtne2ps_pbh(e1, e0);
        _mm512_storeu_si512(pairs + (size_t)jj * ldp, _mm512_permutexvar_epi16(interleave, both));
    }
    panel_end(st, sum, m, l, correction);
}

/// Sᵀ rows of one 16-query panel on bf16 dot products: s[jj·lds + q] = k_jj·q_q for the `rows`
/// keys of `k_panels` (6-key A panels, `np` k-pairs deep) against the panel's `np` Qᵀ pair rows,
/// and the max over keys jj < kb to `block_max` (when given). Replaces the GEMM micro-kernel
/// here: at attention's depths (20 pairs for SD1.x's 40-wide heads) the 6×32 tile's set-up and
/// stores weigh on a 20-step loop, while one Qᵀ row per step feeds six broadcast dot products
/// straight into the rows the softmax reads; the k-sum order is the micro-kernel's.
__attribute__((target("avx512f,avx512bf16")))
static void scores_panel_pairs(int np, const uint16_t *k_panels, int rows, int kb, const uint16_t *q_panel,
                               float *s, long lds, float *block_max) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int r = 0; r < rows; r += OBC_MR) {
        const uint32_t *keys = (const uint32_t *)(k_panels + (size_t)r * 2 * np);
        __m512 acc[OBC_MR];
        for (int i = 0; i < OBC_MR; i++) acc[i] = _mm512_setzero_ps();
        for (int t = 0; t < np; t++) {
            __m512bh qt = (__m512bh)_mm512_loadu_si512(q_panel + 32 * t);
            for (int i = 0; i < OBC_MR; i++)
                acc[i] = _mm512_dpbf16_ps(acc[i], qt, (__m512bh)_mm512_set1_epi32((int)keys[t * OBC_MR + i]));
        }
        for (int i = 0; i < OBC_MR; i++) {
            _mm512_storeu_ps(s + (size_t)(r + i) * lds, acc[i]);
            if (r + i < kb) mx = _mm512_max_ps(mx, acc[i]);
        }
    }
    if (block_max) _mm512_storeu_ps(block_max, mx);
}

/// The kernels one attention call runs with: products, softmax, and how its operands are stored.
typedef struct {
    obc_microkernel kernel;
    int tile_panels; // 16-query panels per micro-kernel call (the kernel's widest tile)
    obc_interleave_fn interleave;
    softmax_panel_fn softmax_panel;
    int pairs; // operands packed as bf16 k-pairs for the dot-product kernel
    int round; // operands rounded to bf16 but kept f32 (bf16 on a CPU without bf16 dot products)
} attention_kernels;

/// Puts a k-major f32 block (`depth`×`width`) in its final form: bf16 pairs in `pairs_dst`, or
/// `f32` itself (rounded to bf16, or left as is). Returns the operand.
static const void *finish_operand(const attention_kernels *ak, float *f32, int depth, int width, uint16_t *pairs_dst) {
    if (ak->pairs) {
        obc_pack_pairs_bf16(f32, depth, width, pairs_dst);
        return pairs_dst;
    }
    if (ak->round) obc_round_to_format(f32, f32, (long)depth * width, OBC_BF16);
    return f32;
}

/// The whole call, written once and inlined into one wrapper per instruction set so its packing
/// and rescaling loops are vectorised for the CPU that runs them.
///
/// Per block of BQ queries and BK keys: Sᵀ (keys × BQ, row-major) = K·Qᵀ in tiles of 6 keys ×
/// 32 queries (two Qᵀ panels; on bf16 dot products one 16-query panel at a time), the online
/// softmax down each 16-query column panel, then Oᵀ (dv × BQ) += Vᵀ·Pᵀ in tiles of 6 value
/// channels × 32 queries, reading Pᵀ's rows in place.
__attribute__((always_inline))
static inline void attention_body(const attention_kernels *ak, const float *q, long ldq, const float *k, long ldk,
                                  const float *v, long ldv, float *out, long ldo, int tk, int d, int dv,
                                  int q_begin, int q_end, int causal, float scale) {
    int key_end = causal ? (tk < q_end ? tk : q_end) : tk;
    int key_rows = round_up(key_end, OBC_MR), dv6 = round_up(dv, OBC_MR);
    // Depths as stored: bf16 pairs pad d and each key block to even.
    int d_stored = ak->pairs ? round_up(d, 2) : d;
    float *ka = grow(&k_buf, &k_cap, (size_t)key_rows * d + 2); // + the interleave's slack
    float *va = grow(&v_buf, &v_cap, (size_t)round_up(key_end, BK) * dv6);
    float *qb = grow(&q_buf, &q_cap, (size_t)BQ * d);
    float *s = grow(&s_buf, &s_cap, (size_t)BK * BQ);
    float *o = grow(&o_buf, &o_cap, (size_t)dv6 * BQ + 3 * BQ);
    float *row_max = o + (size_t)dv6 * BQ, *row_sum = row_max + BQ, *correction = row_sum + BQ;
    // bf16 pairs of K, Vᵀ, Qᵀ and the probabilities, in one buffer.
    size_t k_pairs = (size_t)key_rows * d_stored, v_pairs = (size_t)round_up(key_end, BK) * dv6;
    size_t q_pairs = (size_t)BQ * d_stored, s_pairs = (size_t)BK * BQ;
    uint16_t *kp = NULL, *vp = NULL, *qp = NULL, *sp = NULL;
    if (ak->pairs) {
        kp = (uint16_t *)grow(&pairs_buf, &pairs_cap, (k_pairs + v_pairs + q_pairs + s_pairs) / 2 + 64);
        vp = kp + k_pairs, qp = vp + v_pairs, sp = qp + q_pairs;
    }
    // Strides of the operands as the micro-kernel reads them, in their elements.
    size_t esize = ak->pairs ? 2 : 4;
    long row = ak->pairs ? 2 : 1; // B row per k-row (pairs hold two k-rows per row of twice the width)

    // K as A panels (6 keys × depth d) and Vᵀ as A panels (6 value channels × depth = the
    // keys of one block), both once per call.
    float *zeros = grow(&zero_buf, &zero_cap, (size_t)d);
    memset(zeros, 0, sizeof(float) * (size_t)d);
    for (int r = 0; r < key_rows; r += OBC_MR) {
        float *panel = ka + (size_t)r * d;
        const float *keys[OBC_MR];
        for (int jj = 0; jj < OBC_MR; jj++) keys[jj] = r + jj < key_end ? k + (size_t)(r + jj) * ldk : zeros;
        ak->interleave(keys, d, panel);
        finish_operand(ak, panel, d, OBC_MR, kp + (size_t)r * d_stored);
    }
    for (int j0 = 0; j0 < key_end; j0 += BK) {
        int kb = key_end - j0 < BK ? key_end - j0 : BK, kb_stored = ak->pairs ? round_up(kb, 2) : kb;
        for (int r = 0; r < dv6; r += OBC_MR) {
            float *panel = va + (size_t)j0 * dv6 + (size_t)r * kb;
            for (int jj = 0; jj < kb; jj++) {
                const float *src = v + (size_t)(j0 + jj) * ldv + r;
                for (int t = 0; t < OBC_MR; t++) panel[(size_t)jj * OBC_MR + t] = r + t < dv ? src[t] : 0.0f;
            }
            finish_operand(ak, panel, kb, OBC_MR, vp + (size_t)j0 * dv6 + (size_t)r * kb_stored);
        }
    }
    const char *v_panels = ak->pairs ? (const char *)vp : (const char *)va;

    for (int i0 = q_begin; i0 < q_end; i0 += BQ) {
        int bq = q_end - i0 < BQ ? q_end - i0 : BQ, panels = (bq + OBC_NR - 1) / OBC_NR;
        // Qᵀ as B panels (depth d × 16 queries), adjacent, so two make one 32-query tile.
        for (int p = 0; p < panels; p++) {
            float *panel = qb + (size_t)p * d * OBC_NR;
            int valid = bq - p * OBC_NR < OBC_NR ? bq - p * OBC_NR : OBC_NR;
            if (valid < OBC_NR) memset(panel, 0, sizeof(float) * (size_t)d * OBC_NR);
            obc_transpose_strided(q + (size_t)(i0 + p * OBC_NR) * ldq, ldq, valid, d, panel, OBC_NR, NULL);
            finish_operand(ak, panel, d, OBC_NR, qp + (size_t)p * d_stored * OBC_NR);
        }
        long q_panel = (long)d_stored * OBC_NR; // elements from one Qᵀ panel to the next
        for (int i = 0; i < BQ; i++) { row_max[i] = -INFINITY; row_sum[i] = 0; }
        memset(o, 0, sizeof(float) * (size_t)dv6 * BQ);
        int visible = causal ? (key_end < i0 + bq ? key_end : i0 + bq) : key_end;
        for (int j0 = 0; j0 < visible; j0 += BK) {
            int kb = visible - j0 < BK ? visible - j0 : BK;
            int kb_packed = key_end - j0 < BK ? key_end - j0 : BK; // depth V's block was packed with
            int kb_rows = round_up(kb, OBC_MR);
            const char *probabilities;
            if (ak->pairs) {
                // Per panel: scores (with their max unless causal), then bf16 probabilities.
                float block_max[BQ];
                for (int p = 0; p < panels; p++) {
                    int at = p * OBC_NR;
                    float *panel_max = causal ? NULL : block_max + at;
                    scores_panel_pairs(d_stored / 2, kp + (size_t)j0 * d_stored, kb_rows, kb, qp + (size_t)p * q_panel,
                                       s + at, BQ, panel_max);
                    softmax_panel_pairs(s + at, BQ, kb, round_up(kb_packed, 2), j0, i0 + at, causal, row_max + at,
                                        row_sum + at, correction + at, scale, sp + 2 * at, BQ, panel_max);
                }
                probabilities = (const char *)sp;
            } else {
                for (int r = 0; r < kb_rows; r += OBC_MR)
                    for (int p = 0; p < panels; p += ak->tile_panels) {
                        int nr = (panels - p < ak->tile_panels ? panels - p : ak->tile_panels) * OBC_NR;
                        ak->kernel(d, ka + (size_t)(j0 + r) * d, qb + (size_t)p * q_panel,
                                   OBC_NR, q_panel, s + (size_t)r * BQ + p * OBC_NR, BQ, NULL, 0, OBC_MR, nr, NULL);
                    }
                for (int p = 0; p < panels; p++)
                    ak->softmax_panel(s + p * OBC_NR, BQ, kb, j0, i0 + p * OBC_NR, causal, row_max + p * OBC_NR,
                                      row_sum + p * OBC_NR, correction + p * OBC_NR, scale);
                // A key block shorter than V's packed depth (causal) gets zero probabilities.
                for (int jj = kb; jj < kb_packed; jj++) memset(s + (size_t)jj * BQ, 0, sizeof(float) * BQ);
                probabilities = finish_operand(ak, s, kb_packed, BQ, sp);
            }
            for (int t = 0; t < dv6; t++)
                for (int qq = 0; qq < panels * OBC_NR; qq++) o[(size_t)t * BQ + qq] *= correction[qq];
            int kb_stored = ak->pairs ? round_up(kb_packed, 2) : kb_packed;
            for (int r = 0; r < dv6; r += OBC_MR)
                for (int p = 0; p < panels; p += ak->tile_panels) {
                    int nr = (panels - p < ak->tile_panels ? panels - p : ak->tile_panels) * OBC_NR;
                    float *op = o + (size_t)r * BQ + p * OBC_NR;
                    ak->kernel(kb_packed, v_panels + ((size_t)j0 * dv6 + (size_t)r * kb_stored) * esize,
                               probabilities + (size_t)p * row * OBC_NR * esize, row * BQ, row * OBC_NR,
                               op, BQ, op, BQ, OBC_MR, nr, NULL);
                }
        }
        for (int i = 0; i < bq; i++) row_sum[i] = 1.0f / row_sum[i];
        obc_transpose_strided(o, BQ, dv, bq, out + (size_t)i0 * ldo, ldo, row_sum);
    }
}

static void attention_generic(const attention_kernels *ak, const float *q, long ldq, const float *k, long ldk,
                              const float *v, long ldv, float *out, long ldo, int tk, int d, int dv,
                              int q_begin, int q_end, int causal, float scale) {
    attention_body(ak, q, ldq, k, ldk, v, ldv, out, ldo, tk, d, dv, q_begin, q_end, causal, scale);
}

__attribute__((target("avx512f,avx512bw,avx512vl")))
static void attention_avx512(const attention_kernels *ak, const float *q, long ldq, const float *k, long ldk,
                             const float *v, long ldv, float *out, long ldo, int tk, int d, int dv,
                             int q_begin, int q_end, int causal, float scale) {
    attention_body(ak, q, ldq, k, ldk, v, ldv, out, ldo, tk, d, dv, q_begin, q_end, causal, scale);
}

void obc_attention(const float *q, long ldq, const float *k, long ldk, const float *v, long ldv,
                   float *out, long ldo, int tk, int d, int dv, int q_begin, int q_end,
                   int causal, float scale, int format) {
    if (q_begin >= q_end || dv <= 0) return;
    int key_end = causal ? (tk < q_end ? tk : q_end) : tk;
    if (key_end <= 0) {
        for (int i = q_begin; i < q_end; i++) memset(out + (size_t)i * ldo, 0, sizeof(float) * dv);
        return;
    }
    int isa = obc_isa(), bf16 = format == OBC_BF16;
    obc_microkernel_choice products = bf16 && isa >= OBC_ISA_AVX512BF16 ? obc_select_bf16_microkernel() : obc_select_microkernel();
    attention_kernels ak = {
        .kernel = products.run,
        .tile_panels = products.panels,
        .interleave = obc_select_interleave(0),
        .softmax_panel = isa >= OBC_ISA_AVX512 ? (bf16 ? softmax_panel_avx512_coarse : softmax_panel_avx512)
                       : isa >= OBC_ISA_AVX2 ? softmax_panel_avx2 : softmax_panel_generic,
        .pairs = bf16 && isa >= OBC_ISA_AVX512BF16,
        .round = bf16 && isa < OBC_ISA_AVX512BF16,
    };
    if (isa >= OBC_ISA_AVX512) attention_avx512(&ak, q, ldq, k, ldk, v, ldv, out, ldo, tk, d, dv, q_begin, q_end, causal, scale);
    else attention_generic(&ak, q, ldq, k, ldk, v, ldv, out, ldo, tk, d, dv, q_begin, q_end, causal, scale);
}
