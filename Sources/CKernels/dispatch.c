#include "ckernels.h"

// Run-time instruction-set selection. Detection runs once; tests may force the portable path
// to check it on a machine that has AVX2.
static int detected = -1;
static int forced_generic = 0;

static int detect(void) {
    __builtin_cpu_init();
    // F16C (half-precision weights) came with every AVX2 CPU; require it so one flag covers all.
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

int obc_use_avx2(void) {
    if (forced_generic) return 0;
    if (detected < 0) detected = detect();
    return detected;
}

void obclip_force_generic(int on) { forced_generic = on ? 1 : 0; }

const char *obclip_kernel_isa(void) { return obc_use_avx2() ? "avx2" : "generic"; }
