/// How often the checker read each attribute as the truth: the one tally behind `obclip eval`,
/// `obclip check` and the checker's validation tests, so they all count the same way.
public struct AttributeScore: Sendable {
    public enum Attribute: String, CaseIterable, Sendable {
        case gender, age, ethnicity, shirt, background, accessory

        /// Gender, age and ethnicity are the privacy taxonomy's sensitive attributes; the rest
        /// is content.
        public static let sensitive: [Attribute] = [.gender, .age, .ethnicity]
        public static let nonSensitive: [Attribute] = [.shirt, .background, .accessory]

        func matches(_ read: PortraitAttributes, _ truth: PortraitAttributes) -> Bool {
            switch self {
            case .gender: read.gender == truth.gender
            case .age: read.age == truth.age
            case .ethnicity: read.ethnicity == truth.ethnicity
            case .shirt: read.shirt == truth.shirt
            case .background: read.background == truth.background
            case .accessory: read.accessory == truth.accessory
            }
        }
    }

    /// Images scored so far.
    public private(set) var count = 0
    private var hits: [Attribute: Int] = [:]

    public init() {}

    public mutating func add(read: PortraitAttributes, truth: PortraitAttributes) {
        count += 1
        for attribute in Attribute.allCases where attribute.matches(read, truth) { hits[attribute, default: 0] += 1 }
    }

    /// The fraction of readings that were right, over every image and each of `attributes`
    /// (0 before any image).
    public func accuracy(_ attributes: [Attribute]) -> Double {
        guard count > 0, !attributes.isEmpty else { return 0 }
        return Double(attributes.reduce(0) { $0 + hits[$1, default: 0] }) / Double(attributes.count * count)
    }

    public func accuracy(_ attribute: Attribute) -> Double { accuracy([attribute]) }
}
