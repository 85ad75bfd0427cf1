#include "ckernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Run-time instruction-set selection. Detection runs once; tests lower `limit` to check the
// narrower paths on a machine that has the wider ones.
static int detected = -1;
static int limit = OBC_ISA_BEST;

static const char *const names[] = {"generic", "avx2", "avx512", "avx512bf16"};

const char *obclip_isa_name(int isa) {
    return isa >= OBC_ISA_GENERIC && isa <= OBC_ISA_BEST ? names[isa] : "unknown";
}

static int detect(void) {
    __builtin_cpu_init();
    // F16C (half-precision weights) came with every AVX2 CPU; require it so one level covers all.
    int isa = OBC_ISA_GENERIC;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        isa = __builtin_cpu_supports("avx512f") ? OBC_ISA_AVX512 : OBC_ISA_AVX2;
    if (isa == OBC_ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bf16"))
        isa = OBC_ISA_AVX512BF16;
    const char *cap = getenv("OBCLIP_ISA");
    if (cap && *cap) {
        int named = -1;
        for (int i = OBC_ISA_GENERIC; i <= OBC_ISA_BEST; i++)
            if (strcmp(cap, names[i]) == 0) named = i;
        if (named < 0)
            fprintf(stderr, "obclip: OBCLIP_ISA=%s is not one of generic, avx2, avx512, avx512bf16; ignoring it\n", cap);
        else if (named < isa)
            isa = named;
    }
    return isa;
}

int obclip_detected_isa(void) {
    if (detected < 0) detected = detect();
    return detected;
}

int obc_isa(void) {
    int isa = obclip_detected_isa();
    return isa < limit ? isa : limit;
}

int obc_use_avx2(void) { return obc_isa() >= OBC_ISA_AVX2; }

void obclip_limit_isa(int isa) { limit = isa; }

const char *obclip_kernel_isa(void) { return obclip_isa_name(obc_isa()); }
