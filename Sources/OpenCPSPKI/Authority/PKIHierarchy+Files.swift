import Foundation
import SwiftASN1
import X509

extension PKIHierarchy {
    struct Manifest: Codable {
        struct Entry: Codable {
            var slug: String
            var kind: AuthorityKind
            var keyLabel: String
            var certificateFile: String
        }
        var format: String
        var version: Int
        var configuration: PKIConfiguration
        var authorities: [Entry]
    }

    /// Writes `hierarchy.json` (configuration, slugs, key labels) and one `<slug>.pem` per
    /// certificate into `directory` (created if needed). Holds no secret.
    /// - Parameter directory: e.g. `<data>/pki`.
    public func save(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var entries: [Manifest.Entry] = []
            for authority in allCertificates {
                let file = "\(authority.slug).pem"
                try Data(authority.pem.utf8).write(to: directory.appendingPathComponent(file), options: .atomic)
                entries.append(.init(slug: authority.slug, kind: authority.kind, keyLabel: authority.keyLabel, certificateFile: file))
            }
            let manifest = Manifest(format: "opencps-pki-hierarchy", version: 1, configuration: configuration, authorities: entries)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(manifest).write(to: directory.appendingPathComponent("hierarchy.json"), options: .atomic)
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError.hierarchyStorage("The hierarchy cannot be written to \(directory.path): \(error.localizedDescription)")
        }
    }

    /// Whether `directory` holds a saved hierarchy.
    public static func exists(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent("hierarchy.json").path)
    }

    /// Reads a hierarchy written by `save(to:)` and checks that each certificate is signed by its issuer.
    /// - Parameter directory: The folder.
    /// - Returns: The hierarchy.
    public static func load(from directory: URL) throws -> PKIHierarchy {
        let manifest: Manifest
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("hierarchy.json"))
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw PKIError.hierarchyStorage("No readable hierarchy.json in \(directory.path).")
        }
        var bySlug: [String: AuthorityCertificate] = [:]
        for entry in manifest.authorities {
            do {
                let pem = try String(contentsOf: directory.appendingPathComponent(entry.certificateFile), encoding: .utf8)
                let certificate = try Certificate(pemEncoded: pem)
                bySlug[entry.slug] = try AuthorityCertificate(slug: entry.slug, kind: entry.kind, keyLabel: entry.keyLabel,
                                                              certificate: certificate)
            } catch {
                throw PKIError.hierarchyStorage("The certificate file \(entry.certificateFile) in \(directory.path) is unreadable.")
            }
        }
        guard let root = bySlug[PKIHierarchyBuilder.rootSlug] else {
            throw PKIError.hierarchyStorage("The hierarchy in \(directory.path) has no root.")
        }
        func issuing(_ role: IssuingCARole, _ policies: (String, String)) throws -> IssuingAuthority {
            guard let ca = bySlug[role.slug], let responder = bySlug["\(role.slug)-ocsp"] else {
                throw PKIError.hierarchyStorage("The hierarchy in \(directory.path) lacks the \(role.slug) CA or its responder.")
            }
            guard root.certificate.publicKey.isValidSignature(ca.certificate.signature, for: ca.certificate),
                  ca.certificate.publicKey.isValidSignature(responder.certificate.signature, for: responder.certificate) else {
                throw PKIError.hierarchyStorage("A certificate of \(role.slug) is not signed by its issuer.")
            }
            return IssuingAuthority(role: role, ca: ca, ocspResponder: responder, urls: manifest.configuration.urls(for: role.slug),
                                    authenticationPolicy: try PKIConfiguration.parseOID(policies.0),
                                    signaturePolicy: try PKIConfiguration.parseOID(policies.1))
        }
        let c = manifest.configuration
        let timeStamping = bySlug[PKIHierarchy.timeStampingSlug]
        if let timeStamping, !root.certificate.publicKey.isValidSignature(timeStamping.certificate.signature, for: timeStamping.certificate) {
            throw PKIError.hierarchyStorage("The time-stamping authority's certificate in \(directory.path) is not signed by the root.")
        }
        return PKIHierarchy(configuration: c, root: root,
                            fortePersonnes: try issuing(.fortePersonnes, (c.authenticationPolicyOID, c.signaturePolicyOID)),
                            elementairePersonnes: try issuing(.elementairePersonnes,
                                                              (c.elementaireAuthenticationPolicyOID, c.elementaireSignaturePolicyOID)),
                            timeStamping: timeStamping)
    }
}
