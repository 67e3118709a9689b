import Foundation

/// The FHIR resource id of a professional: the idNat, with the `/` of establishment staff
/// identifiers (types 1, 3, 4, 5, 6) turned into `.` (a FHIR id may only hold letters, digits, `-` and `.`).
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
        // Staff identifiers are a type, a structure number (letters and digits), `/` and a
        // local id: the first `.` is the slash.
        guard let dot = fhirID.firstIndex(of: ".") else { return nil }
        return try? IdNat(String(fhirID[..<dot]) + "/" + String(fhirID[fhirID.index(after: dot)...]))
    }
}
