extension Array {
    /// Whether the two arrays are one storage: a copy that neither side has changed since, so
    /// equal without comparing a single element. `false` says nothing about equality.
    func sharesStorage(with other: Self) -> Bool {
        guard count == other.count else { return false }
        if isEmpty { return true }
        return withUnsafeBufferPointer { mine in
            other.withUnsafeBufferPointer { theirs in mine.baseAddress == theirs.baseAddress }
        }
    }
}
