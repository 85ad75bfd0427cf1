import Foundation
import Hummingbird

/// The page's files (plain HTML, CSS and JavaScript: no build step, nothing from the network),
/// read once from the module's resources.
struct StaticAssets: Sendable {
    struct Asset: Sendable {
        var bytes: Data
        var contentType: String

        func response() -> Response {
            var headers = HTTPFields()
            headers[.contentType] = contentType
            headers[.cacheControl] = "no-store"
            // Everything comes from this origin; nothing is fetched from elsewhere.
            headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' blob:; frame-ancestors 'none'"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// URL path → asset.
    let files: [String: Asset]

    init() throws {
        let types = ["html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"]
        var files: [String: Asset] = [:]
        for name in ["index.html", "style.css", "app.js"] {
            guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources") else {
                throw StaticAssetError(name: name)
            }
            let asset = Asset(bytes: try Data(contentsOf: url), contentType: types[url.pathExtension]!)
            files["/" + name] = asset
            if name == "index.html" { files["/"] = asset }
        }
        self.files = files
    }
}

/// The build lost one of the page's files.
struct StaticAssetError: Error, CustomStringConvertible {
    let name: String
    var description: String { "the UI's resource \(name) is missing from the DeviceUI bundle" }
}
