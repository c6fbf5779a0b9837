internal import CSodium

/// The one place that calls libsodium. Every call checks its lengths first and its return code
/// after.
package enum Sodium {
    /// `sodium_init()` runs once, the first time any function here is used.
    private static let initialized: Bool = {
        let status = sodium_init()
        precondition(status >= 0, "libsodium failed to initialise")
        return true
    }()

    /// Makes sure libsodium is initialised.
    package static func ensureInitialized() {
        precondition(initialized)
    }

    /// `count` bytes from libsodium's cryptographically secure generator.
    package static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                randombytes_buf(buffer.baseAddress!, count)
            }
            initialized = count
        }
    }

    /// A uniformly random 64-bit integer.
    package static func randomUInt64() -> UInt64 {
        ensureInitialized()
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { randombytes_buf($0.baseAddress!, 8) }
        return value
    }

    /// An unkeyed BLAKE2b digest of `outputLength` bytes (16 to 64).
    package static func genericHash(_ input: some RawBytes, outputLength: Int) -> [UInt8] {
        ensureInitialized()
        precondition(
            outputLength >= Int(crypto_generichash_bytes_min()) && outputLength <= Int(crypto_generichash_bytes_max())
        )
        return input.withUnsafeBytes { input in
            [UInt8](unsafeUninitializedCapacity: outputLength) { output, initialized in
                let status = crypto_generichash(
                    output.baseAddress!,
                    outputLength,
                    input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    UInt64(input.count),
                    nil,
                    0
                )
                precondition(status == 0, "crypto_generichash failed")
                initialized = outputLength
            }
        }
    }

    /// Compares two byte strings in time that depends only on their length.
    package static func constantTimeEqual(_ a: some RawBytes, _ b: some RawBytes) -> Bool {
        ensureInitialized()
        return a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                guard a.count == b.count else { return false }
                if a.isEmpty { return true }
                return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
            }
        }
    }

    /// Overwrites `buffer` with zeros in a way the compiler cannot remove.
    package static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        sodium_memzero(base, buffer.count)
    }
}

/// Byte containers the libsodium wrappers read from.
package protocol RawBytes {
    /// Calls `body` with the bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: RawBytes where Element == UInt8 {}
extension ArraySlice: RawBytes where Element == UInt8 {}
extension String.UTF8View: RawBytes {
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let result = try withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return try Array(self).withUnsafeBytes(body)
    }
}
