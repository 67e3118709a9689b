/// The national nomenclatures (*NOS*) published by the ANS at `https://mos.esante.gouv.fr/NOS/`.
public enum Nomenclature {
    /// The prefix of every NOS code system and value set URL.
    public static let base = "https://mos.esante.gouv.fr/NOS/"

    /// The FHIR CodeSystem URL of a NOS table: `NOS/TRE_Xnn-Name/FHIR/TRE-Xnn-Name`.
    /// - Parameter table: the table's name with underscore, such as `TRE_R23-ModeExercice`.
    /// - Returns: e.g. `https://mos.esante.gouv.fr/NOS/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice`.
    public static func codeSystemURL(_ table: String) -> String {
        base + table + "/FHIR/" + table.replacingFirstUnderscore()
    }
}

/// The error thrown when a code is not in its nomenclature.
public struct NomenclatureError: DomainError, Equatable {
    /// A stable code, such as `profession.unknown` or `mode-of-activity.unknown`.
    public let code: String
    /// A sentence saying which code was not found where.
    public let reason: String

    /// Creates a nomenclature error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension String {
    fileprivate func replacingFirstUnderscore() -> String {
        guard let index = firstIndex(of: "_") else { return self }
        var copy = self
        copy.replaceSubrange(index...index, with: "-")
        return copy
    }
}
