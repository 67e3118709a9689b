import Foundation
import OpenCPSDomain
import OpenCPSServices
import Vapor

/// A QR enrolment code, as `POST /api/v1/ecps/enrolments` answers it.
struct EnrolmentOfferBody: Content {
    var enrolmentId: String
    /// The text to show as a QR code.
    var payload: String?
    var expiresAt: Date
}

/// What a device posts to enrol (`POST /api/v1/ecps/devices`).
struct EnrolmentBody: Content {
    /// For a QR code: the enrolment (the payload's second part).
    var enrolmentId: String?
    /// For an activation code: the holder.
    var idNat: String?
    var code: String
    var label: String
    var deviceKey: String
    var approvalKey: String
}

/// A device as the holder sees it.
struct DeviceBody: Content {
    var id: String
    var idNat: String
    var label: String
    var status: String
    var method: String
    var createdAt: Date
    var enrolledAt: Date
    var expiresAt: Date
    var revokedAt: Date?

    init(_ device: ECPSDevice, now: Date) {
        id = device.id
        idNat = device.holder.value
        label = device.label
        status = device.status(at: now).rawValue
        method = device.method.rawValue
        createdAt = device.createdAt
        enrolledAt = device.enrolledAt
        expiresAt = device.expiresAt
        revokedAt = device.revokedAt
    }
}

/// The holder's devices.
struct DeviceListBody: Content {
    var items: [DeviceBody]
}

/// `POST /api/v1/ecps/activations`: send me an activation code.
struct ActivationBody: Content {
    var idNat: String
}

/// The answer: when the code sent expires (the code itself goes only to the registered contact).
struct ActivationSentBody: Content {
    var enrolmentId: String
    var expiresAt: Date
}

/// `PUT /api/v1/ecps/contact`.
struct ContactBody: Content {
    var email: String?
    var phone: String?
}

/// A login request as the device shows it: what it must sign is rebuilt from these fields.
struct LoginRequestBody: Content {
    var id: String
    var clientId: String
    var clientName: String
    var bindingMessage: String
    var scope: String
    var serverNonce: String
    var expiresAt: Date

    init(_ request: ECPSLoginRequest) {
        id = request.id
        clientId = request.clientID
        clientName = request.clientName
        bindingMessage = request.bindingMessage
        scope = request.scope
        serverNonce = request.serverNonce
        expiresAt = request.expiresAt
    }
}

/// The device's pending requests.
struct PendingBody: Content {
    var deviceId: String
    var items: [LoginRequestBody]
}

/// `POST /api/v1/ecps/requests/{id}/decision`: the holder's signed decision.
struct DecisionBody: Content {
    var deviceId: String
    /// `approve` or `deny`.
    var decision: String
    /// When the holder decided, seconds since 1970 (part of the signed message).
    var time: Int64
    /// ES256 over the approval message, `r || s` in base64url.
    var signature: String
}

/// The answer to a decision.
struct DecisionResultBody: Content {
    var id: String
    var state: String
}

/// A device's request for a certificate of its device key, after a login it approved.
struct CertificateRequestBody: Content {
    /// The login request the device approved.
    var requestId: String
}

/// A device certificate, as issued.
struct DeviceCertificateBody: Content {
    /// The issuing CA's slug (`elementaire-personnes`).
    var issuer: String
    /// The serial number, hex.
    var serial: String
    /// The subject, as text.
    var subject: String
    /// Start of validity.
    var notBefore: Date
    /// End of validity.
    var notAfter: Date
    /// The certificate, PEM.
    var pem: String
}
