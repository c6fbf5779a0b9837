import Foundation
import SessionPipeline
import Testing

struct Item: Codable, Equatable {
    var sku: String
    var quantity: Int
    var price: Double
}

struct Cart: Codable, Equatable {
    var items: [Item]
    var coupon: String?
    var updated: Date
    var token: Data
    var tags: Set<String>
    var counts: [String: UInt16]
}

struct SessionDictionaryTests {
    let cart = Cart(
        items: [Item(sku: "SKU-1", quantity: 2, price: 9.99), Item(sku: "SKU-2", quantity: 1, price: 120)],
        coupon: nil,
        updated: Date(timeIntervalSince1970: 1_718_000_000.5),
        token: Data([0xDE, 0xAD]),
        tags: ["gift"],
        counts: ["a": 1]
    )

    @Test func codableValuesRoundTripThroughSessionValues() throws {
        var session = SessionDictionary()
        try session.set(cart, for: "cart")
        #expect(try session.get(Cart.self, "cart") == cart)
        let stored = try #require(session["cart"]?.dictionaryValue)
        #expect(stored["updated"] == .date(SessionDate(microsecondsSince1970: 1_718_000_000_500_000)))
        #expect(stored["token"] == .bytes([0xDE, 0xAD]))
        #expect(stored["items"]?.arrayValue?.first?.dictionaryValue?["quantity"] == .int(2))
    }

    @Test func absentKeysReadAsNil() throws {
        #expect(try SessionDictionary().get(Cart.self, "cart") == nil)
    }

    @Test func aTypeMismatchNamesTheKeyThePathAndTheType() throws {
        var session = SessionDictionary()
        session["cart"] = ["items": [["sku": "A", "quantity": "two", "price": 1.0]], "updated": 0]
        let error = #expect(throws: SessionError.self) { try session.get(Cart.self, "cart") }
        #expect(error?.code == .typeMismatch)
        let message = error?.message ?? ""
        #expect(message.contains("'cart'"), "\(message)")
        #expect(message.contains("items[0].quantity"), "\(message)")
        #expect(message.contains("Int"), "\(message)")
    }

    @Test func numbersConvertOnlyWithoutLoss() throws {
        let session: SessionDictionary = ["small": 300, "whole": 4.0, "half": 4.5, "big": .int(.max)]
        #expect(try session.get(UInt16.self, "small") == 300)
        #expect(throws: SessionError.self) { try session.get(UInt8.self, "small") }
        #expect(try session.get(Int.self, "whole") == 4)
        #expect(throws: SessionError.self) { try session.get(Int.self, "half") }
        #expect(throws: SessionError.self) { try session.get(Double.self, "big") }
        #expect(try session.get(Double.self, "small") == 300)
    }

    @Test func unsignedValuesBeyondInt64AreRefused() throws {
        var session = SessionDictionary()
        let error = #expect(throws: SessionError.self) { try session.set(UInt64.max, for: "n") }
        #expect(error?.code == .invalidValue)
        #expect(error?.message.contains("'n'") == true)
        try session.set(UInt64(Int64.max), for: "n")
        #expect(session["n"] == .int(.max))
    }

    @Test func copiesAreIndependent() {
        var first: SessionDictionary = ["a": 1]
        let second = first
        first["a"] = 2
        #expect(second["a"] == 1)
        #expect(first != second)
    }

    @Test func sessionValuesAndOptionalsPassThroughTheBridge() throws {
        var session = SessionDictionary()
        let nested: SessionValue = ["x": [1, 2]]
        try session.set(nested, for: "raw")
        #expect(session["raw"] == nested)
        let optional: String? = nil
        try session.set(optional, for: "maybe")
        #expect(session["maybe"] == .null)
        #expect(try session.get(String?.self, "maybe") == .some(nil))
        try session.set(URL(string: "https://example.com/a?b=1")!, for: "url")
        #expect(try session.get(URL.self, "url")?.absoluteString == "https://example.com/a?b=1")
    }

    @Test func classesWithSuperEncodersRoundTrip() throws {
        let value = Child(name: "c", base: 7)
        var session = SessionDictionary()
        try session.set(value, for: "child")
        let read = try #require(try session.get(Child.self, "child"))
        #expect(read.name == "c" && read.base == 7)
    }
}

class Parent: Codable {
    var base: Int
    init(base: Int) { self.base = base }
}

final class Child: Parent {
    var name: String
    enum CodingKeys: String, CodingKey { case name }

    init(name: String, base: Int) {
        self.name = name
        super.init(base: base)
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try super.encode(to: container.superEncoder())
    }
}
