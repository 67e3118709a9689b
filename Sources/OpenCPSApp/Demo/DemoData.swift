import FluentKit
import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSPersistence

/// The demo data set: three establishments with valid FINESS numbers, a handful of named
/// professionals working there (ordinal and non-ordinal professions), and some sixty
/// synthetic professionals from the extraction generator, imported as a real file would be.
///
/// Every name and number is fictitious; identifiers are valid (their keys check).
/// Loading is idempotent: a database that has the demo establishments is left alone.
public struct DemoData: Sendable {
    private let clock: any WallClock

    /// The actor the audit log names for the demo's records.
    public static let actor = "system:demo"

    /// Creates the loader.
    public init(clock: any WallClock) {
        self.clock = clock
    }

    /// The demo establishments.
    public static let establishments: [Structure] = [
        establishment("25099901", "CENTRE HOSPITALIER DE DEMONSTRATION DE BESANCON", "SA01", "25", "3 Boulevard FLEMING", "25030", "Besançon"),
        establishment("2A099902", "CLINIQUE DE DEMONSTRATION D'AJACCIO", "SA04", "2A", "12 Cours NAPOLEON", "20000", "Ajaccio"),
        establishment("69099903", "CENTRE DE SANTE DE DEMONSTRATION DE LYON", "SA05", "69", "5 Rue DE LA REPUBLIQUE", "69002", "Lyon"),
    ]

    /// The named demo professionals, used by the README's tour.
    public static let professionals: [Professional] = [
        professional("1009999001", "MME", "LAMBERT", "CLAIRE", "10", .salarie, 0, civiliteExercice: "DR", savoirFaire: SavoirFaire(typeCode: "S", code: "SM53", label: "Spécialiste en Médecine Générale")),
        professional("1009999002", "M", "GIRAUD", "THOMAS", "21", .salarie, 0),
        professional("1009999003", "MME", "ROUSSEAU", "ELODIE", "60", .salarie, 1),
        professional("1009999004", "M", "FABRE", "JULIEN", "70", .liberal, 2),
        professional("1009999005", "MME", "MOREL", "SOPHIE", "91", .salarie, 2),
        professional("1009999006", "M", "BONNET", "ANTOINE", "50", .salarie, 2),
    ]

    /// Loads the data set unless it is there already.
    /// - Returns: a sentence saying what was done.
    public func load(into database: any Database) async throws -> String {
        let registry = RegistryRepository(database: database, clock: clock)
        if try await registry.structure(id: Self.establishments[0].identifier.idNatStruct) != nil {
            return "The demo data set is already loaded."
        }
        for structure in Self.establishments {
            try await registry.create(structure, actor: Self.actor)
        }
        for professional in Self.professionals {
            try await registry.create(professional, actor: Self.actor)
        }
        let file = ExtractionGenerator(seed: 20_261_124).bytes(rows: 120)
        let report = try await DirectoryImporter(database: database, clock: clock)
            .run(reader: ExtractionLineReader(bytes: file), source: "demo-extraction", actor: Self.actor)
        let counts = try await registry.counts()
        return "Demo data loaded: \(counts.professionals) professionals, \(counts.structures) structures (\(report.rowsImported) generated rows)."
    }

    private static func establishment(
        _ body: String, _ name: String, _ sector: String, _ department: String, _ line: String, _ postalCode: String,
        _ city: String
    ) -> Structure {
        let finess = FINESS.withKey(body: body)!
        return Structure(
            identifier: .finess(finess), name: name, sectorCode: sector, department: try? DepartmentCode(department),
            address: PostalAddress(line: line, postalCode: postalCode, city: city))
    }

    private static func professional(
        _ sequence: String, _ civilite: String, _ lastName: String, _ firstName: String, _ professionCode: String,
        _ mode: ModeOfActivity, _ establishmentIndex: Int, civiliteExercice: String? = nil, savoirFaire: SavoirFaire? = nil
    ) -> Professional {
        let rpps = RPPS.withKey(sequence: sequence)!
        let profession = Profession.named(code: professionCode)!
        let structure = establishments[establishmentIndex]
        let activity = Activity(
            mode: mode, structure: structure.identifier, structureName: structure.name, sectorCode: structure.sectorCode,
            department: structure.department, address: structure.address)
        let registration = profession.ordre.map {
            OrderRegistration(ordre: $0, registeredOn: try! CivilDate("2020-09-01"), number: nil)
        }
        return Professional(
            idNat: try! IdNat("8" + rpps.value), civilite: civilite, lastName: lastName, firstName: firstName,
            exercises: [Exercise(
                profession: profession, categoryCode: "C", civiliteExercice: civiliteExercice, savoirFaire: savoirFaire,
                registration: registration, activities: [activity])])
    }

    /// Creates the demo's PKI: a random key-store passphrase kept in the data folder (mode
    /// 0600; a demo convenience, never for production) and a hierarchy whose URLs are the
    /// server's own address.
    static func createPKI(_ configuration: OpenCPSConfiguration) throws {
        if case .file(let url) = configuration.keyStorePassphrase, !FileManager.default.fileExists(atPath: url.path) {
            var bytes = [UInt8](repeating: 0, count: 24)
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
            let passphrase = Data(bytes).base64EncodedString()
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: url.path, contents: Data(passphrase.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw PKIError.hierarchyStorage("cannot write the demo passphrase to \(url.path)")
            }
        }
        // The demo keeps its "offline" root key in the data folder, beside the keys the server
        // opens, and never loads it either.
        _ = try PKIMaterial.initialize(
            configuration, pkiConfiguration: PKIConfiguration(publicBaseURL: configuration.publicBaseURL),
            rootKeyDestination: configuration.dataDirectory.appendingPathComponent("root-offline", isDirectory: true), now: Date())
    }
}
