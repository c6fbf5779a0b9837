internal import CBase64

/// Table-driven base64 (RFC 4648 §4, padded) and base64url (§5, unpadded) for public data.
///
/// Base64url, the cookies' encoding, goes through vector loops in C where the machine has them
/// (AVX2 and SSSE3 on x86-64: `Sources/CBase64`), 32 or 16 characters at a time; the table loop
/// here does the last characters, and everything elsewhere.
///
/// These run in time that depends on the input's bytes, which is right for ciphertext and other
/// public data and wrong for secrets: keys are decoded with libsodium's constant-time functions.
/// Decoding is strict: characters outside the alphabet, wrong padding, and non-zero bits left over
/// in the last character are refused, so every byte string has exactly one encoding.
package enum Base64 {
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0xFF marks a byte outside the alphabet.
    private static let standardTable = table(for: standardAlphabet)
    private static let urlTable = table(for: urlAlphabet)

    private static func table(for alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }

    /// The index of `byte` in the base64url alphabet, or `nil`.
    package static func urlAlphabetIndex(_ byte: UInt8) -> UInt8? {
        let value = urlTable[Int(byte)]
        return value == 0xFF ? nil : value
    }

    /// The length of the encoding of `count` bytes.
    package static func encodedLength(_ count: Int, padded: Bool) -> Int {
        padded ? (count + 2) / 3 * 4 : (count * 4 + 2) / 3
    }

    /// Appends the encoding of `bytes` to `output`.
    package static func encode(
        _ bytes: some Collection<UInt8>,
        into output: inout [UInt8],
        url: Bool,
        padded: Bool
    ) {
        let length = encodedLength(bytes.count, padded: padded)
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: length))
        output.withUnsafeMutableBufferPointer { output in
            let target = UnsafeMutableBufferPointer(rebasing: output[start...])
            let written =
                bytes.withContiguousStorageIfAvailable {
                    encode($0, into: target, url: url, padded: padded)
                } ?? Array(bytes).withUnsafeBufferPointer { encode($0, into: target, url: url, padded: padded) }
            assert(written == length)
        }
    }

    /// Writes the encoding of `input` to the start of `output`, which has room for it; returns the
    /// number of bytes written. Three input bytes become four characters per step, through a
    /// 64-entry table, with no per-byte bounds checks or appends.
    private static func encode(
        _ input: UnsafeBufferPointer<UInt8>,
        into output: UnsafeMutableBufferPointer<UInt8>,
        url: Bool,
        padded: Bool
    ) -> Int {
        (url ? urlAlphabet : standardAlphabet).withUnsafeBufferPointer { alphabet in
            guard let source = input.baseAddress, let target = output.baseAddress, let alphabet = alphabet.baseAddress
            else { return 0 }
            let count = input.count
            // Whole blocks through the vector loop where the machine has one; the rest here.
            var read = url ? session_base64url_encode_blocks(source, count, target) : 0
            var written = read / 3 * 4
            while read + 3 <= count {
                let word = UInt32(source[read]) << 16 | UInt32(source[read + 1]) << 8 | UInt32(source[read + 2])
                target[written] = alphabet[Int(word >> 18)]
                target[written + 1] = alphabet[Int(word >> 12 & 0x3F)]
                target[written + 2] = alphabet[Int(word >> 6 & 0x3F)]
                target[written + 3] = alphabet[Int(word & 0x3F)]
                read += 3
                written += 4
            }
            let rest = count - read
            if rest > 0 {
                let b0 = UInt32(source[read])
                let b1 = rest == 2 ? UInt32(source[read + 1]) : 0
                let word = b0 << 16 | b1 << 8
                target[written] = alphabet[Int(word >> 18)]
                target[written + 1] = alphabet[Int(word >> 12 & 0x3F)]
                written += 2
                if rest == 2 {
                    target[written] = alphabet[Int(word >> 6 & 0x3F)]
                    written += 1
                } else if padded {
                    target[written] = UInt8(ascii: "=")
                    written += 1
                }
                if padded {
                    target[written] = UInt8(ascii: "=")
                    written += 1
                }
            }
            return written
        }
    }

    /// Writes the unpadded base64url encoding of `bytes` into `output`, which holds exactly
    /// ``encodedLength(_:padded:)`` bytes for it.
    package static func urlEncode(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) {
        let written = encode(bytes.assumingMemoryBound(to: UInt8.self), into: output, url: true, padded: false)
        precondition(written == output.count, "the output does not hold exactly the encoding")
    }

    /// The padded standard encoding of `bytes`.
    package static func encodedString(_ bytes: some Collection<UInt8>) -> String {
        encodedString(bytes, url: false, padded: true)
    }

    /// The unpadded base64url encoding of `bytes`.
    package static func urlEncodedString(_ bytes: some Collection<UInt8>) -> String {
        encodedString(bytes, url: true, padded: false)
    }

    /// The encoding of `bytes`, written straight into the string's storage.
    private static func encodedString(_ bytes: some Collection<UInt8>, url: Bool, padded: Bool) -> String {
        let length = encodedLength(bytes.count, padded: padded)
        guard length > 0 else { return "" }
        return String(unsafeUninitializedCapacity: length) { target in
            bytes.withContiguousStorageIfAvailable { encode($0, into: target, url: url, padded: padded) }
                ?? Array(bytes).withUnsafeBufferPointer { encode($0, into: target, url: url, padded: padded) }
        }
    }

    /// Decodes `text`, or returns `nil` when it is not a canonical encoding.
    ///
    /// - Parameters:
    ///   - url: Use the base64url alphabet and expect no padding; otherwise the standard alphabet
    ///     with padding to a multiple of four.
    package static func decode(_ text: some Collection<UInt8>, url: Bool) -> [UInt8]? {
        if let result = text.withContiguousStorageIfAvailable({ decode($0, url: url) }) { return result }
        return Array(text).withUnsafeBufferPointer { decode($0, url: url) }
    }

    /// Decodes `text` into a temporary buffer and calls `body` with the bytes, or returns `nil`
    /// when it is not a canonical encoding: for callers that read the bytes once and keep no
    /// array of them.
    package static func withDecoded<Result>(
        _ text: some Collection<UInt8>,
        url: Bool,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result? {
        func decoded(_ text: UnsafeBufferPointer<UInt8>) throws -> Result? {
            guard let length = decodedLength(text, url: url) else { return nil }
            return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { output in
                guard decode(text, url: url, length: length, into: output) else { return nil }
                return try body(UnsafeRawBufferPointer(output))
            }
        }
        if let result = try text.withContiguousStorageIfAvailable(decoded) { return result }
        return try Array(text).withUnsafeBufferPointer(decoded)
    }

    /// The number of bytes `text` decodes to, or `nil` when its length (or padding) cannot be an
    /// encoding's.
    private static func decodedLength(_ text: UnsafeBufferPointer<UInt8>, url: Bool) -> Int? {
        var count = text.count
        if !url {
            guard count % 4 == 0 else { return nil }
            if count > 0, text[count - 1] == UInt8(ascii: "=") { count -= 1 }
            if count > 0, text[count - 1] == UInt8(ascii: "=") { count -= 1 }
        }
        if count % 4 == 1 { return nil }
        return count / 4 * 3 + (count % 4 == 0 ? 0 : count % 4 - 1)
    }

    private static func decode(_ text: UnsafeBufferPointer<UInt8>, url: Bool) -> [UInt8]? {
        guard let length = decodedLength(text, url: url) else { return nil }
        var valid = true
        let output = [UInt8](uninitializedCount: length) { output, initialized in
            initialized = length
            valid = decode(text, url: url, length: length, into: output)
        }
        return valid ? output : nil
    }

    /// Decodes four characters to three bytes per step; a character outside the alphabet maps to
    /// 0xFF, and one OR over the four table values finds it.
    private static func decode(
        _ text: UnsafeBufferPointer<UInt8>,
        url: Bool,
        length: Int,
        into output: UnsafeMutableBufferPointer<UInt8>
    ) -> Bool {
        // Padding (already counted in `length`) is not decoded.
        let count = length / 3 * 4 + (length % 3 == 0 ? 0 : length % 3 + 1)
        let full = count / 4
        let rest = count % 4
        let table = url ? urlTable : standardTable
        return table.withUnsafeBufferPointer { table in
            guard let source = text.baseAddress, let table = table.baseAddress else { return true }
            // Whole blocks through the vector loop where the machine has one; the rest here.
            let vectorRead = url ? session_base64url_decode_blocks(source, count, output.baseAddress) : 0
            guard vectorRead >= 0 else { return false }
            var read = vectorRead
            var written = read / 4 * 3
            var invalid: UInt8 = 0
            for _ in (read / 4)..<full {
                let a = table[Int(source[read])]
                let b = table[Int(source[read + 1])]
                let c = table[Int(source[read + 2])]
                let d = table[Int(source[read + 3])]
                invalid |= (a | b | c | d) & 0x80
                let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[written] = UInt8(truncatingIfNeeded: word >> 16)
                output[written + 1] = UInt8(truncatingIfNeeded: word >> 8)
                output[written + 2] = UInt8(truncatingIfNeeded: word)
                read += 4
                written += 3
            }
            if rest >= 2 {
                let a = table[Int(source[read])]
                let b = table[Int(source[read + 1])]
                let c = rest == 3 ? table[Int(source[read + 2])] : 0
                invalid |= (a | b | c) & 0x80
                let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                output[written] = UInt8(truncatingIfNeeded: word >> 16)
                // Leftover bits must be zero for the encoding to be canonical.
                if rest == 2 {
                    if b & 0x0F != 0 { invalid = 0x80 }
                } else {
                    output[written + 1] = UInt8(truncatingIfNeeded: word >> 8)
                    if c & 0x03 != 0 { invalid = 0x80 }
                }
            }
            return invalid == 0
        }
    }
}
