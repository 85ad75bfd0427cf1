/// Reads a portrait's attributes back from its pixels with fixed rules (no learning): the
/// median colour of a few regions, matched to the world's palette. It is how generated images
/// are scored, so it is validated on the generator's own images.
public enum AttributeChecker {
    /// The attributes `image` shows. Fails unless it is a 64×64 portrait.
    public static func read(_ image: RGBImage) throws -> PortraitAttributes {
        typealias L = PortraitLayout
        guard image.width == L.size, image.height == L.size else {
            throw PortraitWorldError.invalidImage("the checker reads \(L.size)×\(L.size) portraits, got \(image.width)×\(image.height)")
        }
        let background = median(image, L.backgroundSample)
        let hair = median(image, L.hairSample)
        let locks = median(image, L.lockSample)
        let skin = median(image, L.skinSample)
        // The only colours above the shoulders beside the face are the background and, for
        // long hair, the hair: whichever the lock region is nearer to decides.
        let gender: PortraitAttributes.Gender = locks.distance(to: hair) < locks.distance(to: background) ? .female : .male
        let accessory: PortraitAttributes.Accessory
        // Lenses are darker than any skin tone: compared with this face's own skin, so the
        // darkest tone is not mistaken for glasses.
        if median(image, L.lensSample).luma < (skin.luma + Palette.glasses.luma) / 2 {
            accessory = .glasses
        } else if median(image, L.hatSample).distance(to: background) > Palette.hat.distance(to: background) / 2 {
            accessory = .hat
        } else {
            accessory = .none
        }
        let colours = PortraitAttributes.Colour.allCases
        return PortraitAttributes(
            gender: gender,
            age: Palette.nearest(hair, among: Portrait.Hair.allCases, colour: Palette.hair).age,
            ethnicity: Palette.nearest(skin, among: PortraitAttributes.Ethnicity.allCases, colour: Palette.skin),
            shirt: Palette.nearest(median(image, L.shirtSample), among: colours, colour: Palette.colour),
            background: Palette.nearest(background, among: colours, colour: Palette.colour),
            accessory: accessory)
    }

    /// The per-channel median over the boxes: robust to blurred edges and small stray details.
    static func median(_ image: RGBImage, _ boxes: [PortraitLayout.Box]) -> RGB {
        let pixels = boxes.flatMap(\.pixels).map { image[$0.x, $0.y] }
        func mid(_ channel: (RGB) -> UInt8) -> UInt8 { pixels.map(channel).sorted()[pixels.count / 2] }
        return RGB(mid(\.r), mid(\.g), mid(\.b))
    }
}
