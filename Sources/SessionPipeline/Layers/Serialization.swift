/// The layer that turns session values into bytes: values above it, bytes below.
///
/// On write it serializes the value with the *writing* format. On read it looks at the payload's
/// first byte and uses whichever of the *reading* formats (the writing one is always among them)
/// owns that tag, so a store that switches formats keeps reading everything written before.
/// Expiry, version and flags pass through untouched.
///
/// It belongs between the value layers (cache, namespacing of values) and the byte layers
/// (compression, encryption). The `Serializers` module adds `serialized(_:)`, which reads every
/// built-in format.
///
/// ```swift
/// let store = try SessionStore.pipeline()
///     .serialized(writing: JSONSerializer(), reading: [LegacyFormat()])
///     .driver(MemoryDriver())
/// ```
public struct Serialization: SessionLayer {
    /// Bytes below.
    public typealias Below = [UInt8]
    /// Session values above.
    public typealias Above = SessionValue

    /// The format new records are written in.
    public let writer: any SessionSerializer
    /// The formats records are read in, by tag.
    public let readers: [any SessionSerializer]

    /// Creates the layer.
    ///
    /// - Parameters:
    ///   - writer: The format for new records.
    ///   - readers: Further formats to read; `writer` is always read.
    public init(writing writer: some SessionSerializer, reading readers: [any SessionSerializer] = []) {
        self.writer = writer
        var seen: Set<String> = [writer.name]
        self.readers = [writer] + readers.filter { seen.insert($0.name).inserted }
    }

    /// `serializer:binary`.
    public var name: String { "serializer:\(writer.name)" }

    /// Builds the layer over `base`.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` when two readers share a tag or a tag lies
    ///   outside the serializer ranges (`0x20`–`0x7F`).
    public func wrap(_ base: some RecordStore<[UInt8]>) throws -> any RecordStore<SessionValue> {
        try Serialized(base: base, writer: writer, readers: readers)
    }
}

/// A store of ``SessionValue``s over a store of bytes; built by ``Serialization``.
public struct Serialized<Base: RecordStore<[UInt8]>>: StoreLayer {
    /// The sequence of keys: the base's.
    public typealias Keys = Base.Keys

    /// The store of bytes below.
    public let base: Base
    private let writer: any SessionSerializer
    /// Readers indexed by tag (256 entries, `nil` where no reader owns the tag).
    private let readersByTag: [(any SessionSerializer)?]

    /// Creates the layer over `base`.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` when two readers share a tag or a tag lies
    ///   outside `0x20`–`0x7F`.
    public init(base: Base, writer: any SessionSerializer, readers: [any SessionSerializer]) throws {
        var table = [(any SessionSerializer)?](repeating: nil, count: 256)
        for reader in [writer] + readers {
            guard (0x20...0x7F).contains(reader.tag) else {
                throw SessionError(
                    .invalidConfiguration,
                    "serializer '\(reader.name)' uses tag \(reader.tag), outside the serializer range 0x20-0x7F",
                    layer: "Serialization"
                )
            }
            if let existing = table[Int(reader.tag)] {
                guard existing.name == reader.name else {
                    throw SessionError(
                        .invalidConfiguration,
                        "serializers '\(existing.name)' and '\(reader.name)' share tag \(reader.tag)",
                        layer: "Serialization"
                    )
                }
                continue
            }
            table[Int(reader.tag)] = reader
        }
        self.base = base
        self.writer = writer
        self.readersByTag = table
    }

    /// The base's capabilities, holding the writer's kinds.
    public var capabilities: StoreCapabilities {
        var capabilities = base.capabilities
        capabilities.valueKinds = writer.representableKinds
        return capabilities
    }

    /// Reads and deserializes the record under `key`.
    public func get(_ key: SessionKey) async throws -> Record<SessionValue>? {
        guard let record = try await base.get(key) else { return nil }
        return try record.map(deserialize)
    }

    /// Serializes `record` and stores it under `key`.
    @discardableResult
    public func set(_ key: SessionKey, to record: Record<SessionValue>) async throws -> RecordVersion? {
        try await base.set(key, to: record.map(serialize))
    }

    /// Serializes `record` and stores it under `key` if the base's version still matches.
    public func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<SessionValue>
    ) async throws -> RecordVersion? {
        try await base.compareAndSwap(key, expecting: expected, with: record.map(serialize))
    }

    private func serialize(_ value: SessionValue) throws -> [UInt8] {
        let kinds = writer.representableKinds
        if kinds != .all {
            let used = value.kindsUsed
            if !kinds.isSuperset(of: used) {
                let refused = used.subtracting(kinds).members.map(\.description).joined(separator: ", ")
                throw SessionError(
                    .invalidValue,
                    "format '\(writer.name)' cannot hold values of kind \(refused)",
                    layer: "Serialization"
                )
            }
        }
        return try writer.serialize(value)
    }

    private func deserialize(_ bytes: [UInt8]) throws -> SessionValue {
        guard let tag = bytes.first else {
            throw SessionError(.malformed, "empty payload: no format tag", layer: "Serialization")
        }
        guard let reader = readersByTag[Int(tag)] else {
            throw SessionError(
                .unknownFormat,
                "no configured format reads tag 0x\(String(tag, radix: 16))",
                layer: "Serialization"
            )
        }
        return try reader.deserialize(bytes)
    }
}

extension Pipeline where Bottom == SessionValue {
    /// Adds a ``Serialization`` layer: values above, bytes below.
    ///
    /// - Parameters:
    ///   - writer: The format for new records.
    ///   - readers: Further formats to read; `writer` is always read.
    public func serialized(
        writing writer: some SessionSerializer,
        reading readers: [any SessionSerializer] = []
    ) -> Pipeline<Top, [UInt8]> {
        layer(Serialization(writing: writer, reading: readers))
    }
}
