import Foundation
import Testing

/// The layers of DESIGN.md §6, as imports. `Package.swift` gives each target only the
/// dependencies its layer may use, but SwiftPM lets a module import what its dependencies
/// depend on; this test reads every source file's imports so that the rule holds for them too.
@Suite("Architecture")
struct ArchitectureTests {
    /// The package's `Sources` folder, found from this file.
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// What persistence is made of: no layer above the services may reach it.
    static let persistence: Set<String> = [
        "OpenCPSPersistence", "Fluent", "FluentKit", "SQLKit", "SQLiteNIO", "PostgresNIO", "FluentSQLiteDriver",
        "FluentPostgresDriver", "VaporCSQLite",
    ]
    /// The web framework and its server.
    static let web: Set<String> = ["Vapor", "NIOHTTP1", "NIOPosix", "NIOSSL", "Leaf", "LeafKit"]

    /// The modules each layer may not import.
    static let forbidden: [String: Set<String>] = [
        "OpenCPSPKCS11": persistence.union(web).union(["OpenCPSPKI", "OpenCPSTokens", "OpenCPSServices", "OpenCPSHTTP", "OpenCPSApp"]),
        "OpenCPSPKI": persistence.union(web).union(["OpenCPSTokens", "OpenCPSServices", "OpenCPSHTTP", "OpenCPSApp"]),
        "OpenCPSTokens": persistence.union(web).union(["OpenCPSServices", "OpenCPSHTTP", "OpenCPSApp"]),
        "OpenCPSPersistence": web.subtracting(["NIOPosix"]).union(["OpenCPSServices", "OpenCPSHTTP", "OpenCPSApp"]),
        "OpenCPSServices": web.union(["OpenCPSHTTP", "OpenCPSApp"]),
        "OpenCPSHTTP": persistence.union(["OpenCPSApp"]),
    ]

    /// The imports of every Swift file of a target.
    static func imports(of target: String) throws -> [(file: String, module: String)] {
        let folder = sources.appendingPathComponent(target)
        let files = try #require(FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(!files.isEmpty, "no sources in \(folder.path)")
        var found: [(String, String)] = []
        for file in files {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                guard words.count >= 2, words[0] == "import" else { continue }
                found.append((file.lastPathComponent, String(words[words[1] == "struct" || words[1] == "enum" ? 2 : 1])))
            }
        }
        return found
    }

    @Test("the domain imports Foundation only")
    func domain() throws {
        let outside = try Self.imports(of: "OpenCPSDomain").filter { $0.module != "Foundation" }
        #expect(outside.isEmpty, "\(outside)")
    }

    @Test("the e-CPS authenticator imports Foundation and swift-crypto only, so a phone app can embed it")
    func ecps() throws {
        let outside = try Self.imports(of: "OpenCPSECPS").filter { !["Foundation", "Crypto", "_CryptoExtras"].contains($0.module) }
        #expect(outside.isEmpty, "\(outside)")
    }

    @Test("each layer imports nothing of the layers above it, and HTTP nothing of persistence", arguments: forbidden.keys.sorted())
    func layer(_ target: String) throws {
        let refused = Self.forbidden[target] ?? []
        let breaches = try Self.imports(of: target).filter { refused.contains($0.module) }
        #expect(breaches.isEmpty, "\(target) imports \(breaches)")
    }
}
