import Foundation
import SafeTensors
import TensorCore

/// Weights of one model component, looked up by checkpoint key.
///
/// Keys are the checkpoint's own (diffusers/transformers names); `scoped` narrows the view to
/// one sub-module so model code reads like the module tree. Tensors read from F16/BF16 files are
/// widened to f32; the GEMM weights `linear` and `conv2d` build are then packed at `precision`
/// (f16/bf16 halve their memory). Files stay memory-mapped, so unused tensors cost nothing.
public struct WeightStore: Sendable {
    private enum Backing: Sendable {
        case files(WeightFiles)
        case random(seed: UInt64)
    }

    private let backing: Backing
    /// Prepended (with a dot) to every key.
    private let prefix: String
    /// The element format of the packed GEMM weights built from this store.
    public let precision: Precision
    /// The side of the feature maps this scope's modules work on at the model's native
    /// resolution (nil: unknown). Each 3×3 convolution's method is chosen from it (see
    /// `ConvolutionPolicy`), once, when the convolution is built.
    public let featureSide: Int?

    private init(backing: Backing, prefix: String, precision: Precision, featureSide: Int? = nil) {
        self.backing = backing
        self.prefix = prefix
        self.precision = precision
        self.featureSide = featureSide
    }

    /// All `*.safetensors` of a component directory (e.g. `unet/`); prefers `diffusion_pytorch_model.safetensors`/`model.safetensors`, falls back to the `.fp16.safetensors` variant.
    ///
    /// Precisely: files without a variant infix (`model.safetensors`, or shards such as
    /// `model-00001-of-00002.safetensors`) are used when present, otherwise the `.fp16` variant
    /// files. Keys must be unique across the chosen files.
    public init(directory: URL, precision: Precision = .fp32) throws {
        backing = .files(try WeightFiles(directory: directory))
        prefix = ""
        self.precision = precision
        featureSide = nil
    }

    /// Synthesises weights on request (for benchmarks of real architectures without files): deterministic from `seed` and the key; weights ~ N(0, 1/fan_in) scaled so activations stay O(1), norm weights 1, biases 0.
    ///
    /// Such a store `contains` every key, so models take their default (current diffusers) layout.
    public static func random(seed: UInt64, precision: Precision = .fp32) -> WeightStore {
        WeightStore(backing: .random(seed: seed), prefix: "", precision: precision)
    }

    /// The scope's checkpoint path (`down_blocks.0.attentions.0`, …; empty at the root): names a
    /// sub-module, e.g. to key caches.
    public var path: String { prefix }

    /// Keys relative to `prefix.`.
    public func scoped(_ prefix: String) -> WeightStore {
        WeightStore(backing: backing, prefix: qualified(prefix), precision: precision, featureSide: featureSide)
    }

    /// The same weights, packed at another precision.
    public func packing(at precision: Precision) -> WeightStore {
        WeightStore(backing: backing, prefix: prefix, precision: precision, featureSide: featureSide)
    }

    /// The same weights, for modules working on `side`×`side` feature maps at the model's native
    /// resolution.
    public func at(featureSide side: Int) -> WeightStore {
        WeightStore(backing: backing, prefix: prefix, precision: precision, featureSide: side)
    }

    public func contains(_ key: String) -> Bool {
        switch backing {
        case .files(let files): files.location[qualified(key)] != nil
        case .random: true
        }
    }

    /// The float tensors' keys below this store's scope, relative to it, sorted (empty for a random store).
    public var keys: [String] {
        guard case .files(let files) = backing else { return [] }
        let all = files.location.keys
        let scopedKeys = prefix.isEmpty ? Array(all) : all.filter { $0.hasPrefix(prefix + ".") }.map { String($0.dropFirst(prefix.count + 1)) }
        return scopedKeys.sorted()
    }

    /// The tensor widened to f32; throws (naming file and key) if missing or if the shape differs from `shape`.
    public func tensor(_ key: String, shape: [Int]) throws -> Tensor {
        let full = qualified(key)
        switch backing {
        case .random(let seed):
            return RandomWeights.tensor(seed: seed, key: full, shape: shape)
        case .files(let files):
            guard let index = files.location[full] else {
                throw LoadError.missingTensor(key: full, sources: files.readers.map(\.source))
            }
            let reader = files.readers[index]
            let entry = try reader.entry(full)
            guard entry.shape == shape else {
                throw LoadError.shapeMismatch(key: full, source: reader.source, expected: shape, actual: entry.shape)
            }
            let out = Tensor(zeros: shape)
            try reader.read(full, into: out.buffer)
            return out
        }
    }

    /// `prefix.weight` [out, in] and, if `bias`, `prefix.bias` [out].
    public func linear(_ prefix: String, in: Int, out: Int, bias: Bool = true) throws -> LinearWeight {
        let weight = try tensor(prefix + ".weight", shape: [out, `in`])
        let b = bias ? try tensor(prefix + ".bias", shape: [out]) : nil
        return LinearWeight(weight: weight, bias: b, precision: precision)
    }

    /// `prefix.weight` [out, in, k, k] and `prefix.bias` [out], for a convolution reading this
    /// scope's feature maps (upsampled 2× first when `upsampledInput`, as an upsampler's does).
    public func conv2d(_ prefix: String, in: Int, out: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                       upsampledInput: Bool = false) throws -> Conv2dWeight {
        let weight = try tensor(prefix + ".weight", shape: [out, `in`, kernel, kernel])
        let bias = try tensor(prefix + ".bias", shape: [out])
        let inputSide = featureSide.map { upsampledInput ? 2 * $0 : $0 }
        return Conv2dWeight(weight: weight, bias: bias, stride: stride, padding: padding, precision: precision,
                            outputSide: inputSide.map { ($0 + 2 * padding - kernel) / stride + 1 })
    }

    /// Norm affine parameters `prefix.weight`/`prefix.bias`, each [channels].
    public func norm(_ prefix: String, channels: Int) throws -> (weight: Tensor, bias: Tensor) {
        (try tensor(prefix + ".weight", shape: [channels]), try tensor(prefix + ".bias", shape: [channels]))
    }

    private func qualified(_ key: String) -> String {
        prefix.isEmpty ? key : key.isEmpty ? prefix : prefix + "." + key
    }
}

/// The opened weight files of one component and which file holds each float tensor.
private final class WeightFiles: Sendable {
    let readers: [SafeTensorsReader]
    /// Float tensor key → index into `readers`.
    let location: [String: Int]

    init(directory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LoadError.missingFile(path: directory.path, purpose: "weights directory")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let stems = names.filter { $0.hasSuffix(".safetensors") }.map { String($0.dropLast(".safetensors".count)) }
        // A stem without a dot is the full-precision file or one of its shards; `.fp16` marks the variant.
        let plain = stems.filter { !$0.contains(".") }
        let half = stems.filter { $0.hasSuffix(".fp16") || $0.contains(".fp16-") }
        let chosen = (plain.isEmpty ? half : plain).sorted()
        guard !chosen.isEmpty else { throw LoadError.noWeights(directory: directory.path) }

        var readers: [SafeTensorsReader] = []
        var location: [String: Int] = [:]
        for stem in chosen {
            let reader = try SafeTensorsReader(contentsOf: directory.appendingPathComponent(stem + ".safetensors"))
            for key in reader.floatTensorNames {
                if let other = location[key] {
                    throw LoadError.duplicateTensor(key: key, first: readers[other].source, second: reader.source)
                }
                location[key] = readers.count
            }
            readers.append(reader)
        }
        self.readers = readers
        self.location = location
    }
}
