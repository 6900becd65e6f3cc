package codes

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// Unset is the code of a zero (UNSPECIFIED) enum value: the empty string.
const Unset = ""

// Of returns the code of an enum value: "" for the zero value, the lower-case
// name without its type prefix otherwise, and the NHS code for ethnicity. An
// undefined number gives its decimal form, so it never collides with a code.
func Of(e protoreflect.Enum) string {
	n := e.Number()
	if n == 0 {
		return Unset
	}
	desc := e.Descriptor()
	v := desc.Values().ByNumber(n)
	if v == nil {
		return "undefined_" + strconv.Itoa(int(n))
	}
	code := strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix(desc)))
	if desc.FullName() == ethnicityName {
		return ethnicityCode(code)
	}
	return code
}

// Values returns every defined code of an enum type except the zero value, in
// number order, mapped to its number.
func Values(desc protoreflect.EnumDescriptor) map[string]protoreflect.EnumNumber {
	out := make(map[string]protoreflect.EnumNumber, desc.Values().Len())
	vals := desc.Values()
	for i := range vals.Len() {
		v := vals.Get(i)
		if v.Number() == 0 {
			continue
		}
		code := strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix(desc)))
		if desc.FullName() == ethnicityName {
			code = ethnicityCode(code)
		}
		out[code] = v.Number()
	}
	return out
}

// EthnicGroup returns the ONS broad ethnic group for an NHS ethnicity code:
// "white", "mixed", "asian", "black", "other", "not_stated" or "not_known"
// (also for an unset or unknown code).
func EthnicGroup(code string) string {
	switch code {
	case "A", "B", "C":
		return "white"
	case "D", "E", "F", "G":
		return "mixed"
	case "H", "J", "K", "L":
		return "asian"
	case "M", "N", "P":
		return "black"
	case "R", "S":
		return "other"
	case "Z":
		return "not_stated"
	default:
		return "not_known"
	}
}

var ethnicityName = pathwayv1.Ethnicity(0).Descriptor().FullName()

// prefix returns the shared prefix of an enum's value names, taken from its
// zero value: "INCIDENT_TYPE_UNSPECIFIED" gives "INCIDENT_TYPE_".
func prefix(desc protoreflect.EnumDescriptor) string {
	zero := desc.Values().ByNumber(0)
	if zero == nil {
		return ""
	}
	return strings.TrimSuffix(string(zero.Name()), "UNSPECIFIED")
}

// ethnicityCode turns "a_white_british" into "A" and "99_not_known" into "99".
func ethnicityCode(lower string) string {
	head, _, _ := strings.Cut(lower, "_")
	return strings.ToUpper(head)
}
