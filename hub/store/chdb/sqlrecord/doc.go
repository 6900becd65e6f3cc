// Package sqlrecord keeps a log of every statement a connection sends to
// ClickHouse, with the data of every insert, so that the same statements can
// be replayed later on another ClickHouse release and their results compared
// (see hub/store/chdb/replay and `make test`).
//
// A Recorder wraps a driver.Conn. Each statement it passes on is written,
// once it has run, as one JSON line: the statement as the server received it
// (arguments bound exactly as the driver binds them), the database the
// connection uses, the code that sent it, the error if any, and, for a batch
// insert or a query with external data, every row as a ClickHouse literal.
//
// The log holds the data itself, so it is for test runs only: chdb.Open
// turns it on when the environment names a directory (EnvDir), and nothing
// else does.
//
// Layer 3 (hub/store): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures.
// The layers are checked by layers_test.go at the repository's top.
package sqlrecord
