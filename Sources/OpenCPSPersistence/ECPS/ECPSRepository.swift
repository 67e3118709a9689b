import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// Reads and writes e-CPS's records. Writes are meant to run inside the service's
/// transaction, after ``lock()``: the audit log's lock serialises them, so a one-time code is
/// read and spent by one request only, on SQLite and PostgreSQL alike.
public struct ECPSRepository: Sendable {
    private let database: any Database
    private let audit: AuditLog
    private let clock: any WallClock

    /// Creates the repository on a database (the service's open transaction).
    public init(database: any Database, clock: any WallClock) {
        self.database = database
        self.clock = clock
        self.audit = AuditLog(clock: clock)
    }

    var sql: any SQLDatabase { database.sql }

    /// Takes the platform's write lock (the audit log's head) for the running transaction.
    public func lock() async throws {
        _ = try await AuditLog.lock(sql)
    }

    /// Appends audit events in the running transaction.
    public func record(_ events: [AuditEvent]) async throws {
        let head = try await AuditLog.lock(sql)
        try await audit.append(events, after: head, on: sql)
    }

    // MARK: Devices

    /// Stores a new device.
    public func insert(_ device: ECPSDevice) async throws {
        try await sql.insert(into: "ecps_devices").model(ECPSDeviceRow(device), nilEncodingStrategy: .asNil).run()
    }

    /// Writes a device's changed fields.
    public func update(_ device: ECPSDevice) async throws {
        try await sql.update("ecps_devices").set(model: ECPSDeviceRow(device), nilEncodingStrategy: .asNil).where("id", .equal, device.id).run()
    }

    /// The device with this identifier.
    public func device(id: String) async throws -> ECPSDevice? {
        try await sql.select().columns("*").from("ecps_devices").where("id", .equal, id).first(decoding: ECPSDeviceRow.self)?.device()
    }

    /// The device with this device key.
    public func device(deviceKey: String) async throws -> ECPSDevice? {
        try await sql.select().columns("*").from("ecps_devices").where("device_key", .equal, deviceKey).first(decoding: ECPSDeviceRow.self)?.device()
    }

    /// A holder's devices, oldest first.
    public func devices(holder: IdNat) async throws -> [ECPSDevice] {
        try await sql.select().columns("*").from("ecps_devices").where("id_nat", .equal, holder.value).orderBy("created_at").orderBy("id")
            .all(decoding: ECPSDeviceRow.self).map { try $0.device() }
    }

    // MARK: Enrolments

    /// Stores a new enrolment.
    public func insert(_ enrolment: ECPSEnrolment) async throws {
        try await sql.insert(into: "ecps_enrolments").model(ECPSEnrolmentRow(enrolment), nilEncodingStrategy: .asNil).run()
    }

    /// Writes an enrolment's changed fields.
    public func update(_ enrolment: ECPSEnrolment) async throws {
        try await sql.update("ecps_enrolments").set(model: ECPSEnrolmentRow(enrolment), nilEncodingStrategy: .asNil)
            .where("id", .equal, enrolment.id).run()
    }

    /// The enrolment with this identifier.
    public func enrolment(id: String) async throws -> ECPSEnrolment? {
        try await sql.select().columns("*").from("ecps_enrolments").where("id", .equal, id).first(decoding: ECPSEnrolmentRow.self)?.enrolment()
    }

    /// A holder's latest enrolment by a method.
    public func latestEnrolment(holder: IdNat, method: ECPSEnrolmentMethod) async throws -> ECPSEnrolment? {
        try await sql.select().columns("*").from("ecps_enrolments").where("id_nat", .equal, holder.value).where("method", .equal, method.rawValue)
            .orderBy("created_at", .descending).limit(1).first(decoding: ECPSEnrolmentRow.self)?.enrolment()
    }

    // MARK: Contacts

    /// A holder's contact details.
    public func contact(holder: IdNat) async throws -> ECPSContact? {
        try await sql.select().columns("id_nat", "email", "phone").from("ecps_contacts").where("id_nat", .equal, holder.value)
            .first(decoding: ECPSContact.self)
    }

    /// Sets a holder's contact details.
    public func setContact(_ contact: ECPSContact) async throws {
        let now = StoredTimestamp.string(clock.now())
        try await sql.delete(from: "ecps_contacts").where("id_nat", .equal, contact.idNat).run()
        try await sql.raw("""
            INSERT INTO ecps_contacts (id_nat, email, phone, updated_at) VALUES (\(bind: contact.idNat), \(bind: contact.email), \(bind: contact.phone), \(bind: now))
            """).run()
    }

    // MARK: Login requests

    /// Stores a new login request.
    public func insert(_ request: ECPSLoginRequest) async throws {
        try await sql.insert(into: "ecps_login_requests").model(ECPSLoginRequestRow(request), nilEncodingStrategy: .asNil).run()
    }

    /// Writes a login request's changed fields.
    public func update(_ request: ECPSLoginRequest) async throws {
        try await sql.update("ecps_login_requests").set(model: ECPSLoginRequestRow(request), nilEncodingStrategy: .asNil)
            .where("id", .equal, request.id).run()
    }

    /// The login request with this identifier.
    public func loginRequest(id: String) async throws -> ECPSLoginRequest? {
        try await sql.select().columns("*").from("ecps_login_requests").where("id", .equal, id)
            .first(decoding: ECPSLoginRequestRow.self)?.request()
    }

    /// A holder's requests still waiting at `now`, oldest first.
    public func pendingRequests(holder: IdNat, at now: Date) async throws -> [ECPSLoginRequest] {
        try await sql.select().columns("*").from("ecps_login_requests").where("id_nat", .equal, holder.value)
            .where("state", .equal, ECPSLoginState.pending.rawValue).where("expires_at", .greaterThan, StoredTimestamp.string(now))
            .orderBy("created_at").limit(50).all(decoding: ECPSLoginRequestRow.self).map { try $0.request() }
    }

    // MARK: Sessions

    /// The identifiers of a holder's open SSO sessions opened with e-CPS.
    public func openECPSSessions(holder: IdNat) async throws -> [String] {
        try await sql.raw("""
            SELECT id FROM oidc_sessions WHERE id_nat = \(bind: holder.value) AND means = 'ecps' AND ended_at IS NULL
            """).all().map { try $0.decode(column: "id", as: String.self) }
    }

    // MARK: Attempts

    /// The failures counted under `key` in the window that contains `now`, and when that window ends.
    public func failures(key: String, at now: Date, window: TimeInterval) async throws -> (count: Int, windowEnds: Date) {
        guard let row = try await sql.raw("SELECT window_start, failures FROM ecps_attempts WHERE attempt_key = \(bind: key)").first() else {
            return (0, now.addingTimeInterval(window))
        }
        let start = StoredTimestamp.date(try row.decode(column: "window_start", as: String.self)) ?? now
        guard now < start.addingTimeInterval(window) else { return (0, now.addingTimeInterval(window)) }
        return (try row.decode(column: "failures", as: Int.self), start.addingTimeInterval(window))
    }

    /// Counts one more failure under `key` (a new window starts when the last one is over).
    public func recordFailure(key: String, at now: Date, window: TimeInterval) async throws {
        let current = try await failures(key: key, at: now, window: window)
        let start = current.count == 0 ? now : current.windowEnds.addingTimeInterval(-window)
        try await sql.delete(from: "ecps_attempts").where("attempt_key", .equal, key).run()
        try await sql.raw("""
            INSERT INTO ecps_attempts (attempt_key, window_start, failures) VALUES (\(bind: key), \(bind: StoredTimestamp.string(start)), \(bind: current.count + 1))
            """).run()
    }
}
