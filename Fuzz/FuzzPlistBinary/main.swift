// libFuzzer entry point of the `plistBinary` fuzz target (Fuzz/FuzzTargets); run with scripts/fuzz.sh.
// libFuzzer supplies `main`, so this file holds only the entry point.

import FuzzTargets

/// Hands one input to the target; crashes only when a promise of the code under test is broken.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.plistBinary.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
