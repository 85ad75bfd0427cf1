#ifndef OBCLIP_CKERNELS_H
#define OBCLIP_CKERNELS_H
// C kernels for obclip's tensor core. Each public entry point picks the best implementation for
// the running CPU (AVX-512, AVX2+FMA, portable) at run time.

/// Which instruction set the kernels use on this CPU: "avx512", "avx2" or "generic".
const char *obclip_kernel_isa(void);

#endif
