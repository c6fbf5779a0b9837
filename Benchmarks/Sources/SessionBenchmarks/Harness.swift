import Foundation

/// Keeps a result alive so the optimizer cannot remove the work that made it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// The time one operation takes, from repeated samples.
struct Measurement {
    let name: String
    /// The median of the samples, in nanoseconds per operation.
    let median: Double
    /// The fastest sample, in nanoseconds per operation.
    let fastest: Double

    var microseconds: String { String(format: "%.2f", median / 1000) }
}

/// One operation to time.
struct Case {
    let name: String
    let body: () throws -> Void
}

/// Times `cases` interleaved: each round takes one sample of about 10 ms of every case in turn, so a
/// slow moment of a noisy machine touches all of them alike; the result per case is the median and
/// the fastest of its samples, per operation. Ratios between cases are best computed from these
/// medians of one call.
func measure(_ cases: [Case], rounds: Int = 25) throws -> [Measurement] {
    let cases = selected(cases) { $0.name }
    if let count = fixedCount() {
        for entry in cases {
            for _ in 0..<count { try entry.body() }
        }
        exit(0)
    }
    let clock = ContinuousClock()
    // Warm up and calibrate each case to about 10 ms a sample.
    var iterations: [Int] = []
    for entry in cases {
        var count = 1
        while true {
            let start = clock.now
            for _ in 0..<count { try entry.body() }
            if clock.now - start > .milliseconds(10) || count >= 1 << 24 { break }
            count *= 2
        }
        iterations.append(count)
    }
    var samples = [[Double]](repeating: [], count: cases.count)
    for _ in 0..<rounds {
        for (index, entry) in cases.enumerated() {
            let start = clock.now
            for _ in 0..<iterations[index] { try entry.body() }
            samples[index].append(seconds(clock.now - start) * 1e9 / Double(iterations[index]))
        }
    }
    return summarize(names: cases.map(\.name), samples: samples)
}

/// `BENCHMARK_CASE=TEXT` keeps only the cases whose names contain TEXT (for profiling one),
/// `BENCHMARK_CASE==NAME` only the case named exactly NAME; unset, every case runs.
func selected<C>(_ cases: [C], name: (C) -> String) -> [C] {
    guard let only = ProcessInfo.processInfo.environment["BENCHMARK_CASE"] else { return cases }
    if only.hasPrefix("=") { return cases.filter { name($0) == only.dropFirst() } }
    return cases.filter { name($0).contains(only) }
}

/// `BENCHMARK_COUNT=N`: run each selected case exactly N times, untimed, and stop — for counting
/// events per operation with `perf stat` (the difference between two counts over the difference
/// between their N).
func fixedCount() -> Int? {
    ProcessInfo.processInfo.environment["BENCHMARK_COUNT"].flatMap { Int($0) }
}

/// The median and fastest of each case's samples. With `BENCHMARK_CASE` set, a suite's tables
/// cannot be made from the cases that ran, so they are printed and the program stops.
func summarize(names: [String], samples: [[Double]]) -> [Measurement] {
    let measurements = zip(names, samples).map { name, values in
        let sorted = values.sorted()
        return Measurement(name: name, median: sorted[sorted.count / 2], fastest: sorted[0])
    }
    if ProcessInfo.processInfo.environment["BENCHMARK_CASE"] != nil {
        for measurement in measurements { print("\(measurement.name): \(measurement.microseconds) µs") }
        exit(0)
    }
    return measurements
}

/// Prints a Markdown table of measurements.
func printTable(_ title: String, columns: [String], rows: [[String]]) {
    print("\n### \(title)\n")
    print("| " + columns.joined(separator: " | ") + " |")
    print("|" + columns.map { _ in "---" }.joined(separator: "|") + "|")
    for row in rows {
        print("| " + row.joined(separator: " | ") + " |")
    }
}

/// The names of the reference sessions a suite runs on: both, or only the one named by
/// `BENCHMARK_SESSION` (`session_1k` or `session_8k`), so that a profile holds one size.
func referenceSessions() -> [String] {
    let all = ["session_1k", "session_8k"]
    guard let only = ProcessInfo.processInfo.environment["BENCHMARK_SESSION"] else { return all }
    return all.filter { $0 == only }
}

/// The reference sessions in `Benchmarks/Payloads`, by name.
func payload(_ name: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: repositoryRoot() + "/Benchmarks/Payloads/\(name).json"))
}

/// The repository's root directory.
func repositoryRoot() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
}

/// Seconds in `duration`, as a `Double`.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
