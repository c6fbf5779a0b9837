import Foundation
import SessionPipeline
import Testing

struct SessionValueTests {
    @Test func equalityIsExactForDoubles() {
        #expect(SessionValue.double(0.0) != .double(-0.0))
        #expect(SessionValue.double(.nan) == .double(.nan))
        #expect(SessionValue.double(1) != .int(1))
        #expect(Set<SessionValue>([.double(0.0), .double(-0.0)]).count == 2)
    }

    @Test func literalsBuildTheExpectedKinds() {
        let value: SessionValue = ["a": 1, "b": [true, 2.5, "x"], "c": .null]
        #expect(value.dictionaryValue?["a"] == .int(1))
        #expect(value.dictionaryValue?["b"]?.arrayValue == [.bool(true), .double(2.5), .string("x")])
        #expect(value.kindsUsed == SessionValue.Kinds([.dictionary, .int, .array, .bool, .double, .string, .null]))
    }

    @Test func accessorsReturnNilForOtherKinds() {
        let value: SessionValue = "text"
        #expect(value.stringValue == "text")
        #expect(value.intValue == nil)
        #expect(SessionValue.int(3).doubleValue == 3)
        #expect(SessionValue.int(.max).doubleValue == nil)
        #expect(SessionValue(Data([1, 2])) == .bytes([1, 2]))
    }

    @Test func datesKeepMicrosecondsAndRoundOnEntry() {
        let date = Date(timeIntervalSince1970: 1_718_000_000.123_456_7)
        let session = SessionDate(date)
        #expect(session.microsecondsSince1970 == 1_718_000_000_123_457)
        #expect(SessionDate(session.date) == session)
        #expect(session.description == "2024-06-10T06:13:20.123457Z")
        let before = SessionDate(microsecondsSince1970: -1)
        #expect(before.secondsSince1970 == -1)
        #expect(before.microsecondOfSecond == 999_999)
        #expect(before.description == "1969-12-31T23:59:59.999999Z")
        #expect(SessionDate(Date(timeIntervalSince1970: .infinity)).microsecondsSince1970 == .max)
    }

    @Test func unixTimeArithmeticRoundsUpAndClamps() {
        let now: UnixTime = 100
        #expect((now + .milliseconds(1)).seconds == 101)
        #expect((now + .seconds(30)).seconds == 130)
        #expect((now - .seconds(30)).seconds == 70)
        #expect((UnixTime(seconds: .max - 1) + .seconds(10)).seconds == .max)
        #expect(Optional(now).hasExpired(at: 100))
        #expect(!Optional(now).hasExpired(at: 99))
        #expect(!Optional<UnixTime>.none.hasExpired(at: .init(seconds: .max)))
    }

    @Test func descriptionsDumpValuesForDebugging() {
        let value: SessionValue = ["b": 1, "a": ["x", .null], "c": .bytes([1, 2])]
        #expect(value.description == #"{"a": ["x", null], "b": 1, "c": <2 bytes>}"#)
        #expect(SessionDictionary(["k": true]).description == #"{"k": true}"#)
    }

    @Test func manualClockMovesOnlyWhenTold() {
        let clock = ManualClock(now: 10)
        #expect(clock.now() == 10)
        clock.advance(by: .seconds(5))
        #expect(clock.now() == 15)
        clock.set(3)
        #expect(clock.now() == 3)
    }
}
