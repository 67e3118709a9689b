extension RevocationReason {
    /// The RFC 5280 name (`keyCompromise`, `certificateHold`...).
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "keyCompromise"
        case .caCompromise: "cACompromise"
        case .affiliationChanged: "affiliationChanged"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessationOfOperation"
        case .certificateHold: "certificateHold"
        case .removeFromCRL: "removeFromCRL"
        case .privilegeWithdrawn: "privilegeWithdrawn"
        case .aaCompromise: "aACompromise"
        }
    }

    /// The reason with this RFC 5280 name, compared without regard to case.
    public static func named(_ name: String) -> RevocationReason? {
        allCases.first { $0.name.lowercased() == name.lowercased() }
    }
}
