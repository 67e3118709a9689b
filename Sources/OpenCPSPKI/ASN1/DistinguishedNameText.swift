import SwiftASN1
import X509

/// The RFC 4514 text of a distinguished name exactly as swift-certificates prints it
/// (`String(describing:)`), written without its per-character arrays: printing every issued
/// certificate's subject that way cost about as much as signing it.
///
/// Same rules: RDNs from last to first joined by `,`, the attributes of a multi-valued RDN by
/// `+` in their stored (DER) order, short keys for C, CN, DC, E, L, O, OU, ST and STREET and
/// the dotted OID for any other type; `,` `+` `"` `\` `<` `>` `;` escaped with a backslash, and
/// so are leading spaces and `#` and trailing spaces.
enum DistinguishedNameText {
    /// The text of `name`.
    static func text(of name: DistinguishedName) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        for (rdnIndex, rdn) in name.reversed().enumerated() {
            if rdnIndex > 0 { bytes.append(UInt8(ascii: ",")) }
            for (attributeIndex, attribute) in rdn.enumerated() {
                if attributeIndex > 0 { bytes.append(UInt8(ascii: "+")) }
                bytes.append(contentsOf: key(attribute.type).utf8)
                bytes.append(UInt8(ascii: "="))
                let value = String(attribute.value) ?? String(describing: ASN1Any(attribute.value))
                appendEscaped(value, to: &bytes)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `key=value`, the value escaped: one attribute of ``text(of:)``, for a caller
    /// that writes a name's text from its attributes (the card certificate encoder).
    static func appendAttribute(_ type: ASN1ObjectIdentifier, value: String, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: key(type).utf8)
        bytes.append(UInt8(ascii: "="))
        appendEscaped(value, to: &bytes)
    }

    private static func key(_ type: ASN1ObjectIdentifier) -> String {
        switch type {
        case .RDNAttributeType.commonName: "CN"
        case .RDNAttributeType.countryName: "C"
        case .RDNAttributeType.localityName: "L"
        case .RDNAttributeType.stateOrProvinceName: "ST"
        case .RDNAttributeType.organizationName: "O"
        case .RDNAttributeType.organizationalUnitName: "OU"
        case .RDNAttributeType.streetAddress: "STREET"
        case .RDNAttributeType.domainComponent: "DC"
        case .RDNAttributeType.emailAddress: "E"
        // The three other types of a card subject, printed once.
        case PKIObjectIdentifiers.title: titleKey
        case PKIObjectIdentifiers.givenName: givenNameKey
        case PKIObjectIdentifiers.surname: surnameKey
        default: String(describing: type)
        }
    }

    private static let titleKey = String(describing: PKIObjectIdentifiers.title)
    private static let givenNameKey = String(describing: PKIObjectIdentifiers.givenName)
    private static let surnameKey = String(describing: PKIObjectIdentifiers.surname)

    private static func appendEscaped(_ value: String, to bytes: inout [UInt8]) {
        let utf8 = value.utf8
        let leading = utf8.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "#") }.count
        let trailing = utf8.dropFirst(leading).reversed().prefix { $0 == UInt8(ascii: " ") }.count
        let middleEnd = utf8.count - trailing
        for (index, byte) in utf8.enumerated() {
            let escaped: Bool
            if index < leading || index >= middleEnd {
                escaped = true
            } else {
                switch byte {
                case UInt8(ascii: ","), UInt8(ascii: "+"), UInt8(ascii: "\""), UInt8(ascii: "\\"),
                     UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ";"):
                    escaped = true
                default:
                    escaped = false
                }
            }
            if escaped { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
    }
}
