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
    /// The structure's name, the subject O: staff cards (CPE, CPA, CDE, CDA) only. Personal
    /// cards (CPS, CPF) leave it `nil`, as real IGC-Santé personal certificates carry no O/OU.
    public var structureName: String?
    /// The structure's identifier (e.g. a FINESS or SIRET-based identifier), the subject OU:
    /// given with ``structureName`` or not at all.
    public var structureIdentifier: String?
    /// The card type code: 0 CPS, 1 CPF, 2 CPE, 3 CPA (extension 1.2.250.1.71.1.2.2).
    public var cardTypeCode: Int
    /// The card issuer identifier, first half of extension 1.2.250.1.71.1.2.3.
    public var cardIssuerIdentifier: String
    /// The card serial number, second half of extension 1.2.250.1.71.1.2.3.
    public var cardSerialNumber: String
    /// The domain of the UPN `idNat@<cardDomain>` in authentication certificates.
    public var cardDomain: String
    /// The public key to certify.
    public var publicKey: Certificate.PublicKey {
        didSet { subjectPublicKeyInfo = nil }
    }
    /// The key's DER `SubjectPublicKeyInfo` as the verified CSR it came from carried it
    /// (``VerifiedRequestKey``); the issuer uses these bytes when they are already in the form
    /// the certificate takes, instead of encoding `publicKey` again. Changing `publicKey` drops them.
    public private(set) var subjectPublicKeyInfo: [UInt8]?
    /// Start of validity.
    public var notBefore: Date
    /// End of validity.
    public var notAfter: Date

    /// Creates a request.
    public init(givenName: String, surname: String, idNat: String, professionTitle: String, structureName: String?,
                structureIdentifier: String?, cardTypeCode: Int, cardIssuerIdentifier: String, cardSerialNumber: String,
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

    /// Creates a request for the key of a verified CSR.
    public init(givenName: String, surname: String, idNat: String, professionTitle: String, structureName: String?,
                structureIdentifier: String?, cardTypeCode: Int, cardIssuerIdentifier: String, cardSerialNumber: String,
                cardDomain: String, key: VerifiedRequestKey, notBefore: Date, notAfter: Date) {
        self.init(
            givenName: givenName, surname: surname, idNat: idNat, professionTitle: professionTitle, structureName: structureName,
            structureIdentifier: structureIdentifier, cardTypeCode: cardTypeCode, cardIssuerIdentifier: cardIssuerIdentifier,
            cardSerialNumber: cardSerialNumber, cardDomain: cardDomain, publicKey: key.publicKey, notBefore: notBefore,
            notAfter: notAfter)
        subjectPublicKeyInfo = key.subjectPublicKeyInfo
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
        try VerifiedRequestKey(csr: csr).publicKey
    }
}

/// The public key of a PKCS#10 request whose proof-of-possession signature verified, with the
/// request's own encoding of it.
public struct VerifiedRequestKey: Sendable, Hashable {
    /// The key.
    public let publicKey: Certificate.PublicKey
    /// The request's `SubjectPublicKeyInfo`, DER.
    let subjectPublicKeyInfo: [UInt8]?

    /// Reads a PKCS#10 request (PEM or DER) and keeps its public key once its signature
    /// verifies. The CSR subject is ignored: the registry decides the subject.
    ///
    /// The request is read as a tree of DER nodes (RFC 2986: the request information with its
    /// version, subject, key and attributes; the signature algorithm; the signature) rather than
    /// as swift-certificates' `CertificateSigningRequest`, whose parsed subject and attributes
    /// nothing here uses: reading them cost as much as checking the signature. Signatures are
    /// ECDSA with SHA-256, -384 or -512, RSA PKCS #1 v1.5 with SHA-256, -384 or -512, or Ed25519.
    /// - Parameter csr: PEM text or DER bytes.
    /// - Throws: ``PKIError`` `pki.invalid-csr` when it is not a request or its signature fails.
    public init(csr: [UInt8]) throws {
        let der = try Self.der(csr)
        guard let request = try? DER.parse(der), request.identifier == .sequence, case .constructed(let parts) = request.content,
              let fields = Self.exactly(3, parts), fields[0].identifier == .sequence, case .constructed(let infoParts) = fields[0].content,
              let info = Self.exactly(4, infoParts), (try? Int(derEncoded: info[0])) == 0, info[1].identifier == .sequence,
              info[3].identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
              let key = try? Certificate.PublicKey(derEncoded: info[2]),
              let signature = try? ASN1BitString(derEncoded: fields[2]), signature.paddingBits == 0
        else {
            throw PKIError.invalidCSR("it is not a PKCS#10 request")
        }
        guard let algorithm = Self.signatureAlgorithm(fields[1]) else {
            throw PKIError.invalidCSR("its signature algorithm is not one OpenCPS accepts (ECDSA or RSA with SHA-2, or Ed25519)")
        }
        guard key.isValidSignature(signature.bytes, for: fields[0].encodedBytes, signatureAlgorithm: algorithm) else {
            throw PKIError.invalidCSR("its signature does not verify with its public key")
        }
        publicKey = key
        subjectPublicKeyInfo = Array(info[2].encodedBytes)
    }

    /// The DER of a request given as DER, or as PEM text (possibly after blank space).
    private static func der(_ csr: [UInt8]) throws -> [UInt8] {
        let text = csr.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }
        guard text.starts(with: "-----BEGIN".utf8) else { return csr }
        do {
            return try PEMDocument(pemString: String(decoding: text, as: UTF8.self)).derBytes
        } catch {
            throw PKIError.invalidCSR("it is not a PKCS#10 request")
        }
    }

    /// The nodes of a sequence when there are exactly `count` of them.
    private static func exactly(_ count: Int, _ nodes: ASN1NodeCollection) -> [ASN1Node]? {
        var found: [ASN1Node] = []
        found.reserveCapacity(count)
        for node in nodes {
            guard found.count < count else { return nil }
            found.append(node)
        }
        return found.count == count ? found : nil
    }

    /// The signature algorithm an `AlgorithmIdentifier` names, among those accepted; ECDSA and
    /// Ed25519 without parameters, RSA with NULL parameters or none (RFC 5758, RFC 8410, RFC 4055).
    private static func signatureAlgorithm(_ node: ASN1Node) -> Certificate.SignatureAlgorithm? {
        guard node.identifier == .sequence, case .constructed(let parts) = node.content else { return nil }
        var iterator = parts.makeIterator()
        guard let oidNode = iterator.next(), let oid = try? ASN1ObjectIdentifier(derEncoded: oidNode) else { return nil }
        let parameters = iterator.next()
        guard iterator.next() == nil, let (algorithm, nullParameters) = acceptedSignatureAlgorithms[oid] else { return nil }
        if let parameters {
            guard nullParameters, (try? ASN1Null(derEncoded: parameters)) != nil else { return nil }
        }
        return algorithm
    }

    /// The accepted signature algorithms, and whether each may carry NULL parameters.
    private static let acceptedSignatureAlgorithms: [ASN1ObjectIdentifier: (Certificate.SignatureAlgorithm, Bool)] = [
        [1, 2, 840, 10_045, 4, 3, 2]: (.ecdsaWithSHA256, false),
        [1, 2, 840, 10_045, 4, 3, 3]: (.ecdsaWithSHA384, false),
        [1, 2, 840, 10_045, 4, 3, 4]: (.ecdsaWithSHA512, false),
        [1, 2, 840, 113_549, 1, 1, 11]: (.sha256WithRSAEncryption, true),
        [1, 2, 840, 113_549, 1, 1, 12]: (.sha384WithRSAEncryption, true),
        [1, 2, 840, 113_549, 1, 1, 13]: (.sha512WithRSAEncryption, true),
        [1, 3, 101, 112]: (.ed25519, false),
    ]
}

/// A certificate the issuer produced, with the values the database and the card need.
public struct IssuedCertificate: Sendable, Hashable {
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
    /// Start of validity (whole seconds, as the certificate has it).
    public let notBefore: Date
    /// End of validity (whole seconds).
    public let notAfter: Date
    /// The profile used.
    public let profile: CardCertificateProfile
    /// The slug of the issuing CA.
    public let issuerSlug: String

    /// Records a certificate the issuer made.
    init(der: [UInt8], serialNumber: Certificate.SerialNumber, subject: String, notBefore: Date, notAfter: Date,
         profile: CardCertificateProfile, issuerSlug: String) {
        self.der = der
        self.serialNumber = serialNumber
        self.subject = subject
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.profile = profile
        self.issuerSlug = issuerSlug
    }

    /// The certificate, parsed from its DER (the issuer writes the bytes; nothing on the
    /// issuance path needs the parsed form).
    public func certificate() throws -> Certificate {
        try Certificate(derEncoded: der)
    }
}
