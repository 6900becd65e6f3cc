package codes_test

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pathwayhub/pathwayhub/schemas/codes"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

func TestOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   protoreflect.Enum
		want string
	}{
		{pathwayv1.IncidentType_INCIDENT_TYPE_S136, "s136"},
		{pathwayv1.IncidentType_INCIDENT_TYPE_S135_1, "s135_1"},
		{pathwayv1.AgeBand_AGE_BAND_65_PLUS, "65_plus"},
		{pathwayv1.PlaceOfSafetyType_PLACE_OF_SAFETY_TYPE_EMERGENCY_DEPARTMENT, "emergency_department"},
		{pathwayv1.Ethnicity_ETHNICITY_A_WHITE_BRITISH, "A"},
		{pathwayv1.Ethnicity_ETHNICITY_99_NOT_KNOWN, "99"},
		{pathwayv1.Ethnicity_ETHNICITY_Z_NOT_STATED, "Z"},
		{pathwayv1.Outcome_OUTCOME_UNSPECIFIED, ""},
		{pathwayv1.Outcome(999), "undefined_999"},
	}
	for _, c := range cases {
		if got := codes.Of(c.in); got != c.want {
			t.Errorf("Of(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestValuesRoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range []protoreflect.Enum{
		pathwayv1.IncidentType(0), pathwayv1.Ethnicity(0), pathwayv1.PoliceVehicleReason(0), pathwayv1.Outcome(0),
	} {
		vals := codes.Values(e.Descriptor())
		if len(vals) != e.Descriptor().Values().Len()-1 {
			t.Errorf("%s: %d codes for %d values", e.Descriptor().Name(), len(vals), e.Descriptor().Values().Len())
		}
		for code, n := range vals {
			back := dynEnum{desc: e.Descriptor(), n: n}
			if got := codes.Of(back); got != code {
				t.Errorf("%s: Values gives %q for %d but Of gives %q", e.Descriptor().Name(), code, n, got)
			}
		}
	}
}

func TestEthnicGroup(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{"A": "white", "D": "mixed", "K": "asian", "N": "black", "R": "other", "Z": "not_stated", "99": "not_known", "": "not_known"} {
		if got := codes.EthnicGroup(code); got != want {
			t.Errorf("EthnicGroup(%q) = %q, want %q", code, got, want)
		}
	}
}

type dynEnum struct {
	desc protoreflect.EnumDescriptor
	n    protoreflect.EnumNumber
}

func (d dynEnum) Descriptor() protoreflect.EnumDescriptor { return d.desc }
func (d dynEnum) Type() protoreflect.EnumType             { return nil }
func (d dynEnum) Number() protoreflect.EnumNumber         { return d.n }
