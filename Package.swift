// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every target: Swift 6 language mode and stricter checks.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "OpenCPS",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "opencps", targets: ["opencps"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/leaf-kit.git", from: "1.14.3"),
    ],
    targets: [
        // Pure values and rules of the CPS domain: imports no framework.
        .target(
            name: "OpenCPSDomain",
            swiftSettings: strictSettings
        ),
        // The C declarations of the PKCS #11 interface that OpenCPS uses, written from the OASIS
        // specification; the module itself is loaded at run time (no system package to build).
        .target(name: "CPKCS11"),
        // PKCS #11 in Swift: the run-time loader (dlopen), sessions, objects, keys, signatures.
        .target(
            name: "OpenCPSPKCS11",
            dependencies: ["CPKCS11", "OpenCPSDomain"],
            swiftSettings: strictSettings,
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        // Certificate authorities, profiles, key stores, CRL and OCSP: imports no web framework.
        .target(
            name: "OpenCPSPKI",
            dependencies: [
                "OpenCPSDomain",
                "OpenCPSPKCS11",
                "CPKCS11",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        // The e-CPS authenticator (the phone's side): device keys, the PIN-sealed approval key and
        // its try counter, enrolment payloads, signed approvals. Foundation and swift-crypto only,
        // so that a phone app can embed it (ArchitectureTests keeps the rule).
        .target(
            name: "OpenCPSECPS",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Fluent models, migrations and repositories that map rows to domain values.
        .target(
            name: "OpenCPSPersistence",
            dependencies: [
                "OpenCPSDomain",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Cards as tokens: software tokens and PKCS #11 tokens, behind one protocol.
        .target(
            name: "OpenCPSTokens",
            dependencies: [
                "OpenCPSDomain",
                "OpenCPSPKI",
                "OpenCPSPKCS11",
                "CPKCS11",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        // Application services that combine the PKI and persistence: issuance, revocation,
        // OCSP answers, CRL publication, and the card lifecycle. Imports no web framework.
        .target(
            name: "OpenCPSServices",
            dependencies: [
                "OpenCPSDomain",
                "OpenCPSECPS",
                "OpenCPSPKI",
                "OpenCPSTokens",
                "OpenCPSPersistence",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The JSON API, the FHIR directory, PKI endpoints, health and metrics. Depends on the
        // services and on domain and PKI values, never on persistence: handlers decode, call one
        // service method, and encode (ArchitectureTests keeps the rule for imports too).
        .target(
            name: "OpenCPSHTTP",
            dependencies: [
                "OpenCPSDomain",
                "OpenCPSPKI",
                "OpenCPSServices",
                "OpenCPSTokens",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "LeafKit", package: "leaf-kit"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("OpenAPI/openapi.json"), .copy("Portal/Views"), .copy("Portal/Static")],
            swiftSettings: strictSettings
        ),
        // The composition root, configuration, background services and command line.
        .target(
            name: "OpenCPSApp",
            dependencies: [
                "OpenCPSDomain",
                "OpenCPSECPS",
                "OpenCPSPKI",
                "OpenCPSPersistence",
                "OpenCPSHTTP",
                "OpenCPSServices",
                "OpenCPSTokens",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                // `opencps bench oidc`: the relying service's HTTP client.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "opencps",
            dependencies: ["OpenCPSApp"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OpenCPSDomainTests",
            dependencies: ["OpenCPSDomain"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OpenCPSECPSTests",
            dependencies: ["OpenCPSECPS", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OpenCPSPKITests",
            dependencies: ["OpenCPSPKI", "OpenCPSPKCS11", "CPKCS11"],
            resources: [.copy("Resources")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OpenCPSAppTests",
            dependencies: [
                "OpenCPSApp",
                "OpenCPSServices",
                "OpenCPSTokens",
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            // The Python clients the tests run (authlib, Selenium), read from the source tree.
            exclude: ["Python"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
