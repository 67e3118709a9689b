import FluentKit

/// Every migration of OpenCPS, in the order they run. Shipped migrations are never edited:
/// a change of schema is a new migration appended here.
public enum OpenCPSMigrations {
    /// The ordered list.
    public static var all: [any Migration] {
        [
            M0001_CreateRegistry(),
            M0002_CreateAuditLog(),
            M0003_CreateCertificates(),
            M0004_CreateCards(),
            M0005_IndexCardSuccessors(),
            M0006_NameKeyStatistics(),
            M0007_BinaryIdentifierCollation(),
            M0008_PartialRevocationIndex(),
            M0009_DirectoryFidelity(),
            M0010_CreateOIDC(),
            M0011_CreateECPS(),
            M0012_RevocationVersion(),
            M0013_CertificateIntents(),
            M0015_AuditCheckpoints(),
            M0016_CreatePortalSessions(),
            M0017_OIDCClientKeys(),
            M0019_CreatePortalStaff(),
            M0020_ECPSCertificates(),
        ]
    }
}
