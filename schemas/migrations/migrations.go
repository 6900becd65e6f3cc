package migrations

import "embed"

// FS holds the migration files, in the order their names sort.
//
//go:embed *.sql
var FS embed.FS
