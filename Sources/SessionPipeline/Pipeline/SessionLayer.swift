/// A layer of a pipeline: given the store below it, it makes the store above it.
///
/// Every built-in layer conforms — ``Serialization``, ``Namespace`` and the ones later modules
/// add — and so do users' own layers, with no private hooks involved. A layer is an immutable
/// value holding its settings; ``wrap(_:)`` builds the ``StoreLayer`` that does the work.
///
/// ``Below`` is what the layer needs from the store underneath, ``Above`` what it offers to the
/// one on top: a serializer has `[UInt8]` below and ``SessionValue`` above, a compression layer
/// `[UInt8]` on both sides, a namespace the same type on both sides, whatever it is.
///
/// ```swift
/// struct AuditLayer<Value: Sendable>: SessionLayer {
///     func wrap(_ base: some RecordStore<Value>) throws -> any RecordStore<Value> {
///         Audited(base: base)
///     }
/// }
///
/// let store = try SessionStore.pipeline()
///     .layer(AuditLayer())
///     .serialized(writing: MyFormat())
///     .driver(MemoryDriver())
/// ```
public protocol SessionLayer<Below, Above>: Sendable {
    /// The record values this layer reads from and writes to the store below it.
    associatedtype Below: Sendable
    /// The record values this layer offers to the store above it.
    associatedtype Above: Sendable

    /// The layer as a component of a configuration string, such as `namespace:shop` or
    /// `compress:zstd,level=1,threshold=256`: what ``SessionStore/configuration`` prints. Never
    /// includes secrets (keys appear as where they came from: `encrypt:env=SESSION_KEYS`).
    var name: String { get }

    /// Builds this layer over `base`.
    ///
    /// - Throws: ``SessionError`` with code ``SessionError/Code/invalidConfiguration`` when the layer
    ///   cannot work over this base.
    func wrap(_ base: some RecordStore<Below>) throws -> any RecordStore<Above>
}

extension SessionLayer {
    /// `layer:` followed by the layer's type name.
    public var name: String { "layer:\(Self.self)" }
}
