import Foundation

/// Writes synthetic `PS_LibreAcces_Personne_activite` files in the 52-column format, for
/// demos, load tests and benchmarks.
///
/// The output is deterministic for a seed. Every identifier is valid: RPPS numbers (all
/// ordinal professionals and most others), ADELI numbers for some non-ordinal ones, FINESS
/// (Corsican `2A`/`2B` and overseas ones included) and SIRET (La Poste's included);
/// departments match postal codes. A person has 1 to 3 activities on consecutive rows.
/// Names, towns and streets are real French ones; phones and e-mails are fictitious.
public struct ExtractionGenerator: Sendable {
    /// The seed of the random sequence.
    public let seed: UInt64

    /// Creates a generator.
    /// - Parameter seed: the same seed gives the same file.
    public init(seed: UInt64) {
        self.seed = seed
    }

    /// Generates `rows` rows after the standard header, handing the bytes to `sink` in
    /// chunks of about `chunkSize` bytes.
    /// - Parameters:
    ///   - rows: the number of rows (activities), header excluded.
    ///   - chunkSize: the size of the chunks given to `sink`.
    ///   - sink: receives consecutive chunks of the file; it must not keep the buffer.
    public func generate(rows: Int, chunkSize: Int = 1 << 20, into sink: ([UInt8]) throws -> Void) rethrows {
        var state = State(seed: seed)
        var out = ByteWriter(capacity: chunkSize + 4096)
        out.raw(ExtractionHeader.standardLine)
        out.newline()
        var written = 0
        var personIndex = 0
        while written < rows {
            let activities = min(rows - written, state.activityCount())
            state.writePerson(index: personIndex, activities: activities, into: &out)
            written += activities
            personIndex += 1
            if out.bytes.count >= chunkSize {
                try sink(out.bytes)
                out.bytes.removeAll(keepingCapacity: true)
            }
        }
        if !out.bytes.isEmpty { try sink(out.bytes) }
    }

    /// Writes a file of `rows` rows (header excluded), replacing any file at `path`.
    /// - Throws: a file-system error when the file cannot be written.
    public func write(rows: Int, toFile path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try generate(rows: rows) { chunk in try handle.write(contentsOf: Data(chunk)) }
    }

    /// The whole file in memory (for tests and small samples).
    public func bytes(rows: Int) -> [UInt8] {
        var result: [UInt8] = []
        generate(rows: rows) { result.append(contentsOf: $0) }
        return result
    }
}

/// An output buffer that appends fields followed by `|`.
private struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    @inline(__always) mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }
    @inline(__always) mutating func field(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        bytes.append(0x7C)
    }
    @inline(__always) mutating func field(_ data: [UInt8]) {
        bytes.append(contentsOf: data)
        bytes.append(0x7C)
    }
    @inline(__always) mutating func empty(_ count: Int = 1) {
        for _ in 0..<count { bytes.append(0x7C) }
    }
    @inline(__always) mutating func newline() { bytes.append(0x0A) }
}

/// A structure where salaried professionals work, drawn once per file.
private struct Establishment {
    let town: ExtractionGenerator.Town
    let townIndex: Int
    let finessSite: String
    let finessJuridique: String?
    let siret: String?
    let name: String
    let sector: SecteurActivite
    let streetNumber: String
    let street: (code: String, label: String)
    let streetName: String
    let phone: String
}

/// The generator's running state: its random source and the ADELI counters.
private struct State {
    var random: SplitMix64
    let rppsOffset: Int
    var adeliCounters: [String: Int] = [:]
    let establishments: [Establishment]
    let cumulativeWeights: [Int]
    let weightedProfessions: [Profession]
    let upperTownNames: [String]

    /// Professions with rough weights per 1,000 professionals, close to the directory's mix.
    static let professionWeights: [(String, Int)] = [
        ("60", 330), ("10", 150), ("70", 60), ("21", 45), ("40", 25), ("50", 15), ("80", 8), ("28", 25), ("98", 25),
        ("91", 15), ("94", 10), ("96", 8), ("95", 7), ("92", 4), ("26", 3), ("86", 15), ("93", 30), ("71", 15),
        ("69", 2), ("31", 10), ("32", 1), ("81", 1), ("82", 1), ("83", 1), ("84", 1), ("85", 1), ("72", 1), ("73", 1),
    ]

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        rppsOffset = Int(random.next() % 100_000_000)
        var cumulative: [Int] = []
        var professions: [Profession] = []
        var total = 0
        for (code, weight) in State.professionWeights {
            total += weight
            cumulative.append(total)
            professions.append(Profession.named(code: code)!)
        }
        cumulativeWeights = cumulative
        weightedProfessions = professions
        upperTownNames = ExtractionGenerator.towns.map { $0.name.uppercased() }
        var establishments: [Establishment] = []
        let salariedSectors = ["SA01", "SA01", "SA01", "SA03", "SA04", "SA04", "SA17", "SA17", "SA16", "SA05", "SA25", "SA52", "SA13"]
        for _ in 0..<600 {
            let townIndex = random.below(ExtractionGenerator.towns.count)
            let town = ExtractionGenerator.towns[townIndex]
            let sector = SecteurActivite.named(code: salariedSectors[random.below(salariedSectors.count)])!
            let finessSite = State.finess(for: town.department, random: &random)
            let upperTown = upperTownNames[townIndex]
            let name: String
            var siret: String? = random.chance(50) ? State.siret(random: &random) : nil
            switch sector.code {
            case "SA01": name = random.chance(70) ? "CH DE \(upperTown)" : "CHU DE \(upperTown)"
            case "SA03", "SA04": name = "CLINIQUE \(ExtractionGenerator.streetNames[random.below(ExtractionGenerator.streetNames.count)])"
            case "SA17": name = "EHPAD LES \(["TILLEULS", "GLYCINES", "CHARMILLES", "JARDINS", "ORMES"][random.below(5)])"
            case "SA16": name = "IME DE \(upperTown)"
            case "SA05": name = "CENTRE DE SANTÉ DE \(upperTown)"
            case "SA25": name = "LBM \(upperTown) BIOLOGIE"
            case "SA13":
                name = "LA POSTE SERVICE SANTÉ AU TRAVAIL"
                siret = State.laPosteSIRET(random: &random)
            default: name = "MAISON DE SANTÉ DE \(upperTown)"
            }
            establishments.append(Establishment(
                town: town, townIndex: townIndex, finessSite: finessSite,
                finessJuridique: random.chance(70) ? State.finess(for: town.department, random: &random) : nil,
                siret: siret, name: name, sector: sector, streetNumber: String(1 + random.below(120)),
                street: ExtractionGenerator.streetTypes[random.below(ExtractionGenerator.streetTypes.count)],
                streetName: ExtractionGenerator.streetNames[random.below(ExtractionGenerator.streetNames.count)],
                phone: State.phone(random: &random)))
        }
        self.establishments = establishments
    }

    mutating func activityCount() -> Int {
        let roll = random.below(100)
        return roll < 70 ? 1 : roll < 92 ? 2 : 3
    }

    mutating func profession() -> Profession {
        let roll = random.below(cumulativeWeights.last!)
        var low = 0
        var high = cumulativeWeights.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulativeWeights[mid] > roll { high = mid } else { low = mid + 1 }
        }
        return weightedProfessions[low]
    }

    /// The share of libéral activities, in percent.
    static func liberalShare(_ code: String) -> Int {
        switch code {
        case "10": 45
        case "21": 30
        case "40": 85
        case "50": 30
        case "60": 18
        case "70": 80
        case "80", "71", "72", "73": 95
        case "91": 80
        case "92": 60
        case "93": 30
        case "28", "26": 40
        default: 10
        }
    }

    mutating func writePerson(index: Int, activities: Int, into out: inout ByteWriter) {
        let profession = profession()
        let female = random.chance(profession.code == "60" || profession.code == "50" || profession.code == "91" ? 85 : 50)
        let firstName = female
            ? ExtractionGenerator.femaleFirstNames[random.below(ExtractionGenerator.femaleFirstNames.count)]
            : ExtractionGenerator.maleFirstNames[random.below(ExtractionGenerator.maleFirstNames.count)]
        let lastName = ExtractionGenerator.lastNames[random.below(ExtractionGenerator.lastNames.count)]
        let homeTown = random.below(ExtractionGenerator.towns.count)

        // Identity fields, the same on every row of the person.
        var identity = ByteWriter(capacity: 256)
        let useADELI = !profession.isOrdinal && random.chance(20)
        if useADELI {
            let department = ExtractionGenerator.towns[homeTown].department.value
            let prefix = String(department.prefix(2)) + profession.code
            let serial = adeliCounters[prefix, default: 0]
            adeliCounters[prefix] = serial + 1
            let adeli = prefix + State.padded(serial % 100_000, 5)
            identity.field("0")
            identity.field(adeli)
            identity.field("0" + adeli)
        } else {
            // A bijection of the index on 8 digits (the multiplier is prime to 10): unique numbers.
            let body = (index &* 73_939_133 &+ rppsOffset) % 100_000_000
            let rpps = "10" + State.padded(body, 8)
            let full = rpps + String(Luhn.key(for: rpps.utf8.map { $0 - 0x30 }))
            identity.field("8")
            identity.field(full)
            identity.field("8" + full)
        }
        let doctorTitle = profession.code == "10" || (profession.code == "40" && random.chance(60))
            || (profession.code == "21" && random.chance(30))
        if doctorTitle {
            let professor = profession.code == "10" && random.chance(3)
            identity.field(professor ? "PR" : "DR")
            identity.field(professor ? "Professeur" : "Docteur")
        } else {
            identity.empty(2)
        }
        identity.field(female ? "MME" : "M")
        identity.field(female ? "Madame" : "Monsieur")
        identity.field(lastName)
        identity.field(firstName)
        identity.field(profession.code)
        identity.field(profession.label)
        let category: ProfessionalCategory = random.chance(3) ? .agentPublic : .civil
        identity.field(category.code)
        identity.field(category.label)
        if profession.code == "10" {
            let roll = random.below(100)
            let specialty: (String, String)? = roll < 55 ? ("SM53", "Spécialiste en Médecine Générale")
                : roll < 65 ? ("SM41", "Pneumologie") : roll < 70 ? ("SM49", "Santé publique et médecine sociale") : nil
            if let specialty {
                identity.field("S")
                identity.field("Spécialité ordinale")
                identity.field(specialty.0)
                identity.field(specialty.1)
            } else {
                identity.empty(4)
            }
        } else {
            identity.empty(4)
        }
        let authority: String
        if let ordre = profession.ordre {
            authority = ordre == .cnom ? "CNOM/CNOM/ARS" : "\(ordre.abbreviation)/\(ordre.abbreviation)/\(ordre.abbreviation)"
        } else {
            authority = random.chance(50) ? "ARS/Variable/Variable" : "ARS/CPAM/CPAM"
        }

        for activity in 0..<activities {
            out.raw(identity.bytes)
            let roll = random.below(100)
            let mode: ModeOfActivity = roll < 2 ? .benevole : roll < 2 + State.liberalShare(profession.code) ? .liberal : .salarie
            out.field(mode.code)
            out.field(mode.shortLabel)
            if mode == .liberal {
                writeCabinet(profession: profession, lastName: lastName,
                             townIndex: activity == 0 ? homeTown : random.below(ExtractionGenerator.towns.count), into: &out)
            } else {
                writeEstablishment(establishments[random.below(establishments.count)], into: &out)
            }
            out.field(authority)
            out.field(pendingSector)
            out.field(SecteurActivite.named(code: pendingSector)?.label ?? "")
            // The pharmacists' table sections (TRE_G05) were not gathered: left empty.
            out.empty(2)
            out.newline()
        }
    }

    /// Columns 19 (SIRET) to 46 (ancien identifiant) of a libéral practice; its sector is
    /// kept in `pendingSector`, written after the authority (47).
    mutating func writeCabinet(profession: Profession, lastName: String, townIndex: Int, into out: inout ByteWriter) {
        let town = ExtractionGenerator.towns[townIndex]
        let siret = State.siret(random: &random)
        out.field(siret)
        if random.chance(60) { out.field(String(siret.prefix(9))) } else { out.empty() }
        out.empty(2)
        out.field("C" + siret)
        let sector: String
        switch profession.code {
        case "21":
            sector = "SA33"
            out.field("PHARMACIE \(["DU CENTRE", "DE LA GARE", "DES HALLES", "CENTRALE", "DU MARCHÉ"][random.below(5)])")
        case "28", "26":
            sector = "SA42"
            out.field("\(["OPTIQUE", "AUDITION", "VISION"][random.below(3)]) \(upperTownNames[townIndex])")
        default:
            let roll = random.below(100)
            sector = roll < 60 ? "SA07" : roll < 90 ? "SA08" : "SA09"
            out.field("CABINET \(lastName)")
        }
        out.empty()
        let street = ExtractionGenerator.streetTypes[random.below(ExtractionGenerator.streetTypes.count)]
        writeAddress(
            town: town, upperTown: upperTownNames[townIndex], number: String(1 + random.below(150)), street: street,
            streetName: ExtractionGenerator.streetNames[random.below(ExtractionGenerator.streetNames.count)],
            phone: State.phone(random: &random), into: &out)
        out.field("3" + siret)
        pendingSector = sector
    }

    /// Columns 19 (SIRET) to 46 (ancien identifiant) of an establishment.
    mutating func writeEstablishment(_ establishment: Establishment, into out: inout ByteWriter) {
        if let siret = establishment.siret { out.field(siret) } else { out.empty() }
        out.empty()
        out.field(establishment.finessSite)
        if let juridique = establishment.finessJuridique { out.field(juridique) } else { out.empty() }
        out.field("F" + establishment.finessSite)
        out.field(establishment.name)
        out.empty()
        writeAddress(
            town: establishment.town, upperTown: upperTownNames[establishment.townIndex], number: establishment.streetNumber,
            street: establishment.street, streetName: establishment.streetName, phone: establishment.phone, into: &out)
        out.field("1" + establishment.finessSite)
        pendingSector = establishment.sector.code
    }

    /// The sector chosen for the current activity, written after the authority column.
    var pendingSector = "SA43"

    /// Columns 26 (complément destinataire) to 45 (libellé département).
    mutating func writeAddress(
        town: ExtractionGenerator.Town, upperTown: String, number: String, street: (code: String, label: String),
        streetName: String, phone: String, into out: inout ByteWriter
    ) {
        out.empty(2)
        out.field(number)
        if random.chance(5) { out.field("B") } else { out.empty() }
        out.field(street.code)
        out.field(street.label)
        out.field(streetName)
        out.empty()
        out.field(town.postalCode + " " + upperTown)
        out.field(town.postalCode)
        out.field(town.communeCode)
        out.field(town.name)
        out.field("99100")
        out.field("France")
        out.field(phone)
        out.empty(2)
        if random.chance(30) { out.field("contact\(random.below(100_000))@example.fr") } else { out.empty() }
        out.field(town.department.value)
        out.field(town.department.label)
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    static func digits(_ count: Int, random: inout SplitMix64) -> String {
        padded(Int(random.next() % UInt64(pow10(count))), count)
    }

    static func pow10(_ n: Int) -> Int {
        var result = 1
        for _ in 0..<n { result *= 10 }
        return result
    }

    /// A FINESS number in a department: `2A`/`2B` kept as letters, overseas as `970` + digit.
    static func finess(for department: DepartmentCode, random: inout SplitMix64) -> String {
        let body: String
        if department.isOverseas {
            body = "970" + String(department.value.last!) + digits(4, random: &random)
        } else {
            body = department.value + digits(6, random: &random)
        }
        return FINESS.withKey(body: body)!.value
    }

    static func siret(random: inout SplitMix64) -> String {
        let sirenBody = String(1 + random.below(9)) + digits(7, random: &random)
        let siren = sirenBody + String(Luhn.key(for: sirenBody.utf8.map { $0 - 0x30 }))
        let nicBody = "000" + String(random.below(10))
        let body = siren + nicBody
        return body + String(Luhn.key(for: body.utf8.map { $0 - 0x30 }))
    }

    /// A La Poste SIRET: SIREN 356000000, digits adding up to a multiple of 5.
    static func laPosteSIRET(random: inout SplitMix64) -> String {
        let body = SIREN.laPoste + digits(4, random: &random)
        let sum = body.utf8.reduce(0) { $0 + Int($1 - 0x30) }
        return body + String((5 - sum % 5) % 5)
    }

    static func phone(random: inout SplitMix64) -> String {
        "0" + String(1 + random.below(5)) + digits(8, random: &random)
    }
}
