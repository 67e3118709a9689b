import OpenCPSDomain
import SwiftASN1
import X509

/// What a card certificate says of its holder and card, read back from the fields
/// ``CardCertificateEncoder`` writes.
public struct CardCertificateHolder: Sendable, Hashable, Codable {
    /// The holder's idNat (the subject CN).
    public var idNat: String
    /// Given name (GN).
    public var givenName: String?
    /// Surname (SN).
    public var surname: String?
    /// The profession as written in the subject `title`, such as `Médecin`.
    public var professionTitle: String?
    /// The profession of the nomenclature whose label is that title, if any.
    public var profession: Profession?
    /// The card type (extension 1.2.250.1.71.1.2.2), nil when the certificate has none.
    public var cardType: CardType?
    /// "issuerId/cardSerial" (extension 1.2.250.1.71.1.2.3).
    public var cardIssuerAndSerial: String?

    /// What the signing policy reads: nil without a card type.
    public var qualification: SignerQualification? {
        cardType.map { SignerQualification(cardType: $0, profession: profession) }
    }
}

/// Reads a card certificate's holder, profession and card type: the one place that knows where
/// the encoder puts them, so that a change of the profile changes this reader with it.
public enum CardCertificateReader {
    /// The holder and card named by `certificate`.
    /// - Throws: ``PKIError`` `pki.certificate.not-a-card` when the subject has no CN.
    public static func holder(of certificate: Certificate) throws -> CardCertificateHolder {
        var values: [ASN1ObjectIdentifier: String] = [:]
        for rdn in certificate.subject {
            for attribute in rdn where values[attribute.type] == nil {
                values[attribute.type] = String(attribute.value)
            }
        }
        guard let idNat = values[.RDNAttributeType.commonName] else {
            throw PKIError(code: "pki.certificate.not-a-card", reason: "The certificate's subject has no CN, so it names no card holder.")
        }
        let title = values[PKIObjectIdentifiers.title]
        var cardType: CardType?
        var issuerAndSerial: String?
        for item in certificate.extensions {
            switch item.oid {
            case PKIObjectIdentifiers.cpsCardType:
                cardType = (try? Int(derEncoded: item.value)).flatMap(CardType.init(rawValue:))
            case PKIObjectIdentifiers.cpsCardIssuerAndSerial:
                issuerAndSerial = (try? ASN1IA5String(derEncoded: item.value)).map(String.init)
            default:
                continue
            }
        }
        return CardCertificateHolder(
            idNat: idNat, givenName: values[PKIObjectIdentifiers.givenName], surname: values[PKIObjectIdentifiers.surname],
            professionTitle: title, profession: title.flatMap { title in Profession.all.first { $0.label == title && !$0.isDeprecated } },
            cardType: cardType, cardIssuerAndSerial: issuerAndSerial)
    }
}
