import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OpenCPSApp
@testable import OpenCPSHTTP
import Prometheus
import Testing

/// A dedicated listener closes idle connections and caps how many are open.
@Suite("Listener limits", .disabled(if: TestDatabase.isPostgres, "the listener's limits do not depend on the database"))
struct ListenerLimitsTests {
    /// Opens `count` connections to the port, waits `seconds`, and prints for each whether the
    /// server has closed it (`closed`) or not (`open`).
    static let probe = """
        import socket, sys, time
        port, count, wait = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
        sockets = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port)); s.settimeout(0.5); sockets.append(s); time.sleep(0.2)
        time.sleep(wait)
        for s in sockets:
            try:
                print("closed" if s.recv(1) == b"" else "data")
            except socket.timeout:
                print("open")
            except ConnectionResetError:
                print("closed")
        """

    @Test("past the cap a connection is closed as it arrives, and an idle one is closed after the timeout")
    func limits() async throws {
        try await withTestApp(pki: TestPKIMaterial.shared) { app in
            let pki = try #require(app.pkiService)
            let listener = OCSPListener(
                pki: pki, registry: PrometheusCollectorRegistry(), limits: ListenerLimits(idleTimeout: .seconds(2), maximumConnections: 2),
                logger: Logger(label: "test"))
            let port = try await listener.start(host: "127.0.0.1", port: 0)
            defer { Task { try? await listener.stop() } }
            let capped = try ExternalTool.run("python3", ["-c", Self.probe, String(port), "3", "0.3"])
            #expect(capped.output.split(separator: "\n") == ["open", "open", "closed"], "\(capped.output)")
            let idle = try ExternalTool.run("python3", ["-c", Self.probe, String(port), "1", "3"])
            #expect(idle.output.split(separator: "\n") == ["closed"], "\(idle.output)")
        }
    }
}

/// A handler that answers three seconds after the request: longer than the idle timeout.
private final class SlowAnswerHandler: LeanHTTPHandler {
    override func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(3)) {
            self.write(.ok, headers: HTTPHeaders(), body: ByteBuffer(string: "late"), head: head, context: context)
        }
    }
}

extension ListenerLimitsTests {
    @Test("a request answered after the idle timeout gets its answer: only a connection with no request being answered is closed")
    func slowAnswer() async throws {
        let server = LeanHTTPServer(name: "slow", threads: 1, limits: ListenerLimits(idleTimeout: .seconds(1))) {
            SlowAnswerHandler(maximumBodySize: 1024)
        }
        let port = try await server.start(host: "127.0.0.1", port: 0)
        let answer = try ExternalTool.run("curl", ["-s", "-m", "10", "http://127.0.0.1:\(port)/"])
        try await server.stop()
        #expect(answer.status == 0, "\(answer.output)")
        #expect(answer.output == "late")
    }
}
