import OpenCPSDomain
import Vapor

/// A professional in the JSON API, as sent to create or update and as returned.
public struct ProfessionalBody: Content, Equatable {
    /// The national identifier: `8`+RPPS, `0`+ADELI or `3`+FINESS+`/`+local id.
    public var idNat: String
    /// Civil-status title code (`M`, `MME`).
    public var civilite: String?
    /// Name in practice.
    public var lastName: String
    /// First name in practice.
    public var firstName: String
    /// Professions exercised.
    public var exercises: [ExerciseBody]
    /// The fields the directory file gave with a value that did not check, kept as given
    /// (returned; an update keeps them).
    public var flags: [FlaggedFieldBody]?
    /// The stored version (returned; send it back to update safely).
    public var version: Int?
    /// When the record last changed (returned).
    public var updatedAt: String?
}

/// A field of the directory file kept with a flag, in the JSON API.
public struct FlaggedFieldBody: Content, Equatable {
    /// The column's name, as in the file's header.
    public var column: String
    /// `extraction.profession-unknown` or `extraction.invalid-identifier`.
    public var code: String
    /// The value as the file gives it.
    public var value: String
    /// Why it was flagged.
    public var reason: String
}

/// An exercised profession in the JSON API.
public struct ExerciseBody: Content, Equatable {
    /// Profession code (TRE_G15, or TRE_R95 for usagers de titre).
    public var professionCode: String
    /// Profession label (returned).
    public var professionLabel: String?
    /// Category code (TRE_R09), `C` when left out.
    public var categoryCode: String?
    /// Title in practice (TRE_R11).
    public var civiliteExercice: String?
    /// Specialty.
    public var savoirFaire: SavoirFaireBody?
    /// Registration with the professional order.
    public var registration: RegistrationBody?
    /// Activities.
    public var activities: [ActivityBody]?
}

/// A savoir-faire in the JSON API.
public struct SavoirFaireBody: Content, Equatable {
    /// Type (TRE_R04).
    public var typeCode: String
    /// Code.
    public var code: String
    /// Label.
    public var label: String?
}

/// A registration with the professional order in the JSON API.
public struct RegistrationBody: Content, Equatable {
    /// The order's abbreviation (CNOM, ONCD, CNOSF, CNOP, ONI, CNOMK, CNOPP); defaults to the profession's.
    public var ordre: String?
    /// The date the registration took effect (`YYYY-MM-DD`).
    public var registeredOn: String
    /// The order's registration number.
    public var number: String?
}

/// An activity in the JSON API.
public struct ActivityBody: Content, Equatable {
    /// Identifier (returned; also the FHIR PractitionerRole id).
    public var id: String?
    /// Mode of activity (TRE_R23: S, L, B, I).
    public var mode: String
    /// The structure's idNatStruct: `1`+FINESS, `3`+SIRET, `2`+SIREN, `4`+RPPS rang,
    /// `0`+ADELI cabinet, or a technical id (`R…`).
    public var structureId: String?
    /// The structure's name.
    public var structureName: String?
    /// Sector of activity (TRE_R02, e.g. SA07).
    public var sectorCode: String?
    /// Department code (01…95, 2A, 2B, 971…976).
    public var department: String?
    /// Postal address.
    public var address: AddressBody?
    /// Function (TRE_R21, e.g. `FON-AU`), as the directory file gives it.
    public var fonctionCode: String?
    /// Genre d'activité (TRE_R22, e.g. `GENR01`).
    public var genreCode: String?
    /// Pharmacists' section of the order's register, for pharmacists.
    public var sectionCode: String?
}

/// A postal address in the JSON API.
public struct AddressBody: Content, Equatable {
    /// Street line.
    public var line: String?
    /// Postal code.
    public var postalCode: String?
    /// Town.
    public var city: String?
}

/// A structure in the JSON API.
public struct StructureBody: Content, Equatable {
    /// idNatStruct (`1`+FINESS, `3`+SIRET, `2`+SIREN, `4`+RPPS rang, `0`+ADELI cabinet, or a
    /// technical id `R…`). Give this, or `finess`, or `siret`.
    public var id: String?
    /// FINESS number (9 characters).
    public var finess: String?
    /// SIRET (14 digits).
    public var siret: String?
    /// Name (*raison sociale*).
    public var name: String
    /// Sector of activity (TRE_R02).
    public var sectorCode: String?
    /// Department code.
    public var department: String?
    /// Postal address.
    public var address: AddressBody?
    /// FINESS of the legal entity.
    public var legalEntityFiness: String?
}

/// A page of professionals.
public struct ProfessionalPageBody: Content {
    /// This page's professionals.
    public var items: [ProfessionalBody]
    /// The token for the next page, if any.
    public var nextCursor: String?
    /// The URL of the next page, if any.
    public var next: String?
}

/// A page of structures.
public struct StructurePageBody: Content {
    /// The structures.
    public var items: [StructureBody]
}

/// The body of `POST /api/v1/professionals/{idNat}/registrations`.
public struct RegistrationRequestBody: Content {
    /// The profession the registration is for; the professional must exercise it.
    public var professionCode: String
    /// The order; defaults to the profession's.
    public var ordre: String?
    /// When it took effect.
    public var registeredOn: String
    /// The order's number.
    public var number: String?
}

// MARK: - From bodies to domain values

/// Collects field problems while turning a body into domain values.
struct FieldValidator {
    private(set) var problems: [FieldProblem] = []

    /// Reads a value, recording the refusal under `field` when it throws.
    mutating func read<T>(_ field: String, _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as any DomainError {
            problems.append(FieldProblem(field: field, code: error.code, reason: error.reason))
        } catch {
            problems.append(FieldProblem(field: field, code: "request.invalid-value", reason: "\(error)"))
        }
        return nil
    }

    /// Records a problem.
    mutating func refuse(_ field: String, code: String, reason: String) {
        problems.append(FieldProblem(field: field, code: code, reason: reason))
    }

    /// Reads a required, non-blank text of bounded length.
    mutating func text(_ field: String, _ value: String, maxLength: Int = 200) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            refuse(field, code: "field.empty", reason: "must not be empty")
            return nil
        }
        if trimmed.count > maxLength {
            refuse(field, code: "field.too-long", reason: "must be at most \(maxLength) characters")
            return nil
        }
        return trimmed
    }

    /// Reads an optional text; blank becomes nil.
    mutating func optionalText(_ field: String, _ value: String?, maxLength: Int = 200) -> String? {
        guard let value, !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return text(field, value, maxLength: maxLength)
    }

    /// Throws every problem recorded, if any.
    func finish() throws {
        if !problems.isEmpty { throw ValidationFailure(problems) }
    }
}

extension ProfessionalBody {
    /// The domain value, or a ``ValidationFailure`` naming every refused field.
    func professional(idNatFromPath: String? = nil) throws -> Professional {
        var validator = FieldValidator()
        let idNat = validator.read("idNat") { try IdNat(self.idNat) }
        if let idNatFromPath, idNatFromPath != idNat?.value {
            validator.refuse("idNat", code: "field.mismatch", reason: "must be the idNat of the URL, \(idNatFromPath)")
        }
        if let civilite, !["M", "MME"].contains(civilite) {
            validator.refuse("civilite", code: "field.unknown-code", reason: "must be M or MME")
        }
        let last = validator.text("lastName", lastName, maxLength: 100)
        let first = validator.text("firstName", firstName, maxLength: 100)
        var seenProfessions: Set<String> = []
        var exercises: [Exercise] = []
        for (index, body) in self.exercises.enumerated() {
            let path = "exercises[\(index)]"
            if !seenProfessions.insert(body.professionCode).inserted {
                validator.refuse("\(path).professionCode", code: "field.duplicate", reason: "profession \(body.professionCode) is listed twice")
            }
            if let exercise = body.exercise(path: path, validator: &validator) { exercises.append(exercise) }
        }
        try validator.finish()
        return Professional(idNat: idNat!, civilite: civilite, lastName: last!, firstName: first!, exercises: exercises)
    }

    /// The body for a stored professional.
    init(_ stored: StoredProfessional) {
        var activityIDs = stored.activityIDs.makeIterator()
        let professional = stored.professional
        self.init(
            idNat: professional.idNat.value, civilite: professional.civilite, lastName: professional.lastName,
            firstName: professional.firstName,
            exercises: professional.exercises.map { exercise in
                ExerciseBody(
                    professionCode: exercise.profession.code, professionLabel: exercise.profession.label,
                    categoryCode: exercise.categoryCode, civiliteExercice: exercise.civiliteExercice,
                    savoirFaire: exercise.savoirFaire.map { SavoirFaireBody(typeCode: $0.typeCode, code: $0.code, label: $0.label) },
                    registration: exercise.registration.map {
                        RegistrationBody(ordre: $0.ordre.rawValue, registeredOn: $0.registeredOn.description, number: $0.number)
                    },
                    activities: exercise.activities.map { ActivityBody($0, id: activityIDs.next()) })
            },
            flags: professional.flags.isEmpty ? nil : professional.flags.map {
                FlaggedFieldBody(column: $0.column, code: $0.code, value: $0.value, reason: $0.reason)
            },
            version: stored.version, updatedAt: stored.updatedAt)
    }
}

extension ExerciseBody {
    fileprivate func exercise(path: String, validator: inout FieldValidator) -> Exercise? {
        let profession = validator.read("\(path).professionCode") { try Profession(code: professionCode) }
        let category = categoryCode ?? "C"
        if !["C", "E", "F", "M"].contains(category) {
            validator.refuse("\(path).categoryCode", code: "field.unknown-code", reason: "must be one of C, E, F, M (TRE_R09)")
        }
        var registration: OrderRegistration?
        if let body = self.registration, let profession {
            registration = body.registration(for: profession, path: "\(path).registration", validator: &validator)
        }
        var activities: [Activity] = []
        for (index, body) in (self.activities ?? []).enumerated() {
            if let activity = body.activity(path: "\(path).activities[\(index)]", validator: &validator) {
                activities.append(activity)
            }
        }
        guard let profession else { return nil }
        return Exercise(
            profession: profession, categoryCode: category,
            civiliteExercice: validator.optionalText("\(path).civiliteExercice", civiliteExercice, maxLength: 10),
            savoirFaire: savoirFaire.map { SavoirFaire(typeCode: $0.typeCode, code: $0.code, label: $0.label) },
            registration: registration, activities: activities)
    }
}

extension RegistrationBody {
    func registration(for profession: Profession, path: String, validator: inout FieldValidator) -> OrderRegistration? {
        func field(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
        guard let expected = profession.ordre else {
            validator.refuse(path.isEmpty ? "professionCode" : path, code: "registration.not-ordinal", reason: "\(profession.label) has no professional order")
            return nil
        }
        var ordre = expected
        if let text = self.ordre {
            if let given = Ordre(rawValue: text), given == expected {
                ordre = given
            } else {
                validator.refuse(field("ordre"), code: "registration.wrong-order", reason: "\(profession.label) registers with \(expected.rawValue)")
            }
        }
        let date = validator.read(field("registeredOn")) { try CivilDate(registeredOn) }
        let number = validator.optionalText(field("number"), number, maxLength: 30)
        return date.map { OrderRegistration(ordre: ordre, registeredOn: $0, number: number) }
    }
}

extension ActivityBody {
    fileprivate func activity(path: String, validator: inout FieldValidator) -> Activity? {
        let mode = ModeOfActivity(rawValue: self.mode)
        if mode == nil {
            validator.refuse("\(path).mode", code: "field.unknown-code", reason: "must be one of S, L, B, I (TRE_R23)")
        }
        let structure = structureId.flatMap { id in validator.read("\(path).structureId") { try StructureIdentifier(idNatStruct: id) } }
        let department = department.flatMap { code in validator.read("\(path).department") { try DepartmentCode(code) } }
        if let sectorCode, SecteurActivite.named(code: sectorCode) == nil {
            validator.refuse("\(path).sectorCode", code: "field.unknown-code", reason: "\(sectorCode) is not a TRE_R02 sector code")
        }
        guard let mode else { return nil }
        var result = Activity(
            mode: mode, structure: structure,
            structureName: validator.optionalText("\(path).structureName", structureName),
            sectorCode: sectorCode, department: department, address: address?.address)
        result.fonctionCode = validator.optionalText("\(path).fonctionCode", fonctionCode, maxLength: 20)
        result.genreCode = validator.optionalText("\(path).genreCode", genreCode, maxLength: 20)
        result.sectionCode = validator.optionalText("\(path).sectionCode", sectionCode, maxLength: 20)
        return result
    }

    init(_ activity: Activity, id: String?) {
        self.init(
            id: id, mode: activity.mode.rawValue, structureId: activity.structure?.idNatStruct,
            structureName: activity.structureName, sectorCode: activity.sectorCode,
            department: activity.department?.value, address: activity.address.map(AddressBody.init),
            fonctionCode: activity.fonctionCode, genreCode: activity.genreCode, sectionCode: activity.sectionCode)
    }
}

extension AddressBody {
    var address: PostalAddress? {
        let address = PostalAddress(line: line, postalCode: postalCode, city: city)
        return address.isEmpty ? nil : address
    }

    init(_ address: PostalAddress) {
        self.init(line: address.line, postalCode: address.postalCode, city: address.city)
    }
}

extension StructureBody {
    /// The domain value, or a ``ValidationFailure``.
    func structure(idFromPath: String? = nil) throws -> Structure {
        var validator = FieldValidator()
        var identifier: StructureIdentifier?
        switch (id, finess, siret) {
        case (let id?, nil, nil):
            identifier = validator.read("id") { try StructureIdentifier(idNatStruct: id) }
        case (nil, let finess?, nil):
            identifier = validator.read("finess") { .finess(try FINESS(finess)) }
        case (nil, nil, let siret?):
            identifier = validator.read("siret") { .siret(try SIRET(siret)) }
        default:
            validator.refuse("id", code: "field.required", reason: "give exactly one of id, finess or siret")
        }
        if let idFromPath, let identifier, identifier.idNatStruct != idFromPath {
            validator.refuse("id", code: "field.mismatch", reason: "must be the structure of the URL, \(idFromPath)")
        }
        let name = validator.text("name", name)
        let department = department.flatMap { code in validator.read("department") { try DepartmentCode(code) } }
        let legalEntity = legalEntityFiness.flatMap { code in validator.read("legalEntityFiness") { try FINESS(code) } }
        if let sectorCode, SecteurActivite.named(code: sectorCode) == nil {
            validator.refuse("sectorCode", code: "field.unknown-code", reason: "\(sectorCode) is not a TRE_R02 sector code")
        }
        try validator.finish()
        return Structure(
            identifier: identifier!, name: name!, sectorCode: sectorCode, department: department,
            address: address?.address, legalEntity: legalEntity)
    }

    /// The body for a structure.
    init(_ structure: Structure) {
        var finess: String?
        var siret: String?
        switch structure.identifier {
        case .finess(let number): finess = number.value
        case .siret(let number): siret = number.value
        case .siren, .adeliCabinet, .rppsRang, .technical: break
        }
        self.init(
            id: structure.identifier.idNatStruct, finess: finess, siret: siret, name: structure.name,
            sectorCode: structure.sectorCode, department: structure.department?.value,
            address: structure.address.map(AddressBody.init), legalEntityFiness: structure.legalEntity?.value)
    }
}
