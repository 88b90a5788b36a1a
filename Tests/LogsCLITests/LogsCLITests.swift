import Foundation
import LogModel
import LogsAPITypes
import LogsCLI
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct TerminalTextTests {
    @Test func controlSequencesBecomeVisible() {
        #expect(TerminalText.neutralised("plain\ttext é") == "plain\ttext é")
        #expect(TerminalText.neutralised("\u{1B}]52;c;ZXZpbA==\u{07}") == #"\e]52;c;ZXZpbA==\x07"#)
        #expect(TerminalText.neutralised("a\rb\u{08}c\u{7F}") == #"a\x0db\x08c\x7f"#)
        // A one-byte CSI and a right-to-left override.
        #expect(TerminalText.neutralised("x\u{9B}2Jy\u{202E}z") == #"x\u{9b}2Jy\u{202e}z"#)
    }
}

@Suite(.timeLimit(.minutes(3))) struct ConfigurationTests {
    let scratch = Scratch("cli-config")

    func file(_ name: String, _ text: String) throws -> String {
        try text.replace(file: scratch.file(name))
        return scratch.file(name)
    }

    @Test func laterFilesThenTheEnvironmentThenTheFlagWin() throws {
        let common = try file("common.yaml", "api_gateway:\n  url: https://api.example.org:30003\n")
        let home = try file("home.yaml", "api_gateway:\n  url: https://home.example.org/\nother: 1\n")
        let files = [common, scratch.file("missing.yaml"), home]
        let loaded = try ToolforgeConfiguration.load(files: files, environment: [:])
        #expect(try loaded.logsURL(flag: nil) == "https://home.example.org/logs")
        #expect(try ToolforgeConfiguration.load(files: [common], environment: [:]).logsURL(flag: nil) == "https://api.example.org:30003/logs")
        let environment = try ToolforgeConfiguration.load(files: files, environment: ["TOOL_TOOLFORGE_API_URL": "https://env.example.org"])
        #expect(try environment.logsURL(flag: nil) == "https://env.example.org/logs")
        #expect(try environment.logsURL(flag: "https://127.0.0.1:8443/") == "https://127.0.0.1:8443")
    }

    @Test func badConfigurationIsSaid() throws {
        #expect(throws: ConfigurationError.self) { try ToolforgeConfiguration().logsURL(flag: nil) }
        #expect(throws: ConfigurationError.self) { try ToolforgeConfiguration().logsURL(flag: "ftp://x") }
        let broken = try file("broken.yaml", "api_gateway: [unclosed\n")
        #expect(throws: ConfigurationError.self) { try ToolforgeConfiguration.load(files: [broken], environment: [:]) }
        let notString = try file("number.yaml", "api_gateway:\n  url: [1]\n")
        #expect(throws: ConfigurationError.self) { try ToolforgeConfiguration.load(files: [notString], environment: [:]) }
    }
}

@Suite(.timeLimit(.minutes(3))) struct OutputTests {
    @Test func byteCountsAndTables() {
        #expect(ByteCount.text(999) == "999 bytes")
        #expect(ByteCount.text(3_200_000) == "3.1 MiB")
        #expect(ByteCount.text(20 << 30) == "20.0 GiB")
        #expect(Table.time("2026-11-29T18:33:18.123456789Z") == "2026-11-29T18:33:18Z")
        var table = Table("NAME", "SIZE")
        table.add("a-long-name", "1")
        table.add("b\u{1B}[2J", "22")
        #expect(table.render() == "NAME         SIZE\na-long-name  1\nb\\e[2J       22\n")
    }

    @Test func gapsAndTimes() {
        let gap = StreamedEntry(type: .gap, records: 12345, bytes: 3_200_000, reason: "rolled over")
        #expect(LogPrinter.gapText(gap) == "… 12,345 lines (3.1 MiB) not kept (rolled over) …")
        #expect(LogPrinter.gapText(.init(type: .gap, records: 1)) == "… 1 line not kept …")
        #expect(GapText.grouped(1_234_567) == "1,234,567")
        #expect(GapText.grouped(999) == "999")
        #expect(LogPrinter.milliseconds("2026-11-22T10:00:00.123456789Z") == "2026-11-22T10:00:00.123Z")
        #expect(LogPrinter.milliseconds("2026-11-22T10:00:00.1Z") == "2026-11-22T10:00:00.100Z")
    }

    /// An entry of a streamed read, read for what the CLI prints; what is not an entry is refused.
    @Test func streamedEntriesAreReadInOnePass() throws {
        func entry(_ line: String) throws -> StreamedEntry { try Array(line.utf8).withUnsafeBytes { try StreamedEntry(line: $0) } }
        let line = #"{"type":"log","datetime":"2026-11-22T10:00:00.000000001Z","stream":"stderr","message":"a \"b\"\u2028","partial":true,"#
            + #""pod":"p","container":"c","run":"r","node":"n","user_name":{"x":[1]},"cursor":"k1.x"}"#
        let read = try entry(line)
        var expected = StreamedEntry(type: .log, datetime: "2026-11-22T10:00:00.000000001Z", stream: "stderr", message: "a \"b\"\u{2028}",
                                     pod: "p", container: "c")
        expected.partial = true
        expected.cursor = "k1.x"
        #expect(read == expected)
        let gap = try entry(#"{"type":"gap","records":12,"bytes":null,"reason":"rolled over","message":"…"}"#)
        #expect((gap.type, gap.records, gap.bytes, gap.reason) == (.gap, 12, nil, "rolled over"))
        for bad in [#"{"type":"other"}"#, #"{"message":"no type"}"#, #"{"type":"log","message":5}"#, #"{"type":"gap","records":-1}"#, " ", "{"] {
            #expect(throws: StreamedEntry.Malformed.self, "\(bad)") { try entry(bad) }
        }
    }

    @Test func coloursOnlyWhenAsked() {
        #expect(Palette(.never, fileDescriptor: 1).warning("w") == "w")
        #expect(Palette(.always, fileDescriptor: 1).warning("w") == "\u{1B}[33mw\u{1B}[0m")
        // A pipe is not a terminal; NO_COLOR wins over auto.
        var pipe: [Int32] = [0, 0]
        _ = pipe.withUnsafeMutableBufferPointer { Foundation.pipe($0.baseAddress!) }
        #expect(!Palette(.auto, fileDescriptor: pipe[1], environment: [:]).enabled)
        #expect(!Palette(.auto, fileDescriptor: pipe[1], environment: ["NO_COLOR": "1"]).enabled)
        close(pipe[0])
        close(pipe[1])
    }
}
