package policy

import (
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// decodeDecision reads the policy's {allow, reasons, agreements, grants}.
// Objects are walked once, key by key, so decoding allocates only what the
// decision keeps.
func decodeDecision(v ast.Value, d *Decision) error {
	obj, ok := v.(ast.Object)
	if !ok {
		return fmt.Errorf("decode decision: want an object, got %v", ast.ValueName(v))
	}
	var dec decoder
	obj.Foreach(func(k, v *ast.Term) {
		switch dec.key(k) {
		case "allow":
			d.Allow = dec.bool("allow", v)
		case "reasons":
			d.Reasons = dec.strings("reasons", v)
		case "agreements":
			d.Agreements = dec.strings("agreements", v)
		case "grants":
			arr, ok := v.Value.(*ast.Array)
			if !ok {
				dec.fail("grants", "an array")
				return
			}
			d.Grants = make([]Grant, 0, arr.Len())
			arr.Foreach(func(t *ast.Term) { d.Grants = append(d.Grants, dec.grant(t)) })
		}
	})
	return dec.err
}

// decoder converts policy result values, remembering the first value of the
// wrong type.
type decoder struct {
	err error
}

func (d *decoder) fail(key, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("decode decision: %s is not %s", key, want)
	}
}

func (d *decoder) key(k *ast.Term) string {
	s, ok := k.Value.(ast.String)
	if !ok {
		d.fail(k.String(), "a string key")
	}
	return string(s)
}

func (d *decoder) grant(t *ast.Term) Grant {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		d.fail("grant", "an object")
		return Grant{}
	}
	var g Grant
	obj.Foreach(func(k, v *ast.Term) {
		switch key := d.key(k); key {
		case "agreement":
			g.Agreement = d.string(key, v)
		case "recipient":
			g.Recipient = d.string(key, v)
		case "org":
			g.Org = d.string(key, v)
		case "role":
			g.Role = d.string(key, v)
		case "purpose":
			g.Purpose = d.string(key, v)
		case "granularity":
			g.Granularity = d.string(key, v)
		case "datasets":
			g.Datasets = d.strings(key, v)
		case "forces":
			g.Forces = d.strings(key, v)
		case "regions":
			g.Regions = d.strings(key, v)
		case "lads":
			g.LADs = d.strings(key, v)
		case "measures":
			g.Measures = d.strings(key, v)
		case "fields":
			g.Fields = d.strings(key, v)
		case "threshold":
			g.Threshold = d.int(key, v)
		case "rounding":
			g.Rounding = d.int(key, v)
		case "export":
			g.Export = d.bool(key, v)
		case "retention":
			g.Retention = d.retention(v)
		case "valid_until":
			t, err := time.Parse(dateLayout, d.string(key, v))
			if err != nil {
				d.fail(key, "a date")
			}
			g.ValidUntil = t
		}
	})
	return g
}

func (d *decoder) retention(v *ast.Term) Retention {
	obj, ok := v.Value.(ast.Object)
	if !ok {
		d.fail("retention", "an object")
		return Retention{}
	}
	var r Retention
	obj.Foreach(func(k, v *ast.Term) {
		switch key := d.key(k); key {
		case "count":
			r.Count = d.int(key, v)
		case "unit":
			r.Unit = d.string(key, v)
		}
	})
	return r
}

func (d *decoder) string(key string, v *ast.Term) string {
	s, ok := v.Value.(ast.String)
	if !ok {
		d.fail(key, "a string")
	}
	return string(s)
}

func (d *decoder) bool(key string, v *ast.Term) bool {
	b, ok := v.Value.(ast.Boolean)
	if !ok {
		d.fail(key, "a boolean")
	}
	return bool(b)
}

func (d *decoder) int(key string, v *ast.Term) int {
	n, ok := v.Value.(ast.Number)
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

func (d *decoder) strings(key string, v *ast.Term) []string {
	arr, ok := v.Value.(*ast.Array)
	if !ok {
		d.fail(key, "an array")
		return nil
	}
	if arr.Len() == 0 {
		return nil
	}
	out := make([]string, 0, arr.Len())
	arr.Foreach(func(t *ast.Term) {
		s, ok := t.Value.(ast.String)
		if !ok {
			d.fail(key, "an array of strings")
		}
		out = append(out, string(s))
	})
	return out
}
