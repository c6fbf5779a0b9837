import ArgumentParser
import Foundation
import Serializers
import SessionPipeline

/// `sessionctl keygen`: a new random key.
struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a new random 32-byte key in base64, and the key-ring line that holds it.",
        discussion: """
            The first line is the key; the second is ready for an environment file. To rotate, put the
            new entry first and keep the old ones after it: SESSION_KEYS=3:NEW,2:OLD.
            """)

    @Option(help: "The key's id in a key ring (a 32-bit number).")
    var id: UInt32 = 1

    func run() async throws {
        try await running {
            let key = SecretKey.random()
            let text = key.withUnsafeBytes { Sodium.encodeBase64Secret($0) }
            print(text)
            print("SESSION_KEYS=\(id):\(text)")
        }
    }
}

/// Reads envelope text: base64url without padding, surrounding whitespace and a `NAME=` prefix
/// (a cookie pair) allowed.
func envelopeBytes(_ text: String) throws -> [UInt8] {
    var text = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
    if let equals = text.lastIndex(of: "=") { text = text[text.index(after: equals)...] }
    guard !text.isEmpty, let bytes = Base64.decode(Array(text.utf8), url: true) else {
        throw Failure.invalid("the input is not base64url text")
    }
    return bytes
}

/// `sessionctl seal`: plaintext on standard input, an envelope out.
struct Seal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seal standard input into a version-1 envelope, written as base64url without padding.",
        discussion: """
            With --key-base64 the key's id comes from --key-id; with a key ring the primary key seals.
            The envelope is followed by a newline; `open` ignores surrounding whitespace.
            """)

    @OptionGroup var keys: KeyOptions

    @Option(name: .customLong("key-id"), help: "The id written into the envelope (with --key-base64).")
    var keyID: UInt32?

    @Option(help: "The context the envelope is bound to: the store key (session:ID) or the cookie name.")
    var context: String

    @Option(help: "Unix seconds after which the envelope no longer opens (none by default).")
    var expires: Int64?

    func validate() throws {
        if keys.keys.count > 1 { throw ValidationError("seal takes one --key-base64") }
        if !keys.keys.isEmpty && keyID == nil { throw ValidationError("--key-base64 needs --key-id") }
        if keys.isEmpty { throw ValidationError("name a key: --key-base64 with --key-id, --keys-env or --keys-file") }
        if let expires, expires <= 0 { throw ValidationError("--expires is a positive number of Unix seconds") }
    }

    func run() async throws {
        try await running {
            let ring: KeyRing
            if let named = try keys.ring() {
                ring = named
            } else {
                ring = KeyRing(id: keyID ?? 1, key: try keys.bareKeys()[0])
            }
            let envelope = Encryption(keys: ring).seal(
                readStandardInput(), context: context, expires: expires.map(UnixTime.init(seconds:)))
            standardOutput(Array((Base64.urlEncodedString(envelope) + "\n").utf8))
        }
    }
}

/// Opens `envelope` with a key ring (by key id) or by trying each bare key.
func open(_ envelope: [UInt8], keys: KeyOptions, context: String, now: UnixTime) throws -> Encryption.Opened {
    if let ring = try keys.ring() {
        return try Encryption(keys: ring).open(envelope, context: context, now: now)
    }
    let header = try Encryption.header(of: envelope)
    var firstError: (any Error)?
    for key in try keys.bareKeys() {
        do {
            return try Encryption(keys: KeyRing(id: header.keyID, key: key)).open(
                envelope, context: context, now: now)
        } catch let error as SessionError where error.code == .authenticationFailed {
            firstError = firstError ?? error
        }
    }
    throw firstError
        ?? Failure.invalid("no key given: --key-base64, --keys-env or --keys-file")
}

/// `sessionctl open`: an envelope on standard input, its plaintext out.
struct Open: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open an envelope (base64url on standard input) and write exactly its plaintext bytes.",
        discussion: """
            With bare --key-base64 keys each is tried; with --keys-env or --keys-file the key is picked
            by the envelope's key id. A tampered, expired, wrong-context or unknown-key envelope exits
            with status 1, one line on standard error and nothing on standard output.
            """)

    @OptionGroup var keys: KeyOptions

    @Option(help: "The context the envelope was bound to.")
    var context: String

    @Option(help: "The time to check the expiry against, in Unix seconds (now by default).")
    var now: Int64?

    func validate() throws {
        if keys.isEmpty { throw ValidationError("name a key: --key-base64, --keys-env or --keys-file") }
    }

    func run() async throws {
        try await running {
            let text = String(decoding: readStandardInput(), as: UTF8.self)
            let opened = try open(
                try envelopeBytes(text), keys: keys, context: context,
                now: now.map(UnixTime.init(seconds:)) ?? SystemClock().now())
            standardOutput(opened.plaintext)
        }
    }
}

/// `sessionctl inspect`: an envelope's header, and with keys its session.
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an envelope's header without a key; with keys and its context, the session as JSON.",
        discussion: """
            The envelope is the argument or standard input: base64url text, optionally as NAME=VALUE
            (one cookie; join a chunked cookie's parts first). The session is shown when the
            plaintext is a serializer frame, compressed or not, as every store and cookie writes it.
            """)

    @Argument(help: "The envelope as base64url text (standard input when omitted).")
    var envelope: String?

    @OptionGroup var keys: KeyOptions

    @Option(help: "The context the envelope was bound to (needed with keys).")
    var context: String?

    @Option(help: "The time to check the expiry against, in Unix seconds (now by default).")
    var now: Int64?

    func validate() throws {
        if !keys.isEmpty && context == nil { throw ValidationError("opening needs --context") }
    }

    func run() async throws {
        try await running {
            let text = envelope ?? String(decoding: readStandardInput(), as: UTF8.self)
            let bytes = try envelopeBytes(text)
            let header = try Encryption.header(of: bytes)
            var lines = [
                "version: \(header.version)",
                "key id: \(header.keyID)",
                "expires: "
                    + (header.expires.map { "\($0.seconds) (\(Date(timeIntervalSince1970: Double($0.seconds))))" }
                        ?? "never"),
                "nonce: " + header.nonce.map { String(format: "%02x", $0) }.joined(),
                "sealed bytes: \(bytes.count - Encryption.overhead)",
            ]
            if let context, !keys.isEmpty {
                let opened = try open(
                    bytes, keys: keys, context: context,
                    now: now.map(UnixTime.init(seconds:)) ?? SystemClock().now())
                let (description, value) = try describePayload(opened.plaintext)
                lines.append("payload: \(description)")
                lines.append("session: " + (try JSONSerializer().text(value)))
            }
            print(lines.joined(separator: "\n"))
        }
    }
}

/// What a serializer frame (compressed or not) holds, and how it was written.
func describePayload(_ plaintext: [UInt8]) throws -> (String, SessionValue) {
    guard let first = plaintext.first else { throw Failure.invalid("the plaintext is empty") }
    var compression = "not compressed"
    var payload = plaintext
    switch first {
    case Compression.storedTag: compression = "stored uncompressed"
    case Compression.deflateTag: compression = "deflate"
    case Compression.zstdTag: compression = "zstd"
    default: break
    }
    if (Compression.storedTag...Compression.zstdTag).contains(first) {
        payload = try Compression(.zstd()).decompress(plaintext)
    }
    guard let tag = payload.first, let serializer = StandardFormats.all.first(where: { $0.tag == tag }) else {
        throw Failure.invalid(
            "the plaintext is not a serializer frame (first byte 0x\(String(payload.first ?? 0, radix: 16)))")
    }
    return ("\(serializer.name), \(compression)", try serializer.deserialize(payload))
}
