// Package migrations holds the ClickHouse schema of the hub's raw database as ordered SQL
// migrations. Each file is named NNNN_description.sql and holds one or more statements, each ending
// with a semicolon at the end of a line; ${db} stands for the target database.
//
// Every statement must run on ClickHouse 18.16 and on current releases: no window functions,
// DateTime64, TTL clauses, SQL users or grants, or server-side query parameters.
//
// Layer 0 (schemas): besides its own room it may import nothing of the project.
// The layers are checked by layers_test.go at the repository's top.
package migrations
