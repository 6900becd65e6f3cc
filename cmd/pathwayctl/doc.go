// Command pathwayctl is the client of Pathway Hub for the organisations that
// use it: it pseudonymises a force's local export and submits it, checks files
// offline, makes tokens, simulates feeds, shows what a credential may see,
// downloads and verifies evidence packs, downloads a force's Home Office
// annual return, and approves, reopens and lists a force's months. It links no ClickHouse driver, no
// policy engine and no dashboard generator: the operators' tools that need
// them (agreements check, stats) are pathwayhub commands.
//
// Layer 10 (cmd/pathwayctl): besides its own room it may import any package below the commands; never another command.
// The layers are checked by layers_test.go at the repository's top.
package main
