import Foundation
import WireProtocol

/// Reads what a person picks by name — the mode, the server, the accelerations — into what
/// `HybridGenerator` runs. `obclip generate` and `obclip ui` both read their settings through
/// here, so the terminal and the browser accept and refuse the same things with the same words.
public enum GenerationChoices {
    /// The server accelerations by name, in the order the method applies them.
    public static let accelerationNames = ["reuse", "cache", "skip"]

    /// The mode called `name` (`obclip`, `hybrid`, `vanilla-oblivious`, `server-only`, `device-only`).
    public static func mode(named name: String) throws -> GenerationMode {
        guard let mode = GenerationMode(rawValue: name) else {
            throw ChoiceError(field: "mode", "unknown mode '\(name)'; one of \(GenerationMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return mode
    }

    /// The client for `server` with an optional bearer token; nil for device-only, which sends
    /// nothing. Every other mode needs an http(s) URL with a host.
    public static func cloudClient(server: String?, token: String?, mode: GenerationMode) throws -> CloudClient? {
        guard mode != .deviceOnly else { return nil }
        guard let server, let url = URL(string: server), url.scheme == "http" || url.scheme == "https", url.host?.isEmpty == false else {
            throw ChoiceError(field: "server", "mode \(mode.rawValue) needs an http(s) server URL, got '\(server ?? "")'")
        }
        return CloudClient(server: url, token: token.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The accelerations a comma-separated list names: a subset of reuse, cache, skip; or all, none.
    public static func accelerations(_ list: String) throws -> Set<String> {
        let chosen = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        switch chosen {
        case ["all"]: return Set(accelerationNames)
        case ["none"], []: return []
        default:
            let unknown = chosen.subtracting(accelerationNames)
            guard unknown.isEmpty else {
                throw ChoiceError(field: "accelerate", "unknown acceleration '\(unknown.sorted().joined(separator: ","))'; use reuse, cache, skip, all or none")
            }
            return chosen
        }
    }

    /// Options with the accelerations in `enabled` on, at the method's cache and skip points for
    /// switch point `k` unless given.
    public static func accelerationOptions(enabling enabled: Set<String>, switchStep k: Int, cachePoint: Int? = nil,
                                           skipPoint: Int? = nil, refreshInterval: Int = 5) -> AccelerationOptions {
        let method = AccelerationOptions.method(switchStep: k)
        return AccelerationOptions(reuse: enabled.contains("reuse"), cache: enabled.contains("cache"), skip: enabled.contains("skip"),
                                   cachePoint: cachePoint ?? method.cachePoint, skipPoint: skipPoint ?? method.skipPoint,
                                   refreshInterval: refreshInterval)
    }
}

/// A setting that cannot be used, named by `field` so a form can point at it.
public struct ChoiceError: Error, CustomStringConvertible, Sendable {
    public let field: String
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { message }
}
