import XCTest
@testable import Privacy

/// One person sends 100 related prompts and the server links them all. The test plays the
/// Bayesian adversary (it knows the client's algorithm and the population prior) and measures its
/// posterior on the person's real values: full sets leave it at the prior, memoised per-attribute
/// DP subsets leave it where one request put it (within the e^ε bound), and fresh randomness lets
/// the intersection attack converge on the real values — the case memoisation exists for.
final class LinkedRequestsTests: XCTestCase {
    let taxonomy = Taxonomy.standard()
    lazy var obfuscator = Obfuscator(taxonomy: taxonomy)
    let real = ["gender": "female", "age": "old", "ethnicity": "indian"]
    static let requests = 100

    /// The person's related prompts: different frames, nouns and subsets of the attributes.
    func linkedPrompts() -> [String] {
        let frames = ["a photo of {A} {age} {eth} {N} {S}", "{A} {N} reading, {sub} smiles", "portrait of {A} {age} {N}, {S}",
                      "{A} {eth} {N} at the market with {pos} bag", "{A} {age} {N} {S}", "the {eth} {N} {S}"]
        let scenes = ["in a park", "at the beach, golden hour", "cooking dinner", "in the rain", "on a stage"]
        let nouns = taxonomy.genderedNouns.filter { $0.implies == nil && $0.forms["male"]![0] != "male" }.map { $0.forms["female"]![0] }
        var generator = SeededGenerator(seed: 100)
        return (0..<Self.requests).map { _ in
            var text = frames[generator.uniform(below: frames.count)]
            for (key, value) in [("{age}", "old"), ("{eth}", "Indian"), ("{N}", nouns[generator.uniform(below: nouns.count)]),
                                 ("{S}", scenes[generator.uniform(below: scenes.count)]), ("{sub}", "she"), ("{pos}", "her")] {
                text = text.replacingAll(key, value)
            }
            // The article agrees with the word after it ("an old", "an Indian", "a woman").
            let after = text.components(separatedBy: "{A} ").dropFirst().first?.prefix(1).lowercased() ?? ""
            return text.replacingAll("{A}", "aeiou".contains(after) ? "an" : "a")
        }
    }

    func priors() -> [String: [Double]] {
        Dictionary(uniqueKeysWithValues: taxonomy.attributes.map { ($0.name, PrivacyReport.prior(of: $0)) })
    }

    func realIndex(_ attribute: String) -> Int { taxonomy.attribute(named: attribute)!.values.firstIndex { $0.name == real[attribute] }! }

    /// Full sets: for every hypothesis about the person's values, the client would have sent
    /// exactly the observed set, so each likelihood is 1 and the posterior is the prior.
    func testFullSetsLeaveThePosteriorAtThePrior() throws {
        let attributes = taxonomy.attributes
        let hypotheses = attributes.reduce([[Int]]([[]])) { partial, attribute in partial.flatMap { p in attribute.values.indices.map { p + [$0] } } }
        var logLikelihood = [Double](repeating: 0, count: hypotheses.count)
        for prompt in linkedPrompts() {
            let set = try obfuscator.obfuscate(prompt)
            XCTAssertGreaterThan(set.candidates.count, 1, prompt)
            for (h, hypothesis) in hypotheses.enumerated() {
                // What this hypothetical person would have typed for the same prompt.
                let values = set.template.slots.map { hypothesis[$0.attribute] }
                let typed = obfuscator.render(set.template, values: values)
                let wouldSend = try obfuscator.obfuscate(typed).candidates
                if wouldSend != set.candidates { logLikelihood[h] = -.infinity }
            }
        }
        let prior = priors()
        let joint = hypotheses.map { h in zip(attributes, h).reduce(1.0) { $0 * prior[$1.0.name]![$1.1] } }
        let weights = zip(joint, logLikelihood).map { $0 * exp($1) }
        let total = weights.reduce(0, +)
        for (index, attribute) in attributes.enumerated() {
            let posterior = zip(hypotheses, weights).filter { $0.0[index] == realIndex(attribute.name) }.reduce(0) { $0 + $1.1 } / total
            XCTAssertEqual(posterior, prior[attribute.name]![realIndex(attribute.name)], accuracy: 1e-12, attribute.name)
            print("linked \(Self.requests), full sets: P(\(attribute.name)=\(real[attribute.name]!)) = \(posterior) (prior \(prior[attribute.name]![realIndex(attribute.name)]))")
        }
    }

    /// Memoised per-attribute DP subsets: the posterior after 100 linked requests equals the
    /// posterior after the first release of each attribute, and stays within e^ε prior odds; the
    /// budget is charged once per attribute.
    func testMemoisedSubsetsLearnNothingFromLinking() throws {
        let epsilon = 1.0
        let mechanism = try AttributeSubsetMechanism(parameters: [
            "gender": .init(epsilon: epsilon, subsetSize: 1), "age": .init(epsilon: epsilon, subsetSize: 1),
            "ethnicity": .init(epsilon: epsilon, subsetSize: 2),
        ])
        let secret = Array("linked-requests-test-secret".utf8)
        var budget = PrivacyBudget()
        var adversaries = priors().mapValues { LinkedAdversary(prior: $0) }
        var afterFirst: [String: Double] = [:]
        for prompt in linkedPrompts() {
            let set = try obfuscator.obfuscate(prompt)
            let selection = try mechanism.select(from: set, randomness: .memoized(secret: secret), budget: &budget)
            budget.countRequest()
            XCTAssertEqual(selection.candidates, selection.candidateIndices.map { set.candidates[$0] })
            for release in selection.releases {
                let values = taxonomy.attribute(named: release.attribute)!.values
                adversaries[release.attribute]!.observe(sent: release.sent.map { name in values.firstIndex { $0.name == name }! },
                                                        epsilon: release.epsilon, memoized: true)
                if afterFirst[release.attribute] == nil { afterFirst[release.attribute] = adversaries[release.attribute]!.posterior[realIndex(release.attribute)] }
            }
        }
        XCTAssertEqual(budget.requests, Self.requests)
        for (name, adversary) in adversaries {
            let posterior = adversary.posterior[realIndex(name)]
            let prior = adversary.prior[realIndex(name)]
            let bound = exp(epsilon) * prior / (exp(epsilon) * prior + 1 - prior)
            XCTAssertEqual(posterior, afterFirst[name]!, accuracy: 1e-12, name)
            XCTAssertLessThanOrEqual(posterior, bound + 1e-12, name)
            XCTAssertEqual(budget.spent[name], epsilon, "\(name): one memoised release is charged once")
            print("linked \(Self.requests), memoised DP ε=\(epsilon): P(\(name)=\(real[name]!)) = \(posterior) after 1 release and after all (prior \(prior), e^ε bound \(bound)); budget \(budget.spent[name]!)")
        }
    }

    /// Fresh randomness for every request (what memoisation prevents): intersecting the linked
    /// releases drives the posterior to the real values, and the budget grows linearly.
    func testFreshRandomnessIsBrokenByLinking() throws {
        let epsilon = 1.0
        var generator = SeededGenerator(seed: 7)
        var adversaries = priors().mapValues { LinkedAdversary(prior: $0) }
        var releases: [String: Int] = [:]
        let sizes = ["gender": 1, "age": 1, "ethnicity": 2]
        for prompt in linkedPrompts() {
            let set = try obfuscator.obfuscate(prompt)
            for slot in set.template.slots {
                let attribute = taxonomy.attributes[slot.attribute]
                let mechanism = try SubsetMechanism(epsilon: epsilon, subsetSize: sizes[attribute.name]!)
                let sent = mechanism.draw(n: attribute.values.count, real: realIndex(attribute.name), using: &generator)
                adversaries[attribute.name]!.observe(sent: sent, epsilon: epsilon, memoized: false)
                releases[attribute.name, default: 0] += 1
            }
        }
        for (name, adversary) in adversaries {
            let posterior = adversary.posterior[realIndex(name)]
            XCTAssertGreaterThan(posterior, 0.95, "\(name) after \(releases[name]!) fresh releases")
            print("linked \(Self.requests), fresh DP ε=\(epsilon): P(\(name)=\(real[name]!)) = \(posterior) after \(releases[name]!) releases (budget \(Double(releases[name]!) * epsilon))")
        }
    }

    /// The ledger: fresh releases are charged every time, memoised ones once per value; it
    /// round-trips through its file, and a broken file is refused with its path.
    func testBudgetLedger() throws {
        let set = try obfuscator.obfuscate("an old Indian woman reading")
        let mechanism = try AttributeSubsetMechanism(taxonomy: taxonomy, epsilon: 0.5, subsetSize: 2)
        var budget = PrivacyBudget()
        for _ in 0..<3 { _ = try mechanism.select(from: set, randomness: .system, budget: &budget) }
        XCTAssertEqual(budget.spent, ["gender": 1.5, "age": 1.5, "ethnicity": 1.5])
        var memoised = PrivacyBudget()
        let secret = Array("another-linked-test-secret".utf8)
        let first = try mechanism.select(from: set, randomness: .memoized(secret: secret), budget: &memoised)
        let again = try mechanism.select(from: try obfuscator.obfuscate("an elderly Indian lady in a park"), randomness: .memoized(secret: secret), budget: &memoised)
        XCTAssertEqual(first.releases.map(\.sent), again.releases.map(\.sent), "same values, same alternatives")
        XCTAssertEqual(again.epsilonCharged, 0)
        XCTAssertEqual(memoised.spent, ["gender": 0.5, "age": 0.5, "ethnicity": 0.5])
        XCTAssertEqual(first.inclusionProbability, first.releases.reduce(1) { $0 * $1.inclusionProbability }, accuracy: 1e-12)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("obclip-budget-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try PrivacyBudget.load(from: url), PrivacyBudget(), "a missing ledger is empty")
        try memoised.save(to: url)
        XCTAssertEqual(try PrivacyBudget.load(from: url), memoised)
        try Data("{".utf8).write(to: url)
        XCTAssertThrowsError(try PrivacyBudget.load(from: url)) { XCTAssertTrue("\($0)".contains(url.path)) }
    }
}
