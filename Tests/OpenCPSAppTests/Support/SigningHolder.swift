import Foundation
import OpenCPSApp
import OpenCPSTokens
import Testing
import Vapor
import VaporTesting
import X509

/// A médecin registered through the API (`professionalJSON()`, idNat 810100271385) whose
/// automatic CPS is made, delivered and activated: the token, its PIN, the signature
/// certificate and its chain, for the tests that sign with a card.
struct SigningHolder {
    /// The holder's idNat.
    static let idNat = "810100271385"

    /// The card file's identifier.
    let cardID: String
    /// The card's token.
    let token: SoftwareToken
    /// The PIN from the card's letter.
    let pin: String
    /// The signature certificate.
    let certificate: Certificate
    /// The issuing CA's certificate, which signatures carry.
    let chain: [Certificate]

    /// Registers the médecin and the order's registration, then makes the automatic card active.
    init(_ api: CardAPI) async throws {
        var headers = HTTPHeaders.operatorHeaders
        headers.contentType = .json
        try await api.app.testing().test(.POST, "/api/v1/professionals", headers: headers, body: jsonBody(professionalJSON())) {
            #expect($0.status == .created)
        }
        try await api.app.testing().test(.POST, "/api/v1/professionals/\(Self.idNat)/registrations", headers: headers,
                                         body: jsonBody(#"{"professionCode": "10", "registeredOn": "2026-11-02"}"#)) { #expect($0.status == .ok) }
        let holder = TestActors.holder(Self.idNat)
        cardID = try #require(try await api.call(.GET, "/api/v1/cards?idNat=\(Self.idNat)", as: holder).array.first?["id"] as? String)
        let serial = try await api.makeActive(cardID, holder: holder)
        pin = try api.letter(serial: serial).pin
        token = try SoftwareToken.open(api.configuration.tokenDirectory.appendingPathComponent("\(serial).token"))
        certificate = try Certificate(pemEncoded: token.certificatePEM(.signature))
        chain = [TestPKIMaterial.shared.hierarchy.fortePersonnes.ca.certificate]
    }
}
