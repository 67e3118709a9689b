/// The sealed letter that carries a card's PIN and PUK (*lettre du code porteur*), sent
/// separately from the card: the only document where the secrets are ever written in clear.
///
/// Its text is in French, as the holder receives it.
public struct PINLetter: Sendable, Hashable {
    /// The card the codes belong to.
    public var cardSerial: CardSerial
    /// The postal address, on one line.
    public var address: String
    /// The tracking number of the letter itself (not the card's).
    public var trackingNumber: String
    /// The PIN (*code porteur*).
    public var pin: String
    /// The PUK (*code de déblocage*).
    public var puk: String

    /// Creates a letter.
    public init(cardSerial: CardSerial, address: String, trackingNumber: String, pin: String, puk: String) {
        self.cardSerial = cardSerial
        self.address = address
        self.trackingNumber = trackingNumber
        self.pin = pin
        self.puk = puk
    }

    /// The name of the letter's file for the print service: `<serial>-lettre-code-porteur.txt`.
    public var fileName: String { "\(cardSerial.value)-lettre-code-porteur.txt" }

    /// The lines in a letter file that carry the PIN and the PUK start with these labels.
    public static let pinLabel = "Code porteur : "
    /// See ``pinLabel``.
    public static let pukLabel = "Code de déblocage : "

    /// The letter as printed.
    public var text: String {
        """
        OpenCPS — Lettre du code porteur (pli confidentiel)
        Envoi n° \(trackingNumber)
        Destinataire : \(address)

        Madame, Monsieur,

        Voici les codes de votre carte n° \(cardSerial.value). Ils vous sont adressés séparément de la carte.
        Conservez-les en lieu sûr et ne les communiquez à personne.

        \(Self.pinLabel)\(pin)
        \(Self.pukLabel)\(puk)

        Le code porteur vous sera demandé pour activer la carte à sa réception puis à chaque usage.
        Après trois codes porteur erronés, la carte se bloque : le code de déblocage permet alors
        de choisir un nouveau code porteur.

        """
    }
}
