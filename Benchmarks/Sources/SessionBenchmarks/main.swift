// SessionBenchmarks: release-mode benchmarks of SessionPipeline.
//
//     swift run -c release --package-path Benchmarks SessionBenchmarks [allocations] [serializers] [cookies] [stores] [roundtrip] [cache] [scaling]
//
// Prints Markdown tables; every ratio compares figures measured in the same run.

import Foundation

let suites: [String: () async throws -> Void] = [
    "allocations": allocationBenchmarks,
    "serializers": { try serializerBenchmarks() },
    "cookies": cookieBenchmarks,
    "stores": storeBenchmarks,
    "roundtrip": roundTripBenchmarks,
    "scaling": scalingBenchmarks,
    "cache": cacheBenchmarks,
]

// `profile FORMAT encode|decode SESSION SECONDS` repeats one operation, for `perf record`.
if CommandLine.arguments.dropFirst().first == "profile" {
    try profileSerializer(Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}

let requested = CommandLine.arguments.dropFirst()
// Without arguments, every suite but `scaling` (minutes long; it rewrites docs/scaling.json).
let names = requested.isEmpty ? suites.keys.sorted().filter { $0 != "scaling" } : Array(requested)
print("## SessionBenchmarks (\(machineDescription()))")
for name in names {
    guard let suite = suites[name] else {
        print("unknown suite \(name); suites: \(suites.keys.sorted().joined(separator: ", "))")
        exit(2)
    }
    try await suite()
}
