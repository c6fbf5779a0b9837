/// A pipeline under construction, read from the application down to the driver.
///
/// Start with ``SessionStore/pipeline()`` (values at the top), add layers in the order a value
/// passes through them on its way to storage, and finish with a driver:
///
/// ```swift
/// let store = try SessionStore.pipeline()
///     .namespaced("shop")                       // SessionValue → SessionValue
///     .serialized(writing: JSONSerializer())    // SessionValue → bytes
///     .driver(FileDriver(root: "/var/lib/app/sessions"))
/// ```
///
/// Each step is type-checked: a layer that needs bytes cannot be added before the serializer.
/// `Top` is the value type the finished store offers; `Bottom` is what the next layer, or the
/// driver, must take.
public struct Pipeline<Top: Sendable, Bottom: Sendable>: Sendable {
    private let build: @Sendable (any RecordStore<Bottom>) throws -> any RecordStore<Top>
    /// The layers added so far, from the top, as configuration components (``SessionLayer/name``).
    public let layerNames: [String]

    private init(
        layerNames: [String],
        build: @escaping @Sendable (any RecordStore<Bottom>) throws -> any RecordStore<Top>
    ) {
        self.layerNames = layerNames
        self.build = build
    }

    /// Adds `layer` below the layers added so far.
    public func layer<L: SessionLayer>(_ layer: L) -> Pipeline<Top, L.Below> where L.Above == Bottom {
        let build = self.build
        return Pipeline<Top, L.Below>(layerNames: layerNames + [layer.name]) { base in
            try build(layer.wrap(base))
        }
    }

    /// Finishes the pipeline over `base`, returning the top store.
    public func store(over base: some RecordStore<Bottom>) throws -> AnyRecordStore<Top> {
        AnyRecordStore(try build(base))
    }
}

extension Pipeline where Top == Bottom {
    /// An empty pipeline of `Top` values.
    public init() {
        self.init(layerNames: []) { $0 }
    }
}

extension Pipeline where Top == SessionValue {
    /// Finishes the pipeline over `driver`, returning the store the application uses.
    public func driver(_ driver: some RecordStore<Bottom>) throws -> SessionStore {
        SessionStore(try store(over: driver), layerNames: layerNames + [ConfigurationText.component(of: driver)])
    }
}
