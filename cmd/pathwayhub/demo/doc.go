// Package demo runs the main job on one machine: the hub with a managed local
// ClickHouse, the example London data-sharing agreements, credentials for the
// three simulated forces, their NHS trusts and every recipient of the
// agreements, months of simulated history submitted through the real API, a
// read-back of counts per force and month, the shares published to each
// recipient, and then a live trickle of incidents until interrupted.
//
// Layer 10 (cmd/pathwayhub): besides its own room it may import any package below the commands; never another command.
// The layers are checked by layers_test.go at the repository's top.
package demo
