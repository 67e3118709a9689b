import Foundation
import OpenCPSDomain
import OpenCPSPersistence

/// A refusal about staff roles, with a stable code.
public struct StaffError: DomainError, Equatable {
    /// `staff.role-not-held` (the person does not hold the role) or `staff.role-invalid`.
    public let code: String
    /// What is wrong, in English.
    public let reason: String

    /// Creates the error.
    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// The person behind the action being done, when a staff member acts for an instance or a
/// desk: the audit log then names both the role and the person
/// (see ``OpenCPSDomain/CardActor/auditName``). Set only by ``StaffDirectory/acting(_:as:_:)``.
enum StaffAuditContext {
    @TaskLocal static var person: IdNat?
}

/// Who acts for an instance or a desk on the portal's staff pages, decided by the platform:
/// the `portal_staff` table (an order, a regional agency, the help desk; managed by
/// `opencps staff`), and the establishment managers, who are the holders of an active CDE or
/// CDA card of their structure, as the domain defines them.
public struct StaffDirectory: Sendable {
    private let database: ServiceDatabase
    private let clock: any WallClock

    /// Creates the directory.
    public init(database: ServiceDatabase, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    private var repository: StaffRepository { StaffRepository(database: database.current, clock: clock) }

    /// The roles a table row may give: an order, a regional agency, the help desk. Managers
    /// come from their cards; operators and the platform do not use the portal.
    public static func isAssignable(_ role: CardActor) -> Bool {
        switch role {
        case .ordre, .agenceRegionale, .helpDesk: true
        case .holder, .establishmentManager, .agencyOperator, .platform: false
        }
    }

    /// Gives a person a role.
    /// - Parameter actor: who gives it, for the audit log (such as `operator:cli`).
    /// - Returns: whether the person did not have it yet.
    /// - Throws: ``StaffError`` `staff.role-invalid` for a role no row may give.
    @discardableResult
    public func add(_ person: IdNat, role: CardActor, actor: String) async throws -> Bool {
        try Self.requireAssignable(role)
        return try await repository.add(idNat: person, role: role.auditRole, event: AuditEvent(
            actor: actor, action: "portal.staff-add", entityType: "professional", entityID: person.value, detail: "role \(role.auditRole)"))
    }

    /// Takes a role from a person.
    /// - Returns: whether the person had it.
    @discardableResult
    public func remove(_ person: IdNat, role: CardActor, actor: String) async throws -> Bool {
        try Self.requireAssignable(role)
        return try await repository.remove(idNat: person, role: role.auditRole, event: AuditEvent(
            actor: actor, action: "portal.staff-remove", entityType: "professional", entityID: person.value, detail: "role \(role.auditRole)"))
    }

    /// Every row of the table.
    public func list() async throws -> [StaffAssignment] {
        try await repository.all()
    }

    /// The roles a person holds: their table rows, then the manager of each structure for
    /// which they hold an active CDE or CDA card.
    public func roles(of person: IdNat) async throws -> [CardActor] {
        var roles = try await repository.roles(of: person).compactMap { CardActor(auditName: $0) }.filter(Self.isAssignable)
        let cards = try await CardRepository(database: database.current, clock: clock).cards(holder: person)
        for card in cards where card.state == .active && (card.kind == .cde || card.kind == .cda) {
            guard let structure = card.structure else { continue }
            let manager = CardActor.establishmentManager(structure)
            if !roles.contains(manager) { roles.append(manager) }
        }
        return roles
    }

    /// Runs `work` as `person` acting in `role`: refused unless the platform gives the person
    /// that role now; every audit entry `work` writes names the role and the person.
    /// - Throws: ``StaffError`` `staff.role-not-held`, or what `work` throws.
    public func acting<T: Sendable>(_ person: IdNat, as role: CardActor, _ work: @Sendable () async throws -> T) async throws -> T {
        guard try await roles(of: person).contains(role) else {
            throw StaffError(code: "staff.role-not-held", reason: "\(person) does not act as \(role)")
        }
        return try await StaffAuditContext.$person.withValue(person) { try await work() }
    }

    private static func requireAssignable(_ role: CardActor) throws {
        guard isAssignable(role) else {
            throw StaffError(
                code: "staff.role-invalid",
                reason: "\(role) is not a staff role: give ordre:<ORDER>, ars:<region code> or helpdesk (managers come from their CDE/CDA cards)")
        }
    }
}

extension CardActor {
    /// The role as the audit log names it, without the person: ``auditName`` outside a staff action.
    var auditRole: String {
        switch self {
        case .holder(let idNat): "holder:\(idNat.value)"
        case .ordre(let ordre): "ordre:\(ordre.abbreviation)"
        case .agenceRegionale(let region): "ars:\(region.code)"
        case .establishmentManager(let structure): "manager:\(structure.idNatStruct)"
        case .helpDesk: "helpdesk"
        case .agencyOperator(let role): "operator:\(role.rawValue)"
        case .platform: "platform"
        }
    }
}
