import Foundation
import Serializers
import SessionPipeline

/// Encode and decode of the reference sessions in every format, against Foundation's JSON coders
/// on the same data, reported as ratios measured in the same run.
func serializerBenchmarks() throws {
    var rows: [[String]] = []
    var summary: [String] = []
    for name in referenceSessions() {
        let data = try payload(name)
        let value = try JSONSerializer().value(fromText: String(decoding: data, as: UTF8.self))
        let typed = try JSONDecoder().decode(ReferenceSession.self, from: data)
        let untyped = try JSONSerialization.jsonObject(with: data)

        // Every case of this session is timed in one interleaved run.
        var cases: [Case] = []
        var sizes: [(String, Int)] = []
        for serializer in StandardFormats.all {
            let bytes = try serializer.serialize(value)
            let check = try serializer.deserialize(bytes)
            precondition(check == value)
            cases.append(Case(name: serializer.name + " encode") { blackHole(try serializer.serialize(value)) })
            cases.append(Case(name: serializer.name + " decode") { blackHole(try serializer.deserialize(bytes)) })
            sizes.append((serializer.name, bytes.count))
        }

        // The typed path through this library: Codable → session values → JSON bytes, and back.
        let valueEncoder = SessionValueEncoder()
        let valueDecoder = SessionValueDecoder()
        let json = JSONSerializer()
        let typedBytes = try json.serialize(valueEncoder.encode(typed))
        let typedCheck = try valueDecoder.decode(ReferenceSession.self, from: json.deserialize(typedBytes))
        precondition(typedCheck == typed)
        let typedName = "json + Codable bridge (typed)"
        cases.append(Case(name: typedName + " encode") { blackHole(try json.serialize(valueEncoder.encode(typed))) })
        cases.append(
            Case(name: typedName + " decode") {
                blackHole(try valueDecoder.decode(ReferenceSession.self, from: json.deserialize(typedBytes)))
            }
        )
        sizes.append((typedName, typedBytes.count))

        // Foundation on the same data.
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        let foundationBytes = try encoder.encode(typed)
        let foundationName = "Foundation JSONEncoder/JSONDecoder (typed)"
        cases.append(Case(name: foundationName + " encode") { blackHole(try encoder.encode(typed)) })
        cases.append(
            Case(name: foundationName + " decode") {
                blackHole(try decoder.decode(ReferenceSession.self, from: foundationBytes))
            }
        )
        sizes.append((foundationName, foundationBytes.count))
        let serializationBytes = try JSONSerialization.data(withJSONObject: untyped)
        let serializationName = "Foundation JSONSerialization (untyped)"
        cases.append(
            Case(name: serializationName + " encode") { blackHole(try JSONSerialization.data(withJSONObject: untyped)) }
        )
        cases.append(
            Case(name: serializationName + " decode") {
                blackHole(try JSONSerialization.jsonObject(with: serializationBytes))
            }
        )
        sizes.append((serializationName, serializationBytes.count))

        let measured = try measure(cases)
        var results: [(String, Measurement, Measurement, Int)] = []
        for (index, (name, size)) in sizes.enumerated() {
            results.append((name, measured[2 * index], measured[2 * index + 1], size))
        }

        let roundTrip = { (entry: (String, Measurement, Measurement, Int)) in entry.1.median + entry.2.median }
        let foundation = roundTrip(results.first { $0.0.hasPrefix("Foundation JSONEncoder") }!)
        for entry in results {
            rows.append([
                name, entry.0, entry.1.microseconds, entry.2.microseconds,
                String(format: "%.2f", roundTrip(entry) / 1000), String(format: "%.1f×", foundation / roundTrip(entry)),
                String(entry.3),
            ])
        }
        let ours = roundTrip(results.first { $0.0 == "json" }!)
        let binary = roundTrip(results.first { $0.0 == "binary" }!)
        let typedOurs = roundTrip(results.first { $0.0.hasPrefix("json + Codable") }!)
        summary.append(
            "\(name): JSON round trip \(String(format: "%.1f", foundation / ours))× faster than JSONEncoder+JSONDecoder "
                + "(typed through the Codable bridge: \(String(format: "%.1f", foundation / typedOurs))×); "
                + "binary round trip \(String(format: "%.1f", ours / binary))× faster than JSON"
        )
    }
    printTable(
        "Serializers (median µs per operation)",
        columns: [
            "session", "format", "encode µs", "decode µs", "round trip µs", "speed-up vs JSONEncoder+Decoder", "bytes",
        ],
        rows: rows
    )
    print("")
    for line in summary { print("- " + line) }
}

/// Repeats one serializer operation for a while: `FORMAT encode|decode SESSION SECONDS`.
func profileSerializer(_ arguments: [String]) throws {
    guard arguments.count == 4, let serializer = StandardFormats.all.first(where: { $0.name == arguments[0] }),
        let seconds = Double(arguments[3])
    else {
        print("usage: SessionBenchmarks profile FORMAT encode|decode session_1k|session_8k SECONDS")
        exit(2)
    }
    let data = try payload(arguments[2])
    let value = try JSONSerializer().value(fromText: String(decoding: data, as: UTF8.self))
    let bytes = try serializer.serialize(value)
    let clock = ContinuousClock()
    let end = clock.now + .milliseconds(Int(seconds * 1000))
    var count = 0
    while clock.now < end {
        for _ in 0..<100 {
            if arguments[1] == "encode" {
                blackHole(try serializer.serialize(value))
            } else {
                blackHole(try serializer.deserialize(bytes))
            }
        }
        count += 100
    }
    print("\(count) operations")
}
