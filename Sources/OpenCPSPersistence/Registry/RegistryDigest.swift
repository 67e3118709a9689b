import Crypto
import Foundation
import OpenCPSDomain

/// The SHA-256 of a record's canonical form, which the audit log keeps before and after a change.
enum RegistryDigest {
    private struct ProfessionalSnapshot: Encodable {
        var professional: ProfessionalRow
        var exercises: [ExerciseRow]
        var activities: [ActivityRow]
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The digest of a professional, leaving out version and timestamp so that it only
    /// changes when the content does.
    static func of(_ professional: Professional) -> String {
        var row = ProfessionalRow(professional, version: 0, updatedAt: "")
        row.name_key = ""
        let rows = RegistryRows(professional)
        return digest(ProfessionalSnapshot(professional: row, exercises: rows.exercises, activities: rows.activities))
    }

    /// The digest of a structure.
    static func of(_ structure: Structure) -> String {
        digest(StructureRow(structure, updatedAt: ""))
    }

    private static func digest(_ value: some Encodable) -> String {
        // Encoding plain rows of strings cannot fail.
        let data = (try? encoder.encode(value)) ?? Data()
        return SHA256.hash(data: data).hexString
    }
}

/// The exercise and activity rows of a professional, with activity identifiers assigned.
struct RegistryRows {
    var exercises: [ExerciseRow] = []
    var activities: [ActivityRow] = []

    init(_ professional: Professional) {
        Self.append(professional, exercises: &exercises, activities: &activities)
    }

    /// Appends a professional's rows to a batch's (the import's path: no arrays of its own per person).
    static func append(_ professional: Professional, exercises: inout [ExerciseRow], activities: inout [ActivityRow]) {
        let first = activities.count
        for exercise in professional.exercises {
            exercises.append(ExerciseRow(exercise, idNat: professional.idNat))
            for activity in exercise.activities {
                // A person has a few activities: the identifiers already given are looked for among theirs.
                let id = ActivityIdentifier.make(
                    idNat: professional.idNat, professionCode: exercise.profession.code, activity: activity,
                    taken: { candidate in activities[first...].contains { $0.id == candidate } })
                activities.append(ActivityRow(activity, id: id, idNat: professional.idNat, professionCode: exercise.profession.code))
            }
        }
    }
}

/// Identifiers of activities, stable for the same professional, profession, mode and structure,
/// and valid as FHIR ids (`[A-Za-z0-9.-]{1,64}`), since each activity is a PractitionerRole.
public enum ActivityIdentifier {
    /// The identifier of an activity that `taken` does not know yet.
    static func make(idNat: IdNat, professionCode: String, activity: Activity, taken: (String) -> Bool) -> String {
        var base = FHIRIdentifier.of(idNat)
        base += "-"
        base += professionCode
        base += "-"
        base += activity.mode.rawValue
        base += "-"
        base += activity.structure?.idNatStruct ?? "0"
        var candidate = base
        var index = 2
        while taken(candidate) {
            candidate = "\(base)-\(index)"
            index += 1
        }
        return candidate
    }
}
