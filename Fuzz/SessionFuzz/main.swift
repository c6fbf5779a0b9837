// libFuzzer entry point for every fuzz target; `SESSION_FUZZ_TARGET` chooses which one runs.
//
// Run with scripts/fuzz.sh. libFuzzer supplies `main`, so this file holds only the entry point:
// top-level code here would never run.

/// Hands one fuzz input to the chosen target; crashes only when a promise of the code under test
/// is broken.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.chosen.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
