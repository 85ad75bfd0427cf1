/// Errors from building or running a UNet (or the VAE) on bad input: messages name the file,
/// tensor or field at fault.
public enum UNetError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let s): return "invalid model configuration: \(s)"
        case .invalidInput(let s): return "invalid model input: \(s)"
        }
    }
}
