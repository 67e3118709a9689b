import Foundation
import Testing

/// `opencps pki init` on a PKCS #11 token, run as an operator runs it: the executable, a
/// SoftHSM2 configuration of the test's own, a token made by softhsm2-util, the PIN in a file.
@Suite("pki init on a PKCS #11 token (SoftHSM2)", SoftHSM.needs(), TestTools.needs("openssl", "pkcs11-tool", "softhsm2-util"))
struct PKIInitOnTokenTests {
    @Test("the hierarchy's keys are generated in the token, its certificates verify with openssl, and a wrong PIN is refused")
    func initOnToken() throws {
        let (_, environment) = try SoftHSM.separateConfiguration()
        let made = try ExternalTool.run(
            "softhsm2-util", ["--init-token", "--free", "--label", "opencps-ca", "--so-pin", "12345678", "--pin", "246810"], environment: environment)
        #expect(made.status == 0, "\(made.output)")
        let folder = try ExternalTool.temporaryFolder("pki-init-hsm")
        let data = folder.appendingPathComponent("data").path
        let pinFile = folder.appendingPathComponent("hsm-pin")
        try "135790\n".write(to: pinFile, atomically: true, encoding: .utf8)
        var withPIN = environment
        withPIN["OPENCPS_PKCS11_PIN_FILE"] = pinFile.path
        let arguments = ["pki", "init", "--data", data, "--pkcs11-module", SoftHSM.modulePath, "--pkcs11-token", "opencps-ca",
                         "--root-algorithm", "p256", "--ca-algorithm", "rsa2048", "--responder-algorithm", "p256"]

        // A wrong PIN: refused, nothing written.
        let refused = try ExternalTool.run(ExecutableTests.executable.path, arguments, environment: withPIN)
        #expect(refused.status != 0 && refused.output.contains("pki.keystore.wrong-pin"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: data + "/pki/hierarchy.json"))

        try "246810\n".write(to: pinFile, atomically: true, encoding: .utf8)
        let initialised = try ExternalTool.run(ExecutableTests.executable.path, arguments, environment: withPIN)
        #expect(initialised.status == 0, "\(initialised.output)")
        #expect(initialised.output.contains("keys in the PKCS #11 token 'opencps-ca'"), "\(initialised.output)")
        #expect(!FileManager.default.fileExists(atPath: data + "/keys"), "no software key may be written")
        let record = try String(contentsOfFile: data + "/pki/key-store.json", encoding: .utf8)
        #expect(record.contains("\"tokenLabel\" : \"opencps-ca\""), "\(record)")

        let verified = try ExternalTool.run("openssl", [
            "verify", "-CAfile", data + "/pki/root.pem", data + "/pki/forte-personnes.pem", data + "/pki/elementaire-personnes.pem",
        ])
        #expect(verified.status == 0, "\(verified.output)")
        let listed = try ExternalTool.run(
            "pkcs11-tool", ["--module", SoftHSM.modulePath, "--token-label", "opencps-ca", "--login", "--pin", "246810", "--list-objects", "--type", "privkey"],
            environment: environment)
        let keys = listed.output.components(separatedBy: "Private Key Object").count - 1
        #expect(keys >= 5, "\(listed.output)")
        #expect(listed.output.components(separatedBy: "Access:     sensitive, always sensitive, never extractable, local").count - 1 == keys, "\(listed.output)")

        // Never overwritten.
        let again = try ExternalTool.run(ExecutableTests.executable.path, arguments, environment: withPIN)
        #expect(again.status != 0, "\(again.output)")
    }
}
