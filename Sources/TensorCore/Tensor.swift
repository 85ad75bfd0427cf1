#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dense, row-major `Float` tensor.
///
/// Layout conventions used across obclip: images are NHWC (`[batch, height, width, channels]`,
/// channels-last, so 1×1 convolutions and attention projections are plain GEMMs with no
/// transposes) and token sequences are `[batch, tokens, channels]`. Diffusers' NCHW tensors are
/// converted at the model boundary with `nchwToNHWC` / `nhwcToNCHW`.
///
/// Storage has reference semantics: `reshaped` shares it, and kernels write only into tensors
/// they allocate (or into an explicit `inout` destination). Use `copy()` for an independent copy.
public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: TensorStorage

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(zeros: shape)
        storage.pointer.update(repeating: value, count: count)
    }

    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.init(zeros: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor for a kernel to fill: uninitialised when the kernel will overwrite every scalar,
    /// zero pages mapped on first touch in count-only mode (where kernels skip arithmetic, so
    /// outputs read as zeros and are usually never touched). Skips a full memset of outputs that
    /// are often tens of megabytes; in count-only mode, all their memory traffic.
    static func kernelOutput(_ shape: [Int]) -> Tensor {
        if FLOPMeter.isCountOnly { return Tensor(shape: shape, storage: TensorStorage(zeroPagesCount: shape.reduce(1, *))) }
        return Tensor(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)))
    }

    init(shape: [Int], storage: TensorStorage) {
        precondition(storage.count >= shape.reduce(1, *))
        self.shape = shape
        self.storage = storage
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    /// The base address of the scalars (row-major, contiguous).
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: storage.pointer, count: count) }
    public var scalars: [Float] { Array(buffer) }

    /// The same scalars seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    public func copy() -> Tensor {
        let out = Tensor(zeros: shape)
        out.pointer.update(from: pointer, count: count)
        return out
    }

    /// Rows `[start, start+length)` along the first axis, copied.
    public func slice(_ start: Int, _ length: Int) -> Tensor {
        precondition(start >= 0 && length >= 0 && start + length <= shape[0])
        let inner = count / Swift.max(shape[0], 1)
        var s = shape
        s[0] = length
        let out = Tensor(zeros: s)
        out.pointer.update(from: pointer + start * inner, count: length * inner)
        return out
    }
}

/// 64-byte aligned scalar storage, freed with its last reference (kernel outputs: recycled
/// through `BufferPool`).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * 4, alignment: 64)
        raw.initializeMemory(as: Float.self, repeating: 0, count: Swift.max(count, 1))
        pointer = raw.assumingMemoryBound(to: Float.self)
    }

    /// Storage whose contents are unspecified until written (see `Tensor.kernelOutput`): the
    /// intermediates of a forward, taken from and returned to the buffer pool. (Weights and
    /// other long-lived tensors are allocated plainly, so loading a model leaves nothing pooled.)
    init(uninitializedCount count: Int) {
        self.count = count
        (pointer, poolBytes) = BufferPool.shared.take(floats: count)
    }

    /// The size of the buffer taken from `BufferPool` (0: not pooled).
    private var poolBytes = 0

    /// Zero-filled storage from anonymous pages, which the OS maps on first touch: free until used.
    init(zeroPagesCount count: Int) {
        self.count = count
        mappedBytes = Swift.max(count, 1) * 4
        guard let raw = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else {
            fatalError("mmap of \(mappedBytes) bytes failed")
        }
        pointer = raw.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
    }

    /// Non-zero when the storage is an anonymous mapping of this many bytes.
    private var mappedBytes = 0

    deinit {
        if mappedBytes > 0 {
            munmap(pointer, mappedBytes)
        } else if poolBytes > 0 {
            BufferPool.shared.give(pointer, bytes: poolBytes)
        } else {
            UnsafeMutableRawPointer(pointer).deallocate()
        }
    }
}

/// Keeps freed kernel-output buffers for reuse by later kernel outputs.
///
/// A forward allocates the same set of intermediate sizes every step; fresh large allocations
/// come from new pages, which the kernel must fault in and zero (≈ 6% of an SD1.5 forward at
/// batch 1, 17% at batch 12). Recycling them removes that cost. A request takes the smallest
/// pooled buffer that fits it with at most 2× to spare, so one buffer serves several nearby sizes
/// and the pool holds fewer distinct buffers (BK-SDM-small at batch 12, bf16: peak RSS 3.04 →
/// 2.57 GiB against exact-size reuse, same speed). At most `capacityBytes` are kept.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool(capacityBytes: 4 << 30)

    private let capacityBytes: Int
    /// Free buffers by byte size.
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var pooledBytes = 0
    private var lock = pthread_mutex_t()

    init(capacityBytes: Int) {
        self.capacityBytes = capacityBytes
        pthread_mutex_init(&lock, nil)
    }

    /// A 64-byte aligned buffer of at least `floats` floats, and its size in bytes.
    func take(floats: Int) -> (UnsafeMutablePointer<Float>, Int) {
        // Whole pages, so nearby sizes share one size class.
        let bytes = (Swift.max(floats, 1) * 4 + 4095) & ~4095
        pthread_mutex_lock(&lock)
        let fit = free.keys.filter { $0 >= bytes && $0 <= 2 * bytes && !(free[$0]!.isEmpty) }.min()
        var reused: (UnsafeMutableRawPointer, Int)?
        if let fit, let buffer = free[fit]!.popLast() {
            pooledBytes -= fit
            reused = (buffer, fit)
        }
        pthread_mutex_unlock(&lock)
        let (raw, size) = reused ?? (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
        return (raw.bindMemory(to: Float.self, capacity: size / 4), size)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, bytes: Int) {
        pthread_mutex_lock(&lock)
        let keep = pooledBytes + bytes <= capacityBytes
        if keep {
            free[bytes, default: []].append(UnsafeMutableRawPointer(pointer))
            pooledBytes += bytes
        }
        pthread_mutex_unlock(&lock)
        if !keep { UnsafeMutableRawPointer(pointer).deallocate() }
    }
}
