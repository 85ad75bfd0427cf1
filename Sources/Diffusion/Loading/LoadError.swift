import Foundation

/// Why a model (or one of its components) could not be loaded. Messages name the file or
/// directory and the checkpoint key involved, so a broken or mismatched download is easy to find.
public enum LoadError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// A required file or directory does not exist.
    case missingFile(path: String, purpose: String)
    /// A component directory holds no usable `*.safetensors` file.
    case noWeights(directory: String)
    /// The same key appears in two weight files of one component.
    case duplicateTensor(key: String, first: String, second: String)
    /// The key is not in any of the component's weight files.
    case missingTensor(key: String, sources: [String])
    /// The stored tensor's shape differs from the one the model's config implies.
    case shapeMismatch(key: String, source: String, expected: [Int], actual: [Int])
    /// A JSON file (config, vocabulary, …) is malformed or lacks a field the model needs.
    case invalidFile(path: String, detail: String)

    public var description: String {
        switch self {
        case let .missingFile(path, purpose):
            "missing \(purpose): \(path)"
        case let .noWeights(directory):
            "\(directory): no .safetensors weights found (expected model.safetensors, diffusion_pytorch_model.safetensors or a .fp16 variant)"
        case let .duplicateTensor(key, first, second):
            "tensor '\(key)' appears in both \(first) and \(second)"
        case let .missingTensor(key, sources):
            "missing tensor '\(key)' in \(sources.isEmpty ? "(no files)" : sources.joined(separator: ", "))"
        case let .shapeMismatch(key, source, expected, actual):
            "\(source): tensor '\(key)' has shape \(actual), the model's config needs \(expected)"
        case let .invalidFile(path, detail):
            "\(path): \(detail)"
        }
    }

    public var errorDescription: String? { description }
}
