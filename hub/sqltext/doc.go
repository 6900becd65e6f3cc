// Package sqltext is the hub's one rule for putting values and names into
// ClickHouse SQL text. Every statement the hub builds, the measures', the
// publisher's, the dashboards' and the recorded ones replayed on a current
// release, quotes through it, so there is one rule to read and to fuzz.
//
// Values are rendered as literals that read back as the same value on
// ClickHouse 18.16 and on current releases. Names (databases, tables,
// columns) are never quoted: they must match ValidIdent, which admits
// nothing that needs quoting.
//
// It imports nothing of the hub, so every layer may use it.
//
// Layer 1 (hub/sqltext): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package sqltext
