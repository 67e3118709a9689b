import Foundation
import OpenCPSApp
import OpenCPSPKI

/// One CA hierarchy for the whole test run (key generation is the slow part): RSA-2048
/// issuing CAs as the cards' IGC-Santé-compatible profile wants, P-256 root and responders,
/// valid from an hour ago by the real clock so that OpenSSL accepts what is issued.
enum TestPKIMaterial {
    static let shared: PKIMaterial = {
        let keyStore = InMemoryKeyStore()
        let configuration = PKIConfiguration(
            publicBaseURL: "http://127.0.0.1:8080", rootKeyAlgorithm: .p256, issuingCAKeyAlgorithm: .rsa2048,
            ocspResponderKeyAlgorithm: .p256)
        do {
            let hierarchy = try PKIHierarchyBuilder(configuration: configuration, keyStore: keyStore, random: .seeded(11))
                .initialize(now: Date().addingTimeInterval(-3600))
            return PKIMaterial(hierarchy: hierarchy, keyStore: keyStore)
        } catch {
            fatalError("test PKI setup failed: \(error)")
        }
    }()
}
