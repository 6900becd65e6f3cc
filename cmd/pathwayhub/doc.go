// Command pathwayhub is the Pathway Hub server: it receives pseudonymised
// incident data from police forces and NHS trusts over Connect, stores it in
// ClickHouse, and publishes to each recipient what the data-sharing
// agreements allow it to see.
//
// Layer 10 (cmd/pathwayhub): besides its own room it may import any package below the commands; never another command.
// The layers are checked by layers_test.go at the repository's top.
package main
