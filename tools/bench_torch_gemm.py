#!/usr/bin/env python3
"""PyTorch's figures for the shapes `obclip bench gemm` measures, for side-by-side reports.

Prints GFLOP/s and seconds (best of --repeat runs after a warm-up) for f32 row-major
C[M×N] = A[M×K]·B[K×N], a 3×3 convolution 64×64×320→320 (channels-last, as obclip runs it) and
4096×4096 attention with 8 heads of d = 40 (scaled_dot_product_attention), on 1 and 2 threads.
Developer tool: needs `pip install torch`; obclip's build and tests never run it.
"""
import argparse
import time

import torch
import torch.nn.functional as F

SHAPES = [  # (M, K, N), the same list as Sources/obclip/BenchGEMM.swift
    (4096, 320, 1280), (1024, 640, 640), (4096, 40, 4096),
    (4096, 320, 320), (4096, 1280, 320), (1024, 2560, 640), (256, 1280, 1280), (77, 768, 3072),
]


def best(fn, repeat):
    fn()
    result = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        result = min(result, time.perf_counter() - start)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="thread count (default: 1 and then 2)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure; the best is reported")
    args = parser.parse_args()
    thread_counts = [args.threads] if args.threads else [1, 2]
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}; best of {args.repeat} runs")
    print(f"{'M×K×N':18}{'threads':8}{'GFLOP/s':10}s")
    with torch.inference_mode():
        for m, k, n in SHAPES:
            a, b = torch.randn(m, k), torch.randn(k, n)
            c = torch.empty(m, n)
            for t in thread_counts:
                torch.set_num_threads(t)
                s = best(lambda: torch.matmul(a, b, out=c), args.repeat)
                print(f"{f'{m}×{k}×{n}':18}{t:<8}{2 * m * n * k / s / 1e9:<10.1f}{s:.4f}")

        print("\nconv2d 3×3 pad 1, 1×320×64×64 → 320 (channels_last)")
        x = torch.randn(1, 320, 64, 64).to(memory_format=torch.channels_last)
        w = (torch.randn(320, 320, 3, 3) * 0.05).to(memory_format=torch.channels_last)
        bias = torch.randn(320)
        flop = 2 * 64 * 64 * 320 * 320 * 9
        for t in thread_counts:
            torch.set_num_threads(t)
            s = best(lambda: F.conv2d(x, w, bias, padding=1), args.repeat)
            print(f"  threads {t:<8}{flop / s / 1e9:.1f} GFLOP/s  {s:.4f} s")

        print("\nattention 4096 queries × 4096 keys, 8 heads, d = 40 (scaled_dot_product_attention)")
        q, kk, v = (torch.randn(1, 8, 4096, 40) for _ in range(3))
        flop = 2 * 8 * 4096 * 4096 * 80
        for t in thread_counts:
            torch.set_num_threads(t)
            s = best(lambda: F.scaled_dot_product_attention(q, kk, v), args.repeat)
            print(f"  threads {t:<8}{flop / s / 1e9:.1f} GFLOP/s  {s:.4f} s")


if __name__ == "__main__":
    main()
