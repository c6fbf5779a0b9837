// libFuzzer entry point: the MessagePack reader.
//
// Run with scripts/fuzz.sh. Any input must either be refused with a SessionError or read as a
// value that writes back and reads again as the same value; anything else stops the fuzzer.

import Serializers
import SessionPipeline

/// Reads one fuzz input; crashes only when a promise of the decoder is broken.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let serializer = MessagePackSerializer()
    let payload = [serializer.tag] + UnsafeBufferPointer(start: data, count: size)
    let value: SessionValue
    do {
        value = try serializer.deserialize(payload)
    } catch is SessionError {
        return 0
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
    return 0
}
