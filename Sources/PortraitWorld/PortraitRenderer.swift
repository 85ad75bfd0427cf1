/// Draws a portrait with flat colours: background, shirt, neck, hair (short or long, its
/// colour giving the age band), face and neck (their tone standing in for the ethnicity), an optional beard, mouth, eyes or glasses, and a hat.
public enum PortraitRenderer {
    public static func render(_ portrait: Portrait) -> RGBImage {
        typealias L = PortraitLayout
        let a = portrait.attributes
        let hair = Palette.hair(portrait.hair)
        let longHair = a.gender == .female
        let skin = Palette.skin(a.ethnicity)
        var image = RGBImage(width: L.size, height: L.size, fill: Palette.colour(a.background))
        func paint(_ colour: RGB, where inside: (Int, Int) -> Bool) {
            for y in 0..<L.size { for x in 0..<L.size where inside(x, y) { image[x, y] = colour } }
        }
        func paint(_ colour: RGB, _ boxes: [L.Box]) {
            paint(colour) { x, y in boxes.contains { $0.contains(x, y) } }
        }

        paint(Palette.colour(a.shirt), where: L.inShirt)
        paint(skin, [L.neck])
        paint(hair) { x, y in L.inHairDome(x, y) && (longHair || y < L.shortHairBottom) }
        if longHair { paint(hair, L.longHairLocks) }
        paint(skin, where: L.inFace)
        if portrait.beard { paint(hair) { x, y in L.inFace(x, y) && y >= L.beardTop } }
        paint(Palette.mouth, [L.mouth])
        paint(Palette.eyes, L.eyes)
        switch a.accessory {
        case .glasses: paint(Palette.glasses, L.lenses)
        case .hat: paint(Palette.hat, L.hat)
        case .none: break
        }
        return image
    }
}
