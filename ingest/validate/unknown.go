package validate

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// checkUnknown reports every field the sender set that this version of the
// standard does not define, at any depth. Unknown fields are refused because
// they could carry data no agreement covers, such as a name or free text.
func checkUnknown(m protoreflect.Message, path string, r *Report) {
	if raw := m.GetUnknown(); len(raw) > 0 {
		for len(raw) > 0 {
			num, _, n := protowire.ConsumeField(raw)
			if n < 0 {
				r.errorf(path, CodeUnknownField, "contains bytes that are not valid protobuf")
				break
			}
			r.errorf(join(path, fmt.Sprintf("#%d", num)), CodeUnknownField,
				"field number %d is not part of the pathway.v1 standard; remove it", num)
			raw = raw[n:]
		}
	}
	// Only message fields can hold unknown fields. Walking the descriptors
	// and reading just those is much cheaper than m.Range, which makes a
	// value of every scalar that is set.
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind || fd.IsMap() || !m.Has(fd) {
			continue // the standard has no map fields
		}
		name := join(path, string(fd.Name()))
		if fd.IsList() {
			list := m.Get(fd).List()
			for i := range list.Len() {
				checkUnknown(list.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i), r)
			}
			continue
		}
		checkUnknown(m.Get(fd).Message(), name, r)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
