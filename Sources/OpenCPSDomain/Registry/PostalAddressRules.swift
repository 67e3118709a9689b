/// The rules a postal address typed by a person must follow before the registry keeps it:
/// what the card and the PIN letter are shipped to has to be deliverable.
///
/// The limits are those of a French postal address line (AFNOR NF Z10-011: 38 characters a
/// line); the postal code must name a department the nomenclature knows.
public enum PostalAddressRules {
    /// The longest street line or town, in characters.
    public static let maximumLineLength = 38

    /// Checks and normalises an address typed in a form (surrounding spaces dropped, runs of
    /// spaces collapsed, the town in capitals as La Poste writes it).
    /// - Returns: the address to store.
    /// - Throws: ``PostalAddressError`` listing every field that does not check, each with its
    ///   own code and French message, so that a form shows them all at once.
    public static func checked(line: String?, postalCode: String?, city: String?) throws(PostalAddressError) -> PostalAddress {
        var problems: [PostalAddressError.Problem] = []
        let line = normalise(line), postalCode = normalise(postalCode), city = normalise(city).uppercased()
        if line.isEmpty {
            problems.append(.init(field: .line, code: "address.line-required", message: "Indiquez le numéro et la voie."))
        } else if line.count > maximumLineLength {
            problems.append(.init(
                field: .line, code: "address.line-too-long", message: "La ligne d'adresse compte au plus \(maximumLineLength) caractères."))
        } else if !isPrintable(line) {
            problems.append(.init(field: .line, code: "address.line-invalid", message: "La ligne d'adresse contient un caractère non admis."))
        }
        if postalCode.isEmpty {
            problems.append(.init(field: .postalCode, code: "address.postal-code-required", message: "Indiquez le code postal."))
        } else if DepartmentCode(postalCode: postalCode) == nil {
            problems.append(.init(
                field: .postalCode, code: "address.postal-code-invalid",
                message: "Le code postal compte 5 chiffres et désigne un département français (par exemple 75011)."))
        }
        if city.isEmpty {
            problems.append(.init(field: .city, code: "address.city-required", message: "Indiquez la commune."))
        } else if city.count > maximumLineLength || !isPrintable(city) || city.contains(where: \.isNumber) {
            problems.append(.init(
                field: .city, code: "address.city-invalid",
                message: "La commune s'écrit en lettres, en \(maximumLineLength) caractères au plus."))
        }
        guard problems.isEmpty else { throw PostalAddressError(problems: problems) }
        return PostalAddress(line: line, postalCode: postalCode, city: city)
    }

    private static func normalise(_ text: String?) -> String {
        (text ?? "").split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// No control characters and none of the characters that mark up text.
    private static func isPrintable(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.properties.generalCategory == .control || "<>{}\\|".unicodeScalars.contains($0) }
    }
}

/// An address that does not check: one problem per field at fault.
public struct PostalAddressError: DomainError, Equatable {
    /// A field of the address.
    public enum Field: String, Sendable, Equatable, CaseIterable {
        /// The street line.
        case line
        /// The postal code.
        case postalCode
        /// The town.
        case city
    }

    /// What is wrong with one field.
    public struct Problem: Sendable, Equatable {
        /// The field.
        public var field: Field
        /// A stable code, such as `address.postal-code-invalid`.
        public var code: String
        /// What to do, in French, for the person typing it.
        public var message: String
    }

    /// Every problem, in the form's order.
    public var problems: [Problem]

    /// The first problem's code.
    public var code: String { problems.first?.code ?? "address.invalid" }
    /// The problems' messages, on one line.
    public var reason: String { problems.map(\.message).joined(separator: " ") }

    /// The message for a field, if it is at fault.
    public func message(for field: Field) -> String? {
        problems.first { $0.field == field }?.message
    }
}

extension Professional {
    /// Every activity, exercise after exercise, with its profession: the order in which a
    /// portal numbers them.
    public var allActivities: [(profession: Profession, activity: Activity)] {
        exercises.flatMap { exercise in exercise.activities.map { (exercise.profession, $0) } }
    }

    /// The exercise and activity indexes of the activity at `position` in ``allActivities``.
    public func activityPosition(_ position: Int) -> (exercise: Int, activity: Int)? {
        guard position >= 0 else { return nil }
        var remaining = position
        for (exerciseIndex, exercise) in exercises.enumerated() {
            if remaining < exercise.activities.count { return (exerciseIndex, remaining) }
            remaining -= exercise.activities.count
        }
        return nil
    }
}
