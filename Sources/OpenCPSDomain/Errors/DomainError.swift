/// An error of the domain: a stable machine-readable code and a human reason.
///
/// Inner layers throw these; only the HTTP edge and the command line turn them
/// into a problem document or a message, in one place each.
public protocol DomainError: Error, Sendable {
    /// A stable code, such as `identifier.invalid-key`, that clients may compare.
    var code: String { get }
    /// A sentence that tells a person what is wrong.
    var reason: String { get }
}
