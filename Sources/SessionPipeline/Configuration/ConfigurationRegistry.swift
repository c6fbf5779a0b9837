/// The names a configuration string may use, and how each builds its part of a store — in
/// CGI::Session's spirit (`driver:file;serializer:json`), extended to the whole pipeline:
///
/// ```
/// driver:file;root=/var/lib/app/sessions;serializer:binary;compress:zstd;encrypt:env=SESSION_KEYS;cache:entries=50000,ttl=300
/// ```
///
/// Components are separated by `;`; each is `kind:name` or `kind:key=value,…` or both
/// (`compress:zstd,level=3`); a bare `key=value` segment adds an argument to the component before
/// it. Values escape `%`, `;`, `,` and `=` as `%25`, `%3B`, `%2C` and `%3D`. The order of
/// components does not matter: the store is always built in the pipeline's order — cache, observe,
/// your value layers, namespace, hash-ids, the serializer, compress, your byte layers, sign,
/// encrypt, driver. Keys are only ever referenced (`env=VARIABLE` or `file=PATH`), never written
/// inline. A bad string fails with ``SessionError/Code/invalidConfiguration`` naming the character
/// position and the reason. `docs/CONFIGURATION.md` lists every kind and argument.
///
/// ``core`` knows the drivers and layers of this module; `ConfigurationRegistry.standard` (in the
/// `Serializers` module) adds the serializers. Register your own drivers and layers to make them
/// part of the grammar:
///
/// ```swift
/// var registry = ConfigurationRegistry.standard
/// registry.register(byteLayer: "size-limit") { component in
///     try component.allowArguments(["max"])
///     return SizeLimit(maximumBytes: try component.integer("max", in: 1...(1 << 30)) ?? 65_536)
/// }
/// let store = try registry.store("driver:memory;serializer:json;size-limit:max=4096")
/// print(store.configuration)
/// ```
public struct ConfigurationRegistry: Sendable {
    /// Builds a driver from its component, with the store's clock.
    public typealias DriverFactory =
        @Sendable (ConfigurationComponent, any SessionClock) throws -> AnyRecordStore<[UInt8]>
    /// Builds a layer over session values from its component.
    public typealias ValueLayerFactory =
        @Sendable (ConfigurationComponent) throws -> any SessionLayer<
            SessionValue, SessionValue
        >
    /// Builds a layer over bytes from its component.
    public typealias ByteLayerFactory = @Sendable (ConfigurationComponent) throws -> any SessionLayer<[UInt8], [UInt8]>

    private enum LayerFactory {
        case values(ValueLayerFactory)
        case bytes(ByteLayerFactory)
    }

    private var drivers: [String: DriverFactory] = [:]
    private var serializers: [String: any SessionSerializer] = [:]
    private var serializerOrder: [String] = []
    private var layers: [String: (order: Int, factory: LayerFactory)] = [:]

    /// An empty registry.
    public init() {}

    /// Adds a driver, used as `driver:NAME`.
    public mutating func register(driver name: String, _ factory: @escaping DriverFactory) {
        drivers[name] = factory
    }

    /// Adds a serializer, used as `serializer:NAME` and read by every store built here.
    public mutating func register(serializer: some SessionSerializer) {
        if serializers.updateValue(serializer, forKey: serializer.name) == nil {
            serializerOrder.append(serializer.name)
        }
    }

    /// Adds a layer over session values, used as `KIND:…`, placed by `order` among the value layers
    /// (cache 10, observe 20, yours 30 by default, namespace 40, hash-ids 50).
    public mutating func register(valueLayer kind: String, order: Int = 30, _ factory: @escaping ValueLayerFactory) {
        layers[kind] = (order, .values(factory))
    }

    /// Adds a layer over bytes, used as `KIND:…`, placed by `order` among the byte layers (compress
    /// 10, yours 20 by default, sign 30, encrypt 40).
    public mutating func register(byteLayer kind: String, order: Int = 20, _ factory: @escaping ByteLayerFactory) {
        layers[kind] = (order, .bytes(factory))
    }

    /// Builds the store `configuration` describes.
    ///
    /// - Throws: ``SessionError/Code/invalidConfiguration`` naming the position and the reason, or
    ///   the error of a driver or key that cannot be opened.
    public func store(_ configuration: String, clock: any SessionClock = SystemClock()) throws -> SessionStore {
        try build(configuration, clock: clock).store
    }

    /// Builds the store `configuration` describes and hands back its driver as well, for
    /// maintenance tools that look at the stored bytes (sizes, frame tags, key ids) under the
    /// same records the store reads.
    ///
    /// - Throws: what ``store(_:clock:)`` throws.
    public func build(_ configuration: String, clock: any SessionClock = SystemClock()) throws -> (
        store: SessionStore, driver: AnyRecordStore<[UInt8]>
    ) {
        let components = try ConfigurationComponent.parse(configuration)
        var seen: [String: ConfigurationComponent] = [:]
        var driverComponent: ConfigurationComponent?
        var serializerComponent: ConfigurationComponent?
        var valueLayers: [(order: Int, position: Int, factory: ValueLayerFactory, component: ConfigurationComponent)] =
            []
        var byteLayers: [(order: Int, position: Int, factory: ByteLayerFactory, component: ConfigurationComponent)] = []
        for component in components {
            if let earlier = seen[component.kind] {
                throw component.error(
                    "a second \(component.kind) component (the first is at character \(earlier.position))")
            }
            seen[component.kind] = component
            switch component.kind {
            case "driver": driverComponent = component
            case "serializer": serializerComponent = component
            default:
                guard let (order, factory) = layers[component.kind] else {
                    let known = (["driver", "serializer"] + layers.keys.sorted()).joined(separator: ", ")
                    throw component.error("unknown component '\(component.kind)' (known: \(known))")
                }
                switch factory {
                case .values(let make): valueLayers.append((order, component.position, make, component))
                case .bytes(let make): byteLayers.append((order, component.position, make, component))
                }
            }
        }
        let end = configuration.count + 1
        guard let driverComponent else {
            throw SessionError(
                .invalidConfiguration,
                "at character \(end): no driver (add driver:memory, or driver:file with root=PATH)",
                layer: "Configuration"
            )
        }
        guard let serializerComponent else {
            let names = serializerOrder.joined(separator: ", ")
            throw SessionError(
                .invalidConfiguration,
                "at character \(end): no serializer (add serializer:NAME; known: \(names.isEmpty ? "none registered" : names))",
                layer: "Configuration"
            )
        }

        guard let driverName = driverComponent.name, let makeDriver = drivers[driverName] else {
            throw driverComponent.nameError(
                "unknown driver '\(driverComponent.name ?? "")' (known: \(drivers.keys.sorted().joined(separator: ", ")))"
            )
        }
        try serializerComponent.allowArguments([])
        guard let serializerName = serializerComponent.name, let writer = serializers[serializerName] else {
            throw serializerComponent.nameError(
                "unknown serializer '\(serializerComponent.name ?? "")' (known: \(serializerOrder.joined(separator: ", ")))"
            )
        }

        var values = Pipeline<SessionValue, SessionValue>()
        for entry in valueLayers.sorted(by: { ($0.order, $0.position) < ($1.order, $1.position) }) {
            values = values.layer(AnySessionLayer(try entry.factory(entry.component)))
        }
        var bytes = values.serialized(writing: writer, reading: serializerOrder.compactMap { serializers[$0] })
        for entry in byteLayers.sorted(by: { ($0.order, $0.position) < ($1.order, $1.position) }) {
            bytes = bytes.layer(AnySessionLayer(try entry.factory(entry.component)))
        }
        let driver = try makeDriver(driverComponent, clock)
        return (try bytes.driver(driver), driver)
    }
}

/// Any layer behind one concrete type, for layers chosen at run time.
public struct AnySessionLayer<Below: Sendable, Above: Sendable>: SessionLayer {
    /// The wrapped layer.
    public let base: any SessionLayer<Below, Above>

    /// Wraps `base`.
    public init(_ base: any SessionLayer<Below, Above>) {
        self.base = base
    }

    /// The wrapped layer's name.
    public var name: String { base.name }

    /// Builds the wrapped layer over `store`.
    public func wrap(_ store: some RecordStore<Below>) throws -> any RecordStore<Above> {
        try base.wrap(store)
    }
}

extension SessionStore {
    /// Builds the store `configuration` describes, with the names `registry` knows.
    ///
    /// ```swift
    /// let store = try SessionStore(
    ///     configuration: "driver:file;root=/var/lib/app/sessions;serializer:binary;encrypt:env=SESSION_KEYS",
    ///     registry: .standard
    /// )
    /// ```
    public init(configuration: String, registry: ConfigurationRegistry, clock: any SessionClock = SystemClock()) throws
    {
        self = try registry.store(configuration, clock: clock)
    }
}

extension ConfigurationRegistry {
    /// The drivers and layers of this module: `driver:memory`, `driver:file`, `compress`,
    /// `encrypt`, `sign`, `namespace`, `hash-ids`, `cache`. No serializer: use
    /// `ConfigurationRegistry.standard` from the `Serializers` module.
    public static var core: ConfigurationRegistry {
        var registry = ConfigurationRegistry()
        registry.register(driver: "memory") { component, clock in
            try component.allowArguments(["capacity"])
            let capacity = try component.integer("capacity", in: 1...Int(Int32.max))
            return AnyRecordStore(MemoryDriver<[UInt8]>(capacity: capacity, clock: clock))
        }
        registry.register(driver: "file") { component, clock in
            try component.allowArguments(["root", "fsync", "fanout", "max"])
            var configuration = FileDriver.Configuration()
            if try component.boolean("fsync") == false { configuration.durability = .none }
            configuration.fanOutLevels = try component.integer("fanout", in: 0...2) ?? 1
            configuration.maximumValueSize = try component.integer("max", in: 1...Int(UInt32.max)) ?? (16 << 20)
            return AnyRecordStore(
                try FileDriver(root: try component.requiredString("root"), configuration: configuration, clock: clock)
            )
        }
        registry.register(byteLayer: "compress", order: 10) { component in
            try component.allowArguments(["level", "threshold", "max"])
            let threshold = try component.integer("threshold", in: 0...Int(Int32.max)) ?? 256
            let maximum =
                try component.integer("max", in: 1...Int(UInt32.max) - 1) ?? Compression.defaultMaximumDecompressedSize
            let codec: Compression.Codec
            switch component.name {
            case "zstd": codec = .zstd(level: try component.integer("level", in: Codecs.zstdLevels) ?? 1)
            case "deflate": codec = .deflate(level: try component.integer("level", in: 1...9) ?? 6)
            default: throw component.nameError("compress needs a codec: zstd or deflate")
            }
            return Compression(codec, threshold: threshold, maximumDecompressedSize: maximum)
        }
        registry.register(byteLayer: "sign", order: 30) { component in
            try component.allowArguments(["env", "file"])
            return Signing(keys: try KeyRing(from: component))
        }
        registry.register(byteLayer: "encrypt", order: 40) { component in
            try component.allowArguments(["env", "file", "reseal", "migrate"])
            return Encryption(
                keys: try KeyRing(from: component),
                configuration: Encryption.Configuration(
                    resealOnRead: try component.boolean("reseal") ?? false,
                    acceptUnsealed: try component.boolean("migrate") ?? false
                )
            )
        }
        registry.register(valueLayer: "namespace", order: 40) { component in
            try component.allowArguments([])
            guard let name = component.name, let prefix = try? SessionKey.Prefix(validating: name) else {
                throw component.nameError("namespace needs a name of letters, digits, '_' and '-'")
            }
            return Namespace<SessionValue>(prefix)
        }
        registry.register(valueLayer: "hash-ids", order: 50) { component in
            try component.allowArguments(["env", "file"])
            let key: SecretKey
            switch try component.keySource() {
            case .environment(let name): key = try SecretKey(environment: name)
            case .file(let path): key = try SecretKey(contentsOfFile: path)
            case .code: preconditionFailure("a configuration names its keys")
            }
            return HashedIDs<SessionValue>(key: key)
        }
        registry.register(valueLayer: "cache", order: 10) { component in
            try component.allowArguments(["entries", "bytes", "ttl"])
            let bytes: Int?
            if component.string("bytes") == "none" {
                bytes = nil
            } else {
                bytes = try component.integer("bytes", in: 1...Int.max) ?? (64 << 20)
            }
            return SessionCache(
                entries: try component.integer("entries", in: 1...Int(Int32.max)) ?? 10_000,
                bytes: bytes,
                ttl: try component.seconds("ttl") ?? .seconds(300)
            )
        }
        return registry
    }
}

extension KeyRing {
    /// Loads the ring a component names with `env=` or `file=`.
    package init(from component: ConfigurationComponent) throws {
        switch try component.keySource() {
        case .environment(let name): self = try KeyRing(environment: name)
        case .file(let path): self = try KeyRing(contentsOfFile: path)
        case .code: preconditionFailure("a configuration names its keys")
        }
    }
}
