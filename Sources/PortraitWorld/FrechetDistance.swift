/// The Fréchet distance between two feature sets modelled as Gaussians (the statistic of FID,
/// here on any features): ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½).
public enum FrechetDistance {
    /// Each set is a list of equally long feature vectors, at least two per set.
    public static func between(_ a: [[Double]], _ b: [[Double]]) throws -> Double {
        guard a.count >= 2, b.count >= 2, let d = a.first?.count, d > 0,
              (a + b).allSatisfy({ $0.count == d }) else {
            throw PortraitWorldError.invalidArgument("Fréchet distance needs two sets of ≥ 2 feature vectors of one length")
        }
        let (meanA, covA) = moments(a), (meanB, covB) = moments(b)
        let meanTerm = zip(meanA, meanB).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let rootA = SymmetricMatrix(covA, size: d).squareRoot()
        let rootAValues = rootA.values
        let product = SymmetricMatrix(SymmetricMatrix.product(SymmetricMatrix.product(rootAValues, covB, size: d), rootAValues, size: d), size: d)
        let crossTrace = product.eigenvalues().reduce(0) { $0 + Swift.max($1, 0).squareRoot() }
        let traces = (0..<d).reduce(0) { $0 + covA[$1 * d + $1] + covB[$1 * d + $1] }
        return Swift.max(0, meanTerm + traces - 2 * crossTrace)
    }

    /// Mean and unbiased covariance (row-major d×d).
    static func moments(_ xs: [[Double]]) -> (mean: [Double], covariance: [Double]) {
        let d = xs[0].count, n = Double(xs.count)
        let mean = (0..<d).map { j in xs.reduce(0) { $0 + $1[j] } / n }
        var cov = [Double](repeating: 0, count: d * d)
        for x in xs {
            for i in 0..<d { for j in 0..<d { cov[i * d + j] += (x[i] - mean[i]) * (x[j] - mean[j]) } }
        }
        return (mean, cov.map { $0 / (n - 1) })
    }
}

/// A real symmetric matrix (row-major) with the Jacobi eigenvalue algorithm: exact enough for
/// the few-dozen-dimensional covariances of `FrechetDistance`, and no LAPACK needed.
struct SymmetricMatrix {
    let values: [Double]
    let size: Int

    init(_ values: [Double], size: Int) {
        // Symmetrise away rounding so the rotations converge.
        self.values = (0..<(size * size)).map { k in (values[k] + values[(k % size) * size + k / size]) / 2 }
        self.size = size
    }

    /// The product of two row-major `size × size` matrices.
    static func product(_ a: [Double], _ b: [Double], size: Int) -> [Double] {
        var out = [Double](repeating: 0, count: size * size)
        for i in 0..<size { for k in 0..<size {
            let aik = a[i * size + k]
            for j in 0..<size { out[i * size + j] += aik * b[k * size + j] }
        } }
        return out
    }

    func eigenvalues() -> [Double] { decomposition().values }

    /// The positive semi-definite square root V·diag(√max(λ, 0))·Vᵀ.
    func squareRoot() -> SymmetricMatrix {
        let (lambda, v) = decomposition()
        var out = [Double](repeating: 0, count: size * size)
        for k in 0..<size {
            let s = Swift.max(lambda[k], 0).squareRoot()
            for i in 0..<size { for j in 0..<size { out[i * size + j] += v[i * size + k] * s * v[j * size + k] } }
        }
        return SymmetricMatrix(out, size: size)
    }

    /// Cyclic Jacobi rotations until the off-diagonal mass is negligible: eigenvalues and the
    /// eigenvectors as the columns of a row-major matrix.
    func decomposition() -> (values: [Double], vectors: [Double]) {
        let n = size
        var a = values
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = Swift.max(a.reduce(0) { $0 + $1 * $1 }, .leastNormalMagnitude)
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
            if off <= 1e-24 * scale { break }
            for p in 0..<n {
                for q in (p + 1)..<n where a[p * n + q] != 0 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let (akp, akq) = (a[k * n + p], a[k * n + q])
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let (apk, aqk) = (a[p * n + k], a[q * n + k])
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let (vkp, vkq) = (v[k * n + p], v[k * n + q])
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
