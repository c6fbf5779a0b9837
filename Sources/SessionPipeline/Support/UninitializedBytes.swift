extension Array where Element == UInt8 {
    /// `count` bytes written in place by `initializer`, which receives the uninitialized buffer
    /// and sets how many bytes it initialized (at most `count`), as with
    /// `Array(unsafeUninitializedCapacity:initializingWith:)`.
    ///
    /// The library makes byte arrays this way rather than with the standard library's initializer
    /// directly because for a count of zero that initializer stores the count into the
    /// process-wide empty-array singleton, which ThreadSanitizer reports as a data race whenever
    /// two threads do it at once (an empty payload, an empty file, empty base64 text). Here a
    /// count of zero still runs `initializer` — the caller's work, such as checking an
    /// authentication tag, still happens — over an empty buffer with a valid base address, and
    /// the result is `[]`.
    @inline(__always)
    package init(
        uninitializedCount count: Int,
        initializingWith initializer: (inout UnsafeMutableBufferPointer<UInt8>, inout Int) throws -> Void
    ) rethrows {
        guard count > 0 else {
            var spare: UInt8 = 0
            try withUnsafeMutablePointer(to: &spare) { pointer in
                var buffer = UnsafeMutableBufferPointer(start: pointer, count: 0)
                var initialized = 0
                try initializer(&buffer, &initialized)
                precondition(initialized == 0, "initialized more bytes than the buffer holds")
            }
            self = []
            return
        }
        try self.init(unsafeUninitializedCapacity: count, initializingWith: initializer)
    }
}
