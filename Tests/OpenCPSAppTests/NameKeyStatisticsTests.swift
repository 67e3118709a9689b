import OpenCPSPersistence
import SQLKit
import Testing

/// PostgreSQL plans name-prefix searches from the name keys' statistics (M0006).
@Suite("Name key statistics")
struct NameKeyStatisticsTests {
    @Test("on PostgreSQL, the name keys of professionals and structures have a statistics target of 300",
          .enabled(if: TestDatabase.isPostgres))
    func statisticsTarget() async throws {
        try await withTestApp { app in
            let sql = try #require(app.db as? any SQLDatabase)
            let rows = try await sql.raw("""
                SELECT c.relname AS table_name, a.attstattarget::int AS target FROM pg_attribute a
                JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND a.attname = 'name_key' AND c.relkind = 'r'
                ORDER BY c.relname
                """).all()
            let targets = try rows.map { (try $0.decode(column: "table_name", as: String.self), try $0.decode(column: "target", as: Int.self)) }
            #expect(targets.map(\.0) == ["professionals", "structures"])
            #expect(targets.map(\.1) == [300, 300])
        }
    }
}
