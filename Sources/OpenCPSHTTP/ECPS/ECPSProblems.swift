import Vapor

/// The HTTP statuses of e-CPS's error codes, the part of ``ProblemMiddleware``'s table that
/// belongs to e-CPS.
enum ECPSProblems {
    static func status(forCode code: String) -> HTTPResponseStatus {
        switch code {
        case "ecps.too-many-attempts": .tooManyRequests
        case "ecps.device-unknown", "ecps.request-unknown": .notFound
        case "ecps.device-revoked", "ecps.device-expired", "ecps.no-active-card", "ecps.wrong-code", "ecps.holder-only", "ecps.device-taken": .forbidden
        case "ecps.bad-proof", "ecps.bad-approval": .unauthorized
        case "ecps.enrolment-used", "ecps.request-decided", "ecps.certificate-issued": .conflict
        case "ecps.enrolment-expired", "ecps.request-expired", "ecps.certificate-window": .gone
        case "ecps.no-pki": .serviceUnavailable
        case "ecps.outbox-failed": .internalServerError
        default: .unprocessableEntity
        }
    }
}
