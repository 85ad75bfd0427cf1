/// Bad input to the portrait world, with what was wrong.
public enum PortraitWorldError: Error, CustomStringConvertible, Equatable {
    case invalidImage(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidImage(let s): "invalid portrait image: \(s)"
        case .invalidArgument(let s): "invalid argument: \(s)"
        }
    }
}
