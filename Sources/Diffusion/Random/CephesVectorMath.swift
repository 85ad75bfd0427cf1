/// Scalar, bit-exact replicas of the `log256_ps` and `sincos256_ps` routines of PyTorch's
/// `ATen/native/cpu/avx_mathfun.h` (Cephes polynomials by Julien Pommier / Giovanni Garberoglio,
/// zlib licence), which `torch.randn` uses on AVX2 CPUs.
///
/// PyTorch's AVX2 kernels are built by GCC with FMA enabled and the default
/// `-ffp-contract=fast`, so every multiply whose only use is an add or subtract became a fused
/// multiply-add. The fusions below are those of that build, established by matching
/// `torch.randn` output bit for bit over 10⁶ samples; changing any of them changes the noise.
enum CephesVectorMath {
    private static func constant(_ bits: UInt32) -> Float { Float(bitPattern: bits) }

    private static let sqrtHalf = constant(0x3f35_04f3)
    private static let logPolynomial: [Float] = [
        0x3d90_21bb, 0xbdeb_d1b8, 0x3def_251a, 0xbdfe_5d4f, 0x3e11_e9bf,
        0xbe2a_ae50, 0x3e4c_ceac, 0xbe7f_fffc, 0x3eaa_aaaa,
    ].map(constant)
    private static let logQ1 = constant(0xb95e_8083)  // −2.12194440e−4
    private static let logQ2 = constant(0x3f31_8000)  // 0.693359375
    private static let minusDP1 = constant(0xbf49_0000)
    private static let minusDP2 = constant(0xb97d_a000)
    private static let minusDP3 = constant(0xb322_2169)
    private static let sinPolynomial: [Float] = [0xb94c_a1f9, 0x3c08_839e, 0xbe2a_aaa3].map(constant)
    private static let cosPolynomial: [Float] = [0x37cc_f5ce, 0xbab6_061a, 0x3d2a_aaa5].map(constant)
    private static let fourOverPi = constant(0x3fa2_f983)

    /// Natural logarithm of a positive float (NaN for x ≤ 0), as `log256_ps`.
    static func log(_ input: Float) -> Float {
        let smallestNormal = Float(bitPattern: 0x0080_0000)
        // _mm256_max_ps returns its second operand unless the first is greater.
        var x = input > smallestNormal ? input : smallestNormal
        let exponent = Int32(bitPattern: x.bitPattern >> 23) - 0x7f
        x = Float(bitPattern: (x.bitPattern & ~0x7f80_0000) | Float(0.5).bitPattern)
        var e = Float(exponent) + 1
        let below = x < sqrtHalf
        let kept: Float = below ? x : 0
        x = x - 1
        e = e - (below ? 1 : 0)
        x = x + kept
        let z = x * x
        var y = logPolynomial[0]
        for p in logPolynomial.dropFirst() { y = p.addingProduct(y, x) }
        y = y * x
        y = (e * logQ1).addingProduct(y, z)
        y = y - z * 0.5
        x = x + y
        x = x.addingProduct(e, logQ2)
        return input <= 0 ? .nan : x
    }

    /// Sine and cosine of `input`, as `sincos256_ps`.
    static func sincos(_ input: Float) -> (sin: Float, cos: Float) {
        var signSin = input.bitPattern & 0x8000_0000
        var x = abs(input)
        var j = Int32(x * fourOverPi)  // _mm256_cvttps_epi32 truncates
        j = (j &+ 1) & ~1
        let y0 = Float(j)
        signSin ^= UInt32(bitPattern: (j & 4) << 29)
        let sineUsesSinPolynomial = (j & 2) == 0
        x = x.addingProduct(y0, minusDP1)
        x = x.addingProduct(y0, minusDP2)
        x = x.addingProduct(y0, minusDP3)
        let signCos = UInt32(bitPattern: (~(j &- 2) & 4) << 29)

        let z = x * x
        var y = cosPolynomial[0]
        y = cosPolynomial[1].addingProduct(y, z)
        y = cosPolynomial[2].addingProduct(y, z)
        y = y * z
        y = (-(z * 0.5)).addingProduct(y, z)
        y = y + 1

        var y2 = sinPolynomial[0]
        y2 = sinPolynomial[1].addingProduct(y2, z)
        y2 = sinPolynomial[2].addingProduct(y2, z)
        y2 = y2 * z
        y2 = x.addingProduct(y2, x)

        // The vector code selects with masks and recombines with adds; keep those adds so that
        // signed zeros come out the same.
        let sinFromSinPolynomial: Float = sineUsesSinPolynomial ? y2 : 0
        let sinFromCosPolynomial: Float = sineUsesSinPolynomial ? 0 : y
        y2 = y2 - sinFromSinPolynomial
        y = y - sinFromCosPolynomial
        let sine = sinFromCosPolynomial + sinFromSinPolynomial
        let cosine = y + y2
        return (Float(bitPattern: sine.bitPattern ^ signSin), Float(bitPattern: cosine.bitPattern ^ signCos))
    }
}
