package pseudo_test

import (
	"strconv"
	"testing"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
)

// BenchmarkSubjectToken measures tokenising one identifier.
func BenchmarkSubjectToken(b *testing.B) {
	key, err := pseudo.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := key.SubjectToken("P" + strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
