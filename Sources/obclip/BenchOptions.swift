import ArgumentParser
import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

extension Precision: ExpressibleByArgument {}

/// Options shared by the model benchmarks (`bench unet`, `vae`, `text-encoder`) and their report.
struct ModelBenchOptions: ParsableArguments {
    @Option(help: "Timed forwards (after building the model and the warm-up); the report gives median, min and max.")
    var repeats = 1

    @Option(help: "Untimed forwards before timing (first-touch page faults, caches), as PyTorch's peer does.")
    var warmup = 0

    @Option(help: "Arithmetic: fp32; f16 (GEMM/convolution weights stored as halves, f32 math); bf16 (bf16 weights and activations in GEMMs, convolutions and attention, f32 accumulation).")
    var precision = Precision.fp32

    @Flag(help: "Only count FLOPs (kernels skip arithmetic): checks the cost model in seconds.")
    var countOnly = false

    @Flag(help: "Also print the time per op kind per forward, with its share and GFLOP/s.")
    var profile = false

    func validate() throws {
        guard repeats >= 1, warmup >= 0 else { throw ValidationError("--repeats must be ≥ 1 and --warmup ≥ 0") }
        guard !(countOnly && profile) else { throw ValidationError("--count-only and --profile exclude each other (nothing runs to time)") }
    }

    /// Runs `body` `warmup` times untimed, then `repeats` times under a FLOP meter, and prints
    /// seconds per forward (median, min, max), executed GFLOP (per forward and per image),
    /// effective GFLOP/s, CPU seconds per forward, the process's peak resident memory and, with `--profile`, the time per
    /// op kind.
    func report(label: String, batch: Int, _ body: () throws -> Void) throws {
        if !countOnly { for _ in 0..<warmup { try body() } }
        let meter = FLOPMeter(countOnly: countOnly, profiling: profile)
        var times: [Double] = []
        let cpuStart = processCPUSeconds()
        try meter.measure {
            for _ in 0..<repeats { times.append(try timed(body).1) }
        }
        let cpuPerForward = (processCPUSeconds() - cpuStart) / Double(repeats)
        let gflop = meter.flops / Double(repeats) / 1e9
        let kinds = FLOPMeter.Kind.allCases.map { "\($0.rawValue) \(format(2 * Double(meter.multiplyAdds(of: $0)) / Double(repeats) / 1e9))" }
        if countOnly {
            print("\(label): \(format(gflop)) GFLOP per forward (\(format(gflop / Double(batch))) per image; count only) [\(kinds.joined(separator: ", "))]")
            return
        }
        // Fast convolution algorithms run fewer multiplies than the direct count reported above.
        let executed = 2 * Double(meter.executedMultiplyAdds) / Double(repeats) / 1e9
        let executedNote = executed < gflop * 0.999 ? " (multiplies executed: \(format(executed)) GFLOP)" : ""
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        print("\(label): median \(format(median)) s per forward (min \(format(times.first!)), max \(format(times.last!)), \(repeats) timed), "
              + "\(format(gflop)) GFLOP executed\(executedNote) (\(format(gflop / Double(batch))) per image), \(format(gflop / median)) GFLOP/s, "
              + "CPU \(format(cpuPerForward)) s per forward, precision \(precision.rawValue), kernels \(KernelDispatch.isa), peak RSS \(format(peakResidentGiB())) GiB [\(kinds.joined(separator: ", "))]")
        if profile { printProfile(meter, totalSeconds: times.reduce(0, +)) }
    }

    /// The profile table: per op kind, seconds per forward, share of the forward, GFLOP per
    /// forward and GFLOP/s; "other" is the forward time outside timed kernels (copies, layout
    /// changes, allocation, model glue).
    private func printProfile(_ meter: FLOPMeter, totalSeconds: Double) {
        let n = Double(repeats)
        print("profile per forward (mean of \(repeats)):")
        print(pad("op kind", 15) + pad("s", 10) + pad("%", 8) + pad("GFLOP", 10) + "GFLOP/s")
        var kernelSeconds = 0.0
        for kind in FLOPMeter.Kind.allCases {
            let s = meter.seconds(of: kind), gflop = 2 * Double(meter.multiplyAdds(of: kind)) / 1e9
            kernelSeconds += s
            print(pad(kind.rawValue, 15) + pad(format(s / n), 10) + pad(String(format: "%.1f", 100 * s / totalSeconds), 8)
                  + pad(format(gflop / n), 10) + (s > 0 ? format(gflop / s) : "-"))
        }
        let other = Swift.max(totalSeconds - kernelSeconds, 0)
        print(pad("other", 15) + pad(format(other / n), 10) + pad(String(format: "%.1f", 100 * other / totalSeconds), 8) + pad("-", 10) + "-")
        print(pad("total", 15) + pad(format(totalSeconds / n), 10) + pad("100.0", 8) + pad(format(meter.flops / n / 1e9), 10) + format(meter.flops / totalSeconds / 1e9))
        // Labelled kernels by shape: convolutions (GFLOP/s at the direct method's FLOPs; Winograd
        // rows also give the multiplies their GEMMs executed), linear layers and attention.
        let labelled = meter.breakdown.filter { !$0.label.isEmpty }
        if labelled.isEmpty { return }
        print("kernels by shape per forward (conv: out h×w, in→out channels, method, +up: the 2× upsample read by the Winograd gather; linear: rows×in→out, +res: residual added; attention: batch×heads, queries×keys, head width):")
        print(pad("kernel", 48) + pad("calls", 7) + pad("s", 10) + pad("GFLOP", 10) + pad("GFLOP/s", 10) + "executed GFLOP")
        for (label, b) in labelled {
            let gflop = 2 * Double(b.multiplyAdds) / 1e9
            print(pad(label, 48) + pad("\(b.calls / repeats)", 7) + pad(format(b.seconds / n), 10) + pad(format(gflop / n), 10)
                  + pad(b.seconds > 0 ? format(gflop / b.seconds) : "-", 10) + format(2 * Double(b.executedMultiplyAdds) / 1e9 / n))
        }
    }
}

/// Wall-clock seconds taken by `body`, with its result.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// User + system CPU seconds used so far by all of the process's threads: unlike wall time,
/// barely affected by other processes competing for the cores.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The process's peak resident set size so far, in GiB.
func peakResidentGiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / (1024 * 1024)   // ru_maxrss is in KiB on Linux
}

func format(_ x: Double) -> String { String(format: x < 10 ? "%.3f" : "%.1f", x) }

/// `s` left-aligned in a column of `width` characters (at least one space after it).
func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
