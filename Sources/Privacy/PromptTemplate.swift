/// A prompt with its sensitive words replaced by typed slots: the public part of a prompt. The
/// candidate set is a function of the template and the taxonomy's domains only, so two prompts
/// with the same template get the same set, in the same order, whatever their real values.
public struct PromptTemplate: Equatable, Sendable {
    /// One typed variable: one attribute of one person in the prompt.
    public struct Slot: Equatable, Sendable {
        /// Which person (0-based, in order of first mention).
        public var person: Int
        /// Index of the attribute in the taxonomy.
        public var attribute: Int
        /// Number of values in the attribute's domain.
        public var domainSize: Int
    }

    /// A run of the template: literal text, or something rendered from slot values.
    enum Piece: Equatable, Sendable {
        case literal(String)
        /// "a"/"an", chosen from the next rendered word's pronunciation.
        case article(style: CaseStyle)
        /// A gendered person noun (index into `genderedNouns`) in a number, plus a kept suffix ("'s").
        case genderedNoun(slot: Int, noun: Int, plural: Bool, suffix: String, style: CaseStyle)
        /// An attribute adjective, rendered with the value's canonical form ("old", "Asian", "male").
        case attributeForm(slot: Int, style: CaseStyle)
        /// A numeric age: the number is the band's representative age (its decade if `decade`),
        /// followed by the kept suffix ("-year-old", "s").
        case numericAge(slot: Int, decade: Bool, suffix: String)
        /// A spelled-out decade ("forties").
        case decadeWord(slot: Int, style: CaseStyle)
        /// A pronoun tied to a person's gender slot, in a fixed role, plus a kept suffix ("'s").
        case pronoun(slot: Int, role: PronounRole, suffix: String, style: CaseStyle)
        /// A first name expressing a person's gender slot and culture slot: the list's name for
        /// that pair, the n-th one for the template's n-th name (so two people differ).
        case firstName(slot: Int, cultureSlot: Int, suffix: String, style: CaseStyle)

        var slot: Int? {
            switch self {
            case .literal, .article: return nil
            case let .genderedNoun(slot, _, _, _, _), let .attributeForm(slot, _), let .numericAge(slot, _, _),
                 let .decadeWord(slot, _), let .pronoun(slot, _, _, _), let .firstName(slot, _, _, _):
                return slot
            }
        }
    }

    var pieces: [Piece]
    /// The slots in canonical order: by person, then by the taxonomy's attribute order.
    public internal(set) var slots: [Slot]

    /// N, the number of candidates: the product of the slots' domain sizes (1 with no slots),
    /// saturating at `Int.max`. Twenty people with three attributes each overflow 64 bits (found
    /// by `scripts/fuzz.sh PrivacyEngine`: the product trapped, taking `obclip protect` and
    /// `obclip ui`'s `/api/analyze` down with it); a set that large is refused by its size anyway.
    public var candidateCount: Int {
        slots.reduce(1) { product, slot in
            let (next, overflow) = product.multipliedReportingOverflow(by: slot.domainSize)
            return overflow ? .max : next
        }
    }

    /// The slot values of candidate `index` in canonical order (the first slot varies slowest).
    public func values(ofCandidate index: Int) -> [Int] {
        var remainder = index
        var values = [Int](repeating: 0, count: slots.count)
        for position in slots.indices.reversed() {
            values[position] = remainder % slots[position].domainSize
            remainder /= slots[position].domainSize
        }
        return values
    }

    /// The candidate index of a full assignment of slot values (inverse of `values(ofCandidate:)`).
    public func candidateIndex(of values: [Int]) -> Int {
        precondition(values.count == slots.count, "one value per slot")
        return zip(slots, values).reduce(0) { $0 * $1.0.domainSize + $1.1 }
    }
}
