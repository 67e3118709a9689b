/// Reads the rows of a directory extraction file into ``DirectoryActivityRecord`` values.
///
/// The parser scans the line's bytes for `|` once, then makes strings only for the fields
/// it keeps. Lines are UTF-8 (``ExtractionLineReader`` converts Windows-1252 lines).
///
/// Refused rows (``ExtractionError``): a wrong number of fields (`extraction.field-count`),
/// an empty identifier or last name (`extraction.missing-value`), an identifier type other
/// than 8, 0, 1, 3, 4, 5 or 6 (`extraction.identifier-type`), an invalid RPPS, ADELI or
/// idNat (`extraction.invalid-identifier`, with the identifier error's code as `causeCode`),
/// an idNat other than type + identifier (`extraction.idnat-mismatch`), an empty profession
/// code or an unknown mode of activity (`extraction.mode-unknown`).
///
/// Kept and flagged (REFERENCE §1: keep every field, refuse only what makes the row
/// unusable): an unknown profession code (`extraction.profession-unknown`; the exercise
/// keeps the code as an unlisted profession) and an invalid optional identifier — SIRET,
/// SIREN, FINESS site or legal entity, technical structure id (`extraction.invalid-identifier`;
/// the identifier is left out, its text is in the flag). An invalid department code is not
/// an error either: the department is then derived from the postal code.
public struct ExtractionRow: Sendable {
    /// The header the rows follow.
    public let header: ExtractionHeader
    private let indexes: [Int]
    private let expectedSeparators: Int

    /// Creates a parser for rows following `header`.
    public init(header: ExtractionHeader) {
        self.header = header
        indexes = header.rawIndexes
        expectedSeparators = header.columnCount
    }

    /// Parses one line (UTF-8, without terminator).
    /// - Throws: ``ExtractionError`` (see the type's documentation).
    public func record(from line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws(ExtractionError) -> DirectoryActivityRecord {
        let capacity = expectedSeparators + 1
        // Field i runs from starts[i] to starts[i + 1] - 1; a stack buffer avoids a heap allocation.
        return try withUnsafeTemporaryAllocation(of: Int.self, capacity: capacity + 1) { starts throws(ExtractionError) in
            starts[0] = 0
            var separators = 0
            var index = 0
            let count = line.count
            while index < count {
                if line[index] == 0x7C {
                    separators += 1
                    if separators <= capacity - 1 { starts[separators] = index + 1 }
                }
                index += 1
            }
            // With the trailing `|` there are as many separators as columns; accept a missing one.
            let fieldCount: Int
            if separators == expectedSeparators, starts[separators] == count {
                fieldCount = expectedSeparators
            } else if separators == expectedSeparators - 1 {
                fieldCount = expectedSeparators
                starts[separators + 1] = count + 1
            } else {
                throw ExtractionError(
                    lineNumber: lineNumber, code: "extraction.field-count",
                    message: "expected \(expectedSeparators) fields each followed by \"|\", got \(separators + (starts[min(separators, capacity - 1)] == count ? 0 : 1)) fields")
            }
            let fields = Fields(line: line, starts: starts, fieldCount: fieldCount, indexes: indexes)
            return try parse(fields, lineNumber: lineNumber)
        }
    }

    /// Parses one line given as UTF-8 bytes.
    /// - Throws: ``ExtractionError`` (see the type's documentation).
    public func record(from line: [UInt8], lineNumber: Int) throws(ExtractionError) -> DirectoryActivityRecord {
        try line.withUnsafeBufferPointer { buffer in
            Result { () throws(ExtractionError) in try record(from: buffer, lineNumber: lineNumber) }
        }.get()
    }

    /// Parses one line given as UTF-8 bytes.
    /// - Throws: ``ExtractionError`` (see the type's documentation).
    public func record(from line: ArraySlice<UInt8>, lineNumber: Int) throws(ExtractionError) -> DirectoryActivityRecord {
        try line.withUnsafeBufferPointer { buffer in
            Result { () throws(ExtractionError) in try record(from: buffer, lineNumber: lineNumber) }
        }.get()
    }

    /// Parses one line given as text.
    /// - Throws: ``ExtractionError`` (see the type's documentation).
    public func record(from line: Substring, lineNumber: Int) throws(ExtractionError) -> DirectoryActivityRecord {
        var copy = line
        return try copy.withUTF8 { buffer in
            Result { () throws(ExtractionError) in try record(from: buffer, lineNumber: lineNumber) }
        }.get()
    }

    /// Parses one line given as text.
    /// - Throws: ``ExtractionError`` (see the type's documentation).
    public func record(from line: String, lineNumber: Int) throws(ExtractionError) -> DirectoryActivityRecord {
        try record(from: Substring(line), lineNumber: lineNumber)
    }

    /// Parses a line read by ``ExtractionLineReader``.
    /// - Throws: ``ExtractionError`` (see the type's documentation).
    public func record(from line: ExtractionLine) throws(ExtractionError) -> DirectoryActivityRecord {
        try record(from: line.bytes, lineNumber: line.number)
    }

    private func parse(_ fields: Fields, lineNumber: Int) throws(ExtractionError) -> DirectoryActivityRecord {
        func error(_ column: ExtractionColumn, _ code: String, _ message: String, cause: String? = nil) -> ExtractionError {
            ExtractionError(lineNumber: lineNumber, column: column.name, code: code, causeCode: cause, message: message)
        }
        func required(_ column: ExtractionColumn) throws(ExtractionError) -> String {
            guard let value = fields.string(column) else {
                throw error(column, "extraction.missing-value", "the value is missing")
            }
            return value
        }
        func identifier<T>(_ column: ExtractionColumn, _ make: (String) throws(IdentifierError) -> T) throws(ExtractionError) -> T? {
            guard let text = fields.string(column) else { return nil }
            do throws(IdentifierError) {
                return try make(text)
            } catch let failure {
                throw error(column, "extraction.invalid-identifier", failure.reason, cause: failure.code)
            }
        }

        var flags: [FlaggedField] = []
        /// An optional identifier: an invalid one is left out and flagged.
        func optionalIdentifier<T>(_ column: ExtractionColumn, _ make: (String) throws(IdentifierError) -> T) -> T? {
            guard let text = fields.string(column) else { return nil }
            do throws(IdentifierError) {
                return try make(text)
            } catch let failure {
                flags.append(FlaggedField(column: column.name, code: "extraction.invalid-identifier", value: text, reason: failure.reason))
                return nil
            }
        }

        let typeCode = try required(.typeIdentifiantPP)
        let idText = try required(.identifiantPP)
        let idNat: IdNat
        switch typeCode {
        case "8": idNat = .rpps(try identifier(.identifiantPP) { text throws(IdentifierError) in try RPPS(text) }!)
        case "0": idNat = .adeli(try identifier(.identifiantPP) { text throws(IdentifierError) in try ADELI(text) }!)
        case "1", "3", "4", "5", "6":
            idNat = try identifier(.identifiantPP) { text throws(IdentifierError) in try IdNat(typeCode + text) }!
        default:
            throw error(
                .typeIdentifiantPP, "extraction.identifier-type",
                "the identifier type is 8 (RPPS), 0 (ADELI), or 1, 3, 4, 5, 6 (staff of a structure), got \"\(typeCode)\"")
        }
        let idNatText = try required(.identificationNationalePP)
        guard idNatText == idNat.value else {
            throw error(
                .identificationNationalePP, "extraction.idnat-mismatch",
                "expected \(idNat.value) (type \(typeCode) + identifier \(idText)), got \(idNatText)")
        }

        let professionCode = try required(.codeProfession)
        let profession = Profession.listedOrNot(code: professionCode)
        if !profession.isListed {
            flags.append(FlaggedField(
                column: ExtractionColumn.codeProfession.name, code: "extraction.profession-unknown", value: professionCode,
                reason: "\"\(professionCode)\" is not a profession code of TRE_G15 or TRE_R95; kept as the file gives it"))
        }

        var mode: ModeOfActivity?
        if let modeCode = fields.string(.codeModeExercice) {
            guard let known = ModeOfActivity(rawValue: modeCode) else {
                throw error(.codeModeExercice, "extraction.mode-unknown", "\"\(modeCode)\" is not a mode of activity (S, L, B or I)")
            }
            mode = known
        }

        let address = DirectoryAddress(
            recipientComplement: fields.string(.complementDestinataire),
            geographicComplement: fields.string(.complementPointGeographique),
            streetNumber: fields.string(.numeroVoie),
            repetitionIndex: fields.string(.indiceRepetitionVoie),
            streetTypeCode: fields.string(.codeTypeVoie),
            streetTypeLabel: fields.string(.libelleTypeVoie),
            streetName: fields.string(.libelleVoie),
            distributionMention: fields.string(.mentionDistribution),
            bureauCedex: fields.string(.bureauCedex),
            postalCode: fields.string(.codePostal),
            communeCode: fields.string(.codeCommune),
            communeName: fields.string(.libelleCommune),
            countryCode: fields.string(.codePays))

        var department = fields.string(.codeDepartement).flatMap { try? DepartmentCode($0) }
        if department == nil, let postalCode = address.postalCode {
            department = DepartmentCode(postalCode: postalCode)
        }

        return DirectoryActivityRecord(
            lineNumber: lineNumber,
            idNat: idNat,
            identifierTypeCode: typeCode,
            civiliteCode: fields.string(.codeCivilite),
            civiliteExerciceCode: fields.string(.codeCiviliteExercice),
            lastName: try required(.nomExercice),
            firstName: fields.string(.prenomExercice) ?? "",
            profession: profession,
            categoryCode: fields.string(.codeCategorieProfessionnelle),
            savoirFaireTypeCode: fields.string(.codeTypeSavoirFaire),
            savoirFaireCode: fields.string(.codeSavoirFaire),
            savoirFaireLabel: fields.string(.libelleSavoirFaire),
            mode: mode,
            siret: optionalIdentifier(.siretSite) { text throws(IdentifierError) in try SIRET(text) },
            siren: optionalIdentifier(.sirenSite) { text throws(IdentifierError) in try SIREN(text) },
            finessSite: optionalIdentifier(.finessSite) { text throws(IdentifierError) in try FINESS(text) },
            finessJuridique: optionalIdentifier(.finessEtablissementJuridique) { text throws(IdentifierError) in try FINESS(text) },
            technicalStructureID: optionalIdentifier(.identifiantTechniqueStructure) { text throws(IdentifierError) in
                try StructureIdentifier.technicalID(text)
            },
            raisonSociale: fields.string(.raisonSocialeSite),
            enseigne: fields.string(.enseigneCommercialeSite),
            address: address,
            department: department,
            secteurCode: fields.string(.codeSecteurActivite),
            autoriteEnregistrement: fields.string(.autoriteEnregistrement),
            phone: fields.string(.telephone),
            email: fields.string(.email),
            formerStructureID: fields.string(.ancienIdentifiantStructure),
            fonctionCode: fields.string(.codeFonction),
            genreCode: fields.string(.codeGenreActivite),
            sectionCode: fields.string(.codeSectionTableauPharmaciens),
            flags: flags)
    }
}

/// The fields of one line, as byte ranges.
private struct Fields {
    let line: UnsafeBufferPointer<UInt8>
    let starts: UnsafeMutableBufferPointer<Int>
    let fieldCount: Int
    let indexes: [Int]

    /// The field's text with surrounding spaces trimmed, or nil when absent or empty.
    @inline(__always)
    func string(_ column: ExtractionColumn) -> String? {
        let index = indexes[column.rawValue]
        guard index >= 0, index < fieldCount else { return nil }
        var lower = starts[index]
        var upper = starts[index + 1] - 1
        while lower < upper, line[lower] == 0x20 { lower += 1 }
        while upper > lower, line[upper - 1] == 0x20 { upper -= 1 }
        guard lower < upper else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: line[lower..<upper]), as: UTF8.self)
    }
}
