import Foundation

/// Work splitting over the machine's cores.
public enum Parallel {
    /// Worker count: `OBCLIP_THREADS` if set, else the active processor count.
    nonisolated(unsafe) public static var threads: Int = {
        if let s = ProcessInfo.processInfo.environment["OBCLIP_THREADS"], let n = Int(s), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }()

    /// Calls `body(i)` for every `i` in `0..<count`, spread over `threads` workers.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threads <= 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }

    /// Splits `0..<count` into one contiguous chunk per worker and calls `body(range)` for each.
    public static func forChunks(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let parts = Swift.max(1, Swift.min(threads, count / Swift.max(minimumChunk, 1)))
        forEach(parts) { p in
            let lo = count * p / parts, hi = count * (p + 1) / parts
            if lo < hi { body(lo..<hi) }
        }
    }
}
