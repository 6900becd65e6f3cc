// Package migrations holds the ClickHouse schema of the hub's raw database as ordered SQL
// migrations. Each file is named NNNN_description.sql and holds one or more statements, each ending
// with a semicolon at the end of a line; ${db} stands for the target database.
//
// Every statement must run on ClickHouse 18.16 and on current releases: no window functions,
// DateTime64, TTL clauses, SQL users or grants, or server-side query parameters.
package migrations

import "embed"

// FS holds the migration files, in the order their names sort.
//
//go:embed *.sql
var FS embed.FS
