// Command sqlreplay replays the statements that the tests sent to ClickHouse
// 18.16 on a fresh 18.16 server and on chDB (the current ClickHouse release
// as a library), and fails if any statement fails on one engine only or
// returns different rows. `make test` runs it after the tests; see
// hub/store/chdb/replay.
//
// Usage:
//
//	CHDB_LIB_PATH=.cache/chdb/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so \
//	  go run ./cmd/sqlreplay -dir var/sqlrecord
//
// Layer 10 (cmd/sqlreplay): besides its own room it may import any package below the commands; never another command.
// The layers are checked by layers_test.go at the repository's top.
package main
