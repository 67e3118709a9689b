/// A professional's names as the registry has them: what certificate issuance checks a request
/// against, read without loading the whole professional.
public struct RegisteredNames: Sendable, Equatable {
    /// The first name (prénom).
    public var firstName: String
    /// The last name (nom d'exercice).
    public var lastName: String

    /// Creates the names.
    public init(firstName: String, lastName: String) {
        self.firstName = firstName
        self.lastName = lastName
    }
}
