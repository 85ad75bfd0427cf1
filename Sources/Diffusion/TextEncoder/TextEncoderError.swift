import Foundation

/// Input the text encoder cannot run on.
public enum TextEncoderError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    case emptyInput
    case raggedBatch(lengths: [Int])
    case tooLong(tokens: Int, maximum: Int)
    case unknownToken(id: Int, vocabularySize: Int)
    case missingProjection

    public var description: String {
        switch self {
        case .emptyInput: "text encoder input is empty"
        case let .raggedBatch(lengths): "text encoder batch has sequences of different lengths \(lengths)"
        case let .tooLong(tokens, maximum): "text encoder input has \(tokens) tokens, the model takes at most \(maximum)"
        case let .unknownToken(id, size): "token id \(id) is outside the text encoder's vocabulary of \(size)"
        case .missingProjection: "SDXL's second text encoder must be a CLIPTextModelWithProjection (text_projection.weight is missing)"
        }
    }

    public var errorDescription: String? { description }
}
