// The fuzz targets, one per decoder that reads outside input. Each libFuzzer product
// (`Fuzz/Fuzz*/main.swift`) hands its inputs to one of these; the test suite runs every committed
// seed through them too, so a seed that stops reaching its decoder fails a test.

import Serializers
public import SessionPipeline

/// A decoder under fuzzing. Every input must be refused with a `SessionError` or read into
/// something that writes back and reads again the same; anything else stops the fuzzer.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case json
    case binary
    case plistBinary = "plist-binary"
    case plistXML = "plist-xml"
    /// The encrypted envelope: `[context length][context][envelope]`.
    case envelope
    /// The signed frame: `[context length][context][frame]`.
    case signing
    /// The compression frame (stored, deflate, zstd), at a 1 MiB limit.
    case compression
    /// A `Cookie` header whose session is split into numbered chunk cookies, reassembled and opened.
    case cookieChunks = "cookie-chunks"
    /// The `Cookie` header parser.
    case cookieHeader = "cookie-header"
    /// Configuration strings and key-ring text.
    case configuration

    /// The product that runs this target under libFuzzer.
    public var product: String {
        switch self {
        case .json: "FuzzJSON"
        case .binary: "FuzzBinary"
        case .plistBinary: "FuzzPlistBinary"
        case .plistXML: "FuzzPlistXML"
        case .envelope: "FuzzEnvelope"
        case .signing: "FuzzSigning"
        case .compression: "FuzzCompression"
        case .cookieChunks: "FuzzCookieChunks"
        case .cookieHeader: "FuzzCookieHeader"
        case .configuration: "FuzzConfiguration"
        }
    }

    /// Feeds one input to the target.
    public func run(_ input: UnsafeBufferPointer<UInt8>) {
        _ = accepts(Array(input))
    }

    /// Feeds one input to the target; whether the decoder read it (rather than refusing it with a
    /// `SessionError`). Stops the process when a promise is broken.
    @discardableResult
    public func accepts(_ bytes: [UInt8]) -> Bool {
        do {
            switch self {
            case .json: try Self.serializer(JSONSerializer(), bytes)
            case .binary: try Self.serializer(MessagePackSerializer(), bytes)
            case .plistBinary: try Self.serializer(PropertyListSerializer(format: .binary), bytes)
            case .plistXML: try Self.serializer(PropertyListSerializer(format: .xml), bytes)
            case .envelope: try Self.envelope(bytes)
            case .signing: try Self.signing(bytes)
            case .compression: try Self.compression(bytes)
            case .cookieChunks: try Self.cookieChunks(bytes)
            case .cookieHeader: Self.cookieHeader(bytes)
            case .configuration: try Self.configuration(bytes)
            }
            return true
        } catch is SessionError {
            return false
        } catch {
            preconditionFailure("\(rawValue): a decoder threw something other than SessionError: \(error)")
        }
    }

    // MARK: The fixed keys and settings the targets and their seeds share

    /// The key ring of the envelope and signing targets: the known-answer vectors' key (id 1,
    /// bytes 0x00…0x1f) as the primary, and an older key (id 2, bytes 0x20…0x3f).
    public static let keys: KeyRing = {
        do {
            return try KeyRing(
                primary: .init(id: 1, key: SecretKey(bytes: (0..<32).map { UInt8($0) })),
                older: [.init(id: 2, key: SecretKey(bytes: (32..<64).map { UInt8($0) }))]
            )
        } catch {
            preconditionFailure("the fuzz key ring: \(error)")
        }
    }()

    /// The time every target reads at (2024-01-01T00:00:00Z).
    public static let now = UnixTime(seconds: 1_704_067_200)

    /// The most bytes the compression target inflates to.
    public static let maximumDecompressedSize = 1 << 20

    /// The cookie codec of the chunk target: binary, encrypted, at most 4 chunks of 512 bytes.
    public static let cookieCodec: CookieCodec = {
        do {
            return try CookieCodec(
                serializer: .binary,
                compression: nil,
                protection: .encrypted(Encryption(keys: keys)),
                configuration: CookieCodec.Configuration(
                    name: "session", maximumCookieBytes: 512, maximumChunks: 4, maximumHeaderBytes: 4096)
            )
        } catch {
            preconditionFailure("the fuzz cookie codec: \(error)")
        }
    }()

    /// Splits `[n][n bytes of context][rest]`; `nil` when the input is shorter.
    public static func contextAndBody(_ bytes: [UInt8]) -> (context: String, body: [UInt8])? {
        guard let count = bytes.first.map(Int.init), bytes.count > count else { return nil }
        return (String(decoding: bytes[1..<(1 + count)], as: UTF8.self), Array(bytes[(1 + count)...]))
    }

    // MARK: The targets

    private static func serializer(_ serializer: some SessionSerializer, _ input: [UInt8]) throws {
        let value = try serializer.deserialize([serializer.tag] + input)
        do {
            let written = try serializer.serialize(value)
            let again = try serializer.deserialize(written)
            precondition(again == value, "a value read from fuzz input did not survive a round trip")
        } catch {
            preconditionFailure("a value read from fuzz input could not be written back: \(error)")
        }
    }

    private static func envelope(_ input: [UInt8]) throws {
        guard let (context, envelope) = contextAndBody(input) else { return }
        let encryption = Encryption(keys: keys)
        let opened = try encryption.open(envelope, context: context, now: now)
        precondition(
            envelope.count == opened.plaintext.count + Encryption.overhead,
            "an opened envelope's length does not match its plaintext's")
        precondition(opened.expires.map { $0 > now } ?? true, "an expired envelope opened")
        let resealed = encryption.seal(opened.plaintext, context: context, expires: opened.expires)
        let again = try encryption.open(resealed, context: context, now: now)
        precondition(again.plaintext == opened.plaintext, "a re-sealed envelope opened to other bytes")
    }

    private static func signing(_ input: [UInt8]) throws {
        guard let (context, frame) = contextAndBody(input) else { return }
        let signing = Signing(keys: keys)
        let verified = try signing.verify(frame, context: context, now: now)
        precondition(verified.expires.map { $0 > now } ?? true, "an expired frame verified")
        let again = try signing.verify(
            signing.sign(verified.payload, context: context, expires: verified.expires), context: context, now: now)
        precondition(again.payload == verified.payload, "a re-signed frame verified to other bytes")
    }

    private static func compression(_ frame: [UInt8]) throws {
        let compression = Compression(.zstd(), threshold: 0, maximumDecompressedSize: maximumDecompressedSize)
        let payload = try compression.decompress(frame)
        precondition(
            payload.count <= max(maximumDecompressedSize, frame.count),
            "inflated past the limit: \(payload.count) bytes")
        if frame[0] == 0x11 || frame[0] == 0x12 {
            let declared = frame[1..<5].reduce(0) { $0 << 8 | Int($1) }
            precondition(payload.count == declared, "inflated to \(payload.count) bytes, declared \(declared)")
        }
        for codec in [Compression.Codec.zstd(), .deflate()] {
            let again = Compression(codec, threshold: 0, maximumDecompressedSize: maximumDecompressedSize)
            let back = try again.decompress(again.compress(payload))
            precondition(back == payload, "a decompressed payload did not survive \(codec)")
        }
    }

    private static func cookieChunks(_ input: [UInt8]) throws {
        // The cookie's first decoder (vector loops, then a table loop) against one that goes a
        // character at a time; what it accepts encodes back to the same text.
        let decoded = Base64.decode(input, url: true)
        precondition(decoded == base64URLOneByOne(input), "base64url decoders disagree")
        if let decoded {
            precondition(Array(Base64.urlEncodedString(decoded).utf8) == input, "base64url did not round-trip")
        }
        let cookies = CookieHeader.parse(String(decoding: input, as: UTF8.self))
        let codec = cookieCodec
        _ = codec.presentChunks(in: cookies)
        guard let opened = try codec.read(cookies, now: now) else { return }
        let written = try codec.setCookies(
            for: opened.value, expires: opened.expires, now: now, previousChunks: 0)
        let header = written.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
        let again = try codec.read(CookieHeader.parse(header), now: now)
        precondition(again?.value == opened.value, "a re-sealed cookie session read back different")
    }

    /// Unpadded base64url, six bits per character, with no table and no blocks: `nil` for a
    /// character outside the alphabet, a length of 4n+1, or non-zero bits left in the last one.
    private static func base64URLOneByOne(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        var bits: UInt32 = 0
        var held = 0
        for character in text {
            let value: UInt32
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(character - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(character - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            bits = bits << 6 | value
            held += 6
            if held >= 8 {
                held -= 8
                output.append(UInt8(truncatingIfNeeded: bits >> UInt32(held)))
                bits &= (1 << UInt32(held)) - 1
            }
        }
        return bits == 0 ? output : nil
    }

    private static func cookieHeader(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let cookies = CookieHeader.parse(text)
        precondition(cookies.count <= text.utf8.count / 2 + 1, "more cookies than the header can hold")
        for cookie in cookies {
            precondition(!cookie.name.isEmpty, "a cookie without a name")
            precondition(!cookie.name.utf8.contains(UInt8(ascii: ";")), "a ';' inside a cookie name")
            precondition(!cookie.value.utf8.contains(UInt8(ascii: ";")), "a ';' inside a cookie value")
            precondition(!cookie.name.utf8.contains(UInt8(ascii: "=")), "a '=' inside a cookie name")
        }
    }

    private static func configuration(_ input: [UInt8]) throws {
        let text = String(decoding: input, as: UTF8.self)
        // Key-ring text (`ID:BASE64,…`, as SESSION_KEYS holds it) or a configuration string.
        if let ring = try? KeyRing(text: text) {
            precondition(!ring.ids.isEmpty, "a key ring without keys")
            return
        }
        let components = try ConfigurationComponent.parse(text)
        precondition(!components.isEmpty, "a configuration without components")
        // What a component prints, the parser reads back as the same component.
        let printed = components.map(\.description).joined(separator: ";")
        let again: [ConfigurationComponent]
        do {
            again = try ConfigurationComponent.parse(printed)
        } catch {
            preconditionFailure("the printed configuration '\(printed)' does not parse: \(error)")
        }
        precondition(
            again.map(Self.contents) == components.map(Self.contents),
            "the printed configuration '\(printed)' parses differently")
    }

    /// A component's kind, name and arguments (not where they were written).
    private static func contents(_ component: ConfigurationComponent) -> [String?] {
        [component.kind, component.name] + component.arguments.flatMap { [$0.key, $0.value] }
    }
}

// MARK: - Seeds

extension FuzzTarget {
    /// Seed inputs this target's decoder reads, made here; `nil` for the serializers, whose seeds
    /// are the known-answer vectors (`scripts/fuzz-seeds.py`). Envelopes and frames are sealed
    /// with fresh nonces, so two calls give different bytes.
    public func generatedSeeds() throws -> [[UInt8]]? {
        let sessions = try Self.sampleSessions()
        let payloads = try sessions.map { try MessagePackSerializer().serialize($0) }
        let older = try KeyRing(id: 2, key: SecretKey(bytes: (32..<64).map { UInt8($0) }))
        func framed(_ context: String, _ body: [UInt8]) -> [UInt8] {
            [UInt8(context.utf8.count)] + Array(context.utf8) + body
        }
        switch self {
        case .json, .binary, .plistBinary, .plistXML:
            return nil
        case .envelope:
            let primary = Encryption(keys: Self.keys)
            return [
                framed("session", primary.seal([], context: "session", expires: nil)),
                framed(
                    "session:abc",
                    primary.seal(Array("hello".utf8), context: "session:abc", expires: Self.now + .seconds(3600))),
                framed("session", Encryption(keys: older).seal(payloads[1], context: "session", expires: nil)),
            ] + payloads.map { framed("session", primary.seal($0, context: "session", expires: nil)) }
        case .signing:
            let primary = Signing(keys: Self.keys)
            return [
                framed("session", primary.sign([], context: "session", expires: nil)),
                framed(
                    "flash:x", primary.sign(Array("hello".utf8), context: "flash:x", expires: Self.now + .seconds(60))),
                framed("session", Signing(keys: older).sign(payloads[1], context: "session", expires: nil)),
            ] + payloads.map { framed("session", primary.sign($0, context: "session", expires: nil)) }
        case .compression:
            let zstd = Compression(.zstd(), threshold: 0)
            let deflate = Compression(.deflate(), threshold: 0)
            let repetitive = [UInt8](repeating: 0x61, count: 4096)
            return [[0x10], [0x10] + payloads[0], payloads[1], zstd.compress(repetitive), deflate.compress(repetitive)]
                + payloads.flatMap { [zstd.compress($0), deflate.compress($0)] }
        case .cookieChunks:
            let codec = Self.cookieCodec
            return try sessions.flatMap { session in
                let header = try codec.setCookies(
                    for: session, expires: Self.now + .seconds(1800), now: Self.now, previousChunks: 0
                ).map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
                return [Array(header.utf8), Array(("theme=dark; " + header + "; lang=en").utf8)]
            }
        case .cookieHeader:
            return [
                "session=abc", "a=1; b=2; c=3", "  spaced = value ;b=\"quoted\"", "empty=; =novalue; flag",
                "session.1=AAAA; session.2=BBBB; session=CCCC", "__Host-id=x%20y; __Secure-z=1",
            ].map { Array($0.utf8) }
        case .configuration:
            return [
                "driver:file;root=/var/lib/app/sessions;serializer:binary;compress:zstd;encrypt:env=SESSION_KEYS;"
                    + "cache:entries=50000,ttl=300",
                "driver:memory;serializer:json;cache:entries=1000,bytes=1048576,ttl=60",
                "driver:file,root=/tmp/a%3Bb,fsync=no,fanout=2",
                "driver:memory;namespace:tenant-a;hash-ids:env=ID_KEY;sign:file=/etc/app/key",
                "driver:sqlite,path=/var/lib/app/sessions.sqlite,sync=full;serializer:binary",
                "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,2:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
            ].map { Array($0.utf8) }
        }
    }

    /// Sessions of three sizes: empty, a login, and a cart (enough for several 512-byte chunks).
    private static func sampleSessions() throws -> [SessionValue] {
        let json = JSONSerializer()
        func value(_ text: String) throws -> SessionValue {
            try json.deserialize([json.tag] + Array(text.utf8))
        }
        let items = (0..<12).map {
            "{\"sku\":\"SKU-\($0)\",\"qty\":\($0 % 3 + 1),\"price\":\(Double($0) + 0.5),\"added\":{\"$date\":1717945595.25}}"
        }
        return [
            try value("{}"),
            try value(#"{"user":"alice","roles":["admin"],"csrf":"RHtUVQcDMpg0TMkxpdzP","count":3,"ok":true}"#),
            try value(#"{"user":"bob","token":{"$bytes":"AAECAwQ="},"cart":["# + items.joined(separator: ",") + "]}"),
        ]
    }
}
