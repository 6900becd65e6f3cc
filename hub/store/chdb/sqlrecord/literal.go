package sqlrecord

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	_ "unsafe" // for go:linkname: bind is the driver's own binding

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// bind is clickhouse-go's client-side binding of ?, $N and @name arguments,
// the function its native connection calls on every statement with the
// server's time zone. It is linked by name so that the log holds, byte for
// byte, the statement the server received, not an imitation of it. The
// driver's version is pinned in go.mod; TestBindIsTheDriversBinding checks
// it on every kind of argument the hub passes.
//
//go:linkname bind github.com/ClickHouse/clickhouse-go/v2.bind
func bind(tz *time.Location, query string, args ...any) (string, error)

// Literal renders v, a value as the driver holds it in a column of type
// chType, as a ClickHouse literal that reads back as the same value on
// every release: strings quoted, DateTime and Date as text in UTC (the
// hub's servers run in UTC), arrays in brackets, nil as NULL.
func Literal(v any, chType string) (string, error) {
	base := unwrap(chType)
	if v == nil {
		return "NULL", nil
	}
	switch x := v.(type) {
	case string:
		return sqltext.String(x), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case time.Time:
		if strings.HasPrefix(base, "Date") && !strings.HasPrefix(base, "DateTime") {
			return "'" + x.UTC().Format("2006-01-02") + "'", nil
		}
		return "'" + x.UTC().Format("2006-01-02 15:04:05") + "'", nil
	case float64:
		return sqltext.Float(x), nil
	case float32:
		return sqltext.Float(float64(x)), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return "NULL", nil
		}
		return Literal(rv.Elem().Interface(), chType)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.String:
		return sqltext.String(rv.String()), nil
	case reflect.Slice, reflect.Array:
		elem := strings.TrimSuffix(strings.TrimPrefix(base, "Array("), ")") // Array(T) -> T
		parts := make([]string, rv.Len())
		for i := range parts {
			s, err := Literal(rv.Index(i).Interface(), elem)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	default:
		return "", fmt.Errorf("no literal for %T in %s", v, chType)
	}
}

// unwrap strips LowCardinality(…) and Nullable(…) from a column type.
func unwrap(chType string) string {
	for _, w := range []string{"LowCardinality(", "Nullable("} {
		if strings.HasPrefix(chType, w) && strings.HasSuffix(chType, ")") {
			chType = unwrap(chType[len(w) : len(chType)-1])
		}
	}
	return chType
}
