import Foundation

/// A plain aligned table, as `kubectl get` prints: upper-case headers, columns two spaces apart.
package struct Table {
    let headers: [String]
    private var rows: [[String]] = []

    package init(_ headers: String...) {
        self.headers = headers
    }

    package mutating func add(_ cells: String...) {
        rows.append(cells.map(TerminalText.neutralised))
    }

    /// A time in a table, to the second (`2026-11-29T18:33:18Z`): nanoseconds make tables wide
    /// for nothing; `-o json` keeps them.
    package static func time(_ datetime: String?) -> String {
        guard let datetime else { return "-" }
        guard let dot = datetime.firstIndex(of: "."), datetime.hasSuffix("Z") else { return datetime }
        return datetime[..<dot] + "Z"
    }

    package func render() -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
