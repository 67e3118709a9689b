import Foundation
import OpenCPSDomain
import OpenCPSHTTP
import Testing

/// The reader of document uploads, which replaced MultipartKit's after the fuzz harness found
/// that a header name byte of 0x80 or more trapped it (issue 21).
@Suite("Multipart form data")
struct MultipartFormDataTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("a body as curl and browsers send it: fields in order, a file with its name, type and bytes")
    func readsFormData() throws {
        // The shape `curl -F kind=identity -F file=@pièce.pdf` writes (preamble-free, CRLF lines).
        let content: [UInt8] = [0x25, 0x50, 0x44, 0x46, 0x0D, 0x0A, 0x00, 0xFF, 0x2D, 0x2D, 0x0D]
        let body = bytes("--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nidentity\r\n"
            + "--------------------------d74496d66958873e\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pi\u{E8}ce \\\"1\\\".pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
            + content + bytes("\r\n--------------------------d74496d66958873e--\r\n")
        let form = try MultipartFormData(bytes: body, boundary: "------------------------d74496d66958873e")
        #expect(form.parts.map(\.name) == ["kind", "file"])
        #expect(form.part(named: "kind")?.text == "identity")
        let file = try #require(form.part(named: "file"))
        #expect(file.filename == "pièce \"1\".pdf")
        #expect(file.contentType == "application/pdf")
        #expect(file.body == content)

        let upload = try DocumentUpload(bytes: body, boundary: "------------------------d74496d66958873e")
        #expect(upload.kind == .identity)
        #expect(upload.mediaType == "application/pdf")
        #expect(upload.content == content)
    }

    @Test("the input that trapped MultipartKit, and other malformed bodies, are refused with a reason")
    func refusesMalformedBodies() {
        let malformed: [(String, [UInt8])] = [
            ("a header name byte of 0x80", bytes("--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n") + [0xC3, 0xA9] + bytes(": x\r\n\r\nidentity\r\n--X--\r\n")),
            ("no boundary at all", bytes("kind=identity")),
            ("no closing boundary", bytes("--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nidentity")),
            ("headers never ended", bytes("--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n")),
            ("a header line without colon", bytes("--X\r\nContent-Disposition form-data\r\n\r\nx\r\n--X--\r\n")),
            ("no Content-Disposition", bytes("--X\r\nContent-Type: text/plain\r\n\r\nx\r\n--X--\r\n")),
            ("an unclosed quote", bytes("--X\r\nContent-Disposition: form-data; name=\"kind\r\n\r\nx\r\n--X--\r\n")),
            ("not form-data", bytes("--X\r\nContent-Disposition: attachment; name=\"kind\"\r\n\r\nx\r\n--X--\r\n")),
            ("a boundary followed by text", bytes("--Xjunk\r\n\r\nx\r\n--X--\r\n")),
            ("too many parts", bytes(String(repeating: "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n", count: 40) + "--X--\r\n")),
        ]
        for (what, body) in malformed {
            #expect(throws: MultipartError.self, "\(what)") { try MultipartFormData(bytes: body, boundary: "X") }
            #expect(ParserProbe.documentUpload(body, boundary: "X") == .refused(status: 400, code: "request.malformed-multipart"), "\(what)")
        }
        #expect(throws: MultipartError.self) { try MultipartFormData(bytes: bytes("--\r\n"), boundary: "") }
    }

    @Test("a well-formed body missing a field or naming an unknown kind is a 422 naming the field")
    func namesMissingFields() {
        let noFile = bytes("--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nidentity\r\n--X--\r\n")
        #expect(ParserProbe.documentUpload(noFile, boundary: "X") == .refused(status: 422, code: "request.invalid"))
        let unknownKind = bytes("--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\npassport\r\n--X\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--X--\r\n")
        #expect(ParserProbe.documentUpload(unknownKind, boundary: "X") == .refused(status: 422, code: "request.invalid"))
        // A preamble before the first boundary and an epilogue after the last are ignored.
        let framed = bytes("preamble\r\n--X\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nidentity\r\n--X\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\r\n--X--\r\nepilogue")
        #expect(ParserProbe.documentUpload(framed, boundary: "X") == .accepted)
    }
}
