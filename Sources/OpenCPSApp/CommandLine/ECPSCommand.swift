import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OpenCPSECPS

/// `opencps ecps ...`: a command-line e-CPS device, standing in for the phone app. It keeps
/// its keys in a folder (`--device-dir`) and talks to the server's `/api/v1/ecps` API.
struct ECPSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecps",
        abstract: "A command-line e-CPS device: enrol, list and decide login requests, list and revoke devices.",
        discussion: """
            The device's keys live in --device-dir (device.json, owner-only). The approval key is sealed under the \
            device PIN (--pin, else OPENCPS_ECPS_PIN, else a line read from standard input); the PIN never leaves the \
            device. Wrong PINs are counted on the device, which locks (erasing the approval key) after --pin-tries \
            of them (5): enrol again to get a new one. Exit status: 0 on success, 3 for a wrong PIN, 4 for a locked \
            device, 1 for anything else.
            """,
        subcommands: [
            ECPSEnrolCommand.self, ECPSRequestActivationCommand.self, ECPSPendingCommand.self, ECPSApproveCommand.self,
            ECPSDenyCommand.self, ECPSDevicesCommand.self, ECPSRevokeCommand.self,
        ])
}

/// Where the device lives.
struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "The folder holding the device's keys and state.")
    var deviceDir: String

    var folder: DeviceFolder { DeviceFolder(url: URL(fileURLWithPath: deviceDir, isDirectory: true).standardizedFileURL) }

    func open() throws -> DeviceVault {
        do {
            return try folder.open()
        } catch let error as ECPSError {
            throw ValidationError(error.reason)
        }
    }
}

/// The device PIN: a flag, the environment, or a line of standard input.
struct PINOptions: ParsableArguments {
    @Option(name: .long, help: "The device PIN (else OPENCPS_ECPS_PIN, else read from standard input).")
    var pin: String?

    func read() throws -> String {
        if let pin { return pin }
        if let pin = ProcessInfo.processInfo.environment["OPENCPS_ECPS_PIN"], !pin.isEmpty { return pin }
        printError("Device PIN:")
        guard let line = readLine(strippingNewline: true) else { throw ValidationError("no device PIN given (--pin, OPENCPS_ECPS_PIN or standard input)") }
        return line
    }
}

/// `opencps ecps enrol`.
struct ECPSEnrolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol",
        abstract: "Enrol this device with a QR payload (--payload) or an activation code (--activation-code, --id-nat, --server).",
        discussion: "A folder that already holds a device keeps its device key and gets a new approval key under the PIN given: the server reactivates it.")

    @OptionGroup var device: DeviceOptions
    @OptionGroup var pinOptions: PINOptions
    @Option(name: .long, help: "The text of the QR code shown to the card-authenticated holder.") var payload: String?
    @Option(name: .long, help: "The activation code sent to the holder's registered contact.") var activationCode: String?
    @Option(name: .long, help: "The holder's idNat (with --activation-code).") var idNat: String?
    @Option(name: .long, help: "The server's base URL (with --activation-code).") var server: String?
    @Option(name: .long, help: "A name for this device.") var label: String = "opencps ecps"
    @Option(name: .long, help: "Wrong PINs that lock the device (1-20).") var pinTries: Int = DeviceVault.defaultMaximumPINTries

    func run() async throws {
        guard (1...20).contains(pinTries) else { throw ValidationError("--pin-tries must be from 1 to 20") }
        var body: [String: String] = [:]
        let serverURL: String
        if let payload {
            let parsed: EnrolmentPayload
            do { parsed = try EnrolmentPayload(text: payload) } catch let error as ECPSError { throw ValidationError(error.reason) }
            serverURL = parsed.serverURL
            body["enrolmentId"] = parsed.enrolmentID
            body["code"] = parsed.code
        } else if let activationCode, let idNat, let server {
            serverURL = server
            body["idNat"] = idNat
            body["code"] = activationCode
        } else {
            throw ValidationError("give --payload, or --activation-code with --id-nat and --server")
        }
        let pin = try pinOptions.read()
        var vault = try ECPSDeviceRun.run {
            let folder = device.folder
            if folder.exists {
                var vault = try folder.open()
                try vault.renewApprovalKey(pin: pin)
                return vault
            }
            return try DeviceVault.create(serverURL: serverURL, pin: pin, maximumPINTries: pinTries, save: folder.save)
        }
        body["label"] = label
        body["deviceKey"] = try vault.devicePublicKey
        body["approvalKey"] = vault.state.approvalPublicKey
        let answer = try await ECPSClient(server: serverURL).send("POST", "/api/v1/ecps/devices", json: body)
        guard let id = answer["id"] as? String, let holder = answer["idNat"] as? String else { throw ECPSCommandFailure("the server's answer has no device id") }
        try ECPSDeviceRun.run { try vault.enrolled(deviceID: id, idNat: holder) }
        print("Enrolled device \(id) for \(holder), \(answer["status"] as? String ?? "?") until \(answer["expiresAt"] as? String ?? "?").")
    }
}

/// `opencps ecps request-activation`.
struct ECPSRequestActivationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request-activation", abstract: "Ask the server to send an activation code to the holder's registered contact.")

    @Option(name: .long, help: "The holder's idNat.") var idNat: String
    @Option(name: .long, help: "The server's base URL.") var server: String

    func run() async throws {
        let answer = try await ECPSClient(server: server).send("POST", "/api/v1/ecps/activations", json: ["idNat": idNat])
        print("An activation code was sent to the registered contact; it expires at \(answer["expiresAt"] as? String ?? "?").")
    }
}

/// `opencps ecps pending`.
struct ECPSPendingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pending", abstract: "List the login requests waiting for this device's holder.")

    @OptionGroup var device: DeviceOptions

    func run() async throws {
        let vault = try device.open()
        let requests = try await ECPSClient(vault: vault).pending()
        if requests.isEmpty { print("No pending login request.") }
        for request in requests {
            let binding = (request["bindingMessage"] as? String).flatMap { $0.isEmpty ? nil : "  binding message: \($0)" } ?? ""
            print("\(request["id"] as? String ?? "?")  \(request["clientName"] as? String ?? "?")\(binding)  until \(request["expiresAt"] as? String ?? "?")")
        }
    }
}

/// Signs and sends a decision.
enum ECPSDecide {
    /// - Parameter certificate: after an approval, where to write the device certificate the
    ///   server issues for the device key (PEM); nil: none is asked for.
    static func run(_ decision: ECPSDecision, request id: String, device: DeviceOptions, pin: PINOptions, certificate: String? = nil) async throws {
        var vault = try device.open()
        let client = try ECPSClient(vault: vault)
        guard let request = try await client.pending().first(where: { $0["id"] as? String == id }) else {
            throw ECPSCommandFailure("no pending login request \(id) for this device's holder")
        }
        let message = ApprovalMessage(
            requestID: id, clientName: request["clientName"] as? String ?? "", bindingMessage: request["bindingMessage"] as? String ?? "",
            serverNonce: request["serverNonce"] as? String ?? "", decision: decision, time: Int64(Date().timeIntervalSince1970))
        let pinText = try pin.read()
        let signature = try ECPSDeviceRun.run { try vault.sign(message, pin: pinText) }
        let answer = try await client.send("POST", "/api/v1/ecps/requests/\(id)/decision", json: [
            "deviceId": vault.state.deviceID ?? "", "decision": decision.rawValue, "time": message.time, "signature": Base64URL.encode(signature),
        ])
        print("Login request \(id): \(answer["state"] as? String ?? "?").")
        guard let certificate, decision == .approve, let deviceID = vault.state.deviceID else { return }
        let issued = try await client.send("POST", "/api/v1/ecps/devices/\(deviceID)/certificate", json: ["requestId": id])
        guard let pem = issued["pem"] as? String else { throw ECPSCommandFailure("the server's answer has no certificate") }
        do {
            try Data(pem.utf8).write(to: URL(fileURLWithPath: certificate), options: .atomic)
        } catch {
            throw ECPSCommandFailure("the certificate cannot be written to \(certificate): \(error.localizedDescription)")
        }
        print("Device certificate \(issued["serial"] as? String ?? "?") (\(issued["issuer"] as? String ?? "?")) until \(issued["notAfter"] as? String ?? "?"), written to \(certificate).")
    }
}

/// `opencps ecps approve`.
struct ECPSApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a login request (signed with the PIN-sealed key).")

    @Argument(help: "The login request's id (from `pending`).") var request: String
    @OptionGroup var device: DeviceOptions
    @OptionGroup var pin: PINOptions
    @Option(name: .long, help: "After approving, ask for the device key's short-lived certificate (Élémentaire Personnes CA) and write it here (PEM).")
    var certificate: String?

    func run() async throws { try await ECPSDecide.run(.approve, request: request, device: device, pin: pin, certificate: certificate) }
}

/// `opencps ecps deny`.
struct ECPSDenyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deny", abstract: "Deny a login request (signed with the PIN-sealed key).")

    @Argument(help: "The login request's id (from `pending`).") var request: String
    @OptionGroup var device: DeviceOptions
    @OptionGroup var pin: PINOptions

    func run() async throws { try await ECPSDecide.run(.deny, request: request, device: device, pin: pin) }
}

/// `opencps ecps devices`.
struct ECPSDevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devices", abstract: "List the holder's e-CPS devices.")

    @OptionGroup var device: DeviceOptions

    func run() async throws {
        let vault = try device.open()
        let answer = try await ECPSClient(vault: vault).send("GET", "/api/v1/ecps/devices")
        for item in answer["items"] as? [[String: Any]] ?? [] {
            let mark = item["id"] as? String == vault.state.deviceID ? " (this device)" : ""
            print("\(item["id"] as? String ?? "?")  \(item["label"] as? String ?? "?")  \(item["status"] as? String ?? "?")  until \(item["expiresAt"] as? String ?? "?")\(mark)")
        }
    }
}

/// `opencps ecps revoke`.
struct ECPSRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke one of the holder's devices (this one by default).")

    @Argument(help: "The device to revoke (default: this device).") var deviceID: String?
    @OptionGroup var device: DeviceOptions

    func run() async throws {
        let vault = try device.open()
        guard let id = deviceID ?? vault.state.deviceID else { throw ValidationError("this device is not enrolled") }
        let answer = try await ECPSClient(vault: vault).send("DELETE", "/api/v1/ecps/devices/\(id)")
        print("Device \(id): \(answer["status"] as? String ?? "?").")
    }
}

/// Runs device work and turns its PIN errors into the exit statuses the help promises.
enum ECPSDeviceRun {
    static func run<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as ECPSError {
            printError(error.reason)
            switch error.code {
            case "ecps.wrong-pin": throw ExitCode(3)
            case "ecps.device-locked": throw ExitCode(4)
            default: throw ExitCode.failure
            }
        }
    }
}

/// The device's HTTP calls to the server.
struct ECPSClient {
    let server: String
    var vault: DeviceVault?

    init(server: String) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
    }

    init(vault: DeviceVault) throws {
        guard vault.state.deviceID != nil else { throw ValidationError("this device is not enrolled yet: run `opencps ecps enrol`") }
        self.init(server: vault.state.serverURL)
        self.vault = vault
    }

    /// The pending requests.
    func pending() async throws -> [[String: Any]] {
        try await send("GET", "/api/v1/ecps/requests")["items"] as? [[String: Any]] ?? []
    }

    /// Sends a request (with the device's proof when the client has a device) and returns the JSON answer.
    func send(_ method: String, _ path: String, json: [String: Any]? = nil) async throws -> [String: Any] {
        guard let url = URL(string: server + path) else { throw ValidationError("the server URL \(server) is not valid") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        if let vault {
            let nonce = Base64URL.encode(DeviceVault.systemRandom(12))
            let (message, signature) = try vault.proof(time: Int64(Date().timeIntervalSince1970), nonce: nonce)
            request.setValue("ECPS \(message.deviceID).\(nonce).\(message.time).\(Base64URL.encode(signature))", forHTTPHeaderField: "Authorization")
        }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ECPSCommandFailure("the server at \(server) did not answer: \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(status) else {
            throw ECPSCommandFailure("the server refused (HTTP \(status)): \(object["detail"] as? String ?? String(decoding: data, as: UTF8.self))")
        }
        return object
    }
}

/// A failure of the device's conversation with the server: printed as `Error: <text>`, without the usage.
struct ECPSCommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
