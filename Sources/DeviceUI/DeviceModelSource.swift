import DeviceClient
import TensorCore

/// Where the UI's device models come from; loaded once per precision the page asks for.
public struct DeviceModelSource: Sendable {
    /// For the page ("bundled demo models", a directory).
    public var description: String
    public var load: @Sendable (Precision) throws -> DeviceModels

    public init(description: String, load: @escaping @Sendable (Precision) throws -> DeviceModels) {
        self.description = description
        self.load = load
    }
}

/// The device models loaded so far, by precision.
actor DeviceModelCache {
    let source: DeviceModelSource
    private var loaded: [Precision: DeviceModels] = [:]

    init(source: DeviceModelSource) { self.source = source }

    func models(at precision: Precision) throws -> DeviceModels {
        if let models = loaded[precision] { return models }
        let models = try source.load(precision)
        loaded[precision] = models
        return models
    }

    func isLoaded(_ precision: Precision) -> Bool { loaded[precision] != nil }
}
