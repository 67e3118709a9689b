// Hand-written on purpose: writes the TBSCertificate's DER itself instead of building swift-certificates'
// `Certificate` and serialising it (that builder stays the reference the tests compare with, byte for byte).
// Why: a profile of issuance under load put "building and serialising the certificate" at "a sixth" of the
// cooperative pool's 57 % of the server's samples (2026-11-28 04:43, 0e5c552); after this encoder, "the
// certificate's encoding and signature 7 %" (2026-12-03, 397b7d0). Its gain in rate was not measured apart from
// FlatJSON's: issuance-only runs at 56e1546 gave 80 % and 66 % of cfssl serve, against 55 % on 2026-11-28.
// Benchmark: `bash Benchmarks/pki/run.sh --only issuance`, docs/benchmarks.md "How to reproduce"; the figures are
// in `git show 94469db:docs/benchmarks.md`, "Run of 2026-11-28, 04:43" and "Issuance-only runs of 2026-12-03".

import Crypto
import Foundation
import SwiftASN1
import X509

/// Writes the `TBSCertificate` of a card certificate straight into DER, for one issuing CA.
///
/// Everything that depends only on the CA and the profile (issuer name, signature algorithm,
/// the country RDN, key usages, policies, AKI, CRL points, AIA, the four card-type values)
/// is encoded once, when the issuer is made; a certificate then writes only its serial,
/// validity, subject, key and the four extensions of its own (UPN, SKI, card type, card
/// issuer and serial). The bytes are those swift-certificates writes for the same
/// certificate, field for field and in the same order: the tests compare the two.
struct CardCertificateEncoder: Sendable {
    private let signatureAlgorithm: [UInt8]
    private let issuerName: [UInt8]
    private let countryRDN: [UInt8]
    private let authenticationLeading: [UInt8]
    private let authenticationPolicies: [UInt8]
    private let signatureLeading: [UInt8]
    private let signaturePolicies: [UInt8]
    private let authorityExtensions: [UInt8]
    private let cardTypes: [[UInt8]]
    private let userPrincipalNameOID: [UInt8]
    private let cardIssuerAndSerialOID: [UInt8]
    private let countryName: String

    /// The extensions a card certificate shares with every other of its CA and profile.
    struct FixedExtensions {
        var authenticationKeyUsage: Certificate.Extension
        var authenticationExtendedKeyUsage: Certificate.Extension
        var authenticationPolicies: Certificate.Extension
        var signatureKeyUsage: Certificate.Extension
        var signaturePolicies: Certificate.Extension
        var authorityKeyIdentifier: Certificate.Extension
        var crlDistributionPoints: Certificate.Extension
        var freshestCRL: Certificate.Extension
        var authorityInformationAccess: Certificate.Extension
    }

    /// Encodes the CA's constant parts.
    /// - Parameters:
    ///   - issuer: the CA's subject, the certificates' issuer.
    ///   - signatureAlgorithm: the CA key's algorithm.
    ///   - countryName: the subjects' C (a PrintableString).
    ///   - fixed: the shared extensions.
    init(issuer: DistinguishedName, signatureAlgorithm: Certificate.SignatureAlgorithm, countryName: String, fixed: FixedExtensions) throws {
        switch signatureAlgorithm {
        case .ecdsaWithSHA256:
            self.signatureAlgorithm = try DERHelpers.encode { try DERHelpers.serializeAlgorithmIdentifier(PKIObjectIdentifiers.ecdsaWithSHA256, nullParameters: false, into: &$0) }
        case .sha256WithRSAEncryption:
            self.signatureAlgorithm = try DERHelpers.encode { try DERHelpers.serializeAlgorithmIdentifier(PKIObjectIdentifiers.sha256WithRSAEncryption, nullParameters: true, into: &$0) }
        default:
            throw PKIError.invalidConfiguration("card certificates are signed with ECDSA P-256 or RSA and SHA-256, not \(signatureAlgorithm)")
        }
        issuerName = try DERHelpers.encode(issuer)
        countryRDN = try DERHelpers.encode(RelativeDistinguishedName(try .init(type: .RDNAttributeType.countryName, printableString: countryName)))
        self.countryName = countryName
        func encoded(_ extensions: Certificate.Extension...) throws -> [UInt8] {
            var bytes: [UInt8] = []
            for item in extensions { bytes += try DERHelpers.encode(item) }
            return bytes
        }
        authenticationLeading = try encoded(fixed.authenticationKeyUsage, fixed.authenticationExtendedKeyUsage)
        authenticationPolicies = try encoded(fixed.authenticationPolicies)
        signatureLeading = try encoded(fixed.signatureKeyUsage)
        signaturePolicies = try encoded(fixed.signaturePolicies)
        authorityExtensions = try encoded(
            fixed.authorityKeyIdentifier, fixed.crlDistributionPoints, fixed.freshestCRL, fixed.authorityInformationAccess)
        cardTypes = try (0...3).map { try DERHelpers.encode(try X509ExtensionEncoders.cardType($0)) }
        userPrincipalNameOID = try DERHelpers.encode(PKIObjectIdentifiers.userPrincipalName)
        cardIssuerAndSerialOID = try DERHelpers.encode(PKIObjectIdentifiers.cpsCardIssuerAndSerial)
    }

    /// A card certificate's `TBSCertificate` and its subject's text.
    struct Encoded {
        /// The DER `TBSCertificate`, to sign.
        var tbsCertificate: [UInt8]
        /// The DER `AlgorithmIdentifier` of the signature.
        var signatureAlgorithm: [UInt8]
        /// The subject in RFC 4514 form, as ``DistinguishedNameText`` prints it.
        var subject: String
    }

    /// The `SubjectPublicKeyInfo` a certificate of `request` carries, and its key bits: the
    /// bytes of the verified CSR when they are already in that form, else swift-certificates'
    /// encoding of the key.
    static func encodedKey(of request: CardCertificateRequest) throws -> (subjectPublicKeyInfo: [UInt8], keyBits: ArraySlice<UInt8>) {
        if let raw = request.subjectPublicKeyInfo, let bits = canonicalKeyBits(raw) {
            return (raw, bits)
        }
        let spki = try DERHelpers.encode(request.publicKey)
        guard let bits = keyBits(spki) else { throw PKIError.unsupportedKey("the public key could not be encoded") }
        return (spki, bits)
    }

    /// The `AlgorithmIdentifier`s of the two key types card certificates take, as swift-certificates writes them.
    private static let p256KeyAlgorithm: [UInt8] = [
        0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07,
    ]
    private static let rsaKeyAlgorithm: [UInt8] = [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00]

    /// The key bits of a `SubjectPublicKeyInfo` already in the form swift-certificates gives it
    /// (P-256 as an uncompressed point, RSA with NULL parameters), nil for any other form.
    static func canonicalKeyBits(_ spki: [UInt8]) -> ArraySlice<UInt8>? {
        guard let root = try? DER.parse(spki), case .constructed(let parts) = root.content else { return nil }
        var iterator = parts.makeIterator()
        guard let algorithm = iterator.next(), let bits = iterator.next(), iterator.next() == nil,
              let key = try? ASN1BitString(derEncoded: bits), key.paddingBits == 0 else { return nil }
        switch Array(algorithm.encodedBytes) {
        case p256KeyAlgorithm where key.bytes.count == 65 && key.bytes.first == 0x04:
            return key.bytes
        case rsaKeyAlgorithm:
            return key.bytes
        default:
            return nil
        }
    }

    private static func keyBits(_ spki: [UInt8]) -> ArraySlice<UInt8>? {
        guard let root = try? DER.parse(spki), case .constructed(let parts) = root.content else { return nil }
        var iterator = parts.makeIterator()
        _ = iterator.next()
        return iterator.next().flatMap { try? ASN1BitString(derEncoded: $0).bytes }
    }

    /// Encodes one certificate's `TBSCertificate`.
    /// - Parameters:
    ///   - request: a request the issuer has validated (card type 0 to 3, ASCII card fields).
    ///   - profile: authentication or signature.
    ///   - serial: the serial number.
    ///   - publicKey: the key's `SubjectPublicKeyInfo` and the contents of its BIT STRING.
    func encode(
        _ request: CardCertificateRequest, profile: CardCertificateProfile, serial: Certificate.SerialNumber,
        publicKey: (subjectPublicKeyInfo: [UInt8], keyBits: ArraySlice<UInt8>)
    ) -> Encoded {
        var validity: [UInt8] = []
        validity.reserveCapacity(34)
        DERTime.appendX509Time(request.notBefore, to: &validity)
        DERTime.appendX509Time(request.notAfter, to: &validity)
        let (subject, subjectText) = subjectName(request)

        var extensions: [UInt8] = []
        extensions.reserveCapacity(1024)
        switch profile {
        case .authentication:
            extensions += authenticationLeading
            appendUserPrincipalName(request.userPrincipalName, to: &extensions)
            extensions += authenticationPolicies
        case .signature:
            extensions += signatureLeading
            extensions += signaturePolicies
        }
        // SubjectKeyIdentifier: RFC 5280 method 1, SHA-1 of the subjectPublicKey bits.
        let keyIdentifier = DERWriter.element(DERWriter.Tag.octetString, Array(Insecure.SHA1.hash(data: publicKey.keyBits)))
        appendExtension(oid: [0x06, 0x03, 0x55, 0x1D, 0x0E], value: keyIdentifier, to: &extensions)
        extensions += authorityExtensions
        extensions += cardTypes[request.cardTypeCode]
        var issuerAndSerial: [UInt8] = []
        DERWriter.append(DERWriter.Tag.ia5String, text: request.cardIssuerAndSerial, to: &issuerAndSerial)
        appendExtension(oid: cardIssuerAndSerialOID, value: issuerAndSerial, to: &extensions)

        var body: [UInt8] = []
        body.reserveCapacity(extensions.count + subject.count + publicKey.subjectPublicKeyInfo.count + issuerName.count + 96)
        body += [DERWriter.Tag.contextConstructed0, 0x03, DERWriter.Tag.integer, 0x01, 0x02]  // version v3
        DERWriter.append(DERWriter.Tag.integer, serial.bytes, to: &body)
        body += signatureAlgorithm
        body += issuerName
        DERWriter.append(DERWriter.Tag.sequence, validity, to: &body)
        body += subject
        body += publicKey.subjectPublicKeyInfo
        DERWriter.append(DERWriter.Tag.contextConstructed3, DERWriter.element(DERWriter.Tag.sequence, extensions), to: &body)
        return Encoded(
            tbsCertificate: DERWriter.element(DERWriter.Tag.sequence, body), signatureAlgorithm: signatureAlgorithm,
            subject: subjectText)
    }

    /// The whole certificate: `SEQUENCE { tbsCertificate, signatureAlgorithm, BIT STRING signature }`.
    static func certificate(_ encoded: Encoded, signature: [UInt8]) -> [UInt8] {
        var bitString: [UInt8] = [0x00]
        bitString.reserveCapacity(signature.count + 1)
        bitString += signature
        var body = encoded.tbsCertificate
        body.reserveCapacity(body.count + encoded.signatureAlgorithm.count + signature.count + 8)
        body += encoded.signatureAlgorithm
        DERWriter.append(DERWriter.Tag.bitString, bitString, to: &body)
        return DERWriter.element(DERWriter.Tag.sequence, body)
    }

    /// `C, [O, OU,] title, GN+CN+SN` in DER, and its RFC 4514 text (last RDN first).
    private func subjectName(_ request: CardCertificateRequest) -> (der: [UInt8], text: String) {
        func attribute(_ oid: [UInt8], _ value: String) -> [UInt8] {
            var content = oid
            DERWriter.append(DERWriter.Tag.utf8String, text: value, to: &content)
            return DERWriter.element(DERWriter.Tag.sequence, content)
        }
        func single(_ attribute: [UInt8]) -> [UInt8] { DERWriter.element(DERWriter.Tag.set, attribute) }
        // id-at-* object identifiers, 2.5.4.n, as DER.
        func atOID(_ arc: UInt8) -> [UInt8] { [0x06, 0x03, 0x55, 0x04, arc] }
        // The multi-valued RDN is a SET OF: DER sorts its members by their encodings.
        var holder: [(der: [UInt8], type: ASN1ObjectIdentifier, value: String)] = [
            (attribute(atOID(42), request.givenName), PKIObjectIdentifiers.givenName, request.givenName),
            (attribute(atOID(3), request.idNat), .RDNAttributeType.commonName, request.idNat),
            (attribute(atOID(4), request.surname), PKIObjectIdentifiers.surname, request.surname),
        ]
        holder.sort { DERWriter.setOfPrecedes($0.der, $1.der) }
        var rdns = countryRDN
        var structure: [(ASN1ObjectIdentifier, String)] = []
        if let name = request.structureName, let identifier = request.structureIdentifier {
            rdns += single(attribute(atOID(10), name))
            rdns += single(attribute(atOID(11), identifier))
            structure = [(.RDNAttributeType.organizationalUnitName, identifier), (.RDNAttributeType.organizationName, name)]
        }
        rdns += single(attribute(atOID(12), request.professionTitle))
        rdns += DERWriter.element(DERWriter.Tag.set, holder.flatMap(\.der))

        var text: [UInt8] = []
        text.reserveCapacity(128)
        for (index, member) in holder.enumerated() {
            if index > 0 { text.append(UInt8(ascii: "+")) }
            DistinguishedNameText.appendAttribute(member.type, value: member.value, to: &text)
        }
        let others: [(ASN1ObjectIdentifier, String)] = [(PKIObjectIdentifiers.title, request.professionTitle)]
            + structure + [(.RDNAttributeType.countryName, countryName)]
        for (type, value) in others {
            text.append(UInt8(ascii: ","))
            DistinguishedNameText.appendAttribute(type, value: value, to: &text)
        }
        return (DERWriter.element(DERWriter.Tag.sequence, rdns), String(decoding: text, as: UTF8.self))
    }

    /// subjectAltName with one otherName, the UPN: `[0] { type-id, [0] EXPLICIT UTF8String }`.
    private func appendUserPrincipalName(_ upn: String, to extensions: inout [UInt8]) {
        var value: [UInt8] = []
        DERWriter.append(DERWriter.Tag.utf8String, text: upn, to: &value)
        var otherName = userPrincipalNameOID
        DERWriter.append(DERWriter.Tag.contextConstructed0, value, to: &otherName)
        let names = DERWriter.element(DERWriter.Tag.sequence, DERWriter.element(DERWriter.Tag.contextConstructed0, otherName))
        appendExtension(oid: [0x06, 0x03, 0x55, 0x1D, 0x11], value: names, to: &extensions)
    }

    /// A non-critical extension: `SEQUENCE { extnID, extnValue OCTET STRING }` (DER leaves out `critical` FALSE).
    private func appendExtension(oid: [UInt8], value: [UInt8], to extensions: inout [UInt8]) {
        var content = oid
        DERWriter.append(DERWriter.Tag.octetString, value, to: &content)
        DERWriter.append(DERWriter.Tag.sequence, content, to: &extensions)
    }
}
