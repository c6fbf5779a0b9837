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

/// Measures `body`: calibrates a sample to about 10 ms, then takes `samples` samples and reports
/// the median and the fastest, per operation.
func measure(_ name: String, samples: Int = 21, _ body: () throws -> Void) rethrows -> Measurement {
    let clock = ContinuousClock()
    // Warm up and calibrate.
    var iterations = 1
    while true {
        let start = clock.now
        for _ in 0..<iterations { try body() }
        let elapsed = clock.now - start
        if elapsed > .milliseconds(10) || iterations >= 1 << 24 { break }
        iterations *= 2
    }
    var perOperation: [Double] = []
    for _ in 0..<samples {
        let start = clock.now
        for _ in 0..<iterations { try body() }
        let elapsed = clock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        perOperation.append(nanoseconds / Double(iterations))
    }
    perOperation.sort()
    return Measurement(name: name, median: perOperation[samples / 2], fastest: perOperation[0])
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

/// The reference sessions in `Benchmarks/Payloads`, by name.
func payload(_ name: String) throws -> Data {
    let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try Data(contentsOf: directory.appendingPathComponent("Payloads/\(name).json"))
}
