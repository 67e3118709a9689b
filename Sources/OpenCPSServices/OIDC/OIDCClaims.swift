import Crypto
import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// The claims health services expect (REFERENCE.md §5, Pro Santé Connect's userinfo), built
/// from the registry at the moment they are asked for, so that a registry change shows at the
/// next userinfo call.
///
/// What each scope carries is OpenCPS's choice where Pro Santé Connect says nothing:
/// - `openid`: `sub` only;
/// - `profile`: plus `preferred_username`, `SubjectNameID`, `given_name`, `family_name`;
/// - `scope_all`: plus `SubjectRefPro` (exercices and activities, every key present, `""` when
///   empty), `SubjectOrganization`, `SubjectOrganizationID`, `SubjectRole`,
///   `Secteur_Activite`, `codeCivilite`, `otherIds`.
public struct OIDCClaims: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock

    /// Creates the claim builder.
    public init(database: ServiceDatabase, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// The OID of the professions' code system in `SubjectRole`.
    static let professionOID = "1.2.250.1.213.1.1.5.5"
    /// The OID of the sectors' code system in `Secteur_Activite`.
    static let sectorOID = "1.2.250.1.71.4.2.4"

    /// `sub`: `f:<uuid>:<idNat>`, the UUID derived from the idNat (a UUID v5-like layout over
    /// SHA-256), so that it is stable per professional without storing it.
    public static func subject(_ idNat: IdNat) -> String {
        var bytes = Array(SHA256.hash(data: Data("opencps-oidc-sub:\(idNat.value)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return "f:\(uuid.uuidString.lowercased()):\(idNat.value)"
    }

    /// The claims of a professional for the granted scopes.
    /// - Throws: `oidc.subject.unknown` when the registry no longer has them.
    public func claims(for idNat: IdNat, scope: String) async throws -> [String: JSONValue] {
        let scopes = Set(scope.split(separator: " ").map(String.init))
        var claims: [String: JSONValue] = ["sub": .string(Self.subject(idNat))]
        guard scopes.contains(OIDCScope.profile) || scopes.contains(OIDCScope.all) else { return claims }
        let registry = RegistryRepository(database: database.current, clock: clock)
        // `profile` needs the names alone, read in one narrow query (what most logins ask for);
        // `scope_all` the whole professional.
        let professional: Professional?
        let names: RegisteredNames?
        if scopes.contains(OIDCScope.all) {
            professional = try await registry.professional(idNat)?.professional
            names = professional.map { RegisteredNames(firstName: $0.firstName, lastName: $0.lastName) }
        } else {
            professional = nil
            names = try await registry.names(of: idNat)
        }
        guard let names else {
            throw OIDCError(.invalidToken, code: "oidc.subject.unknown", reason: "the registry has no professional \(idNat.value)")
        }
        claims["preferred_username"] = .string(idNat.value)
        claims["SubjectNameID"] = .string(idNat.value)
        claims["given_name"] = .string(names.firstName)
        claims["family_name"] = .string(names.lastName)
        guard let professional else { return claims }
        claims["codeCivilite"] = .string(professional.civilite ?? "")
        claims["SubjectRefPro"] = .object(["exercices": .array(professional.exercises.map { Self.exercise($0, of: professional) })])
        let first = professional.exercises.first?.activities.first
        claims["SubjectOrganization"] = .string(first?.structureName ?? "")
        claims["SubjectOrganizationID"] = .string(first?.structure?.idNatStruct ?? "")
        claims["SubjectRole"] = .array(professional.exercises.map { .string("\($0.profession.code)^\(Self.professionOID)") })
        claims["Secteur_Activite"] = .string(first?.sectorCode.map { "\($0)^\(Self.sectorOID)" } ?? "")
        claims["otherIds"] = .array([.object(["identifiant": .string(idNat.value), "origine": .string("RPPS"), "qualite": .integer(1)])])
        return claims
    }

    private static func exercise(_ exercise: Exercise, of professional: Professional) -> JSONValue {
        .object([
            "codeProfession": .string(exercise.profession.code),
            "codeCategorieProfessionnelle": .string(exercise.categoryCode),
            "codeCiviliteDexercice": .string(exercise.civiliteExercice ?? ""),
            "nomDexercice": .string(professional.lastName),
            "prenomDexercice": .string(professional.firstName),
            "codeTypeSavoirFaire": .string(exercise.savoirFaire?.typeCode ?? ""),
            "codeSavoirFaire": .string(exercise.savoirFaire?.code ?? ""),
            "activities": .array(exercise.activities.map(activity)),
        ])
    }

    private static func activity(_ activity: Activity) -> JSONValue {
        var values: [String: String] = Dictionary(uniqueKeysWithValues: activityKeys.map { ($0, "") })
        values["codeModeExercice"] = activity.mode.rawValue
        values["codeSecteurDactivite"] = activity.sectorCode ?? ""
        values["codeSectionPharmacien"] = activity.sectionCode ?? ""
        values["codeRole"] = activity.fonctionCode ?? ""
        values["codeGenreActivite"] = activity.genreCode ?? ""
        values["raisonSocialeSite"] = activity.structureName ?? ""
        values["identifiantTechniqueDeLaStructure"] = activity.structure?.idNatStruct ?? ""
        switch activity.structure {
        case .finess(let finess): values["numeroFinessSite"] = finess.value
        case .siret(let siret): values["numeroSiretSite"] = siret.value
        case .siren(let siren): values["numeroSirenSite"] = siren.value
        default: break
        }
        values["codeDepartement"] = activity.department?.value ?? ""
        if let address = activity.address {
            values["libelleVoie"] = address.line ?? ""
            values["codePostal"] = address.postalCode ?? ""
            values["bureauCedex"] = [address.postalCode, address.city].compactMap { $0 }.joined(separator: " ")
        }
        return .object(values.mapValues { .string($0) })
    }

    /// Every key of an activity (REFERENCE.md §5), present with `""` when empty.
    static let activityKeys = [
        "codeModeExercice", "codeSecteurDactivite", "codeSectionPharmacien", "codeRole", "codeGenreActivite",
        "numeroSiretSite", "numeroSirenSite", "numeroFinessSite", "numeroFinessetablissementJuridique", "identifiantTechniqueDeLaStructure",
        "raisonSocialeSite", "enseigneCommercialeSite", "complementDestinataire", "complementPointGeographique",
        "numeroVoie", "indiceRepetitionVoie", "codeTypeDeVoie", "libelleVoie", "mentionDistribution", "bureauCedex", "codePostal", "codeCommune", "codePays",
        "telephone", "telephone2", "telecopie", "adresseEMail", "codeDepartement", "ancienIdentifiantDeLaStructure", "autoriteDenregistrement",
    ]
}
