package sqltext_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// unquote reads a ClickHouse string literal the way the server's lexer does
// for the escapes String may write (\\, \' and \xNN). It fails on a quote
// that ends the literal early, which is what an injection needs.
func unquote(t *testing.T, lit string) string {
	t.Helper()
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		t.Fatalf("literal %q is not in single quotes", lit)
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\'':
			t.Fatalf("literal %q: unescaped quote at %d ends it early", lit, i+1)
		case c == '\\':
			if i+1 >= len(body) {
				t.Fatalf("literal %q: a backslash escapes the closing quote", lit)
			}
			i++
			switch body[i] {
			case '\\', '\'':
				b.WriteByte(body[i])
			case 'x':
				v, err := strconv.ParseUint(body[i+1:i+3], 16, 8)
				if err != nil {
					t.Fatalf("literal %q: bad \\x escape: %v", lit, err)
				}
				b.WriteByte(byte(v))
				i += 2
			default:
				t.Fatalf("literal %q: String wrote an escape it does not document: \\%c", lit, body[i])
			}
		case c < 0x20 || c == 0x7f:
			t.Fatalf("literal %q: raw control byte %#x", lit, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func FuzzString(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := unquote(t, sqltext.String(s)); got != s {
			t.Fatalf("String(%q) reads back as %q", s, got)
		}
	})
}

func FuzzValidIdent(f *testing.F) {
	for _, s := range append([]string{"pathway", "share_met_lead", "_x", "a1"}, hostile...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !sqltext.ValidIdent(s) {
			if _, err := sqltext.Ident("table", s); err == nil || !strings.Contains(err.Error(), "table") {
				t.Fatalf("Ident(%q) = %v, want an error naming the table", s, err)
			}
			return
		}
		if len(s) > 63 || s[0] >= '0' && s[0] <= '9' {
			t.Fatalf("ValidIdent(%q): too long or starts with a digit", s)
		}
		if i := strings.IndexFunc(s, func(c rune) bool { return (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' }); i >= 0 {
			t.Fatalf("ValidIdent(%q) admits %q, which may need quoting", s, s[i])
		}
	})
}

func TestList(t *testing.T) {
	if got, want := sqltext.List([]string{"met", "o'brien"}), `'met', 'o\'brien'`; got != want {
		t.Errorf("List = %s, want %s", got, want)
	}
	if got := sqltext.List(nil); got != "" {
		t.Errorf("List(nil) = %q, want empty", got)
	}
}

// hostile are values an attacker would try: quotes, backslashes before a
// quote, comments, statement ends, control bytes, invalid UTF-8.
var hostile = []string{
	"", "'", `\`, `\'`, `'\`, "a'b", `a\'); DROP TABLE x; --`, "x' OR '1'='1",
	"line\nbreak", "tab\tnul\x00", "\x7f\x1b[31m", "\xff\xfe invalid", "é ü 日本", "/* c */", "`bt`", `"dq"`,
	strings.Repeat(`\'`, 100),
}
