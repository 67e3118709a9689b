/// A health professional as the registry knows them: identity, exercises and activities.
public struct Professional: Hashable, Sendable {
    /// The national identifier, which certificates and authentication claims carry.
    public var idNat: IdNat
    /// The civil-status title code (`M`, `MME`), when known.
    public var civilite: String?
    /// The name the professional practises under.
    public var lastName: String
    /// The first name the professional practises under.
    public var firstName: String
    /// The professions exercised, each with its activities.
    public var exercises: [Exercise]
    /// The fields of the directory file that were kept though they did not check (an
    /// unknown profession code, an invalid optional identifier): each says what and why.
    public var flags: [FlaggedField]

    /// Creates a professional record.
    public init(
        idNat: IdNat, civilite: String? = nil, lastName: String, firstName: String, exercises: [Exercise],
        flags: [FlaggedField] = []
    ) {
        self.idNat = idNat
        self.civilite = civilite
        self.lastName = lastName
        self.firstName = firstName
        self.exercises = exercises
        self.flags = flags
    }

    /// The key the registry sorts and searches names by (see ``NameKey``).
    public var nameKey: String { NameKey.make(lastName: lastName, firstName: firstName) }
}

/// One profession exercised by a professional (*exercice professionnel*).
public struct Exercise: Hashable, Sendable {
    /// The profession, from the national nomenclature.
    public var profession: Profession
    /// The professional category code (TRE_R09: `C` civil, `E` student, ...).
    public var categoryCode: String
    /// The title used in practice (TRE_R11, e.g. `DR`), when any.
    public var civiliteExercice: String?
    /// The specialty or qualification, when any.
    public var savoirFaire: SavoirFaire?
    /// The registration with the professional order, for ordinal professions.
    public var registration: OrderRegistration?
    /// Where and how the profession is exercised.
    public var activities: [Activity]

    /// Creates an exercise.
    public init(
        profession: Profession, categoryCode: String = "C", civiliteExercice: String? = nil,
        savoirFaire: SavoirFaire? = nil, registration: OrderRegistration? = nil, activities: [Activity] = []
    ) {
        self.profession = profession
        self.categoryCode = categoryCode
        self.civiliteExercice = civiliteExercice
        self.savoirFaire = savoirFaire
        self.registration = registration
        self.activities = activities
    }
}

/// A specialty or qualification (*savoir-faire*), coded by type (TRE_R04) and code.
public struct SavoirFaire: Hashable, Sendable {
    /// The type code (`S` ordinal specialty, `CAPA`, ...).
    public var typeCode: String
    /// The code within that type (e.g. `SM53`).
    public var code: String
    /// The label as published.
    public var label: String?

    /// Creates a savoir-faire.
    public init(typeCode: String, code: String, label: String? = nil) {
        self.typeCode = typeCode
        self.code = code
        self.label = label
    }
}

/// The registration of a professional with their order (*inscription au tableau*).
public struct OrderRegistration: Hashable, Sendable {
    /// The order that registered the professional.
    public var ordre: Ordre
    /// The date the registration took effect.
    public var registeredOn: CivilDate
    /// The order's own registration number, when given.
    public var number: String?

    /// Creates a registration.
    public init(ordre: Ordre, registeredOn: CivilDate, number: String? = nil) {
        self.ordre = ordre
        self.registeredOn = registeredOn
        self.number = number
    }
}

/// One activity of an exercise: a mode of activity in a structure, at an address.
public struct Activity: Hashable, Sendable {
    /// Libéral, salarié, bénévole, ...
    public var mode: ModeOfActivity
    /// The structure where the activity takes place, when it has a FINESS or SIRET.
    public var structure: StructureIdentifier?
    /// The structure's name (*raison sociale*).
    public var structureName: String?
    /// The sector of activity code (TRE_R02, e.g. `SA07`).
    public var sectorCode: String?
    /// The department where the activity takes place.
    public var department: DepartmentCode?
    /// The postal address of the activity.
    public var address: PostalAddress?
    /// The function code (TRE_R21, e.g. `FON-AU`), when the file gives one.
    public var fonctionCode: String?
    /// The activity genre code (TRE_R22, e.g. `GENR01`), when the file gives one.
    public var genreCode: String?
    /// The pharmacists' table section code (*section tableau pharmaciens*, TRE_R06-SectionTableauCNOP), for pharmacists.
    public var sectionCode: String?

    /// Creates an activity.
    public init(
        mode: ModeOfActivity, structure: StructureIdentifier? = nil, structureName: String? = nil,
        sectorCode: String? = nil, department: DepartmentCode? = nil, address: PostalAddress? = nil,
        fonctionCode: String? = nil, genreCode: String? = nil, sectionCode: String? = nil
    ) {
        self.mode = mode
        self.structure = structure
        self.structureName = structureName
        self.sectorCode = sectorCode
        self.department = department
        self.address = address
        self.fonctionCode = fonctionCode
        self.genreCode = genreCode
        self.sectionCode = sectionCode
    }
}

/// A French postal address, as the directory publishes it.
public struct PostalAddress: Hashable, Sendable, Codable {
    /// Street line: number, repetition index, street type and name.
    public var line: String?
    /// Postal code (5 digits).
    public var postalCode: String?
    /// Town or *bureau distributeur*.
    public var city: String?

    /// Creates an address.
    public init(line: String? = nil, postalCode: String? = nil, city: String? = nil) {
        self.line = line
        self.postalCode = postalCode
        self.city = city
    }

    /// Whether every part is empty.
    public var isEmpty: Bool { line == nil && postalCode == nil && city == nil }
}

/// A field of the directory file kept with a flag: its value did not check, but the rule
/// of the file is to keep every field and refuse only what makes the row unusable.
public struct FlaggedField: Hashable, Sendable, Codable {
    /// The column's name, as in the file's header.
    public var column: String
    /// A stable code: `extraction.profession-unknown` or `extraction.invalid-identifier`.
    public var code: String
    /// The value as the file gives it.
    public var value: String
    /// Why it was flagged (for an identifier, the identifier error's reason).
    public var reason: String

    /// Creates a flag.
    public init(column: String, code: String, value: String, reason: String) {
        self.column = column
        self.code = code
        self.value = value
        self.reason = reason
    }
}
