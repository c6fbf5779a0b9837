import Foundation
import Serializers
import SessionPipeline

/// Encode and decode of the reference sessions in every format, against Foundation's JSON coders
/// on the same data, reported as ratios measured in the same run.
func serializerBenchmarks() throws {
    var rows: [[String]] = []
    var summary: [String] = []
    for name in ["session_1k", "session_8k"] {
        let data = try payload(name)
        let value = try JSONSerializer().value(fromText: String(decoding: data, as: UTF8.self))
        let typed = try JSONDecoder().decode(ReferenceSession.self, from: data)
        let untyped = try JSONSerialization.jsonObject(with: data)

        var results: [(String, Measurement, Measurement, Int)] = []
        for serializer in StandardFormats.all {
            let bytes = try serializer.serialize(value)
            precondition(try serializer.deserialize(bytes) == value)
            let encode = try measure("\(serializer.name) encode") { blackHole(try serializer.serialize(value)) }
            let decode = try measure("\(serializer.name) decode") { blackHole(try serializer.deserialize(bytes)) }
            results.append((serializer.name, encode, decode, bytes.count))
        }

        // The typed path through this library: Codable → session values → JSON bytes, and back.
        let valueEncoder = SessionValueEncoder()
        let valueDecoder = SessionValueDecoder()
        let json = JSONSerializer()
        let typedBytes = try json.serialize(valueEncoder.encode(typed))
        precondition(try valueDecoder.decode(ReferenceSession.self, from: json.deserialize(typedBytes)) == typed)
        let typedEncode = try measure("json + Codable bridge encode") {
            blackHole(try json.serialize(valueEncoder.encode(typed)))
        }
        let typedDecode = try measure("json + Codable bridge decode") {
            blackHole(try valueDecoder.decode(ReferenceSession.self, from: json.deserialize(typedBytes)))
        }
        results.append(("json + Codable bridge (typed)", typedEncode, typedDecode, typedBytes.count))

        // Foundation on the same data.
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        let foundationBytes = try encoder.encode(typed)
        let foundationEncode = try measure("JSONEncoder") { blackHole(try encoder.encode(typed)) }
        let foundationDecode = try measure("JSONDecoder") {
            blackHole(try decoder.decode(ReferenceSession.self, from: foundationBytes))
        }
        results.append(
            ("Foundation JSONEncoder/JSONDecoder (typed)", foundationEncode, foundationDecode, foundationBytes.count))
        let serializationBytes = try JSONSerialization.data(withJSONObject: untyped)
        let serializationEncode = try measure("JSONSerialization write") {
            blackHole(try JSONSerialization.data(withJSONObject: untyped))
        }
        let serializationDecode = try measure("JSONSerialization read") {
            blackHole(try JSONSerialization.jsonObject(with: serializationBytes))
        }
        results.append(
            (
                "Foundation JSONSerialization (untyped)", serializationEncode, serializationDecode,
                serializationBytes.count
            ))

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
