package export

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pathwayhub/pathwayhub/schemas/codes"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// kind is how a column's text is parsed.
type kind int

const (
	kindIncidentNumber kind = iota + 1 // raw incident number → incident_ref
	kindPersonID                       // raw person identifier → subject_token
	kindUint                           // whole number
	kindEnum                           // code of a closed enumeration
	kindBool                           // yes/no
	kindCode                           // ONS or ODS code, checked against a pattern
	kindTime                           // RFC 3339 timestamp
	kindTransfers                      // list of PosTransfer
	kindPresence                       // list of PresenceEntry
)

// column is one column of the export format and where it lands in an
// IncidentRecord.
type column struct {
	name     string
	kind     kind
	required bool
	positive bool // a kindUint column that may not be 0
	// path leads from IncidentRecord to the field the column sets (for
	// scalar kinds); all but the last element are message fields.
	path []protoreflect.FieldDescriptor
	// enum is the code table of a kindEnum column.
	enum *codeTable
	// pattern and patternHelp check a kindCode column.
	pattern     *regexp.Regexp
	patternHelp string
}

// Patterns of the coded string fields; the same as the field rules of the
// data standard, so a value the hub would reject fails here already, and no
// free text can travel in them.
var (
	ladPattern    = regexp.MustCompile(`^(E0[6-9][0-9]{6}|W06[0-9]{6})$`)
	regionPattern = regexp.MustCompile(`^(E12[0-9]{6}|W92000004)$`)
	odsOrgPattern = regexp.MustCompile(`^[A-Z0-9]{3,6}$`)
	odsSitePatt   = regexp.MustCompile(`^[A-Z0-9]{3,9}$`)
)

const (
	ladHelp     = "not an ONS local authority district code (E06, E07, E08 or E09, or W06, then six digits, e.g. E09000001)"
	regionHelp  = "not an ONS region code (E12 then six digits, e.g. E12000007, or W92000004)"
	odsOrgHelp  = "not an ODS organisation code (3 to 6 letters or digits, e.g. RV3)"
	odsSiteHelp = "not an ODS site code (3 to 9 letters or digits, e.g. RV3AA)"
)

// columns is the format, in canonical order (the order Writer uses).
var columns = buildColumns()

// columnsByName indexes columns by name.
var columnsByName = func() map[string]*column {
	m := make(map[string]*column, len(columns))
	for _, c := range columns {
		m[c.name] = c
	}
	return m
}()

func buildColumns() []*column {
	rec := (&pathwayv1.IncidentRecord{}).ProtoReflect().Descriptor()
	timeline := rec.Fields().ByName("timeline")
	extension := rec.Fields().ByName("extension")

	var cols []*column
	add := func(name string, k kind, required bool, path ...protoreflect.FieldDescriptor) *column {
		c := &column{name: name, kind: k, required: required, path: path}
		if k == kindEnum {
			c.enum = codesFor(path[len(path)-1].Enum())
		}
		cols = append(cols, c)
		return c
	}
	top := func(name string) protoreflect.FieldDescriptor {
		fd := rec.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			panic("export: IncidentRecord has no field " + name)
		}
		return fd
	}
	sub := func(parent protoreflect.FieldDescriptor, name string) protoreflect.FieldDescriptor {
		fd := parent.Message().Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			panic("export: " + string(parent.Message().Name()) + " has no field " + name)
		}
		return fd
	}
	code := func(name string, required bool, re *regexp.Regexp, help string) {
		c := add(name, kindCode, required, top(name))
		c.pattern, c.patternHelp = re, help
	}

	add("incident_number", kindIncidentNumber, true)
	add("person_id", kindPersonID, false)
	add("revision", kindUint, true, top("revision")).positive = true
	add("status", kindEnum, true, top("status"))
	add("incident_type", kindEnum, true, top("incident_type"))
	add("rcrp_category", kindEnum, true, top("rcrp_category"))
	add("rcrp_threshold", kindEnum, true, top("rcrp_threshold"))
	add("disposition", kindEnum, true, top("disposition"))
	add("age_band", kindEnum, true, top("age_band"))
	add("sex", kindEnum, true, top("sex"))
	add("ethnicity", kindEnum, true, top("ethnicity"))
	code("lad_code", true, ladPattern, ladHelp)
	code("region_code", true, regionPattern, regionHelp)
	add("first_pos_type", kindEnum, true, top("first_pos_type"))
	code("pos_ods_org", false, odsOrgPattern, odsOrgHelp)
	code("pos_ods_site", false, odsSitePatt, odsSiteHelp)
	add("hcp_consulted", kindEnum, false, top("hcp_consulted"))
	add("consultee_role", kindEnum, false, top("consultee_role"))
	add("consultation_channel", kindEnum, false, top("consultation_channel"))
	add("police_station_conditions_met", kindBool, false, top("police_station_conditions_met"))
	add("inspector_authorised", kindBool, false, top("inspector_authorised"))
	add("arrested_for_offence", kindBool, false, top("arrested_for_offence"))
	add("conveyance_method", kindEnum, true, top("conveyance_method"))
	add("ambulance_requested", kindBool, false, top("ambulance_requested"))
	add("police_vehicle_reason", kindEnum, false, top("police_vehicle_reason"))
	// Timeline: two names gain "_at" so they do not clash with the decision
	// columns hcp_consulted and ambulance_requested.
	for _, tl := range []struct{ column, field string }{
		{"call_received", "call_received"},
		{"deployed", "deployed"},
		{"hcp_consulted_at", "hcp_consulted"},
		{"detained", "detained"},
		{"ambulance_requested_at", "ambulance_requested"},
		{"ambulance_arrived", "ambulance_arrived"},
		{"arrived_at_pos", "arrived_at_pos"},
		{"handover_initiated", "handover_initiated"},
		{"handover_accepted", "handover_accepted"},
		{"police_left_pos", "police_left_pos"},
		{"assessment_started", "assessment_started"},
		{"assessment_completed", "assessment_completed"},
		{"detention_ended", "detention_ended"},
	} {
		add(tl.column, kindTime, tl.column == "call_received", timeline, sub(timeline, tl.field))
	}
	add("extension_authorised", kindBool, false, extension, sub(extension, "authorised"))
	add("extension_hours", kindUint, false, extension, sub(extension, "hours"))
	add("extension_superintendent_approved", kindBool, false, extension, sub(extension, "superintendent_approved"))
	add("outcome", kindEnum, false, top("outcome"))
	add("revision_reason", kindEnum, false, top("revision_reason"))
	add("transfers", kindTransfers, false, top("transfers"))
	add("presence_log", kindPresence, false, top("presence_log"))
	return cols
}

// Columns returns the names of the format's columns in canonical order.
func Columns() []string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return names
}

// RequiredColumns returns the names of the columns every row must fill, in
// canonical order. A CSV header must include them all.
func RequiredColumns() []string {
	var names []string
	for _, c := range columns {
		if c.required {
			names = append(names, c.name)
		}
	}
	return names
}

// Codes returns the allowed codes of a coded column in number order, or nil
// if the column does not take codes. Besides the column names, it knows the
// entry fields of the list columns: "transfers.pos_type",
// "presence_log.actor", "presence_log.action" and "presence_log.reason".
func Codes(column string) []string {
	var t *codeTable
	if c, ok := columnsByName[column]; ok {
		t = c.enum
	} else if f, ok := listFieldsByName[column]; ok {
		t = f.enum
	}
	if t == nil {
		return nil
	}
	return slices.Clone(t.codes)
}

// codeTable is the set of codes of one enumeration.
type codeTable struct {
	desc     protoreflect.EnumDescriptor
	codes    []string                           // in number order
	byLower  map[string]protoreflect.EnumNumber // lower-cased code → number
	byNumber map[protoreflect.EnumNumber]string
	help     string // "one of a, b, c"
}

// codesFor builds the code table of an enumeration from its descriptor
// (through package codes, which owns the code names).
func codesFor(desc protoreflect.EnumDescriptor) *codeTable {
	values := codes.Values(desc)
	t := &codeTable{
		desc:     desc,
		byLower:  make(map[string]protoreflect.EnumNumber, len(values)),
		byNumber: make(map[protoreflect.EnumNumber]string, len(values)),
	}
	for code, n := range values {
		t.codes = append(t.codes, code)
		t.byLower[strings.ToLower(code)] = n
		t.byNumber[n] = code
	}
	slices.SortFunc(t.codes, func(a, b string) int { return int(values[a]) - int(values[b]) })
	t.help = "one of " + strings.Join(t.codes, ", ")
	return t
}

// lookup returns the number of a code, matched case-insensitively.
func (t *codeTable) lookup(code string) (protoreflect.EnumNumber, error) {
	if n, ok := t.byLower[strings.ToLower(code)]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("%w: not %s", ErrUnknownCode, t.help)
}

// listField is one field of an entry of a list column.
type listField struct {
	name     string
	required bool
	kind     kind // kindTime, kindEnum or kindCode
	enum     *codeTable
	pattern  *regexp.Regexp
	help     string
}

// The entry fields of the list columns, in their compact-syntax order.
var (
	transferFields = []*listField{
		{name: "arrived", required: true, kind: kindTime},
		{name: "pos_type", required: true, kind: kindEnum, enum: codesFor(pathwayv1.PlaceOfSafetyType(0).Descriptor())},
		{name: "pos_ods_org", kind: kindCode, pattern: odsOrgPattern, help: odsOrgHelp},
		{name: "pos_ods_site", kind: kindCode, pattern: odsSitePatt, help: odsSiteHelp},
	}
	presenceFields = []*listField{
		{name: "time", required: true, kind: kindTime},
		{name: "actor", required: true, kind: kindEnum, enum: codesFor(pathwayv1.PresenceActor(0).Descriptor())},
		{name: "action", required: true, kind: kindEnum, enum: codesFor(pathwayv1.PresenceAction(0).Descriptor())},
		{name: "reason", kind: kindEnum, enum: codesFor(pathwayv1.PresenceReason(0).Descriptor())},
	}
	listFieldsByName = func() map[string]*listField {
		m := map[string]*listField{}
		for _, f := range transferFields {
			m["transfers."+f.name] = f
		}
		for _, f := range presenceFields {
			m["presence_log."+f.name] = f
		}
		return m
	}()
)
