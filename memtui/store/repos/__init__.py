"""Per-entity repositories of the SQL store. Each runs its operations in the shared
`memtui.store.engine.Database`; `memtui.store.sql.SqlStore` composes them."""
