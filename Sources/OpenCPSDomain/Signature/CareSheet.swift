import Foundation

/// A care sheet that cannot be read or whose content breaks a rule.
public struct CareSheetError: DomainError, Equatable {
    /// The stable code, such as `care-sheet.nir.invalid-key`.
    public let code: String
    /// Why.
    public let reason: String

    /// Creates an error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// The insured person's registration number (*NIR*, numéro d'inscription au répertoire) with its
/// key, as the Vitale card carries it.
///
/// Thirteen characters (sex, year and month of birth, department — `2A` and `2B` for Corsica —,
/// commune, order number) and a two-digit key: key = 97 − (NIR mod 97), where the INSEE rule
/// reads `2A` as 19 and `2B` as 18 for the computation.
public struct NIR: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 13 characters.
    public let number: String
    /// The two-digit key.
    public let key: String

    /// Checks and creates a NIR.
    /// - Throws: ``CareSheetError`` `care-sheet.nir.malformed` or `care-sheet.nir.invalid-key`.
    public init(number: String, key: String) throws(CareSheetError) {
        let characters = Array(number.uppercased())
        let isDigit: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        guard characters.count == 13 else {
            throw CareSheetError(code: "care-sheet.nir.malformed", reason: "a NIR has 13 characters, not \(characters.count)")
        }
        let corsica = characters[5] == "2" && (characters[6] == "A" || characters[6] == "B")
        for (index, character) in characters.enumerated() where !isDigit(character) && !(corsica && index == 6) {
            throw CareSheetError(code: "care-sheet.nir.malformed", reason: "a NIR is digits (2A or 2B for Corsica): \"\(number)\"")
        }
        guard key.count == 2, key.allSatisfy(isDigit) else {
            throw CareSheetError(code: "care-sheet.nir.malformed", reason: "a NIR key has two digits, not \"\(key)\"")
        }
        var digits = String(characters)
        if corsica { digits = String(characters[0..<5]) + (characters[6] == "A" ? "19" : "18") + String(characters[7...]) }
        let expected = NIR.key(of: Int64(digits)!)
        guard Int(key) == expected else {
            throw CareSheetError(code: "care-sheet.nir.invalid-key", reason: "the key of NIR \(number) is \(String(format: "%02d", expected)), not \(key)")
        }
        self.number = String(characters)
        self.key = key
    }

    /// The key of a 13-digit number: 97 − (number mod 97).
    public static func key(of number: Int64) -> Int { 97 - Int(number % 97) }

    /// The number and key, such as `1 84 12 76 451 089 46` written without spaces.
    public var description: String { number + key }

    enum CodingKeys: String, CodingKey { case number, key }

    /// Decodes and checks a NIR.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(number: container.decode(String.self, forKey: .number), key: container.decode(String.self, forKey: .key))
    }
}

/// The beneficiary of the care as the Vitale card identifies them: the insured person's NIR, and
/// the beneficiary's date of birth and rank (*rang gémellaire*, which tells twins apart).
///
/// The card writes the date of birth as `YYYYMMDD` and allows dates that are not calendar dates
/// (births registered with a lunar calendar or an unknown day or month). OpenCPS accepts month
/// 00–12 and day 00–31 without checking the calendar, and ranks 1–9: these bounds are OpenCPS's
/// reading, not an official specification of the Vitale card, which was not available.
public struct VitaleBeneficiary: Sendable, Hashable, Codable {
    /// The insured person's NIR (the beneficiary may be a child on their parent's card).
    public var nir: NIR
    /// The beneficiary's date of birth, `YYYYMMDD` as the card carries it.
    public var birthDate: String
    /// The beneficiary's rank of birth, 1 for a single birth.
    public var rank: Int

    /// Checks and creates the identifiers.
    /// - Throws: ``CareSheetError`` `care-sheet.beneficiary.birth-date-invalid` or `care-sheet.beneficiary.rank-invalid`.
    public init(nir: NIR, birthDate: String, rank: Int) throws(CareSheetError) {
        let digits = Array(birthDate)
        guard digits.count == 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let month = Int(String(digits[4...5])), let day = Int(String(digits[6...7])), month <= 12, day <= 31
        else {
            throw CareSheetError(code: "care-sheet.beneficiary.birth-date-invalid", reason: "a Vitale date of birth is YYYYMMDD (month 00–12, day 00–31), not \"\(birthDate)\"")
        }
        guard (1...9).contains(rank) else {
            throw CareSheetError(code: "care-sheet.beneficiary.rank-invalid", reason: "a rank of birth is 1 to 9, not \(rank)")
        }
        self.nir = nir
        self.birthDate = birthDate
        self.rank = rank
    }

    enum CodingKeys: String, CodingKey { case nir, birthDate, rank }

    /// Decodes and checks the identifiers.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(nir: container.decode(NIR.self, forKey: .nir), birthDate: container.decode(String.self, forKey: .birthDate),
                      rank: container.decode(Int.self, forKey: .rank))
    }
}

/// One act billed on a care sheet.
public struct BilledAct: Sendable, Hashable, Codable {
    /// The act's code in its nomenclature (an NGAP key such as `G`, or a CCAM code such as `YYYY010`).
    public var code: String
    /// How many times it was performed.
    public var quantity: Int
    /// The amount billed for the line, in euro cents.
    public var amountCents: Int

    /// Creates a line.
    public init(code: String, quantity: Int, amountCents: Int) {
        self.code = code
        self.quantity = quantity
        self.amountCents = amountCents
    }
}

/// The content of an electronic care sheet (*feuille de soins électronique*, FSE): who was cared
/// for, by whom, when, and what is billed.
///
/// This is OpenCPS's own JSON form for the demonstration payer (`POST /api/v1/payer/lots`), not
/// the SESAM-Vitale FSE format, whose specification is not public. The signed bytes are the
/// ``canonicalJSON()`` form: sorted keys, no whitespace.
public struct CareSheet: Sendable, Hashable, Codable {
    /// The patient, as the Vitale card identifies them.
    public var beneficiary: VitaleBeneficiary
    /// The executing professional's national identifier (idNat), as their signature certificate names it.
    public var professionalIdNat: String
    /// The date of care, `YYYY-MM-DD`.
    public var careDate: String
    /// The acts billed, at least one.
    public var acts: [BilledAct]
    /// The total billed in euro cents: the sum of the lines.
    public var totalCents: Int

    /// Checks and creates a care sheet; the total is the sum of the lines.
    /// - Throws: ``CareSheetError``.
    public init(beneficiary: VitaleBeneficiary, professionalIdNat: String, careDate: String, acts: [BilledAct]) throws(CareSheetError) {
        try self.init(beneficiary: beneficiary, professionalIdNat: professionalIdNat, careDate: careDate, acts: acts,
                      totalCents: acts.reduce(0) { $0 + $1.amountCents })
    }

    init(beneficiary: VitaleBeneficiary, professionalIdNat: String, careDate: String, acts: [BilledAct], totalCents: Int) throws(CareSheetError) {
        guard !professionalIdNat.isEmpty, professionalIdNat.count <= 64 else {
            throw CareSheetError(code: "care-sheet.professional-invalid", reason: "a care sheet names its executing professional's idNat")
        }
        guard CareSheet.isCalendarDate(careDate) else {
            throw CareSheetError(code: "care-sheet.care-date-invalid", reason: "the date of care is YYYY-MM-DD, not \"\(careDate)\"")
        }
        guard !acts.isEmpty else {
            throw CareSheetError(code: "care-sheet.acts-missing", reason: "a care sheet bills at least one act")
        }
        for act in acts {
            guard !act.code.isEmpty, act.code.count <= 16, act.code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw CareSheetError(code: "care-sheet.act-invalid", reason: "an act code is 1 to 16 letters and digits, not \"\(act.code)\"")
            }
            guard (1...999).contains(act.quantity), (0...10_000_000).contains(act.amountCents) else {
                throw CareSheetError(code: "care-sheet.act-invalid", reason: "act \(act.code): quantity 1–999 and amount 0–10 000 000 cents")
            }
        }
        let sum = acts.reduce(0) { $0 + $1.amountCents }
        guard totalCents == sum else {
            throw CareSheetError(code: "care-sheet.total-mismatch", reason: "the total is \(totalCents) cents but the acts add up to \(sum)")
        }
        self.beneficiary = beneficiary
        self.professionalIdNat = professionalIdNat
        self.careDate = careDate
        self.acts = acts
        self.totalCents = totalCents
    }

    enum CodingKeys: String, CodingKey { case beneficiary, professionalIdNat, careDate, acts, totalCents }

    /// Decodes and checks a care sheet.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            beneficiary: container.decode(VitaleBeneficiary.self, forKey: .beneficiary),
            professionalIdNat: container.decode(String.self, forKey: .professionalIdNat),
            careDate: container.decode(String.self, forKey: .careDate),
            acts: container.decode([BilledAct].self, forKey: .acts),
            totalCents: container.decode(Int.self, forKey: .totalCents))
    }

    /// Reads a care sheet from its JSON form.
    /// - Throws: ``CareSheetError``: the rule broken, or `care-sheet.malformed` for JSON that is not a care sheet.
    public static func parse(_ bytes: [UInt8]) throws(CareSheetError) -> CareSheet {
        do {
            return try JSONDecoder().decode(CareSheet.self, from: Data(bytes))
        } catch let error as CareSheetError {
            throw error
        } catch {
            throw CareSheetError(code: "care-sheet.malformed", reason: "the document is not a care sheet in OpenCPS's JSON form")
        }
    }

    /// The bytes that are signed: JSON with sorted keys and no whitespace.
    public func canonicalJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        return Array(try! encoder.encode(self))
    }

    private static func isCalendarDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              parts[0].count == 4, parts[1].count == 2, parts[2].count == 2, (1...12).contains(month), day >= 1
        else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let days = calendar.range(of: .day, in: .month, for: calendar.date(from: DateComponents(year: year, month: month, day: 1))!)!
        return days.contains(day)
    }
}
