import Foundation
import OpenCPSPKCS11
import Testing

/// SoftHSM2 for the tests that need a PKCS #11 token.
///
/// A test or suite that needs it says so with ``needs()``: it is skipped, naming the module,
/// only where SoftHSM2's module is absent; under CI (`CI` set) it always runs, and fails there.
///
/// PKCS #11 modules are initialised once per process, and SoftHSM2 reads its configuration
/// (`SOFTHSM2_CONF`) then: this process's tests share one configuration whose token folder is
/// `<tmp>/opencps-softhsm-<pid>`, and each test makes tokens of its own with unique labels.
/// A test that runs another process (pkcs11-tool, openssl, opencps) passes
/// ``environment`` so that the other process sees the same tokens; ``separateConfiguration()``
/// gives a test a configuration and token folder of its own.
///
/// `Tests/OpenCPSAppTests/Support/SoftHSM.swift` is the same file: test targets share no sources.
enum SoftHSM {
    /// SoftHSM2's module as Debian's `softhsm2` installs it (`OPENCPS_TEST_SOFTHSM2_MODULE` names another).
    static let modulePath = ProcessInfo.processInfo.environment["OPENCPS_TEST_SOFTHSM2_MODULE"] ?? "/usr/lib/softhsm/libsofthsm2.so"

    /// The trait of a test that needs SoftHSM2.
    static func needs() -> ConditionTrait {
        .enabled(
            if: TestTools.isCI || FileManager.default.fileExists(atPath: modulePath),
            "needs SoftHSM2's PKCS #11 module \(modulePath) (CI installs softhsm2: see .ci/run)")
    }

    /// This process's SoftHSM2 configuration file (made on first use; the same path in every test target).
    static let configuration: URL = {
        do { return try makeConfiguration(in: FileManager.default.temporaryDirectory.appendingPathComponent("opencps-softhsm-\(getpid())")) }
        catch { fatalError("cannot make the SoftHSM2 configuration: \(error)") }
    }()

    /// The environment of another process that should see this process's tokens.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SOFTHSM2_CONF"] = configuration.path
        return environment
    }

    /// The module, loaded with this process's configuration.
    static func module() throws -> PKCS11Module {
        guard FileManager.default.fileExists(atPath: modulePath) else {
            throw PKCS11Error(code: "test.softhsm-missing", reason: "SoftHSM2's module \(modulePath) is missing (CI installs softhsm2: see .ci/run)")
        }
        // Set before the module is loaded, once: SoftHSM2 reads it in C_Initialize.
        setenv("SOFTHSM2_CONF", configuration.path, 1)
        return try PKCS11Module.load(path: modulePath)
    }

    /// A new token of this process's SoftHSM2, with a unique label.
    /// - Returns: the label and the slot.
    static func newToken(soPIN: String = "87654321", userPIN: String = "1234") throws -> (label: String, slot: UInt) {
        let label = "test-" + UUID().uuidString.prefix(18).lowercased()
        let slot = try module().initializeNewToken(label: label, soPIN: soPIN, userPIN: userPIN)
        return (label, slot)
    }

    /// A configuration and token folder of its own, for a test that runs other processes only.
    /// - Returns: the configuration file, and the environment that names it.
    static func separateConfiguration() throws -> (file: URL, environment: [String: String]) {
        let file = try makeConfiguration(in: FileManager.default.temporaryDirectory.appendingPathComponent("opencps-softhsm-\(UUID().uuidString)"))
        var environment = ProcessInfo.processInfo.environment
        environment["SOFTHSM2_CONF"] = file.path
        return (file, environment)
    }

    private static func makeConfiguration(in folder: URL) throws -> URL {
        let tokens = folder.appendingPathComponent("tokens")
        try FileManager.default.createDirectory(at: tokens, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("softhsm2.conf")
        let text = "directories.tokendir = \(tokens.path)\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
        // Written whole and renamed into place: another test target of this process may make it at the same moment.
        let temporary = folder.appendingPathComponent("softhsm2.conf.\(UUID().uuidString)")
        try Data(text.utf8).write(to: temporary)
        guard rename(temporary.path, file.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        return file
    }
}
