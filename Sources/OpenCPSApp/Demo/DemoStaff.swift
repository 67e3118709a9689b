import Foundation
import OpenCPSDomain
import OpenCPSServices

/// The demo's staff roles on the portal: Claire LAMBERT acts for the order of physicians and
/// at the help desk (two roles: the role chooser), Thomas GIRAUD for the regional agency of
/// Auvergne-Rhône-Alpes. Julien FABRE needs no row: his CDE and CDA cards make him the
/// manager of the hospital and of the health centre.
public enum DemoStaff {
    /// The demo rows.
    public static let roles: [(idNat: IdNat, role: CardActor)] = [
        (DemoData.professionals[0].idNat, .ordre(.cnom)),
        (DemoData.professionals[0].idNat, .helpDesk),
        (DemoData.professionals[1].idNat, .agenceRegionale(.auvergneRhoneAlpes)),
    ]

    /// Gives the demo roles (idempotent).
    /// - Returns: one line per role given now.
    public static func add(_ staff: StaffDirectory) async throws -> [String] {
        var lines: [String] = []
        for (idNat, role) in roles where try await staff.add(idNat, role: role, actor: DemoData.actor) {
            lines.append("demo staff: \(idNat.value) acts as \(role)")
        }
        return lines
    }
}
