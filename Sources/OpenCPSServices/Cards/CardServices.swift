import Foundation
import OpenCPSDomain
import OpenCPSPKI
import OpenCPSTokens

/// The card lifecycle's services, one per use case, built on one shared core: what the
/// composition root hands to the API, the command line and the scheduled jobs.
///
/// Every operation checks who acts (``CardAuthorization``), applies one transition of the
/// state machine (``Card/apply(_:)``), and writes the change with its audit entry in one
/// transaction; a failed step writes nothing. Consequences the platform draws itself
/// (supersession, automatic orders, reissues) are recorded as the platform's.
public struct CardServices: Sendable {
    /// Orders, documents, submission and the instance's decision.
    public let ordering: CardOrdering
    /// Manufacture (one card or production runs) and delivery.
    public let production: CardProduction
    /// Activation, PIN and PUK.
    public let secrets: CardSecrets
    /// Opposition, suspension, reinstatement, revocation, temporary cards.
    public let blocking: CardBlocking
    /// Renewal, campaigns and reissue after a registry change.
    public let renewal: CardRenewal
    /// Files, holders' cards and history.
    public let reading: CardReading
    /// The single help desk.
    public let helpDesk: HelpDesk
    /// The instances' queues, documents and staff lists.
    public let instances: InstanceDesk
    /// Reminders, the overdue watch and expiry.
    public let maintenance: CardMaintenance
    /// The sweep of what a crash left behind, and the repair of blocked cards' certificates.
    public let repair: CardRepair
    /// The hand-off of PIN letters to the print service.
    public let letters: PINLetterHandOff
    /// The settings.
    public let settings: CardServiceSettings

    /// Creates the services.
    /// - Parameters:
    ///   - pki: issues and revokes the cards' certificates.
    ///   - tokens: where manufactured software tokens are written.
    ///   - pkcs11Cards: the PKCS #11 module on which cards are made instead, one token per card;
    ///     nil for software tokens.
    ///   - letters: the folder of PIN letters for the print service (the only place a PIN is
    ///     ever written in clear; the print service takes and deletes them).
    ///   - database: where cards, documents and the audit log are stored.
    ///   - clock: the clock.
    ///   - random: the CSPRNG of serials, PINs, PUKs and tracking numbers.
    ///   - settings: delays, validity, policies.
    public init(
        pki: PKIService, tokens: SoftwareTokenStore, pkcs11Cards: PKCS11CardTokenStore? = nil, letters: URL, database: ServiceDatabase,
        clock: any WallClock, random: RandomBytes = .system, settings: CardServiceSettings = CardServiceSettings()
    ) {
        let core = CardCore(
            pki: pki, tokens: tokens, pkcs11Cards: pkcs11Cards, letters: letters, database: database, clock: clock, random: random, settings: settings)
        ordering = CardOrdering(core: core)
        production = CardProduction(core: core)
        secrets = CardSecrets(core: core)
        blocking = CardBlocking(core: core)
        renewal = CardRenewal(core: core, production: production)
        reading = CardReading(core: core)
        helpDesk = HelpDesk(core: core)
        instances = InstanceDesk(core: core)
        maintenance = CardMaintenance(core: core)
        repair = CardRepair(core: core)
        self.letters = PINLetterHandOff(core: core)
        self.settings = settings
    }
}
