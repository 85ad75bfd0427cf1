import PortraitWorld
import Privacy
import XCTest

final class PortraitWorldTests: XCTestCase {
    func testSamplesAreDeterministicAndIndependentOfOrder() {
        let world = PortraitWorld(seed: 7)
        let late = world.sample(41), early = world.sample(3)
        XCTAssertEqual(world.sample(41).image, late.image)
        XCTAssertEqual(world.sample(41).caption, late.caption)
        XCTAssertEqual(PortraitWorld(seed: 7).sample(3).portrait, early.portrait)
        let others = (0..<20).map { PortraitWorld(seed: 8).sample($0).caption }
        XCTAssertNotEqual(others, (0..<20).map { world.sample($0).caption }, "another seed is another world")
    }

    func testCaptionsNameEveryAttribute() {
        let world = PortraitWorld(seed: 1)
        for i in 0..<200 {
            let s = world.sample(i), a = s.portrait.attributes
            XCTAssertTrue(["shirt", "t-shirt", "top", "sweater"].contains { s.caption.contains("\(a.shirt.rawValue) \($0)") }, s.caption)
            XCTAssertTrue(s.caption.contains("\(a.background.rawValue) back"), s.caption)
            let nouns = a.gender == .male ? ["man", "gentleman", "guy"] : ["woman", "lady"]
            XCTAssertTrue(nouns.contains { s.caption.hasSuffix(" \($0)") || s.caption.contains(" \($0) ") || s.caption.contains(" \($0),") }, s.caption)
            let ageWords: [String] = switch a.age {
            case .young: ["young", "youthful"]
            case .middleAged: ["middle-aged", "middle aged"]
            case .old: ["old ", "elderly"]
            }
            XCTAssertTrue(ageWords.contains { s.caption.contains($0) } || s.caption.contains("\(s.portrait.years)-year-old"), s.caption)
            XCTAssertTrue(a.age.years.contains(s.portrait.years))
            XCTAssertTrue(CaptionWriter.ethnicityWords(a.ethnicity).contains { s.caption.contains(" \($0) ") }, s.caption)
            switch a.accessory {
            case .glasses: XCTAssertTrue(s.caption.contains("glasses"), s.caption)
            case .hat: XCTAssertTrue(s.caption.contains("hat"), s.caption)
            case .none: XCTAssertFalse(s.caption.contains("glasses") || s.caption.contains(" hat"), s.caption)
            }
            XCTAssertFalse(s.caption.contains("a 8") || s.caption.contains("a 18-") || s.caption.contains("an 2"), s.caption)
            XCTAssertFalse(s.caption.contains("a A") || s.caption.contains("a I") || s.caption.contains("an E"), s.caption)
        }
    }

    /// The clauses come in every order, so no model trained on the captions learns to expect
    /// the shirt before the background or the person first.
    func testCaptionsVaryTheClauseOrder() {
        let world = PortraitWorld(seed: 5)
        var backgroundFirst = 0, personNotFirst = 0, accessoryLast = 0
        let count = 400
        for i in 0..<count {
            let s = world.sample(i), a = s.portrait.attributes
            let shirt = s.caption.range(of: "\(a.shirt.rawValue) ")!.lowerBound, background = s.caption.range(of: "\(a.background.rawValue) back")!.lowerBound
            if background < shirt { backgroundFirst += 1 }
            let noun = s.caption.range(of: a.gender == .male ? "(man|guy)" : "(woman|lady)", options: .regularExpression)!.lowerBound
            if noun > min(shirt, background) { personNotFirst += 1 }
            if a.accessory != .none, let accessory = s.caption.range(of: a.accessory == .hat ? " hat" : "glasses")?.lowerBound,
               accessory > max(shirt, background) { accessoryLast += 1 }
        }
        XCTAssertGreaterThan(backgroundFirst, count * 4 / 10, "background named before the shirt")
        XCTAssertGreaterThan(personNotFirst, count / 4, "a clause before the person")
        XCTAssertGreaterThan(accessoryLast, count / 10, "the accessory after shirt and background")
    }

    /// The privacy engine finds the three sensitive attributes of every caption, with the
    /// caption's own values, whatever the clause order and phrasing.
    func testPrivacyEngineDetectsEveryCaptionsSensitiveAttributes() throws {
        let world = PortraitWorld(seed: 6), obfuscator = Obfuscator()
        for i in 0..<150 {
            let s = world.sample(i), a = s.portrait.attributes
            let set = try obfuscator.obfuscate(s.caption)
            XCTAssertEqual(set.candidates.count, 30, s.caption)
            let real = Dictionary(uniqueKeysWithValues: set.report.slots.map { ($0.attribute, $0.realValue) })
            XCTAssertEqual(real, ["gender": a.gender.rawValue, "age": a.age.rawValue, "ethnicity": a.ethnicity.rawValue], s.caption)
            XCTAssertTrue(set.report.unhidden.isEmpty, "\(s.caption): \(set.report.unhidden)")
        }
    }

    func testCheckerReadsGeneratorImagesPerAttribute() throws {
        let score = try checkerScore(count: 300, seed: 2) { $0 }
        for attribute in AttributeScore.Attribute.allCases {
            XCTAssertGreaterThanOrEqual(score.accuracy(attribute), 0.98, attribute.rawValue)
        }
    }

    /// Generated images come out of a VAE: the cues must survive heavy blur and a colour shift.
    func testCheckerSurvivesBlurAndColourShift() throws {
        let score = try checkerScore(count: 100, seed: 3) { image in
            var blurred = image
            for _ in 0..<2 { blurred = boxBlur(blurred) }
            blurred.pixels = blurred.pixels.map { UInt8(min(255, Int($0) + 12)) }
            return blurred
        }
        for attribute in AttributeScore.Attribute.allCases {
            XCTAssertGreaterThanOrEqual(score.accuracy(attribute), 0.98, attribute.rawValue)
        }
    }

    func testCheckerRejectsOtherSizes() throws {
        let image = try RGBImage(width: 32, height: 32, pixels: Array(repeating: 0, count: 32 * 32 * 3))
        XCTAssertThrowsError(try AttributeChecker.read(image)) { error in
            XCTAssertTrue("\(error)".contains("64×64"), "\(error)")
        }
        XCTAssertThrowsError(try RGBImage(width: 2, height: 2, pixels: [0]))
    }

    /// How well the checker reads back `count` distorted samples of world `seed`.
    private func checkerScore(count: Int, seed: UInt64, distort: (RGBImage) -> RGBImage) throws -> AttributeScore {
        let world = PortraitWorld(seed: seed)
        var score = AttributeScore()
        for i in 0..<count {
            let s = world.sample(i)
            score.add(read: try AttributeChecker.read(distort(s.image)), truth: s.portrait.attributes)
        }
        return score
    }

    private func boxBlur(_ image: RGBImage) -> RGBImage {
        var out = image
        for y in 0..<image.height {
            for x in 0..<image.width {
                var sum = (0, 0, 0), n = 0
                for dy in -1...1 { for dx in -1...1 {
                    let (nx, ny) = (x + dx, y + dy)
                    guard (0..<image.width).contains(nx), (0..<image.height).contains(ny) else { continue }
                    let p = image[nx, ny]
                    sum = (sum.0 + Int(p.r), sum.1 + Int(p.g), sum.2 + Int(p.b))
                    n += 1
                } }
                out[x, y] = RGB(UInt8(sum.0 / n), UInt8(sum.1 / n), UInt8(sum.2 / n))
            }
        }
        return out
    }
}

final class FrechetDistanceTests: XCTestCase {
    private func gaussianSet(count: Int, mean: [Double], scale: [Double], seed: UInt64) -> [[Double]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            zip(mean, scale).map { m, s in
                // Box–Muller from two uniforms.
                let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), w = Double.random(in: 0..<1, using: &rng)
                return m + s * (-2 * log(u)).squareRoot() * cos(2 * .pi * w)
            }
        }
    }

    func testSameSetIsZeroAndShiftedMeanAddsItsSquaredNorm() throws {
        let a = gaussianSet(count: 400, mean: [0, 0, 0], scale: [1, 2, 0.5], seed: 1)
        XCTAssertEqual(try FrechetDistance.between(a, a), 0, accuracy: 1e-6)
        let shifted = a.map { [$0[0] + 3, $0[1] - 1, $0[2]] }
        XCTAssertEqual(try FrechetDistance.between(a, shifted), 10, accuracy: 1e-6)
    }

    func testOneDimensionalGaussiansMatchTheClosedForm() throws {
        let a = gaussianSet(count: 3000, mean: [0], scale: [1], seed: 2)
        let b = gaussianSet(count: 3000, mean: [0], scale: [3], seed: 3)
        func std(_ xs: [[Double]]) -> Double {
            let m = xs.reduce(0) { $0 + $1[0] } / Double(xs.count)
            return (xs.reduce(0) { $0 + ($1[0] - m) * ($1[0] - m) } / Double(xs.count - 1)).squareRoot()
        }
        let ma = a.reduce(0) { $0 + $1[0] } / 3000, mb = b.reduce(0) { $0 + $1[0] } / 3000
        let expected = (ma - mb) * (ma - mb) + (std(a) - std(b)) * (std(a) - std(b))
        XCTAssertEqual(try FrechetDistance.between(a, b), expected, accuracy: 1e-9)
        XCTAssertGreaterThan(expected, 3)
    }

    func testPortraitsAreCloserToPortraitsThanToBlurredOnes() throws {
        let world = PortraitWorld(seed: 4)
        let real = (0..<60).map { ImageFeatures.pooledColours(world.sample($0).image) }
        let others = (60..<120).map { ImageFeatures.pooledColours(world.sample($0).image) }
        let grey = (60..<120).map { i -> [Double] in
            ImageFeatures.pooledColours(world.sample(i).image).map { 0.5 + 0.3 * ($0 - 0.5) }
        }
        XCTAssertLessThan(try FrechetDistance.between(real, others), try FrechetDistance.between(real, grey))
    }

    func testRejectsMismatchedFeatures() {
        XCTAssertThrowsError(try FrechetDistance.between([[1], [2]], [[1, 2], [3, 4]]))
        XCTAssertThrowsError(try FrechetDistance.between([[1]], [[1], [2]]))
    }
}
