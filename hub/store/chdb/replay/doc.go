// Package replay runs the statements that the tests sent to ClickHouse
// 18.16 (recorded by hub/store/chdb/sqlrecord) again, in order and with their
// data, on two engines side by side: a fresh ClickHouse 18.16 server and
// chDB, the current ClickHouse release built as a library. It reports every
// statement that fails on one engine only, or whose rows differ, with the
// code that sent it.
//
// Each test process's statements are replayed on their own, from empty
// engines, in the order they started (an insert when its data was sent).
// Statements that failed in the original run (a recipient refused on
// purpose, a test of a bad query) are not replayed.
//
// What counts as the same result: the same column types, and the same rows
// cell by cell, as text in TabSeparated, except that the numbers in Float
// columns need only agree to a relative 1e-9 (18.16 prints 17 significant
// digits, current releases the shortest form that reads back; sin, asin and
// pow may differ in the last bit). A float printed into a String column
// must match exactly: that text is what a caller hashes or shows. Rows of a
// statement without ORDER BY may come in any order, so those are compared
// as sorted lists. Statements whose rows are facts about the engine or the
// clock (Volatile) must run on both, but their rows are not compared.
//
// Layer 3 (hub/store): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures.
// The layers are checked by layers_test.go at the repository's top.
package replay
