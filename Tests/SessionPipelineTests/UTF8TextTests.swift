import SessionPipeline
import SessionPipelineTesting
import Testing

/// The strict UTF-8 reader and byte-order comparison against the standard library, on seeded random
/// byte strings of every length class around the reader's word-sized fast paths.
@Suite struct UTF8TextTests {
    /// Random bytes that are mostly ASCII, with well-formed multi-byte characters, and sometimes a
    /// stray continuation byte, a truncated sequence, a surrogate or an overlong form.
    static func randomText(length: Int, using generator: inout SeededGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < length {
            switch Int.random(in: 0..<100, using: &generator) {
            case 0..<80: bytes.append(UInt8.random(in: 0x20...0x7E, using: &generator))
            case 80..<88: bytes += Array("é".utf8)
            case 88..<93: bytes += Array("€".utf8)
            case 93..<96: bytes += Array("𝄞".utf8)
            case 96: bytes.append(0x80)  // a continuation byte alone
            case 97: bytes += [0xE2, 0x82]  // a truncated three-byte sequence
            case 98: bytes += [0xED, 0xA0, 0x80]  // a surrogate
            default: bytes += [0xC0, 0xAF]  // an overlong "/"
            }
        }
        return bytes
    }

    @Test func validationAgreesWithTheStandardLibraryOnSeededRandomText() {
        var generator = SeededGenerator.fromEnvironment()
        print("UTF8Text seed: \(generator.seed)")
        for length in Array(0..<40) + (0..<200).map({ _ in Int.random(in: 40...300, using: &generator) }) {
            for _ in 0..<20 {
                let bytes = Self.randomText(length: length, using: &generator)
                let expected = String(validating: bytes, as: UTF8.self)
                bytes.withUnsafeBufferPointer { buffer in
                    let validation = UTF8Text.validate(buffer)
                    let made = UTF8Text.string(UnsafeRawBufferPointer(buffer))
                    #expect(made == expected, "bytes \(bytes) (seed \(generator.seed))")
                    #expect(UTF8Text.isValid(buffer) == (expected != nil))
                    switch validation {
                    case .invalid: #expect(expected == nil, "bytes \(bytes) (seed \(generator.seed))")
                    case .ascii: #expect(expected != nil && bytes.allSatisfy { $0 < 0x80 })
                    case .unicode: #expect(expected != nil && bytes.contains { $0 >= 0x80 })
                    }
                }
            }
        }
    }

    @Test func everyLengthOfASCIIIsASCIIAndOneHighByteAnywhereIsNot() {
        // The fast path loads overlapping words: a high byte at any position must still be seen.
        for length in 1...40 {
            let ascii = [UInt8](repeating: 0x61, count: length)
            ascii.withUnsafeBufferPointer { #expect(UTF8Text.validate($0) == .ascii) }
            for position in 0..<length {
                var bytes = ascii
                bytes[position] = 0xFF
                bytes.withUnsafeBufferPointer {
                    #expect(UTF8Text.validate($0) == .invalid, "at \(position) of \(length)")
                }
                var accented = Array(ascii.prefix(position)) + Array("é".utf8) + Array(ascii.dropFirst(position + 1))
                accented.withUnsafeBufferPointer {
                    #expect(UTF8Text.validate($0) == .unicode, "at \(position) of \(length)")
                }
                accented.removeLast()
                if position == length - 1 {
                    // The last character cut in half.
                    accented.withUnsafeBufferPointer { #expect(UTF8Text.validate($0) == .invalid) }
                }
            }
        }
    }

    @Test func byteComparisonOrdersAsTheStringsUTF8Does() {
        var generator = SeededGenerator.fromEnvironment()
        print("UTF8Text compare seed: \(generator.seed)")
        for _ in 0..<5000 {
            let a = Self.randomText(length: Int.random(in: 0...24, using: &generator), using: &generator)
            // Often a prefix of `a` or `a` with one byte changed, so that long common prefixes occur.
            var b = Array(a.prefix(Int.random(in: 0...a.count, using: &generator)))
            if !b.isEmpty && Bool.random(using: &generator) {
                b[Int.random(in: 0..<b.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { b += Self.randomText(length: 3, using: &generator) }
            let expected = a.lexicographicallyPrecedes(b) ? -1 : (a == b ? 0 : 1)
            let order = a.withUnsafeBytes { x in
                b.withUnsafeBytes { y in
                    UTF8Text.compare(
                        x.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, x.count,
                        y.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, y.count)
                }
            }
            #expect(order.signum() == expected, "\(a) vs \(b) (seed \(generator.seed))")
            if let x = String(validating: a, as: UTF8.self), let y = String(validating: b, as: UTF8.self) {
                #expect(UTF8Text.compare(x, y).signum() == expected)
            }
        }
    }
}
