import OpenCPSDomain
import FluentKit
import Foundation
import OpenCPSPersistence

/// Reads stored state for assertions, through the persistence layer's own API.
enum OpenCPSPersistenceProbe {
    /// The actions recorded in the audit log about one record, oldest first.
    static func auditActions(_ database: any Database, entityID: String, entityType: String = "professional") async throws -> [String] {
        try await AuditLog(clock: SystemWallClock()).history(entityType: entityType, entityID: entityID, on: database).map(\.action)
    }
}

/// The stable code of the domain error `body` throws, nil when it throws nothing, or the
/// description of any other error.
func errorCode(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch let error as any DomainError {
        return error.code
    } catch {
        return "\(error)"
    }
}
