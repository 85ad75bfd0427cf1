#include "internal.h"
#include "vecmath.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// Flash-style attention computed transposed. For a block of BQ queries and BK keys the GEMM
// micro-kernel forms Sᵀ = K·Qᵀ (keys as A rows, 16 queries per B panel), the online softmax
// runs down each 16-query panel with one vector lane per query (no horizontal reductions), and
// the resulting Pᵀ is already in B-panel layout for the second product Oᵀ += Vᵀ·Pᵀ. Only a
// BQ×BK tile of scores exists at a time (60 KiB), so 4096×4096 self-attention needs no
// tokens×tokens buffer.

#define BQ 64  // queries per block: 4 panels of OBC_NR
#define BK 240 // keys per block: 40 micro-kernel row panels (a multiple of OBC_MR and of 16)
#define QP (BQ / OBC_NR)

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

static _Thread_local float *k_buf, *v_buf, *q_buf, *s_buf, *o_buf;
static _Thread_local size_t k_cap, v_cap, q_cap, s_cap, o_cap;

static int round_up(int x, int to) { return (x + to - 1) / to * to; }

/// Online-softmax step for one 16-query panel of scores `s` (`s[jj*16 + q]`, keys jj < kb,
/// key index j0 + jj, query index q0 + q): turns the scores into exp(s − new max) in place
/// (zero where masked), updates the running max `m` and sum `l`, and returns in `correction`
/// the factor exp(old max − new max) that rescales what was accumulated so far.
static void softmax_panel_generic(float *s, int kb, int j0, int q0, int causal,
                                  float *m, float *l, float *correction) {
    for (int q = 0; q < OBC_NR; q++) {
        int visible = causal ? q0 + q - j0 + 1 : kb; // keys jj < visible are unmasked
        if (visible > kb) visible = kb;
        float mx = m[q];
        for (int jj = 0; jj < visible; jj++) mx = s[jj * OBC_NR + q] > mx ? s[jj * OBC_NR + q] : mx;
        correction[q] = m[q] == -INFINITY ? 0.0f : expf(m[q] - mx);
        float sum = 0;
        for (int jj = 0; jj < kb; jj++) {
            float p = jj < visible ? expf(s[jj * OBC_NR + q] - mx) : 0.0f;
            s[jj * OBC_NR + q] = p;
            sum += p;
        }
        l[q] = l[q] * correction[q] + sum;
        m[q] = mx;
    }
}

__attribute__((target("avx2,fma")))
static void softmax_panel_avx2(float *s, int kb, int j0, int q0, int causal,
                               float *m, float *l, float *correction) {
    const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
    __m256 query0 = _mm256_add_ps(lane, _mm256_set1_ps((float)q0));
    __m256 query1 = _mm256_add_ps(query0, _mm256_set1_ps(8.0f));
    __m256 old0 = _mm256_loadu_ps(m), old1 = _mm256_loadu_ps(m + 8);
    __m256 mx0 = old0, mx1 = old1;
    for (int jj = 0; jj < kb; jj++) {
        __m256 s0 = _mm256_loadu_ps(s + jj * OBC_NR), s1 = _mm256_loadu_ps(s + jj * OBC_NR + 8);
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
    __m256 corr0 = _mm256_and_ps(obc_exp8(_mm256_sub_ps(old0, mx0)), seen0);
    __m256 corr1 = _mm256_and_ps(obc_exp8(_mm256_sub_ps(old1, mx1)), seen1);
    __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
    for (int jj = 0; jj < kb; jj++) {
        float *row = s + jj * OBC_NR;
        __m256 e0 = obc_exp8(_mm256_sub_ps(_mm256_loadu_ps(row), mx0));
        __m256 e1 = obc_exp8(_mm256_sub_ps(_mm256_loadu_ps(row + 8), mx1));
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

void obc_attention(const float *q, long ldq, const float *k, long ldk, const float *v, long ldv,
                   float *out, long ldo, int tk, int d, int dv, int q_begin, int q_end,
                   int causal, float scale) {
    if (q_begin >= q_end || dv <= 0) return;
    int key_end = causal ? (tk < q_end ? tk : q_end) : tk;
    if (key_end <= 0) {
        for (int i = q_begin; i < q_end; i++) memset(out + (size_t)i * ldo, 0, sizeof(float) * dv);
        return;
    }
    // Every score and output tile is one NR-wide panel, which every micro-kernel accepts.
    obc_microkernel kernel = obc_select_microkernel().run;
    void (*softmax_panel)(float *, int, int, int, int, float *, float *, float *) =
        obc_use_avx2() ? softmax_panel_avx2 : softmax_panel_generic;
    int key_rows = round_up(key_end, OBC_MR), dv6 = round_up(dv, OBC_MR);
    float *ka = grow(&k_buf, &k_cap, (size_t)key_rows * d);
    float *va = grow(&v_buf, &v_cap, (size_t)round_up(key_end, BK) * dv6);
    float *qb = grow(&q_buf, &q_cap, (size_t)BQ * d);
    float *s = grow(&s_buf, &s_cap, (size_t)BQ * BK);
    float *o = grow(&o_buf, &o_cap, (size_t)BQ * dv6 + 3 * BQ);
    float *row_max = o + (size_t)BQ * dv6, *row_sum = row_max + BQ, *correction = row_sum + BQ;

    // K as A panels (6 keys × depth d) and Vᵀ as A panels (6 value channels × depth = the
    // keys of one block), both once per call.
    for (int r = 0; r < key_rows; r += OBC_MR) {
        float *panel = ka + (size_t)r * d;
        for (int jj = 0; jj < OBC_MR; jj++) {
            const float *src = k + (size_t)(r + jj) * ldk;
            int valid = r + jj < key_end;
            for (int t = 0; t < d; t++) panel[(size_t)t * OBC_MR + jj] = valid ? src[t] : 0.0f;
        }
    }
    for (int j0 = 0; j0 < key_end; j0 += BK) {
        int kb = key_end - j0 < BK ? key_end - j0 : BK;
        for (int r = 0; r < dv6; r += OBC_MR) {
            float *panel = va + (size_t)j0 * dv6 + (size_t)r * kb;
            for (int jj = 0; jj < kb; jj++) {
                const float *src = v + (size_t)(j0 + jj) * ldv + r;
                for (int t = 0; t < OBC_MR; t++) panel[(size_t)jj * OBC_MR + t] = r + t < dv ? src[t] : 0.0f;
            }
        }
    }

    for (int i0 = q_begin; i0 < q_end; i0 += BQ) {
        int bq = q_end - i0 < BQ ? q_end - i0 : BQ, panels = (bq + OBC_NR - 1) / OBC_NR;
        // Qᵀ as B panels (depth d × 16 queries), pre-scaled so scores come out divided by √d.
        for (int p = 0; p < panels; p++) {
            float *panel = qb + (size_t)p * d * OBC_NR;
            for (int qq = 0; qq < OBC_NR; qq++) {
                int i = p * OBC_NR + qq;
                const float *src = q + (size_t)(i0 + i) * ldq;
                for (int t = 0; t < d; t++) panel[(size_t)t * OBC_NR + qq] = i < bq ? src[t] * scale : 0.0f;
            }
        }
        for (int i = 0; i < BQ; i++) { row_max[i] = -INFINITY; row_sum[i] = 0; }
        memset(o, 0, sizeof(float) * (size_t)BQ * dv6);
        int visible = causal ? (key_end < i0 + bq ? key_end : i0 + bq) : key_end;
        for (int j0 = 0; j0 < visible; j0 += BK) {
            int kb = visible - j0 < BK ? visible - j0 : BK;
            int kb_packed = key_end - j0 < BK ? key_end - j0 : BK; // depth V's block was packed with
            int kb_rows = round_up(kb, OBC_MR);
            for (int p = 0; p < panels; p++) {
                const float *bpanel = qb + (size_t)p * d * OBC_NR;
                float *sp = s + (size_t)p * BK * OBC_NR;
                for (int r = 0; r < kb_rows; r += OBC_MR)
                    kernel(d, ka + (size_t)(j0 + r) * d, bpanel, sp + (size_t)r * OBC_NR, OBC_NR,
                           OBC_MR, OBC_NR, 0, NULL);
                softmax_panel(sp, kb, j0, i0 + p * OBC_NR, causal, row_max + p * OBC_NR,
                              row_sum + p * OBC_NR, correction + p * OBC_NR);
                float *op = o + (size_t)p * dv6 * OBC_NR;
                const float *corr = correction + p * OBC_NR;
                for (int t = 0; t < dv6; t++)
                    for (int qq = 0; qq < OBC_NR; qq++) op[t * OBC_NR + qq] *= corr[qq];
                for (int r = 0; r < dv6; r += OBC_MR)
                    kernel(kb, va + (size_t)j0 * dv6 + (size_t)r * kb_packed, sp, op + (size_t)r * OBC_NR,
                           OBC_NR, OBC_MR, OBC_NR, 1, NULL);
            }
        }
        for (int i = 0; i < bq; i++) {
            float inv = 1.0f / row_sum[i];
            const float *src = o + (size_t)(i / OBC_NR) * dv6 * OBC_NR + i % OBC_NR;
            float *dst = out + (size_t)(i0 + i) * ldo;
            for (int t = 0; t < dv; t++) dst[t] = src[(size_t)t * OBC_NR] * inv;
        }
    }
}
