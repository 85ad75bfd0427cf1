/// Rows of a UNet batch that may share one attention map under batch reuse: one guidance half
/// of one candidate set. The first row is the pivot (the candidate at canonical index 0, which
/// does not depend on which candidate is real).
public struct BatchReuseGroup: Sendable, Equatable {
    public var rows: Range<Int>
    /// Per row: whether its text tokens line up position by position with the pivot's, so its
    /// pixels may attend to the text through the pivot's cross-attention map. Misaligned rows
    /// compute their own cross-attention map (self-attention maps are always shared).
    public var crossAttentionAligned: [Bool]

    public init(rows: Range<Int>, crossAttentionAligned: [Bool]) {
        precondition(crossAttentionAligned.count == rows.count, "one alignment flag per row")
        self.rows = rows
        self.crossAttentionAligned = crossAttentionAligned
    }

    /// The groups of a classifier-free-guided batch `[unconditional rows; conditional rows]` of
    /// candidate sets laid out one after another: for each set, its unconditional rows (one
    /// shared negative prompt, so all aligned) and its conditional rows, aligned when the
    /// candidate has as many tokens as the set's pivot. `tokenCounts` holds, per set, the token
    /// count of each candidate. Without guidance only the conditional groups exist.
    public static func candidateSets(tokenCounts: [[Int]], guided: Bool) -> [BatchReuseGroup] {
        let rows = tokenCounts.reduce(0) { $0 + $1.count }
        var groups: [BatchReuseGroup] = []
        var offset = 0
        for counts in tokenCounts {
            let conditional = guided ? rows + offset : offset
            if guided {
                groups.append(BatchReuseGroup(rows: offset..<(offset + counts.count), crossAttentionAligned: counts.map { _ in true }))
            }
            groups.append(BatchReuseGroup(rows: conditional..<(conditional + counts.count),
                                          crossAttentionAligned: counts.map { $0 == counts[0] }))
            offset += counts.count
        }
        return groups
    }
}
