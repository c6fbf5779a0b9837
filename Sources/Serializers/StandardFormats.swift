public import SessionPipeline

/// The formats this module ships, which a store built with ``SessionPipeline/Pipeline/serialized(_:)``
/// always reads.
public enum StandardFormats {
    /// Every built-in format: JSON, binary (MessagePack), and binary and XML property lists.
    public static var all: [any SessionSerializer] {
        [
            JSONSerializer(), MessagePackSerializer(), PropertyListSerializer(format: .binary),
            PropertyListSerializer(format: .xml),
        ]
    }
}

extension Pipeline where Bottom == SessionValue {
    /// Adds a ``SessionPipeline/Serialization`` layer that writes `format` and reads every built-in
    /// format, so records written before a change of format keep reading.
    ///
    /// ```swift
    /// let store = try SessionStore.pipeline()
    ///     .serialized(.json)
    ///     .driver(MemoryDriver())
    /// ```
    public func serialized(_ format: some SessionSerializer) -> Pipeline<Top, [UInt8]> {
        serialized(writing: format, reading: StandardFormats.all)
    }
}

extension ConfigurationRegistry {
    /// ``SessionPipeline/ConfigurationRegistry/core`` with every built-in serializer:
    /// `serializer:json`, `serializer:binary`, `serializer:plist-binary`, `serializer:plist-xml`.
    public static var standard: ConfigurationRegistry {
        var registry = ConfigurationRegistry.core
        for serializer in StandardFormats.all {
            registry.register(serializer: serializer)
        }
        return registry
    }
}
