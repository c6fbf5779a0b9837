import SessionPipeline

// A layer over bytes: refuses values larger than a limit before they reach the driver.
// Walked through in the article "Writing a custom layer"; the tests run the conformance suite
// over it.

/// Refuses values larger than a limit before they reach the store below.
struct SizeLimit: SessionLayer {
    typealias Below = [UInt8]
    typealias Above = [UInt8]

    let maximumBytes: Int

    var name: String { "size-limit:max=\(maximumBytes)" }

    func wrap(_ base: some RecordStore<[UInt8]>) throws -> any RecordStore<[UInt8]> {
        SizeLimited(base: base, maximumBytes: maximumBytes)
    }
}

/// The store a ``SizeLimit`` builds.
struct SizeLimited<Base: RecordStore<[UInt8]>>: StoreLayer {
    typealias Keys = Base.Keys

    let base: Base
    let maximumBytes: Int

    var capabilities: StoreCapabilities { base.capabilities }

    func get(_ key: SessionKey) async throws -> Record<[UInt8]>? {
        try await base.get(key)
    }

    func set(_ key: SessionKey, to record: Record<[UInt8]>) async throws -> RecordVersion? {
        try check(record)
        return try await base.set(key, to: record)
    }

    func compareAndSwap(
        _ key: SessionKey,
        expecting expected: RecordVersion?,
        with record: Record<[UInt8]>
    ) async throws -> RecordVersion? {
        try check(record)
        return try await base.compareAndSwap(key, expecting: expected, with: record)
    }

    private func check(_ record: Record<[UInt8]>) throws {
        guard record.value.count <= maximumBytes else {
            throw SessionError(
                .tooLarge,
                "a value of \(record.value.count) bytes exceeds \(maximumBytes)",
                layer: "SizeLimit"
            )
        }
    }
}

extension Pipeline where Bottom == [UInt8] {
    /// Adds a ``SizeLimit`` layer.
    func sizeLimited(to maximumBytes: Int) -> Pipeline<Top, [UInt8]> {
        layer(SizeLimit(maximumBytes: maximumBytes))
    }
}
