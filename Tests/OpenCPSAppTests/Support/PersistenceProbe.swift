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
