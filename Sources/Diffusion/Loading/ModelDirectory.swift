import Foundation

/// A diffusers model directory (`model_index.json`, `unet/`, `vae/`, `text_encoder/`,
/// `tokenizer/`, `scheduler/`), or a bare component directory for the parts that stand alone.
public struct ModelDirectory: Sendable {
    /// The sub-directories of a diffusers pipeline that obclip reads.
    public enum Component: String, CaseIterable, Sendable {
        case unet, vae, textEncoder = "text_encoder", tokenizer, scheduler
        /// SDXL's second text encoder (`CLIPTextModelWithProjection`) and its tokenizer.
        case textEncoder2 = "text_encoder_2", tokenizer2 = "tokenizer_2"

        /// The component's JSON configuration file name (diffusers' scheduler and transformers'
        /// tokenizer use their own names).
        public var configFileName: String {
            switch self {
            case .scheduler: "scheduler_config.json"
            case .tokenizer, .tokenizer2: "tokenizer_config.json"
            default: "config.json"
            }
        }
    }

    public let url: URL

    /// Fails unless `url` is an existing directory.
    public init(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LoadError.missingFile(path: url.path, purpose: "model directory")
        }
        self.url = url
    }

    /// Whether the component's sub-directory exists.
    public func contains(_ component: Component) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.appendingPathComponent(component.rawValue).path, isDirectory: &isDirectory)
            && isDirectory.boolValue
    }

    /// The component's sub-directory; throws if it is absent.
    public func directory(of component: Component) throws -> URL {
        let sub = url.appendingPathComponent(component.rawValue, isDirectory: true)
        guard contains(component) else { throw LoadError.missingFile(path: sub.path, purpose: "\(component.rawValue) directory") }
        return sub
    }

    /// The component's weights (see `WeightStore.init(directory:)`).
    public func weights(of component: Component) throws -> WeightStore {
        try WeightStore(directory: directory(of: component))
    }

    /// The component's configuration decoded as `T`.
    public func config<T: Decodable>(_ type: T.Type, of component: Component) throws -> T {
        try Self.decodeJSON(type, from: directory(of: component).appendingPathComponent(component.configFileName))
    }

    /// Decodes a JSON file, turning any failure into a `LoadError` that names the file and the
    /// offending field (e.g. `text_encoder/config.json: field 'hidden_size': expected Int, found a string`).
    public static func decodeJSON<T: Decodable>(_ type: T.Type, from file: URL) throws -> T {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw LoadError.missingFile(path: file.path, purpose: "configuration file")
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw LoadError.invalidFile(path: file.path, detail: "cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw LoadError.invalidFile(path: file.path, detail: describe(error))
        } catch {
            throw LoadError.invalidFile(path: file.path, detail: "\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case let .typeMismatch(type, context):
            return "field '\(path(context.codingPath))': expected \(type) (\(context.debugDescription))"
        case let .valueNotFound(type, context):
            return "field '\(path(context.codingPath))': expected \(type), found null"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty
                ? "not valid JSON (\(context.debugDescription))"
                : "field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
