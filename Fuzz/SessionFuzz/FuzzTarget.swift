// The fuzz targets, one per decoder that reads outside input.

import Serializers
import SessionPipeline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A decoder under fuzzing. Any input must either be refused with a `SessionError` or read as a
/// value that writes back and reads again as the same value; anything else stops the fuzzer.
enum FuzzTarget: String, CaseIterable {
    case json
    case binary
    case plistBinary = "plist-binary"
    case plistXML = "plist-xml"

    /// The target named by `SESSION_FUZZ_TARGET`, read once; an unknown or missing name stops the
    /// run at the first input, before it can pass for a fuzzing run.
    static let chosen: FuzzTarget = {
        guard let name = getenv("SESSION_FUZZ_TARGET").map({ String(cString: $0) }),
            let target = FuzzTarget(rawValue: name)
        else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            fatalError("set SESSION_FUZZ_TARGET to one of: \(names)")
        }
        return target
    }()

    private var serializer: any SessionSerializer {
        switch self {
        case .json: JSONSerializer()
        case .binary: MessagePackSerializer()
        case .plistBinary: PropertyListSerializer(format: .binary)
        case .plistXML: PropertyListSerializer(format: .xml)
        }
    }

    /// Feeds one input to the target.
    func run(_ input: UnsafeBufferPointer<UInt8>) {
        let serializer = self.serializer
        let payload = [serializer.tag] + input
        let value: SessionValue
        do {
            value = try serializer.deserialize(payload)
        } catch is SessionError {
            return
        } catch {
            preconditionFailure("a decoder threw something other than SessionError: \(error)")
        }
        do {
            let written = try serializer.serialize(value)
            let again = try serializer.deserialize(written)
            precondition(again == value, "a value read from fuzz input did not survive a round trip")
        } catch {
            preconditionFailure("a value read from fuzz input could not be written back: \(error)")
        }
    }
}
