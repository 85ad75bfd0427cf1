/// A word the engine saw but could not hide: every candidate still carries it, so whatever it
/// implies is revealed to the server. Reported to the user, never silently ignored.
public struct UnhiddenWord: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// A personal first name (implies gender and often ethnicity).
        case name
        /// A place (correlates with ethnicity or nationality).
        case place
        /// A word that pins an attribute ("pregnant", "bearded", "hijab").
        case revealing
        /// A person noun that fixes an attribute on its own ("grandmother" is old).
        case impliedByNoun
        /// An attribute word that describes no detected person ("an Indian restaurant").
        case unattached
        /// A numeric age outside every age band of the taxonomy.
        case ageOutOfRange
    }

    /// The word as written in the prompt.
    public var word: String
    public var kind: Kind
    /// Attribute types it reveals (may name types outside the taxonomy, e.g. "religion").
    public var reveals: [String]
    /// Why, in words.
    public var why: String
}
