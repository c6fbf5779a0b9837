// SessionBenchmarks: release-mode benchmarks of SessionPipeline.
//
//     swift run -c release --package-path Benchmarks SessionBenchmarks [allocations] [serializers] [cookies] [stores] [roundtrip] [cache]
//
// Prints Markdown tables; every ratio compares figures measured in the same run.

import Foundation

let suites: [String: () async throws -> Void] = [
    "allocations": allocationBenchmarks,
    "serializers": { try serializerBenchmarks() },
    "cookies": cookieBenchmarks,
    "stores": storeBenchmarks,
    "roundtrip": roundTripBenchmarks,
    "cache": cacheBenchmarks,
]

// `profile FORMAT encode|decode SESSION SECONDS` repeats one operation, for `perf record`.
if CommandLine.arguments.dropFirst().first == "profile" {
    try profileSerializer(Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}

let requested = CommandLine.arguments.dropFirst()
let names = requested.isEmpty ? suites.keys.sorted() : Array(requested)
var info = utsname()
uname(&info)
let machine = withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
print("## SessionBenchmarks (\(machine), \(ProcessInfo.processInfo.activeProcessorCount) cores)")
for name in names {
    guard let suite = suites[name] else {
        print("unknown suite \(name); suites: \(suites.keys.sorted().joined(separator: ", "))")
        exit(2)
    }
    try await suite()
}
