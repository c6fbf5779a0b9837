/// Table-driven base64 (RFC 4648 §4, padded) and base64url (§5, unpadded) for public data.
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
        let alphabet = url ? urlAlphabet : standardAlphabet
        output.reserveCapacity(output.count + encodedLength(bytes.count, padded: padded))
        alphabet.withUnsafeBufferPointer { alphabet in
            var iterator = bytes.makeIterator()
            while let b0 = iterator.next() {
                let b1 = iterator.next()
                let b2 = b1 == nil ? nil : iterator.next()
                output.append(alphabet[Int(b0 >> 2)])
                output.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
                if let b1 {
                    output.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
                } else if padded {
                    output.append(UInt8(ascii: "="))
                }
                if let b2 {
                    output.append(alphabet[Int(b2 & 0x3F)])
                } else if padded {
                    output.append(UInt8(ascii: "="))
                }
            }
        }
    }

    /// The padded standard encoding of `bytes`.
    package static func encodedString(_ bytes: some Collection<UInt8>) -> String {
        var output: [UInt8] = []
        encode(bytes, into: &output, url: false, padded: true)
        return String(decoding: output, as: UTF8.self)
    }

    /// The unpadded base64url encoding of `bytes`.
    package static func urlEncodedString(_ bytes: some Collection<UInt8>) -> String {
        var output: [UInt8] = []
        encode(bytes, into: &output, url: true, padded: false)
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes `text`, or returns `nil` when it is not a canonical encoding.
    ///
    /// - Parameters:
    ///   - url: Use the base64url alphabet and expect no padding; otherwise the standard alphabet
    ///     with padding to a multiple of four.
    package static func decode(_ text: some Collection<UInt8>, url: Bool) -> [UInt8]? {
        let table = url ? urlTable : standardTable
        var count = text.count
        if !url {
            guard count % 4 == 0 else { return nil }
            var padding = 0
            var index = text.endIndex
            while padding < 2, index != text.startIndex {
                let previous = text.index(index, offsetBy: -1)
                guard text[previous] == UInt8(ascii: "=") else { break }
                padding += 1
                index = previous
            }
            count -= padding
        }
        if count % 4 == 1 { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var consumed = 0
        for byte in text {
            if consumed == count { break }
            let value = table[Int(byte)]
            if value == 0xFF { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
            consumed += 1
        }
        // Leftover bits must be zero for the encoding to be canonical.
        if bits > 0 && accumulator & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return output
    }
}
