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
        return [UInt8](uninitializedCount: count) { buffer, initialized in
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
            [UInt8](uninitializedCount: outputLength) { output, initialized in
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

// MARK: Secret memory

extension Sodium {
    /// `count` bytes from libsodium's guarded allocator (guard pages, locked in memory where the
    /// system allows); release with ``freeSecret(_:)``, which wipes them.
    package static func allocateSecret(_ count: Int) -> UnsafeMutableRawBufferPointer {
        ensureInitialized()
        guard let base = sodium_malloc(count) else {
            fatalError("sodium_malloc(\(count)) failed: out of memory")
        }
        return UnsafeMutableRawBufferPointer(start: base, count: count)
    }

    /// Wipes and releases memory from ``allocateSecret(_:)``.
    package static func freeSecret(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        sodium_memzero(base, buffer.count)
        sodium_free(base)
    }

    /// Decodes base64 text (standard or URL-safe alphabet, padded or not, surrounding whitespace
    /// ignored) in constant time into `output`; returns the number of bytes written, or `nil` when
    /// the text is not base64 or does not fit.
    /// A secret as standard base64 text, through libsodium's constant-time encoder; for tools that
    /// must show a new key once (`sessionctl keygen`).
    package static func encodeBase64Secret(_ secret: UnsafeRawBufferPointer) -> String {
        let length = (secret.count + 2) / 3 * 4 + 1
        var output = [UInt8](repeating: 0, count: length)
        defer { output.withUnsafeMutableBytes { wipe($0) } }
        output.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                _ = sodium_bin2base64(
                    text.baseAddress!, length, secret.baseAddress?.assumingMemoryBound(to: UInt8.self), secret.count,
                    sodium_base64_VARIANT_ORIGINAL)
            }
        }
        return String(decoding: output.prefix { $0 != 0 }, as: UTF8.self)
    }

    package static func decodeBase64Secret(
        _ text: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        ensureInitialized()
        let trimmed = trimmedWhitespace(text)
        for variant in [
            sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
            sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING,
        ] {
            var length = 0
            let status = sodium_base642bin(
                output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                output.count,
                trimmed.baseAddress?.assumingMemoryBound(to: CChar.self),
                trimmed.count,
                nil,
                &length,
                nil,
                variant
            )
            if status == 0 { return length }
        }
        return nil
    }

    /// Decodes hexadecimal text in constant time into `output`; returns the number of bytes
    /// written, or `nil`.
    package static func decodeHexSecret(
        _ text: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        ensureInitialized()
        let trimmed = trimmedWhitespace(text)
        var length = 0
        var end: UnsafePointer<CChar>?
        let status = sodium_hex2bin(
            output.baseAddress!.assumingMemoryBound(to: UInt8.self),
            output.count,
            trimmed.baseAddress?.assumingMemoryBound(to: CChar.self),
            trimmed.count,
            nil,
            &length,
            &end
        )
        guard status == 0, let end, UnsafeRawPointer(end) == trimmed.baseAddress.map({ $0 + trimmed.count }) else {
            return nil
        }
        return length
    }

    private static func trimmedWhitespace(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = text.count
        let space: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        while start < end, space(text[start]) { start += 1 }
        while end > start, space(text[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: text[start..<end])
    }

    /// Fills `buffer` with random bytes.
    package static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
        ensureInitialized()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }

    /// Derives subkey `id` of `key` under an 8-byte `context` with `crypto_kdf` (BLAKE2b), into
    /// `output` (16 to 64 bytes).
    package static func deriveKey(
        _ key: UnsafeRawBufferPointer,
        id: UInt64,
        context: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8),
        into output: UnsafeMutableRawBufferPointer
    ) {
        ensureInitialized()
        precondition(key.count == Int(crypto_kdf_keybytes()), "crypto_kdf needs a 32-byte key")
        precondition(output.count >= Int(crypto_kdf_bytes_min()) && output.count <= Int(crypto_kdf_bytes_max()))
        var context = context
        let status = withUnsafeBytes(of: &context) { context in
            crypto_kdf_derive_from_key(
                output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                output.count,
                id,
                context.baseAddress!.assumingMemoryBound(to: CChar.self),
                key.baseAddress!.assumingMemoryBound(to: UInt8.self)
            )
        }
        precondition(status == 0, "crypto_kdf_derive_from_key failed")
    }
}

// MARK: XChaCha20-Poly1305-IETF

extension Sodium {
    /// 24.
    package static let aeadNonceLength = Int(crypto_aead_xchacha20poly1305_ietf_npubbytes())
    /// 16.
    package static let aeadTagLength = Int(crypto_aead_xchacha20poly1305_ietf_abytes())
    /// 32.
    package static let aeadKeyLength = Int(crypto_aead_xchacha20poly1305_ietf_keybytes())

    /// Encrypts `plaintext` into `output` (`plaintext.count + 16` bytes: ciphertext then tag).
    package static func aeadSeal(
        _ plaintext: UnsafeRawBufferPointer,
        additionalData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) {
        ensureInitialized()
        precondition(nonce.count == aeadNonceLength && key.count == aeadKeyLength)
        precondition(output.count == plaintext.count + aeadTagLength)
        var written: UInt64 = 0
        let status = crypto_aead_xchacha20poly1305_ietf_encrypt(
            output.baseAddress!.assumingMemoryBound(to: UInt8.self),
            &written,
            plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self),
            UInt64(plaintext.count),
            additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self),
            UInt64(additionalData.count),
            nil,
            nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
            key.baseAddress!.assumingMemoryBound(to: UInt8.self)
        )
        precondition(status == 0 && written == UInt64(output.count), "XChaCha20-Poly1305 encryption failed")
    }

    /// Decrypts and verifies `ciphertext` (with its 16-byte tag) into `output`
    /// (`ciphertext.count - 16` bytes); `false` when the tag does not verify.
    package static func aeadOpen(
        _ ciphertext: UnsafeRawBufferPointer,
        additionalData: UnsafeRawBufferPointer,
        nonce: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        ensureInitialized()
        precondition(nonce.count == aeadNonceLength && key.count == aeadKeyLength)
        precondition(ciphertext.count >= aeadTagLength && output.count == ciphertext.count - aeadTagLength)
        var written: UInt64 = 0
        let status = crypto_aead_xchacha20poly1305_ietf_decrypt(
            output.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafeMutablePointer(bitPattern: 1),
            &written,
            nil,
            ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self),
            UInt64(ciphertext.count),
            additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self),
            UInt64(additionalData.count),
            nonce.baseAddress!.assumingMemoryBound(to: UInt8.self),
            key.baseAddress!.assumingMemoryBound(to: UInt8.self)
        )
        return status == 0
    }
}

// MARK: HMAC-SHA-512-256

extension Sodium {
    /// 32.
    package static let authTagLength = Int(crypto_auth_bytes())
    /// 32.
    package static let authKeyLength = Int(crypto_auth_keybytes())

    /// The HMAC-SHA-512-256 of the concatenation of `parts` under `key`, into `output` (32 bytes).
    package static func authenticate(
        _ parts: [UnsafeRawBufferPointer],
        key: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) {
        ensureInitialized()
        precondition(key.count == authKeyLength && output.count == authTagLength)
        var state = crypto_auth_hmacsha512256_state()
        defer { withUnsafeMutableBytes(of: &state) { wipe($0) } }
        var status = crypto_auth_hmacsha512256_init(
            &state, key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
        for part in parts where !part.isEmpty {
            status |= crypto_auth_hmacsha512256_update(
                &state,
                part.baseAddress!.assumingMemoryBound(to: UInt8.self),
                UInt64(part.count)
            )
        }
        status |= crypto_auth_hmacsha512256_final(&state, output.baseAddress!.assumingMemoryBound(to: UInt8.self))
        precondition(status == 0, "HMAC-SHA-512-256 failed")
    }
}

extension UnsafeRawBufferPointer: RawBytes {
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(self)
    }
}

// MARK: Keyed BLAKE2b

extension Sodium {
    /// The BLAKE2b digest of `input` keyed with `key` (16 to 64 bytes), `outputLength` bytes long.
    package static func keyedHash(
        _ input: UnsafeRawBufferPointer,
        key: UnsafeRawBufferPointer,
        outputLength: Int
    ) -> [UInt8] {
        ensureInitialized()
        precondition(
            outputLength >= Int(crypto_generichash_bytes_min()) && outputLength <= Int(crypto_generichash_bytes_max())
        )
        precondition(
            key.count >= Int(crypto_generichash_keybytes_min()) && key.count <= Int(crypto_generichash_keybytes_max()))
        return [UInt8](uninitializedCount: outputLength) { output, initialized in
            let status = crypto_generichash(
                output.baseAddress!,
                outputLength,
                input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                UInt64(input.count),
                key.baseAddress!.assumingMemoryBound(to: UInt8.self),
                key.count
            )
            precondition(status == 0, "crypto_generichash failed")
            initialized = outputLength
        }
    }
}
