#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Fast, strict UTF-8 decoding for the readers of outside input.
///
/// `String(validating:as:)` is generic and unspecialized in the standard library, and looks up type
/// metadata on every call; readers that make hundreds of short strings per session pay for it. This
/// checks the bytes here (ASCII eight bytes at a time) and then builds the string with the
/// standard library's specialized fast path.
package enum UTF8Text {
    /// The string `bytes` spell, or `nil` when they are not well-formed UTF-8 (overlong forms,
    /// surrogates and code points above U+10FFFF included).
    @inlinable
    package static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        let buffer = bytes.bindMemory(to: UInt8.self)
        guard isValid(buffer) else { return nil }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Whether `bytes` are well-formed UTF-8.
    @usableFromInline
    package static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = bytes.count
        guard let base = bytes.baseAddress else { return true }
        while index < count {
            // ASCII, a word at a time.
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            guard index < count else { return true }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                upper = 0x9F
            case 0xF0:
                length = 4
                lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                upper = 0x8F
            default: return false
            }
            guard count - index >= length else { return false }
            let second = base[index + 1]
            guard second >= lower && second <= upper else { return false }
            for offset in 2..<length where base[index + offset] & 0xC0 != 0x80 {
                return false
            }
            index += length
        }
        return true
    }

    /// Orders two strings by their UTF-8 bytes: negative, zero or positive.
    @inlinable
    package static func compare(_ a: String, _ b: String) -> Int {
        var a = a
        var b = b
        return a.withUTF8 { a in
            b.withUTF8 { b in
                let common = min(a.count, b.count)
                var index = 0
                while index < common {
                    let x = a[index]
                    let y = b[index]
                    if x != y { return x < y ? -1 : 1 }
                    index += 1
                }
                return a.count - b.count
            }
        }
    }
}

/// Remembers the short strings a reader has already made from one input, so that a key repeated in
/// every element of a list (`sku`, `qty`, …) or a repeated short value (`USD`) is validated and
/// made once per document instead of once per use.
///
/// A direct-mapped table of 32 slots on the stack, indexed by length and end bytes, remembering
/// where in the input each string's bytes lie: a lookup is one comparison of at most 32 bytes.
package struct StringCache {
    /// `offset << 8 | count` into the input, or -1 for an empty slot.
    private var places = InlineArray<32, Int>(repeating: -1)
    private var strings = InlineArray<32, String>(repeating: "")

    /// The longest string cached, in bytes.
    package static let longest = 32

    /// Creates an empty cache.
    package init() {}

    /// The string spelled by the `count` bytes at `offset` in `input`, from the cache or made (and
    /// remembered when short); `nil` when the bytes are not valid UTF-8. Every call for one cache
    /// must pass the same input.
    package mutating func string(at offset: Int, count: Int, in input: UnsafeRawBufferPointer) -> String? {
        guard count > 0, count <= Self.longest, let base = input.baseAddress else {
            return UTF8Text.string(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + count)]))
        }
        let slot = (count &* 7 &+ Int(input[offset]) &* 3 &+ Int(input[offset + count - 1])) & 31
        let place = places[slot]
        if place >= 0, place & 0xFF == count, memcmp(base + (place >> 8), base + offset, count) == 0 {
            return strings[slot]
        }
        guard let string = UTF8Text.string(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + count)])) else {
            return nil
        }
        places[slot] = offset << 8 | count
        strings[slot] = string
        return string
    }
}
