import Foundation

/// An identifier that is a validated string: it encodes as that string and refuses
/// invalid strings when decoding.
public protocol StringIdentifier: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The error that says why a text is refused (``IdentifierError`` for the national identifiers).
    associatedtype ParseError: DomainError
    /// The identifier as text, always valid.
    var value: String { get }
    /// Reads an identifier.
    /// - Throws: ``ParseError`` when `text` is not a valid identifier.
    init(_ text: String) throws(ParseError)
}

extension StringIdentifier {
    /// The identifier as text.
    public var description: String { value }

    /// Decodes the identifier from a plain string, refusing invalid ones.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do throws(ParseError) {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.reason, underlyingError: error))
        }
    }

    /// Encodes the identifier as a plain string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
