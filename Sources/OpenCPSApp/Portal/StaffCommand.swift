import ArgumentParser
import Foundation
import OpenCPSDomain
import OpenCPSServices

/// `opencps staff ...`: who acts for an order, a regional agency or the help desk on the
/// portal's staff pages (establishment managers come from their CDE/CDA cards).
struct StaffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff", abstract: "Give, list and take the portal's staff roles (order, regional agency, help desk).",
        subcommands: [StaffAddCommand.self, StaffListCommand.self, StaffRemoveCommand.self])
}

/// The staff directory on the configured database.
private func withStaff<T>(_ options: DataOptions, _ body: (StaffDirectory) async throws -> T) async throws -> T {
    let configuration = try options.configuration(defaultLogLevel: "warning")
    return try await ApplicationRunner.withDatabase(configuration) { app in
        try await body(StaffDirectory(database: ServiceDatabase { [unowned app] in app.db }, clock: SystemWallClock()))
    }
}

/// The person and the role of `add` and `remove`, read or refused with a clear message.
private func staffRole(_ idNat: String, _ role: String) throws -> (IdNat, CardActor) {
    let person: IdNat
    do {
        person = try IdNat(idNat)
    } catch {
        throw ValidationError("\(idNat) is not an idNat (RPPS or ADELI): \(error.reason)")
    }
    guard let actor = CardActor(auditName: role), StaffDirectory.isAssignable(actor) else {
        throw ValidationError("\(role) is not a staff role: give ordre:<ORDER> (such as ordre:CNOM), ars:<region code> (such as ars:84) or helpdesk")
    }
    return (person, actor)
}

/// `opencps staff add IDNAT ROLE`.
struct StaffAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Give a person a staff role.", discussion: "Exit status: 0 given (or held already), 64 bad idNat or role.")

    @OptionGroup var options: DataOptions

    @Argument(help: "The person's idNat.")
    var idNat: String

    @Argument(help: "ordre:<ORDER> (CNOM, ONCD, CNOSF, CNOP, ONI, CNOMK, CNOPP), ars:<region code>, or helpdesk.")
    var role: String

    func run() async throws {
        let (person, actor) = try staffRole(idNat, role)
        let added = try await withStaff(options) { try await $0.add(person, role: actor, actor: "operator:cli") }
        print(added ? "\(person.value) now acts as \(role)" : "\(person.value) already acts as \(role)")
    }
}

/// `opencps staff list`.
struct StaffListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the staff roles given (idNat, role, since).")

    @OptionGroup var options: DataOptions

    func run() async throws {
        for row in try await withStaff(options, { try await $0.list() }) {
            print("\(row.idNat.value)\t\(row.role)\t\(row.addedAt)")
        }
    }
}

/// `opencps staff remove IDNAT ROLE`.
struct StaffRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Take a staff role from a person.", discussion: "Exit status: 0 taken, 2 the person did not hold it, 64 bad idNat or role.")

    @OptionGroup var options: DataOptions

    @Argument(help: "The person's idNat.")
    var idNat: String

    @Argument(help: "The role, as given to `staff add`.")
    var role: String

    func run() async throws {
        let (person, actor) = try staffRole(idNat, role)
        guard try await withStaff(options, { try await $0.remove(person, role: actor, actor: "operator:cli") }) else {
            printError("\(person.value) does not act as \(role)")
            throw ExitCode(2)
        }
        print("\(person.value) no longer acts as \(role)")
    }
}
