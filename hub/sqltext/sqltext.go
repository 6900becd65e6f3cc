package sqltext

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// String renders s as a string literal: single quotes, with backslash and
// quote escaped by a backslash and control bytes as \xNN. Any byte string,
// valid UTF-8 or not, reads back unchanged.
func String(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\x%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// List renders values as comma-separated string literals, for IN (…) and
// array literals.
func List(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = String(v)
	}
	return strings.Join(quoted, ", ")
}

// Float renders v as a number literal: the shortest decimal that reads back
// as the same float64, or nan, inf and -inf.
func Float(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidIdent reports whether name may be written into SQL as a database,
// table or column name: lower-case ASCII letters, digits and underscores,
// not starting with a digit, at most 63 bytes. Such a name needs no quoting
// on any release and cannot end a statement or start a comment.
func ValidIdent(name string) bool {
	return identRE.MatchString(name)
}

// Ident returns name, or an error naming what it is for (e.g. "database")
// when it is not a valid identifier.
func Ident(what, name string) (string, error) {
	if !ValidIdent(name) {
		return "", fmt.Errorf("%s %q: must be lower-case letters, digits and underscores, not starting with a digit, at most 63 bytes", what, name)
	}
	return name, nil
}
