import FluentKit
import Foundation
import OpenCPSDomain
import SQLKit

/// What keeps `serve --demo` to what it is for: the demo loads fictitious rows and accepts
/// well-known tokens (`demo-operator-token`, `demo-helpdesk`, ...), so it refuses to run where
/// that would be dangerous unless the operator says so explicitly.
enum DemoFence {
    /// Why the demo may not start, or nil.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    /// Whether an address to listen on is a loopback address (only this machine can connect).
    static func isLoopback(_ hostname: String) -> Bool {
        let host = hostname.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Refuses a demo on an address other machines can reach, unless `exposed` says the
    /// operator knows its tokens are public.
    static func checkAddress(_ hostname: String, exposed: Bool) throws {
        guard exposed || isLoopback(hostname) else {
            throw Refusal(description: """
                --demo listens on \(hostname), which other machines can reach, and accepts the demo's \
                well-known tokens: listen on 127.0.0.1, or add --demo-exposed if that is what you want
                """)
        }
    }

    /// Refuses a demo on a database that holds data that is not the demo's: the demo's first
    /// write is its own (the audit log's first entry is by ``DemoData/actor``), so a database
    /// whose log begins otherwise holds real data, unless `existingData` says to go on.
    static func checkDatabase(_ database: any Database, existingData: Bool) async throws {
        guard !existingData, let sql = database as? any SQLDatabase else { return }
        guard let first = try await sql.select().column("actor").from("audit_log").orderBy("seq").limit(1).first() else {
            return
        }
        let actor = try first.decode(column: "actor", as: String.self)
        guard actor == DemoData.actor else {
            throw Refusal(description: """
                --demo would load demo rows into a database that holds other data (its audit log begins \
                with \(actor)) and accept the demo's well-known tokens on it: use another --data folder or \
                --database, or add --demo-on-existing-data if that is what you want
                """)
        }
    }
}
