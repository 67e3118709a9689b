import Foundation
import Testing

/// Where the tests find the tools they drive, and what a test does when one is missing.
///
/// Python packages (fhir.resources, pkilint, openapi-spec-validator, schemathesis) come from the
/// project-local environment `.venv-tests`, which `Tests/python-env.sh` makes on first use from the
/// pinned `Tests/requirements.txt`: `swift test` needs no `pip install`, and a machine that cannot
/// make the environment fails the tests that need it with the script's explanation.
///
/// Tools that are not Python (openssl, curl, pkcs11-tool, softhsm2-util) come from PATH. A test or
/// suite that needs one declares it with ``needs(_:)``: where the tool is missing, the test is
/// skipped with the tool named; under CI (`CI` set, as `.ci/run` does), where everything is
/// installed, the test always runs, and ``require(_:sourceLocation:)`` fails it naming the tool.
///
/// `Tests/OpenCPSPKITests/Support/TestTools.swift` is the same file: test targets share no sources.
enum TestTools {
    /// Why a tool cannot be had.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The package root: this file is `Tests/<target>/Support/TestTools.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Whether the tests run under CI, which installs every tool and accepts no skipped test.
    static let isCI: Bool = {
        let value = (ProcessInfo.processInfo.environment["CI"] ?? "").lowercased()
        return !["", "0", "false", "no"].contains(value)
    }()

    // MARK: Python

    /// The interpreter of the tests' Python environment, `<package root>/.venv-tests/bin/python`.
    /// - Throws: ``Failure`` with `Tests/python-env.sh`'s explanation when the environment cannot be made.
    static func python() throws -> String {
        try pythonEnvironment.get().path
    }

    /// A command the tests' Python environment installed, such as `lint_pkix_cert` or `schemathesis`.
    /// - Parameter name: the command's name in the environment's `bin` folder.
    /// - Returns: its absolute path.
    /// - Throws: ``Failure`` when the environment cannot be made or has no such command.
    static func venvTool(_ name: String) throws -> String {
        let tool = try pythonEnvironment.get().deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw Failure(description: "the tests' Python environment has no \(name): add the package that installs it to Tests/requirements.txt")
        }
        return tool
    }

    /// `Tests/python-env.sh`'s answer, asked once per test process (the script itself serialises
    /// the processes that ask at the same time).
    private static let pythonEnvironment: Result<URL, Failure> = {
        let script = packageRoot.appendingPathComponent("Tests").appendingPathComponent("python-env.sh")
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("opencps-python-env-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: errors) }
        do {
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            let errorHandle = try FileHandle(forWritingTo: errors)
            defer { try? errorHandle.close() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["bash", script.path]
            let output = Pipe()
            process.standardOutput = output
            // A file rather than a pipe: pip can write more than a pipe holds before the script ends.
            process.standardError = errorHandle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let printed = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let explanation = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            let path = String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard process.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: path) else {
                return .failure(Failure(description: """
                    Tests/python-env.sh could not make the tests' Python environment (exit \(process.terminationStatus)):
                    \(explanation)
                    """))
            }
            return .success(URL(fileURLWithPath: path))
        } catch {
            return .failure(Failure(description: "Tests/python-env.sh could not be run: \(error)"))
        }
    }()

    // MARK: Tools on PATH

    /// Whether `tool` is an executable on PATH.
    static func has(_ tool: String) -> Bool {
        path(of: tool) != nil
    }

    /// A trait for a test or suite that runs `tools` from PATH: skipped, naming the tools that
    /// are missing, unless the tests run under CI, where the test runs and fails on a missing tool.
    /// - Parameter tools: the commands the test runs, such as `openssl` or `pkcs11-tool`.
    /// - Returns: the trait, as `@Test(..., TestTools.needs("openssl"))`.
    static func needs(_ tools: String...) -> ConditionTrait {
        let missing = tools.filter { !has($0) }
        return .enabled(if: isCI || missing.isEmpty, "needs \(missing.joined(separator: ", ")) on PATH (CI installs it: see .ci/run)")
    }

    /// The path of `tool` on PATH, or a failure of the test that names the tool.
    /// - Parameters:
    ///   - tool: the command, such as `openssl`.
    ///   - sourceLocation: where the failure is reported.
    /// - Returns: the tool's absolute path.
    static func require(_ tool: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(path(of: tool), "\(tool) is not on PATH (CI installs it: see .ci/run)", sourceLocation: sourceLocation)
    }

    private static func path(of tool: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.lazy.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
