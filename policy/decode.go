package policy

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
)

// decoder reads typed fields from a policy result object, remembering the
// first field of the wrong type.
type decoder struct {
	obj ast.Object
	err error
}

func (d *decoder) value(key string) ast.Value {
	t := d.obj.Get(ast.InternedTerm(key))
	if t == nil {
		return nil
	}
	return t.Value
}

func (d *decoder) fail(key, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("decode decision: %s is not %s", key, want)
	}
}

func (d *decoder) string(key string) string {
	s, ok := d.value(key).(ast.String)
	if !ok {
		d.fail(key, "a string")
	}
	return string(s)
}

func (d *decoder) bool(key string) bool {
	b, ok := d.value(key).(ast.Boolean)
	if !ok {
		d.fail(key, "a boolean")
	}
	return bool(b)
}

func (d *decoder) int(key string) int {
	n, ok := d.value(key).(ast.Number)
	if !ok {
		d.fail(key, "a number")
		return 0
	}
	i, ok := n.Int()
	if !ok {
		d.fail(key, "an integer")
	}
	return i
}

func (d *decoder) strings(key string) []string {
	arr, ok := d.value(key).(*ast.Array)
	if !ok {
		d.fail(key, "an array")
		return nil
	}
	if arr.Len() == 0 {
		return nil
	}
	out := make([]string, arr.Len())
	for i := range arr.Len() {
		s, ok := arr.Elem(i).Value.(ast.String)
		if !ok {
			d.fail(key, "an array of strings")
		}
		out[i] = string(s)
	}
	return out
}
