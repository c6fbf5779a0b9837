/// Fast, strict UTF-8 for the readers of outside input, and the byte order session dictionaries
/// keep their keys in: the helpers the built-in serializers use, for serializers of your own.
///
/// `String(validating:as:)` is generic and unspecialized in the standard library, and looks up type
/// metadata on every call; readers that make hundreds of short strings per session pay for it. This
/// checks the bytes here (ASCII eight bytes at a time) and then builds the string without the
/// standard library checking them again.
///
/// ```swift
/// let name = bytes.withUnsafeBytes { UTF8Text.string($0) }   // nil for invalid UTF-8
/// ```
public enum UTF8Text {
    /// The string `bytes` spell, or `nil` when they are not well-formed UTF-8 (overlong forms,
    /// surrogates and code points above U+10FFFF included).
    @inlinable
    public static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        let buffer = bytes.bindMemory(to: UInt8.self)
        let validation = validate(buffer)
        guard validation != .invalid else { return nil }
        // Checked above: the standard library need not check again.
        return String(copying: UTF8Span(unchecked: buffer.span, isKnownASCII: validation == .ascii))
    }

    /// What ``validate(_:)`` found.
    public enum Validation: Sendable {
        /// Well-formed, all ASCII.
        case ascii
        /// Well-formed, with some non-ASCII characters.
        case unicode
        /// Not well-formed UTF-8.
        case invalid
    }

    /// Whether `bytes` are well-formed UTF-8.
    @inlinable
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        validate(bytes) != .invalid
    }

    /// Whether `bytes` are well-formed UTF-8, and whether they are all ASCII.
    public static func validate(_ bytes: UnsafeBufferPointer<UInt8>) -> Validation {
        var index = 0
        let count = bytes.count
        var ascii = true
        guard let base = bytes.baseAddress else { return .ascii }
        while index < count {
            // ASCII, a word at a time.
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            // Fewer than eight bytes left (most keys and values are shorter than a word): one or two
            // loads that end at the last byte check them all, instead of a step per byte.
            if count - index < 8, tailIsASCII(UnsafeRawPointer(base), from: index, count: count) { break }
            guard index < count else { break }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            ascii = false
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
            default: return .invalid
            }
            guard count - index >= length else { return .invalid }
            let second = base[index + 1]
            guard second >= lower && second <= upper else { return .invalid }
            for offset in 2..<length where base[index + offset] & 0xC0 != 0x80 {
                return .invalid
            }
            index += length
        }
        return ascii ? .ascii : .unicode
    }

    /// Whether the bytes from `index` to `count` (fewer than eight) are ASCII, checked with loads
    /// that may reach back before `index` but stay inside the `count` bytes at `base`.
    @inline(__always)
    static func tailIsASCII(_ base: UnsafeRawPointer, from index: Int, count: Int) -> Bool {
        if count >= 8 {
            return base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
        }
        if count - index >= 4 {
            let word =
                base.loadUnaligned(fromByteOffset: index, as: UInt32.self)
                | base.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
            return word & 0x8080_8080 == 0
        }
        return false
    }

    /// Orders the `aCount` bytes at `a` and the `bCount` bytes at `b` as ``compare(_:_:)`` orders
    /// strings: negative, zero or positive. Short runs compare faster here than through `memcmp`.
    @inlinable @inline(__always)
    public static func compare(_ a: UnsafeRawPointer, _ aCount: Int, _ b: UnsafeRawPointer, _ bCount: Int) -> Int {
        let common = min(aCount, bCount)
        var index = 0
        while index + 8 <= common {
            let x = a.loadUnaligned(fromByteOffset: index, as: UInt64.self).bigEndian
            let y = b.loadUnaligned(fromByteOffset: index, as: UInt64.self).bigEndian
            if x != y { return x < y ? -1 : 1 }
            index += 8
        }
        while index < common {
            let x = a.load(fromByteOffset: index, as: UInt8.self)
            let y = b.load(fromByteOffset: index, as: UInt8.self)
            if x != y { return x < y ? -1 : 1 }
            index += 1
        }
        return aCount - bCount
    }

    /// Orders two strings by their UTF-8 bytes: negative, zero or positive.
    @inlinable
    public static func compare(_ a: String, _ b: String) -> Int {
        // Native and small strings are read in place; a copy (which retains a native string's
        // storage, and for a bridged one makes it contiguous) only for the rest.
        if let order = a.utf8.withContiguousStorageIfAvailable({ a in
            b.utf8.withContiguousStorageIfAvailable { b in compare(bytes: a, b) }
        }), let order {
            return order
        }
        var a = a
        var b = b
        return a.withUTF8 { a in b.withUTF8 { b in compare(bytes: a, b) } }
    }

    /// Orders two runs of UTF-8 bytes as ``compare(_:_:)`` orders strings: negative, zero or
    /// positive.
    @inlinable @inline(__always)
    public static func compare(bytes a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        guard let x = a.baseAddress, let y = b.baseAddress else { return a.count - b.count }
        return compare(x, a.count, y, b.count)
    }
}
