import Foundation
import SwiftASN1
import X509

/// The two certificates on a card (DESIGN.md §2).
public enum CardCertificateProfile: String, Sendable, Codable, CaseIterable, Hashable {
    /// Authentication: keyUsage digitalSignature (critical); EKU clientAuth + smart-card logon;
    /// SAN otherName UPN `idNat@<card domain>`.
    case authentication
    /// Signature: keyUsage nonRepudiation (contentCommitment) + digitalSignature (critical).
    /// No EKU and no SAN, as DESIGN.md lists none for it.
    case signature
}

/// What the issuer needs to make a card certificate: the holder, the structure, the card
/// and the public key (given directly or taken from a verified PKCS#10 request).
public struct CardCertificateRequest: Sendable, Hashable {
    /// Given name (GN) of the holder.
    public var givenName: String
    /// Surname (SN) of the holder.
    public var surname: String
    /// The national identifier of the holder (`IdNat`), the subject CN.
    public var idNat: String
    /// The profession, as the subject `title`, e.g. `Médecin`.
    public var professionTitle: String
    /// The structure's name, the subject O.
    public var structureName: String
    /// The structure's identifier (e.g. a FINESS or SIRET-based identifier), the subject OU.
    public var structureIdentifier: String
    /// The card type code: 0 CPS, 1 CPF, 2 CPE, 3 CPA (extension 1.2.250.1.71.1.2.2).
    public var cardTypeCode: Int
    /// The card issuer identifier, first half of extension 1.2.250.1.71.1.2.3.
    public var cardIssuerIdentifier: String
    /// The card serial number, second half of extension 1.2.250.1.71.1.2.3.
    public var cardSerialNumber: String
    /// The domain of the UPN `idNat@<cardDomain>` in authentication certificates.
    public var cardDomain: String
    /// The public key to certify.
    public var publicKey: Certificate.PublicKey
    /// Start of validity.
    public var notBefore: Date
    /// End of validity.
    public var notAfter: Date

    /// Creates a request.
    public init(givenName: String, surname: String, idNat: String, professionTitle: String, structureName: String,
                structureIdentifier: String, cardTypeCode: Int, cardIssuerIdentifier: String, cardSerialNumber: String,
                cardDomain: String, publicKey: Certificate.PublicKey, notBefore: Date, notAfter: Date) {
        self.givenName = givenName
        self.surname = surname
        self.idNat = idNat
        self.professionTitle = professionTitle
        self.structureName = structureName
        self.structureIdentifier = structureIdentifier
        self.cardTypeCode = cardTypeCode
        self.cardIssuerIdentifier = cardIssuerIdentifier
        self.cardSerialNumber = cardSerialNumber
        self.cardDomain = cardDomain
        self.publicKey = publicKey
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// The value of extension 1.2.250.1.71.1.2.3: `issuerId/cardSerial`.
    public var cardIssuerAndSerial: String { "\(cardIssuerIdentifier)/\(cardSerialNumber)" }

    /// The UPN put in authentication certificates: `idNat@cardDomain`.
    public var userPrincipalName: String { "\(idNat)@\(cardDomain)" }

    /// Reads a PKCS#10 request (PEM or DER) and returns its public key once its
    /// proof-of-possession signature verifies. The CSR subject is ignored: the registry decides the subject.
    /// - Parameter csr: PEM text or DER bytes.
    /// - Returns: The verified public key.
    public static func publicKey(fromCSR csr: [UInt8]) throws -> Certificate.PublicKey {
        let request: CertificateSigningRequest
        do {
            if let text = String(bytes: csr, encoding: .utf8), text.contains("-----BEGIN") {
                request = try CertificateSigningRequest(pemEncoded: text)
            } else {
                request = try CertificateSigningRequest(derEncoded: csr)
            }
        } catch {
            throw PKIError.invalidCSR("it is not a PKCS#10 request")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw PKIError.invalidCSR("its signature does not verify with its public key")
        }
        return request.publicKey
    }
}

/// A certificate the issuer produced, with the values the database and the card need.
public struct IssuedCertificate: Sendable, Hashable {
    /// The certificate.
    public let certificate: Certificate
    /// DER encoding.
    public let der: [UInt8]
    /// PEM encoding.
    public var pem: String {
        // Encoded on demand, with Foundation's base64: swift-asn1's PEM writer costs more than
        // signing the certificate, and the issuance path stores DER only.
        "-----BEGIN CERTIFICATE-----\n"
            + Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            + "\n-----END CERTIFICATE-----\n"
    }
    /// The serial number.
    public let serialNumber: Certificate.SerialNumber
    /// The serial number as lowercase hex (the revocation look-up key).
    public var serialHex: String { serialNumber.hex }
    /// The subject, in RFC 4514 form as swift-certificates prints it (printed once: the record
    /// and the API's answer both need it, and printing costs more than a hash).
    public let subject: String
    /// Start of validity.
    public var notBefore: Date { certificate.notValidBefore }
    /// End of validity.
    public var notAfter: Date { certificate.notValidAfter }
    /// The profile used.
    public let profile: CardCertificateProfile
    /// The slug of the issuing CA.
    public let issuerSlug: String

    /// Records a certificate the issuer made.
    init(certificate: Certificate, der: [UInt8], serialNumber: Certificate.SerialNumber, profile: CardCertificateProfile, issuerSlug: String) {
        self.certificate = certificate
        self.der = der
        self.serialNumber = serialNumber
        self.subject = DistinguishedNameText.text(of: certificate.subject)
        self.profile = profile
        self.issuerSlug = issuerSlug
    }
}
