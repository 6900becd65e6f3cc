package share

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

// The content hash must not depend on the ClickHouse release: 18.16 prints
// toString(20/7) as 2.8571428571428568, current releases as
// 2.857142857142857. The hash is made of canonical text built in Go.
func TestHashTableIsCanonical(t *testing.T) {
	srv := chservertest.Start(t)
	conn, db := chservertest.NewDatabase(t, srv)
	tbl := table{name: "t", columns: []column{
		{"label", "String"}, {"value", "Float64"}, {"missing", "Nullable(Float64)"},
		{"month", "Date"}, {"at", "DateTime"}, {"tags", "Array(String)"}, {"n", "UInt32"},
	}, rows: [][]any{
		{"a\tb\\c", 20.0 / 7, nil, time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 2, 1, 10, 0, 0, 0, time.UTC), []string{"x", "y"}, uint32(7)},
		{"2nd", 0.1, 0.25, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 3, 1, 23, 59, 59, 0, time.UTC), []string{}, uint32(0)},
	}}
	p := &Publisher{opts: Options{Conn: conn}}
	if err := conn.Exec(t.Context(), tbl.ddl(db, "t")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.fill(t.Context(), db, "t", tbl); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if err := p.hashTable(t.Context(), h, db, "t", tbl); err != nil {
		t.Fatal(err)
	}
	want := "2nd\t0.1\t0.25\t2024-03-01\t2024-03-01 23:59:59\t[]\t0\n" +
		"a\\tb\\\\c\t2.857142857142857\t\\N\t2024-02-01\t2024-02-01 10:00:00\t[x,y]\t7\n"
	sum := sha256.Sum256([]byte(want))
	if got := hex.EncodeToString(h.Sum(nil)); got != hex.EncodeToString(sum[:]) {
		t.Errorf("hash = %s, want the SHA-256 of\n%s", got, want)
	}
}
