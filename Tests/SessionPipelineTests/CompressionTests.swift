import Foundation
import SessionPipeline
import Testing

struct CompressionTests {
    static let text = Array(String(repeating: "a session with repeated content; ", count: 64).utf8)

    @Test(arguments: [Compression.Codec.zstd(), .zstd(level: 19), .deflate(), .deflate(level: 1)])
    func roundTripsBehindItsTag(_ codec: Compression.Codec) throws {
        let compression = Compression(codec)
        let frame = compression.compress(Self.text)
        let tag: UInt8 = if case .zstd = codec { 0x12 } else { 0x11 }
        #expect(frame.first == tag)
        #expect(frame.count < Self.text.count / 4)
        #expect(try compression.decompress(frame) == Self.text)
    }

    @Test func smallAndIncompressiblePayloadsAreStored() throws {
        let compression = Compression(.zstd(), threshold: 256)
        let small = Array(Self.text.prefix(255))
        #expect(compression.compress(small) == [0x10] + small)
        var random = SystemRandomNumberGenerator()
        let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }
        #expect(compression.compress(noise) == [0x10] + noise)
        #expect(try compression.decompress([0x10]) == [])
    }

    @Test func readsEveryCodecAndPassesSerializerFramesThrough() throws {
        let zstd = Compression(.zstd())
        let deflate = Compression(.deflate())
        for frame in [zstd.compress(Self.text), deflate.compress(Self.text), [0x10] + Self.text] {
            #expect(try zstd.decompress(frame) == Self.text)
            #expect(try deflate.decompress(frame) == Self.text)
        }
        let json: [UInt8] = [0x20] + Array("{}".utf8)
        #expect(try zstd.decompress(json) == json)
        for tag: UInt8 in [0x01, 0x02, 0x13, 0x0F, 0x80] {
            let error = #expect(throws: SessionError.self) { try zstd.decompress([tag, 0, 0, 0, 0]) }
            #expect(error?.code == .unknownFormat)
        }
    }

    @Test(arguments: [Compression.Codec.zstd(), .deflate()])
    func lyingOrDamagedFramesAreTypedErrors(_ codec: Compression.Codec) throws {
        let compression = Compression(codec, maximumDecompressedSize: 1 << 20)
        let frame = compression.compress(Self.text)
        var longer = frame
        longer.replaceSubrange(1..<5, with: withUnsafeBytes(of: UInt32(Self.text.count - 1).bigEndian) { Array($0) })
        var shorter = frame
        shorter.replaceSubrange(1..<5, with: withUnsafeBytes(of: UInt32(Self.text.count + 1).bigEndian) { Array($0) })
        var huge = frame
        huge.replaceSubrange(1..<5, with: [0xFF, 0xFF, 0xFF, 0xFF])
        var corrupt = frame
        corrupt[frame.count / 2] ^= 0xFF
        let cases: [(String, [UInt8], SessionError.Code)] = [
            ("declares one byte less", longer, .malformed),
            ("declares one byte more", shorter, .malformed),
            ("declares 4 GiB", huge, .tooLarge),
            ("corrupt stream", corrupt, .malformed),
            ("truncated stream", Array(frame.dropLast(3)), .malformed),
            ("header only", Array(frame.prefix(5)), .malformed),
            ("shorter than a header", Array(frame.prefix(3)), .malformed),
            ("empty", [], .malformed),
            ("trailing garbage", frame + [1, 2, 3], .malformed),
        ]
        for (name, bytes, code) in cases {
            let error = #expect(throws: SessionError.self, "\(name)") { try compression.decompress(bytes) }
            #expect(error?.code == code, "\(name): \(String(describing: error))")
        }
    }

    /// Builds a bomb in one worker process and opens it in another, so the second one's peak
    /// resident memory measures decompression alone.
    private func measureBomb(_ codec: String, gibibytes: Int) throws -> (frame: Int, outcome: String, growthKiB: Int) {
        let directory = try TemporaryDirectory("bomb")
        defer { directory.remove() }
        let path = directory.path + "/bomb"
        let maker = try Worker(["bomb-make", codec, String(gibibytes), "16", path])
        let made = try #require(maker.readLine())
        maker.process.waitUntilExit()
        let opener = try Worker(["bomb-open", path])
        let outcome = try #require(opener.readLine())
        let rss = try #require(opener.readLine()).split(separator: " ")
        opener.process.waitUntilExit()
        return (Int(made.split(separator: " ")[1])!, outcome, Int(rss[2])! - Int(rss[1])!)
    }

    @Test func aDeflateBombOfAGigabyteIsRefusedWithinTheLimit() throws {
        let (frame, outcome, growth) = try measureBomb("deflate", gibibytes: 1)
        print("deflate bomb: \(frame) bytes on the wire for 1 GiB; \(outcome); peak memory grew \(growth) KiB")
        #expect(frame < 1_100_000)
        #expect(outcome == "refused malformed")
        #expect(growth < 16 * 1024 + 4 * 1024, "peak memory grew \(growth) KiB; the limit is 16 MiB")
    }

    @Test func aZstdBombOfTenGigabytesIsRefusedWithinTheLimit() throws {
        let (frame, outcome, growth) = try measureBomb("zstd", gibibytes: 10)
        print("zstd bomb: \(frame) bytes on the wire for 10 GiB; \(outcome); peak memory grew \(growth) KiB")
        #expect(frame < 1_000_000)
        #expect(outcome == "refused malformed")
        #expect(growth < 16 * 1024 + 4 * 1024, "peak memory grew \(growth) KiB; the limit is 16 MiB")
    }
}
