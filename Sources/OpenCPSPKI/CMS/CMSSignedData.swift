import Foundation
import SwiftASN1
import X509

/// One attribute of a signer info: its type and the DER of each of its values.
public struct CMSAttribute: Sendable, Hashable {
    /// The attribute type.
    public var type: ASN1ObjectIdentifier
    /// The DER of each value.
    public var values: [[UInt8]]
}

/// A `SignerInfo` (RFC 5652 §5.3) as read, with the exact bytes its signature covers.
public struct CMSSignerInfo: Sendable, Hashable {
    /// How the signer's certificate is named.
    public enum Identifier: Sendable, Hashable {
        /// `IssuerAndSerialNumber`: the issuer's DER name and the serial's bytes.
        case issuerAndSerial(issuer: [UInt8], serial: [UInt8])
        /// `[0] SubjectKeyIdentifier`.
        case subjectKeyIdentifier([UInt8])
    }

    /// The signer's certificate, by name.
    public var identifier: Identifier
    /// The digest algorithm.
    public var digestAlgorithm: ASN1ObjectIdentifier
    /// The signed attributes, in their order.
    public var signedAttributes: [CMSAttribute]
    /// The DER `SET OF Attribute` the signature covers (the `[0]` tag replaced by `SET`), nil without signed attributes.
    public var signedAttributesDER: [UInt8]?
    /// The signature algorithm as written (OpenSSL writes `rsaEncryption` for RSA).
    public var signatureAlgorithm: ASN1ObjectIdentifier
    /// The signature value.
    public var signature: [UInt8]
    /// The unsigned attributes (a signature time-stamp token).
    public var unsignedAttributes: [CMSAttribute]

    /// The values of the signed attribute of `type`.
    public func signedAttribute(_ type: ASN1ObjectIdentifier) -> [[UInt8]]? {
        signedAttributes.first { $0.type == type }?.values
    }
}

/// A CMS `ContentInfo` holding `SignedData` (RFC 5652 §5): a document signature, or an RFC 3161
/// time-stamp token, read with swift-asn1.
public struct CMSSignedData: Sendable, Hashable {
    /// The encapsulated content type (id-data for a document, id-ct-TSTInfo for a time-stamp token).
    public var contentType: ASN1ObjectIdentifier
    /// The encapsulated content, nil for a detached signature.
    public var content: [UInt8]?
    /// The certificates carried, in their order.
    public var certificates: [Certificate]
    /// The signer infos.
    public var signerInfos: [CMSSignerInfo]

    /// Reads a DER `ContentInfo` (a PEM `-----BEGIN CMS-----` or `PKCS7` is accepted too).
    /// - Throws: ``PKIError`` `pki.asn1.malformed` naming what is wrong.
    public init(derEncoded input: [UInt8]) throws {
        let der = Self.unwrapPEM(input)
        do {
            let root = try DER.parse(der)
            let (type, explicit) = try Self.contentInfo(root)
            guard type == CMSObjectIdentifiers.signedData else {
                throw PKIError.malformed("signature", "the content is not signed data (\(type))")
            }
            let fields = try Self.children(try Self.single(explicit))
            var index = 0
            func next() throws -> ASN1Node {
                guard index < fields.count else { throw PKIError.malformed("signature", "the signed data is cut short") }
                defer { index += 1 }
                return fields[index]
            }
            _ = try Int(derEncoded: try next())
            _ = try next()  // digestAlgorithms
            let encapsulated = try Self.children(try next())
            guard let typeNode = encapsulated.first else { throw PKIError.malformed("signature", "no encapsulated content type") }
            contentType = try ASN1ObjectIdentifier(derEncoded: typeNode)
            if encapsulated.count > 1 {
                let octets = try Self.single(encapsulated[1])
                content = Array(try ASN1OctetString(derEncoded: octets).bytes)
            } else {
                content = nil
            }
            certificates = []
            var node = try next()
            if node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                certificates = try Self.children(node).map { try Certificate(derEncoded: Array($0.encodedBytes)) }
                node = try next()
            }
            if node.identifier == ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific) {
                node = try next()  // CRLs are not read
            }
            signerInfos = try Self.children(node).map(Self.signerInfo)
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.malformed("signature", "not a DER CMS ContentInfo (\(error))")
        }
    }

    private static func contentInfo(_ root: ASN1Node) throws -> (ASN1ObjectIdentifier, ASN1Node) {
        let parts = try children(root)
        guard parts.count == 2, parts[1].identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) else {
            throw PKIError.malformed("signature", "a ContentInfo has a type and a [0] content")
        }
        return (try ASN1ObjectIdentifier(derEncoded: parts[0]), parts[1])
    }

    private static func signerInfo(_ node: ASN1Node) throws -> CMSSignerInfo {
        let fields = try children(node)
        guard fields.count >= 5 else { throw PKIError.malformed("signature", "a signer info is cut short") }
        let version = try Int(derEncoded: fields[0])
        let identifier: CMSSignerInfo.Identifier
        switch version {
        case 1:
            let parts = try children(fields[1])
            guard parts.count == 2 else { throw PKIError.malformed("signature", "bad issuerAndSerialNumber") }
            guard case .primitive(let serial) = parts[1].content else { throw PKIError.malformed("signature", "bad serial number") }
            identifier = .issuerAndSerial(issuer: Array(parts[0].encodedBytes), serial: Array(serial))
        case 3:
            guard case .primitive(let keyID) = fields[1].content else { throw PKIError.malformed("signature", "bad subjectKeyIdentifier") }
            identifier = .subjectKeyIdentifier(Array(keyID))
        default:
            throw PKIError.malformed("signature", "signer info version \(version) is not 1 or 3")
        }
        let digest = try DERHelpers.parseAlgorithmIdentifier(fields[2])
        var index = 3
        var signed: [CMSAttribute] = []
        var signedDER: [UInt8]?
        if fields[index].identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            signed = try attributes(fields[index])
            signedDER = [DERWriter.Tag.set] + Array(fields[index].encodedBytes.dropFirst())
            index += 1
        }
        guard index + 1 < fields.count else { throw PKIError.malformed("signature", "a signer info is cut short") }
        let algorithm = try DERHelpers.parseAlgorithmIdentifier(fields[index])
        let signature = Array(try ASN1OctetString(derEncoded: fields[index + 1]).bytes)
        var unsigned: [CMSAttribute] = []
        if index + 2 < fields.count, fields[index + 2].identifier == ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific) {
            unsigned = try attributes(fields[index + 2])
        }
        return CMSSignerInfo(identifier: identifier, digestAlgorithm: digest, signedAttributes: signed, signedAttributesDER: signedDER,
                             signatureAlgorithm: algorithm, signature: signature, unsignedAttributes: unsigned)
    }

    private static func attributes(_ node: ASN1Node) throws -> [CMSAttribute] {
        try children(node).map { attribute in
            let parts = try children(attribute)
            guard parts.count == 2 else { throw PKIError.malformed("signature", "an attribute has a type and a set of values") }
            return CMSAttribute(type: try ASN1ObjectIdentifier(derEncoded: parts[0]),
                                values: try children(parts[1]).map { Array($0.encodedBytes) })
        }
    }

    static func children(_ node: ASN1Node) throws -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else { throw PKIError.malformed("signature", "expected a constructed value") }
        return Array(nodes)
    }

    static func single(_ node: ASN1Node) throws -> ASN1Node {
        let nodes = try children(node)
        guard nodes.count == 1 else { throw PKIError.malformed("signature", "expected one value inside an explicit tag") }
        return nodes[0]
    }

    private static func unwrapPEM(_ input: [UInt8]) -> [UInt8] {
        guard input.starts(with: Array("-----BEGIN".utf8)) else { return input }
        let text = String(decoding: input, as: UTF8.self)
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Data(base64Encoded: body, options: .ignoreUnknownCharacters).map { Array($0) } ?? input
    }
}
