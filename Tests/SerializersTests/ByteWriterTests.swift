import Foundation
import Testing

@testable import Serializers

/// The serializers' short-copy helper moves exactly the bytes `memmove` would, at every length
/// around its word sizes, also between overlapping regions.
struct ByteWriterTests {
    @Test(arguments: 0...40)
    func copyBytesMatchesMemmove(count: Int) {
        let source = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for (from, to) in [(0, 0), (1, 0), (0, 1), (3, 0), (0, 3), (1, 9), (9, 1), (5, 13)] {
            var expected = source
            var actual = source
            expected.withUnsafeMutableBytes { memmove($0.baseAddress! + to, $0.baseAddress! + from, count) }
            actual.withUnsafeMutableBytes {
                copyBytes(to: $0.baseAddress! + to, from: $0.baseAddress! + from, count: count)
            }
            #expect(actual == expected, "from \(from) to \(to)")
        }
    }

    @Test func aWriterHandsOverEveryByteAppended() {
        var writer = ByteWriter(capacity: 16)
        var expected: [UInt8] = []
        for length in 0...70 {
            let run = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ length) }
            run.withUnsafeBytes { writer.append($0) }
            expected += run
        }
        #expect(writer.finish() == expected)
    }
}
