// Hand-written on purpose, as glue rather than a replacement: swift-asn1 (1.7.4) has no `Date` API, and
// swift-certificates (1.21.1) keeps its conversions internal (`Date.init(_: GeneralizedTime)`, `Date.init(_:
// UTCTime)`, `GeneralizedTime.init(_: Date)`, `Time.makeTime(from:)` in Sources/X509/X509BaseTypes/Time.swift);
// its public API takes or gives a `Date` only for whole objects (a certificate's validity, a CMS signing time),
// not for the OCSP and CRL times written and read here.
// Why: no benchmark needed for the conversions. `appendX509Time` alone exists for speed, for CardCertificateEncoder
// (see that file's header); no benchmark isolates it from the encoder.

import Foundation
import OpenCPSDomain
import SwiftASN1

/// Conversions between `Date` and the ASN.1 time types, always in UTC and to the second.
enum DERTime {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Drops the fraction of a second, as DER times here carry none.
    static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    static func generalizedTime(_ date: Date) throws -> GeneralizedTime {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return try GeneralizedTime(year: c.year!, month: c.month!, day: c.day!, hours: c.hour!,
                                   minutes: c.minute!, seconds: c.second!, fractionalSeconds: 0)
    }

    static func date(_ time: GeneralizedTime) throws -> Date {
        let c = DateComponents(calendar: calendar, timeZone: calendar.timeZone, year: time.year, month: time.month,
                               day: time.day, hour: time.hours, minute: time.minutes, second: time.seconds)
        guard let date = calendar.date(from: c) else { throw PKIError.malformed("time", "invalid date") }
        return date.addingTimeInterval(time.fractionalSeconds)
    }

    static func date(_ time: UTCTime) throws -> Date {
        let c = DateComponents(calendar: calendar, timeZone: calendar.timeZone, year: time.year, month: time.month,
                               day: time.day, hour: time.hours, minute: time.minutes, second: time.seconds)
        guard let date = calendar.date(from: c) else { throw PKIError.malformed("time", "invalid date") }
        return date
    }

    /// Serializes an RFC 5280 `Time`: UTCTime through 2049, GeneralizedTime from 2050.
    static func serializeX509Time(_ date: Date, into coder: inout DER.Serializer) throws {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        if c.year! < 2050 {
            try coder.serialize(UTCTime(year: c.year!, month: c.month!, day: c.day!, hours: c.hour!,
                                        minutes: c.minute!, seconds: c.second!))
        } else {
            try coder.serialize(generalizedTime(date))
        }
    }

    /// Appends an RFC 5280 `Time` of `date` (its whole seconds): UTCTime for the years 1950
    /// to 2049, GeneralizedTime otherwise, as swift-certificates writes them, from the date's
    /// seconds alone (the issuance path writes two per certificate; a `Calendar` costs more).
    static func appendX509Time(_ date: Date, to bytes: inout [UInt8]) {
        let (day, time) = CivilDate.dayAndSecond(of: date)
        let (year, month, dayOfMonth) = (day.year, day.month, day.day)
        let utc = (1950..<2050).contains(year)
        bytes.append(utc ? DERWriter.Tag.utcTime : DERWriter.Tag.generalizedTime)
        bytes.append(utc ? 13 : 15)
        func two(_ value: Int) {
            bytes.append(UInt8(ascii: "0") + UInt8(value / 10))
            bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        if utc {
            two(year % 100)
        } else {
            two(year / 100)
            two(year % 100)
        }
        two(month)
        two(dayOfMonth)
        two(time / 3600)
        two(time / 60 % 60)
        two(time % 60)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// Parses an RFC 5280 `Time` (UTCTime or GeneralizedTime).
    static func parseX509Time(_ node: ASN1Node) throws -> Date {
        switch node.identifier {
        case .utcTime: return try date(UTCTime(derEncoded: node))
        case .generalizedTime: return try date(GeneralizedTime(derEncoded: node))
        default: throw PKIError.malformed("time", "expected UTCTime or GeneralizedTime")
        }
    }
}
