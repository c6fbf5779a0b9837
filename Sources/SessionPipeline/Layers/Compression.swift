/// The layer that compresses: zstd or deflate (zlib), chosen by configuration, with a one-byte codec
/// tag on every frame so that a store reads every codec whatever it writes.
///
/// **On write** a payload shorter than ``threshold`` — or one that does not shrink — is stored as it
/// is, behind the tag `0x10`; otherwise it is compressed behind `0x11` (deflate) or `0x12` (zstd)
/// and its length (`docs/FORMAT.md`):
///
/// | bytes | field |
/// |---|---|
/// | 0 | `0x10` stored, `0x11` deflate (zlib format, RFC 1950), `0x12` zstd |
/// | 1–4 | (`0x11`, `0x12` only) the uncompressed length, UInt32 big-endian |
/// | … | the payload, or its compressed stream |
///
/// **On read** any of the three is accepted, and so is a serializer frame (tags `0x20`–`0x7F`)
/// written before compression was turned on. Inflating never produces more than the declared
/// length, and a declared length above ``maximumDecompressedSize`` (16 MiB by default) is refused
/// before anything is allocated: a decompression bomb costs at most that much memory, and ends in
/// ``SessionError/Code/tooLarge`` or ``SessionError/Code/malformed``. zlib and zstd contexts are
/// reused across calls.
///
/// **Order.** Below the serializer, above encryption (ciphertext does not compress):
///
/// ```swift
/// let store = try SessionStore.pipeline()
///     .serialized(.binary)
///     .compressed(.zstd(), threshold: 256)
///     .encrypted(with: keys)
///     .driver(FileDriver(root: "/var/lib/app/sessions"))
/// ```
///
/// - Warning: Compressing secret data together with data an attacker chooses leaks the secret
///   through the compressed length, even under encryption (the CRIME and BREACH attacks): if a
///   session holds a CSRF token and a value the attacker can set, the attacker can guess the token
///   a character at a time by watching how long the cookie or record becomes. Do not compress such
///   sessions, or keep attacker-influenced values out of them.
public struct Compression: SessionLayer {
    /// Bytes below.
    public typealias Below = [UInt8]
    /// Bytes above.
    public typealias Above = [UInt8]

    /// A compression codec and its level.
    public enum Codec: Sendable, Hashable, CustomStringConvertible {
        /// zlib's deflate, levels 1 (fastest) to 9 (smallest); the zlib stream format (RFC 1950).
        case deflate(level: Int)
        /// Zstandard, levels 1 (fastest) to 19 (smallest) and zstd's negative fast levels.
        case zstd(level: Int)

        /// Deflate at zlib's default level, 6.
        public static func deflate() -> Codec { .deflate(level: 6) }
        /// Zstandard at level 1: sessions are small and compressed on every write.
        public static func zstd() -> Codec { .zstd(level: 1) }

        /// `zstd(1)`, `deflate(6)`.
        public var description: String {
            switch self {
            case .deflate(let level): "deflate(\(level))"
            case .zstd(let level): "zstd(\(level))"
            }
        }
    }

    /// The tag of a stored (uncompressed) payload.
    public static let storedTag: UInt8 = 0x10
    /// The tag of a deflate frame.
    public static let deflateTag: UInt8 = 0x11
    /// The tag of a zstd frame.
    public static let zstdTag: UInt8 = 0x12
    /// The default limit on a decompressed payload: 16 MiB.
    public static let defaultMaximumDecompressedSize = 16 << 20

    /// The codec new frames are written with.
    public let codec: Codec
    /// Payloads shorter than this are stored uncompressed.
    public let threshold: Int
    /// The largest payload decompression may produce.
    public let maximumDecompressedSize: Int

    /// Creates the layer.
    ///
    /// - Parameters:
    ///   - codec: The codec for new frames.
    ///   - threshold: Payloads shorter than this many bytes are stored as they are. Default 256.
    ///   - maximumDecompressedSize: The most bytes a frame may decompress to. Default 16 MiB.
    /// - Precondition: the level is one the codec has; the sizes are positive and the maximum is
    ///   below 4 GiB.
    public init(
        _ codec: Codec,
        threshold: Int = 256,
        maximumDecompressedSize: Int = Compression.defaultMaximumDecompressedSize
    ) {
        switch codec {
        case .deflate(let level): precondition((1...9).contains(level), "deflate levels are 1 to 9")
        case .zstd(let level): precondition(Codecs.zstdLevels.contains(level), "not a zstd level: \(level)")
        }
        precondition(threshold >= 0, "the threshold cannot be negative")
        precondition(
            maximumDecompressedSize > 0 && maximumDecompressedSize < Int(UInt32.max),
            "maximumDecompressedSize must be between 1 byte and 4 GiB"
        )
        self.codec = codec
        self.threshold = threshold
        self.maximumDecompressedSize = maximumDecompressedSize
    }

    /// `compress:zstd,level=1,threshold=256,max=16777216`.
    public var name: String {
        let (codecName, level) =
            switch codec {
            case .deflate(let level): ("deflate", level)
            case .zstd(let level): ("zstd", level)
            }
        return "compress:\(codecName),level=\(level),threshold=\(threshold),max=\(maximumDecompressedSize)"
    }

    /// Builds the layer over `base`.
    public func wrap(_ base: some RecordStore<[UInt8]>) throws -> any RecordStore<[UInt8]> {
        Compressed(base: base, compression: self)
    }

    /// The frame for `payload`: compressed behind its codec's tag, or stored behind `0x10`.
    public func compress(_ payload: [UInt8]) -> [UInt8] {
        if payload.count >= threshold && payload.count <= maximumDecompressedSize {
            var frame: [UInt8] = []
            frame.reserveCapacity(payload.count / 2 + 64)
            payload.withUnsafeBytes { input in
                switch codec {
                case .deflate(let level):
                    frame.append(Self.deflateTag)
                    appendLength(payload.count, to: &frame)
                    Codecs.deflate(input, level: level, into: &frame)
                case .zstd(let level):
                    frame.append(Self.zstdTag)
                    appendLength(payload.count, to: &frame)
                    Codecs.zstdCompress(input, level: level, into: &frame)
                }
            }
            if frame.count < payload.count + 1 {
                return frame
            }
        }
        var stored: [UInt8] = []
        stored.reserveCapacity(payload.count + 1)
        stored.append(Self.storedTag)
        stored.append(contentsOf: payload)
        return stored
    }

    private func appendLength(_ length: Int, to frame: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(length).bigEndian) { frame.append(contentsOf: $0) }
    }

    /// The payload inside `frame`, whichever codec wrote it; a serializer frame passes through.
    ///
    /// - Throws: ``SessionError/Code/tooLarge`` when the frame declares more than
    ///   ``maximumDecompressedSize``, ``SessionError/Code/malformed`` when it is truncated or its
    ///   stream is corrupt or not the declared length, ``SessionError/Code/unknownFormat`` for a tag
    ///   that is neither a compression nor a serializer frame.
    public func decompress(_ frame: [UInt8]) throws -> [UInt8] {
        guard let tag = frame.first else {
            throw SessionError(.malformed, "empty frame: no codec tag", layer: "Compression")
        }
        switch tag {
        case Self.storedTag:
            return Array(frame.dropFirst())
        case Self.deflateTag, Self.zstdTag:
            guard frame.count >= 5 else {
                throw SessionError(.malformed, "a compressed frame shorter than its header", layer: "Compression")
            }
            let length = Int(
                frame.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: 1, as: UInt32.self)) })
            guard length <= maximumDecompressedSize else {
                throw SessionError(
                    .tooLarge,
                    "the frame declares \(length) bytes; the limit is \(maximumDecompressedSize)",
                    layer: "Compression"
                )
            }
            do {
                return try frame.withUnsafeBytes { raw in
                    let stream = UnsafeRawBufferPointer(rebasing: raw[5...])
                    return tag == Self.deflateTag
                        ? try Codecs.inflate(stream, length: length)
                        : try Codecs.zstdDecompress(stream, length: length)
                }
            } catch let failure as DecompressionFailure {
                let codec = tag == Self.deflateTag ? "deflate" : "zstd"
                switch failure {
                case .longerThanDeclared:
                    throw SessionError(
                        .malformed,
                        "the \(codec) stream holds more than the \(length) bytes its frame declares",
                        layer: "Compression"
                    )
                case .shorterThanDeclared:
                    throw SessionError(
                        .malformed,
                        "the \(codec) stream holds less than the \(length) bytes its frame declares",
                        layer: "Compression"
                    )
                case .corrupt(let reason):
                    throw SessionError(.malformed, "corrupt \(codec) stream: \(reason)", layer: "Compression")
                }
            }
        case 0x20...0x7F:
            return frame
        default:
            throw SessionError(
                .unknownFormat,
                "tag 0x\(String(tag, radix: 16)) is not a compression or serializer frame",
                layer: "Compression"
            )
        }
    }
}

/// A store whose records are compressed in its base; built by ``Compression``.
public struct Compressed<Base: RecordStore<[UInt8]>>: StoreLayer {
    /// The base's keys.
    public typealias Keys = Base.Keys

    /// The store of frames.
    public let base: Base
    /// The codec and limits.
    public let compression: Compression

    /// Creates the layer over `base`.
    public init(base: Base, compression: Compression) {
        self.base = base
        self.compression = compression
    }

    /// The base's capabilities, compare-and-swap included when the base has it.
    public var capabilities: StoreCapabilities { base.capabilities }

    /// Reads and decompresses the record under `key`.
    public func get(_ key: SessionKey) async throws -> Record<[UInt8]>? {
        try await base.get(key)?.map(compression.decompress)
    }

    /// Compresses `record` and stores it under `key`.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<[UInt8]>) async throws -> RecordVersion? {
        try await base.set(key, to: record.map(compression.compress))
    }

    /// Compresses `record` and stores it if the base's version still matches.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<[UInt8]>
    ) async throws -> RecordVersion? {
        try await base.compareAndSwap(key, expecting: expected, with: record.map(compression.compress))
    }
}

extension Pipeline where Bottom == [UInt8] {
    /// Adds a ``Compression`` layer.
    ///
    /// - Parameters:
    ///   - codec: The codec for new frames, such as `.zstd()` or `.deflate(level: 9)`.
    ///   - threshold: Payloads shorter than this many bytes are stored as they are. Default 256.
    ///   - maximumDecompressedSize: The most bytes a frame may decompress to. Default 16 MiB.
    public func compressed(
        _ codec: Compression.Codec,
        threshold: Int = 256,
        maximumDecompressedSize: Int = Compression.defaultMaximumDecompressedSize
    ) -> Pipeline<Top, [UInt8]> {
        layer(Compression(codec, threshold: threshold, maximumDecompressedSize: maximumDecompressedSize))
    }
}
