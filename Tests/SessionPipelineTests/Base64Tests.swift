import CBase64
import Foundation
import SessionPipelineTesting
import Testing

@testable import SessionPipeline

/// The table-driven codec against Foundation's, on seeded random bytes of every length class.
@Suite struct Base64Tests {
    static func urlForm(_ standard: String) -> String {
        String(standard.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }.filter { $0 != "=" })
    }

    /// The bytes `withDecoded` hands its body, or `nil` when it refused the text; checked to agree
    /// with `decode` everywhere `decode` is checked.
    static func decodedInPlace(_ text: some Collection<UInt8>, url: Bool) -> [UInt8]? {
        let inPlace = Base64.withDecoded(text, url: url) { Array($0) }
        #expect(inPlace == Base64.decode(text, url: url), "withDecoded and decode disagree on \(Array(text))")
        return inPlace
    }

    @Test func agreesWithFoundationOnSeededRandomBytes() throws {
        var generator = SeededGenerator.fromEnvironment()
        print("Base64 seed: \(generator.seed)")
        for length in Array(0..<70) + (0..<40).map({ _ in Int.random(in: 70...5000, using: &generator) }) {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let standard = Data(bytes).base64EncodedString()
            let url = Self.urlForm(standard)
            #expect(Base64.encodedString(bytes) == standard, "length \(length) (seed \(generator.seed))")
            #expect(Base64.urlEncodedString(bytes) == url, "length \(length) (seed \(generator.seed))")
            var appended: [UInt8] = [0x2A]
            Base64.encode(bytes[...], into: &appended, url: true, padded: false)
            #expect(appended == [0x2A] + Array(url.utf8), "length \(length) (seed \(generator.seed))")
            #expect(Base64.decode(standard.utf8, url: false) == bytes, "length \(length) (seed \(generator.seed))")
            #expect(Base64.decode(url.utf8, url: true) == bytes, "length \(length) (seed \(generator.seed))")
            // A non-contiguous collection takes the same path through a copy.
            #expect(Base64.decode(AnyCollection(url.utf8), url: true) == bytes)
            #expect(Self.decodedInPlace(url.utf8, url: true) == bytes)
            #expect(Self.decodedInPlace(standard.utf8, url: false) == bytes)
            #expect(Self.decodedInPlace(AnyCollection(url.utf8), url: true) == bytes)
        }
    }

    @Test func refusesEveryByteOutsideTheAlphabetAtEveryPosition() {
        let url = Array(Base64.urlEncodedString(Array(0..<30 as Range<UInt8>)).utf8)
        for position in url.indices {
            for bad in [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "."), 0x00, 0x80, 0xFF] {
                var text = url
                text[position] = bad
                #expect(Base64.decode(text, url: true) == nil, "byte \(bad) at \(position)")
                #expect(Self.decodedInPlace(text, url: true) == nil, "byte \(bad) at \(position)")
            }
        }
    }

    /// The vector loops themselves: on x86-64 (where every machine this runs on has SSSE3) they do
    /// whole blocks (AVX2's of 24 bytes or 32 characters where the machine has it, then SSSE3's of
    /// 12 or 16), matching Foundation; elsewhere they do nothing. A refused block is -1.
    @Test func vectorLoopsDoWholeBlocks() {
        let bytes = (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        var text = [UInt8](repeating: 0, count: 64)
        let encoded = session_base64url_encode_blocks(bytes, bytes.count, &text)
        var decoded = [UInt8](repeating: 0, count: 48)
        let url = Array(Self.urlForm(Data(bytes).base64EncodedString()).utf8)
        let read = session_base64url_decode_blocks(url, url.count, &decoded)
        #if arch(x86_64)
            // 40 bytes: 12 more while 16 can be loaded (the last from byte 24), so 36; 54
            // characters: 48, in blocks of 16 or 32.
            #expect(encoded == 36)
            #expect(Array(text[0..<48]) == Array(url[0..<48]))
            #expect(read == 48)
            #expect(Array(decoded[0..<36]) == Array(bytes[0..<36]))
            var bad = url
            bad[47] = UInt8(ascii: "=")
            #expect(session_base64url_decode_blocks(bad, bad.count, &decoded) == -1)
            #expect(session_base64url_decode_blocks(bad, 32, &decoded) == 32)
        #else
            #expect(encoded == 0)
            #expect(read == 0)
        #endif
    }

    /// Every one of the 256 byte values, in each loop that decodes a part of a 56-character text
    /// on x86-64: the AVX2 loop's two lanes (characters 0-31, where the machine has AVX2), the
    /// SSSE3 loop (32-47) and the table loop (48-55); accepted exactly when it is in the alphabet,
    /// and then decoded as Foundation decodes it.
    @Test func decodesEveryByteValueInEveryLoop() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let url = Array(Base64.urlEncodedString(Array(100..<142 as Range<UInt8>)).utf8)
        #expect(url.count == 56)
        for position in [0, 5, 15, 16, 31, 32, 40, 47, 48, 53] {
            for byte in 0...255 as ClosedRange<UInt8> {
                var text = url
                text[position] = byte
                let standard = String(decoding: text, as: UTF8.self).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }
                let expected = alphabet.contains(byte) ? Data(base64Encoded: String(standard)).map { Array($0) } : nil
                #expect(expected != nil || !alphabet.contains(byte))
                #expect(Base64.decode(text, url: true) == expected, "byte \(byte) at \(position)")
                #expect(Self.decodedInPlace(text, url: true) == expected, "byte \(byte) at \(position)")
            }
        }
    }

    @Test func refusesNonCanonicalEndingsAndPadding() {
        // One leftover character can never encode a byte.
        #expect(Self.decodedInPlace(Array("QUJDR".utf8), url: true) == nil)
        // Non-zero bits left over in the last character.
        #expect(Self.decodedInPlace(Array("QR".utf8), url: true) == nil)
        #expect(Self.decodedInPlace(Array("QUJ".utf8), url: true) == nil)
        #expect(Self.decodedInPlace(Array("QUI".utf8), url: true) == [0x41, 0x42])
        #expect(Self.decodedInPlace(Array("QUE=".utf8), url: false) == [0x41, 0x41])
        #expect(Self.decodedInPlace(Array("QUF=".utf8), url: false) == nil)
        // Padding where the url form has none, and the standard form without it.
        #expect(Self.decodedInPlace(Array("QUE=".utf8), url: true) == nil)
        #expect(Self.decodedInPlace(Array("QUE".utf8), url: false) == nil)
        #expect(Self.decodedInPlace(Array("Q===".utf8), url: false) == nil)
        #expect(Self.decodedInPlace(Array("====".utf8), url: false) == nil)
        #expect(Self.decodedInPlace(Array("".utf8), url: false) == [])
    }
}
