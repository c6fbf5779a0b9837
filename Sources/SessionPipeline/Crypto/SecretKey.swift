#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A 32-byte secret key.
///
/// The bytes live in memory from libsodium's guarded allocator and are wiped (`sodium_memzero`)
/// when the last reference goes away. They are reachable only through ``withUnsafeBytes(_:)``;
/// ``description`` never shows them; `==` compares in constant time. Decoding from base64 or hex
/// uses libsodium's constant-time decoders and writes straight into the guarded memory.
///
/// ```swift
/// let key = try SecretKey(environment: "SESSION_KEY")   // base64 or hex
/// let fresh = SecretKey.random()
/// print(key)                                           // SecretKey(redacted)
/// ```
///
/// - Warning: A key built from a Swift `String` (``init(base64:)``, ``init(hex:)``) leaves a copy of
///   the text in that string, which Swift cannot wipe; in production read keys from the
///   environment or a file, which are decoded without such a copy.
public final class SecretKey: @unchecked Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    // @unchecked Sendable: the storage is written only by the initializers, before the key is
    // shared, and read-only afterwards; it is a raw pointer because the memory must come from
    // libsodium's guarded allocator so that it can be wiped.

    /// The length of every key, in bytes.
    public static let length = 32

    /// Where a key came from: shown in configuration strings instead of the key itself.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        /// An environment variable.
        case environment(String)
        /// A file.
        case file(String)
        /// Code: random, derived, or decoded from bytes or text.
        case code

        /// `env=NAME`, `file=PATH`, or `keys=redacted`, escaped for a configuration string.
        public var description: String {
            switch self {
            case .environment(let name): "env=\(ConfigurationText.escape(name))"
            case .file(let path): "file=\(ConfigurationText.escape(path))"
            case .code: "keys=redacted"
            }
        }
    }

    private let storage: UnsafeMutableRawBufferPointer
    /// Where the key came from.
    public let source: Source

    /// Takes ownership of guarded memory already holding exactly ``length`` bytes.
    private init(guarded storage: UnsafeMutableRawBufferPointer, source: Source = .code) {
        self.storage = storage
        self.source = source
    }

    /// Fills a fresh guarded buffer with `fill`, which returns how many bytes it wrote (or `nil` on
    /// failure), and checks that exactly ``length`` were written.
    private convenience init(
        source: String,
        origin: Source = .code,
        _ fill: (UnsafeMutableRawBufferPointer) -> Int?
    ) throws {
        // One spare byte: text for a longer key then fills the buffer past 32 and is refused.
        let scratch = Sodium.allocateSecret(Self.length + 1)
        defer { Sodium.freeSecret(scratch) }
        guard let written = fill(scratch), written == Self.length else {
            throw SessionError(
                .invalidConfiguration,
                "\(source) does not hold a key of exactly \(Self.length) bytes",
                layer: "SecretKey"
            )
        }
        let storage = Sodium.allocateSecret(Self.length)
        storage.copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[0..<Self.length]))
        self.init(guarded: storage, source: origin)
    }

    deinit {
        Sodium.freeSecret(storage)
    }

    /// A new key of random bytes from libsodium's `randombytes_buf`.
    public static func random() -> SecretKey {
        let storage = Sodium.allocateSecret(length)
        Sodium.fillRandom(storage)
        return SecretKey(guarded: storage)
    }

    /// Copies exactly 32 raw bytes.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` for any other length.
    public convenience init(bytes: some Collection<UInt8>) throws {
        try self.init(source: "the byte string") { output in
            guard bytes.count <= output.count else { return bytes.count }
            output.copyBytes(from: bytes)
            return bytes.count
        }
    }

    /// Decodes a key written in base64 (standard or URL-safe alphabet, with or without padding).
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` when the text is not base64 of exactly
    ///   32 bytes. The message never repeats the text.
    public convenience init(base64: String) throws {
        var text = base64
        try self.init(source: "the base64 text") { output in
            text.withUTF8 { Sodium.decodeBase64Secret(UnsafeRawBufferPointer($0), into: output) }
        }
    }

    /// Decodes a key written as 64 hexadecimal digits.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` when the text is not 32 bytes of hex.
    public convenience init(hex: String) throws {
        var text = hex
        try self.init(source: "the hex text") { output in
            text.withUTF8 { Sodium.decodeHexSecret(UnsafeRawBufferPointer($0), into: output) }
        }
    }

    /// Reads a key, in base64 or hex, from the environment variable `name`.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` when the variable is unset or does not
    ///   hold a 32-byte key.
    public convenience init(environment name: String) throws {
        guard let value = getenv(name) else {
            throw SessionError(.invalidConfiguration, "the environment variable \(name) is not set", layer: "SecretKey")
        }
        try self.init(
            text: UnsafeRawBufferPointer(start: value, count: strlen(value)),
            source: "the environment variable \(name)",
            origin: .environment(name)
        )
    }

    /// Reads a key, in base64 or hex (surrounding whitespace ignored), from the file at `path`.
    ///
    /// - Throws: ``SessionError/Code/io`` when the file cannot be read,
    ///   ``SessionError/Code/invalidConfiguration`` when it does not hold a 32-byte key.
    public convenience init(contentsOfFile path: String) throws {
        let contents = try SecretFile.read(path, layer: "SecretKey")
        defer { Sodium.freeSecret(contents) }
        try self.init(text: UnsafeRawBufferPointer(contents), source: "the file \(path)", origin: .file(path))
    }

    /// Decodes a key, in base64 or hex, from text in memory the caller controls (and wipes).
    convenience init(text: UnsafeRawBufferPointer, source: String, origin: Source = .code) throws {
        try self.init(source: source, origin: origin) { Self.decode(text, into: $0) }
    }

    /// Hex when the text is 64 hex digits, otherwise base64.
    static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        if text.count >= 60 && text.count <= 70, let written = Sodium.decodeHexSecret(text, into: output),
            written == length
        {
            return written
        }
        return Sodium.decodeBase64Secret(text, into: output)
    }

    /// Calls `body` with the key's 32 bytes. Do not copy them out of the closure.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// A subkey for one purpose, derived with libsodium's `crypto_kdf` (BLAKE2b) from this key,
    /// a subkey number and an 8-character context, so that no key serves two algorithms.
    ///
    /// - Precondition: `context` is exactly 8 ASCII characters.
    public func derive(subkey id: UInt64, context: StaticString) -> SecretKey {
        precondition(context.utf8CodeUnitCount == 8 && context.isASCII, "a key-derivation context is 8 ASCII bytes")
        let bytes = context.withUTF8Buffer { Array($0) }
        let storage = Sodium.allocateSecret(Self.length)
        withUnsafeBytes { key in
            Sodium.deriveKey(
                key,
                id: id,
                context: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]),
                into: storage
            )
        }
        return SecretKey(guarded: storage)
    }

    /// Compares two keys in constant time.
    public static func == (lhs: SecretKey, rhs: SecretKey) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) } }
    }

    /// `SecretKey(redacted)`: the bytes are never printed.
    public var description: String { "SecretKey(redacted)" }

    /// `SecretKey(redacted)`.
    public var debugDescription: String { description }
}

/// Reads small secret files into guarded memory, so that the text of a key never sits in an
/// ordinary buffer.
enum SecretFile {
    /// The most a key file may hold: plenty for a key ring of a few dozen keys.
    static let limit = 64 * 1024

    /// The file's bytes in guarded memory; free with `Sodium.freeSecret`.
    static func read(_ path: String, layer: String) throws -> UnsafeMutableRawBufferPointer {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIX.failure("open", path).relayered(layer) }
        defer { close(fd) }
        let size = try POSIX.fileSize(fd, path: path)
        guard size <= limit else {
            throw SessionError(.tooLarge, "\(path) is larger than a key file can be (\(limit) bytes)", layer: layer)
        }
        let buffer = Sodium.allocateSecret(max(size, 1))
        var offset = 0
        while offset < size {
            let got = Glibc.read(fd, buffer.baseAddress! + offset, size - offset)
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                Sodium.freeSecret(buffer)
                throw POSIX.failure("read", path).relayered(layer)
            }
            offset += got
        }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
    }
}

extension SessionError {
    /// The same error, attributed to another layer.
    func relayered(_ layer: String) -> SessionError {
        SessionError(code, message, layer: layer, underlying: underlying)
    }
}

extension StaticString {
    fileprivate var isASCII: Bool {
        withUTF8Buffer { $0.allSatisfy { $0 < 0x80 } }
    }
}
