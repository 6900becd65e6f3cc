package sqltext_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver/chservertest"
)

// TestLiteralsOnClickHouse sends every hostile value, and random byte
// strings, as a literal to a real ClickHouse 18.16 and checks that the
// server reads back exactly the value, one row each: a literal that ended
// early would fail to parse, return something else or more than one value.
func TestLiteralsOnClickHouse(t *testing.T) {
	conn, _ := chservertest.NewDatabase(t, chservertest.Start(t))
	r := rand.New(rand.NewPCG(7, 7))
	values := append([]string(nil), hostile...)
	for range 200 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		values = append(values, string(b))
	}
	for _, v := range values {
		got := selectAll[string](t, conn, "SELECT "+sqltext.String(v))
		if len(got) != 1 || got[0] != v {
			t.Fatalf("SELECT %s returned %q, want [%q]", sqltext.String(v), got, v)
		}
	}
	for _, f := range []float64{0, -0.5, 1.0 / 3, 2.857142857142857, 1e-300, 1e300, math.MaxFloat64} {
		got := selectAll[float64](t, conn, "SELECT toFloat64("+sqltext.Float(f)+")")
		if len(got) != 1 || got[0] != f {
			t.Errorf("SELECT %s = %v, want %v", sqltext.Float(f), got, f)
		}
	}
}

// selectAll runs a one-column query and returns its values.
func selectAll[T any](t *testing.T, conn driver.Conn, query string) []T {
	t.Helper()
	rows, err := conn.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}
