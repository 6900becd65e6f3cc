// Package codes maps the data standard's enumerations to the short code names
// used in exports, in ClickHouse columns and in measure SQL: the enum value name
// without its type prefix, in lower case ("INCIDENT_TYPE_S136" → "s136",
// "AGE_BAND_65_PLUS" → "65_plus"). Ethnicity is the exception: its code is the
// NHS letter ("A" … "S", "Z") or "99", and EthnicGroup derives the ONS broad
// group from it.
//
// The mapping is derived from the generated enum descriptors, so a value added
// to codes.proto gets its code without touching this package.
//
// Layer 0 (schemas): besides its own room it may import nothing of the project.
// The layers are checked by layers_test.go at the repository's top.
package codes
