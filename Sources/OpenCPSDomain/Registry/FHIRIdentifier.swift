import Foundation

/// The FHIR resource id of a professional: the idNat, with the `/` of establishment staff
/// identifiers turned into `.` (a FHIR id may only hold letters, digits, `-` and `.`).
public enum FHIRIdentifier {
    /// The FHIR id for an idNat.
    public static func of(_ idNat: IdNat) -> String {
        let value = idNat.value
        // Only staff identifiers hold a slash; Foundation's replacement costs more than the check.
        guard value.utf8.contains(UInt8(ascii: "/")) else { return value }
        return value.replacingOccurrences(of: "/", with: ".")
    }

    /// The idNat behind a FHIR id, if it is one.
    public static func idNat(_ fhirID: String) -> IdNat? {
        if let idNat = try? IdNat(fhirID) { return idNat }
        // Staff identifiers are `3` + FINESS (9) + `/` + local id.
        guard fhirID.hasPrefix("3"), fhirID.count > 11 else { return nil }
        let slash = fhirID.index(fhirID.startIndex, offsetBy: 10)
        guard fhirID[slash] == "." else { return nil }
        return try? IdNat(String(fhirID[..<slash]) + "/" + String(fhirID[fhirID.index(after: slash)...]))
    }
}
