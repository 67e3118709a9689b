import Foundation
import OpenCPSDomain
import OpenCPSECPS
import OpenCPSServices
import Vapor

/// e-CPS under `/api/v1/ecps`: enrolment of devices (with the card's session, or with an
/// activation code sent to the holder's registered contact), the holder's devices, and the
/// login requests a device lists and decides, and the short-lived certificate a device asks
/// for after a login it approved.
///
/// Two ways to say who calls: the holder's card-authenticated token (`Authorization: Bearer`,
/// an actor token `holder:<idNat>` until the OpenID Connect session takes over), or the device
/// itself with a proof of its device key, `Authorization: ECPS <device>.<nonce>.<time>.<signature>`
/// (see ``DeviceProofMessage``). A decision carries its own signature by the approval key.
public struct ECPSController: Sendable {
    private let devices: ECPSDevices
    private let logins: ECPSLogins
    private let certificates: ECPSCertificates?
    private let tokens: ActorTokens
    private let clock: any WallClock
    private let json = JSONContent()

    /// Creates the controller.
    /// - Parameter certificates: the devices' certificates; nil without a PKI (503 `ecps.no-pki`).
    public init(devices: ECPSDevices, logins: ECPSLogins, certificates: ECPSCertificates?, tokens: ActorTokens, clock: any WallClock) {
        self.devices = devices
        self.logins = logins
        self.certificates = certificates
        self.tokens = tokens
        self.clock = clock
    }

    /// Registers the routes under `api`.
    public func register(on api: any RoutesBuilder) {
        let ecps = api.grouped("ecps")
        ecps.post("enrolments") { request -> Response in
            let offer = try await devices.startCardEnrolment(holder: try cardHolder(request))
            return try created(EnrolmentOfferBody(enrolmentId: offer.enrolmentID, payload: offer.payload?.text, expiresAt: offer.expiresAt))
        }
        ecps.put("contact") { request -> HTTPStatus in
            let body = try json.decode(ContactBody.self, from: request)
            try await devices.setContact(holder: try cardHolder(request), email: body.email, phone: body.phone)
            return .noContent
        }
        ecps.post("activations") { request -> Response in
            let body = try json.decode(ActivationBody.self, from: request)
            let offer = try await devices.requestActivation(holder: try idNat(body.idNat), address: address(request))
            let response = Response(status: .accepted)
            try response.content.encode(ActivationSentBody(enrolmentId: offer.enrolmentID, expiresAt: offer.expiresAt))
            return response
        }
        ecps.post("devices") { request -> Response in
            let body = try json.decode(EnrolmentBody.self, from: request)
            let submission = ECPSEnrolmentSubmission(
                enrolmentID: body.enrolmentId, holder: try body.idNat.map(idNat), code: body.code, label: body.label,
                deviceKey: body.deviceKey, approvalKey: body.approvalKey)
            guard submission.enrolmentID != nil || submission.holder != nil else {
                throw Problem(status: .unprocessableEntity, code: "request.invalid", detail: "give enrolmentId (QR code) or idNat (activation code)")
            }
            return try created(DeviceBody(try await devices.enrol(submission, address: address(request)), now: clock.now()))
        }
        ecps.get("devices") { request -> DeviceListBody in
            let now = clock.now()
            return DeviceListBody(items: try await devices.devices(holder: try await holder(request)).map { DeviceBody($0, now: now) })
        }
        ecps.delete("devices", ":id") { request -> DeviceBody in
            let holder = try await holder(request)
            return DeviceBody(try await devices.revoke(deviceID: try request.parameters.require("id"), holder: holder), now: clock.now())
        }
        ecps.post("devices", ":id", "certificate") { request -> Response in
            guard let proof = try proof(request) else {
                throw Problem(status: .unauthorized, code: "auth.missing-token", detail: "a device asks for its certificate with Authorization: ECPS <proof>")
            }
            guard proof.deviceID == (try request.parameters.require("id")) else {
                throw Problem(status: .forbidden, code: "ecps.bad-proof", detail: "a device asks for its own certificate only")
            }
            let body = try json.decode(CertificateRequestBody.self, from: request)
            guard let certificates else {
                throw Problem(status: .serviceUnavailable, code: "ecps.no-pki", detail: "this server has no PKI to issue certificates")
            }
            let issued = try await certificates.issue(proof: proof, requestID: body.requestId)
            return try created(DeviceCertificateBody(
                issuer: issued.issuerSlug, serial: issued.serialHex, subject: issued.subject, notBefore: issued.notBefore, notAfter: issued.notAfter,
                pem: issued.pem))
        }
        ecps.get("requests") { request -> PendingBody in
            guard let proof = try proof(request) else {
                throw Problem(status: .unauthorized, code: "auth.missing-token", detail: "a device lists its requests with Authorization: ECPS <proof>")
            }
            let (device, pending) = try await logins.pending(proof: proof)
            return PendingBody(deviceId: device.id, items: pending.map(LoginRequestBody.init))
        }
        ecps.post("requests", ":id", "decision") { request -> DecisionResultBody in
            let body = try json.decode(DecisionBody.self, from: request)
            guard let decision = ECPSDecision(rawValue: body.decision) else {
                throw Problem(status: .unprocessableEntity, code: "request.invalid", detail: "decision must be approve or deny")
            }
            let decided = try await logins.decide(
                requestID: try request.parameters.require("id"), deviceID: body.deviceId, decision: decision, time: body.time, signature: body.signature,
                address: address(request))
            return DecisionResultBody(id: decided.id, state: decided.state.rawValue)
        }
    }

    /// The holder behind a card-authenticated actor token.
    private func cardHolder(_ request: Request) throws -> IdNat {
        guard let bearer = request.headers.bearerAuthorization else {
            throw Problem(status: .unauthorized, code: "auth.missing-token", detail: "this operation needs the holder's card session: Authorization: Bearer <token>")
        }
        guard let actor = tokens.actor(for: bearer.token) else {
            throw Problem(status: .unauthorized, code: "auth.invalid-token", detail: "the token is not valid")
        }
        guard case .holder(let idNat) = actor else {
            throw Problem(status: .forbidden, code: "ecps.holder-only", detail: "only the holder manages their e-CPS devices")
        }
        return idNat
    }

    /// The holder, from their card session or from one of their devices' proof.
    private func holder(_ request: Request) async throws -> IdNat {
        if let proof = try proof(request) { return try await logins.device(proof: proof).holder }
        return try cardHolder(request)
    }

    /// The device proof in `Authorization: ECPS <device>.<nonce>.<time>.<signature>`, if any.
    private func proof(_ request: Request) throws -> ECPSDeviceProof? {
        guard let header = request.headers.first(name: .authorization), header.hasPrefix("ECPS ") else { return nil }
        let parts = header.dropFirst(5).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let time = Int64(parts[2]) else {
            throw Problem(status: .unauthorized, code: "ecps.bad-proof", detail: "the device proof must read ECPS <device>.<nonce>.<time>.<signature>")
        }
        return ECPSDeviceProof(deviceID: parts[0], nonce: parts[1], time: time, signature: parts[3])
    }

    private func idNat(_ text: String) throws -> IdNat {
        do {
            return try IdNat(text)
        } catch {
            throw Problem(status: .unprocessableEntity, code: error.code, detail: "idNat: \(error.reason)")
        }
    }

    /// The caller's address, for the abuse limits.
    private func address(_ request: Request) -> String {
        request.remoteAddress?.ipAddress ?? "unknown"
    }

    private func created(_ body: some Content) throws -> Response {
        let response = Response(status: .created)
        try response.content.encode(body)
        return response
    }
}
