package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// validator collects the problems of one agreement, each prefixed with the
// file and the agreement.
type validator struct {
	prefix   string
	measures []string // the measure ids an agreement may name
	errs     []error
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s: %s", v.prefix, field, fmt.Sprintf(format, args...)))
}

func (v *validator) required(field, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.fail(field, "required")
		return false
	}
	return true
}

// agreement checks a decoded agreement and converts it.
func (v *validator) agreement(raw *rawAgreement) Agreement {
	a := Agreement{
		ID:          raw.ID,
		Title:       raw.Title,
		Version:     raw.Version,
		Controllers: raw.Controllers,
		Datasets:    raw.Datasets,
	}
	if v.required("id", raw.ID) && !agreementIDPattern.MatchString(raw.ID) {
		v.fail("id", "%q must be a lower-case slug of 2 to 63 letters, digits and hyphens", raw.ID)
	}
	v.required("title", raw.Title)
	v.required("version", raw.Version)
	v.controllers(raw.Controllers)
	v.datasets(raw.Datasets)
	a.ValidFrom = v.date("valid_from", raw.ValidFrom)
	a.ValidUntil = v.date("valid_until", raw.ValidUntil)
	if !a.ValidFrom.IsZero() && !a.ValidUntil.IsZero() && a.ValidUntil.Before(a.ValidFrom) {
		v.fail("valid_until", "%s is before valid_from %s", raw.ValidUntil, raw.ValidFrom)
	}
	if v.required("retention", raw.Retention) {
		r, ok := parseRetention(raw.Retention)
		if !ok {
			v.fail("retention", "%q is not a number of days, months or years, e.g. \"24 months\"", raw.Retention)
		}
		a.Retention = r
	}
	ids := map[string]int{}
	for i := range raw.Recipients {
		field := fmt.Sprintf("recipients[%d]", i)
		r := v.recipient(field, &raw.Recipients[i])
		if first, dup := ids[r.ID]; dup && r.ID != "" {
			v.fail(field+".id", "%q is already used by recipients[%d]", r.ID, first)
		} else {
			ids[r.ID] = i
		}
		a.Recipients = append(a.Recipients, r)
	}
	return a
}

func (v *validator) controllers(orgs []string) {
	if len(orgs) == 0 {
		v.fail("controllers", "at least one controller is required")
	}
	seen := map[string]bool{}
	for i, org := range orgs {
		field := fmt.Sprintf("controllers[%d]", i)
		kind, ok := v.org(field, org)
		switch {
		case !ok:
		case kind != "force" && kind != "trust":
			v.fail(field, "%q: a controller must be a force or a trust", org)
		case seen[org]:
			v.fail(field, "%q is listed twice", org)
		}
		seen[org] = true
	}
}

func (v *validator) datasets(ds []string) {
	if len(ds) == 0 {
		v.fail("datasets", "at least one dataset is required")
	}
	seen := map[string]bool{}
	for i, d := range ds {
		field := fmt.Sprintf("datasets[%d]", i)
		switch {
		case d != DatasetIncidents && d != DatasetHealthUpdates:
			v.fail(field, "%q is not one of incidents, health_updates", d)
		case seen[d]:
			v.fail(field, "%q is listed twice", d)
		}
		seen[d] = true
	}
}

// org checks an organisation name and returns its kind.
func (v *validator) org(field, org string) (string, bool) {
	if !v.required(field, org) {
		return "", false
	}
	kind, id, _ := strings.Cut(org, "/")
	var ok bool
	switch kind {
	case "force", "region", "national":
		ok = slugPattern.MatchString(id)
	case "trust", "icb":
		ok = odsPattern.MatchString(id)
	default:
		v.fail(field, "%q: want force/<id>, trust/<ODS code>, icb/<ODS code>, region/<slug> or national/<slug>", org)
		return "", false
	}
	if !ok {
		if kind == "force" || kind == "region" || kind == "national" {
			v.fail(field, "%q: a %s id is a lower-case slug of letters, digits and hyphens", org, kind)
		} else {
			v.fail(field, "%q: a %s id is an ODS code of 3 to 6 capitals or digits", org, kind)
		}
	}
	return kind, ok
}

func (v *validator) date(field, s string) time.Time {
	if !v.required(field, s) {
		return time.Time{}
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		v.fail(field, "%q is not a date YYYY-MM-DD", s)
	}
	return t
}

// recipient checks one recipient and converts it, applying defaults.
func (v *validator) recipient(field string, raw *rawRecipient) Recipient {
	r := Recipient{
		ID:          raw.ID,
		Org:         raw.Org,
		Role:        raw.Role,
		Purpose:     raw.Purpose,
		Scope:       Scope{Forces: raw.Scope.Forces, Regions: raw.Scope.Regions, LADs: raw.Scope.LADs},
		Granularity: raw.Granularity,
		Fields:      raw.Fields,
		Export:      raw.Export,
		Disclosure:  Disclosure{Threshold: DefaultThreshold, Rounding: DefaultRounding},
	}
	if v.required(field+".id", raw.ID) && !recipientIDPattern.MatchString(raw.ID) {
		v.fail(field+".id", "%q must match ^[a-z][a-z0-9_]{1,40}$ (it names the share database)", raw.ID)
	}
	kind, _ := v.org(field+".org", raw.Org)
	v.required(field+".purpose", raw.Purpose)
	if v.required(field+".role", raw.Role) {
		v.role(field, raw.Role, kind)
	}
	v.scope(field+".scope", raw.Scope)
	if raw.Disclosure.Threshold != nil {
		r.Disclosure.Threshold = *raw.Disclosure.Threshold
	}
	if raw.Disclosure.Rounding != nil {
		r.Disclosure.Rounding = *raw.Disclosure.Rounding
	}
	switch raw.Granularity {
	case GranularityRecord:
		v.record(field, raw, kind)
	case GranularityAggregate:
		r.Measures = v.aggregate(field, raw, r.Disclosure)
	case "":
		v.fail(field+".granularity", "required")
	default:
		v.fail(field+".granularity", "%q is not one of record, aggregate", raw.Granularity)
	}
	return r
}

func (v *validator) role(field, role, kind string) {
	switch role {
	case RoleRegionalLead, RoleCommissioner:
	case RoleNationalLead:
		if kind != "" && kind != "national" {
			v.fail(field+".role", "%q is only for a national body (national/<slug>), not a %s", role, kind)
		}
	case RoleForceSupervisor, RoleForceAnalyst:
		if kind != "" && kind != "force" {
			v.fail(field+".role", "%q is only for a force, not a %s", role, kind)
		}
	default:
		v.fail(field+".role", "%q is not one of regional_lead, national_lead, commissioner, force_supervisor, force_analyst", role)
	}
}

func (v *validator) scope(field string, s rawScope) {
	if len(s.Forces)+len(s.Regions)+len(s.LADs) == 0 {
		v.fail(field, "at least one of forces, regions, lads is required")
	}
	v.codes(field+".forces", s.Forces, slugPattern, "a force id")
	v.codes(field+".regions", s.Regions, regionPattern, "an ONS region code")
	v.codes(field+".lads", s.LADs, ladPattern, "an ONS LAD code")
}

func (v *validator) codes(field string, codes []string, p *regexp.Regexp, what string) {
	seen := map[string]bool{}
	for i, c := range codes {
		switch {
		case !p.MatchString(c):
			v.fail(fmt.Sprintf("%s[%d]", field, i), "%q is not %s", c, what)
		case seen[c]:
			v.fail(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", c)
		}
		seen[c] = true
	}
}

// record checks a record-granularity recipient: force roles only, confined
// to the recipient's own force, with a list of known fields.
func (v *validator) record(field string, raw *rawRecipient, kind string) {
	if raw.Role != RoleForceSupervisor && raw.Role != RoleForceAnalyst {
		v.fail(field+".granularity", "record is only for force_supervisor or force_analyst, not %q", raw.Role)
	}
	if kind == "force" {
		own := strings.TrimPrefix(raw.Org, "force/")
		if len(raw.Scope.Forces) != 1 || raw.Scope.Forces[0] != own {
			v.fail(field+".scope.forces", "a record recipient sees only its own force: want [%s]", own)
		}
	}
	if len(raw.Measures) > 0 {
		v.fail(field+".measures", "a record recipient lists fields, not measures")
	}
	if len(raw.Fields) == 0 {
		v.fail(field+".fields", "a record recipient needs at least one field")
	}
	seen := map[string]bool{}
	for i, f := range raw.Fields {
		switch {
		case !slices.Contains(recordFields[:], f):
			v.fail(fmt.Sprintf("%s.fields[%d]", field, i), "%q is not a field that may be shared", f)
		case seen[f]:
			v.fail(fmt.Sprintf("%s.fields[%d]", field, i), "%q is listed twice", f)
		}
		seen[f] = true
	}
	if raw.Disclosure.Threshold != nil && *raw.Disclosure.Threshold < 0 {
		v.fail(field+".disclosure.threshold", "must not be negative")
	}
	if raw.Disclosure.Rounding != nil && *raw.Disclosure.Rounding < 0 {
		v.fail(field+".disclosure.rounding", "must not be negative")
	}
}

// aggregate checks an aggregate recipient and returns its measures with
// "all" expanded.
func (v *validator) aggregate(field string, raw *rawRecipient, d Disclosure) []string {
	if len(raw.Fields) > 0 {
		v.fail(field+".fields", "an aggregate recipient lists measures, not fields")
	}
	if d.Threshold < 1 {
		v.fail(field+".disclosure.threshold", "%d: must be at least 1", d.Threshold)
	}
	if d.Rounding < 1 {
		v.fail(field+".disclosure.rounding", "%d: must be at least 1", d.Rounding)
	}
	switch {
	case len(raw.Measures) == 0:
		v.fail(field+".measures", "an aggregate recipient needs at least one measure (or [all])")
		return nil
	case slices.Contains(raw.Measures, AllMeasures):
		if len(raw.Measures) > 1 {
			v.fail(field+".measures", "%q must stand alone", AllMeasures)
		}
		return slices.Clone(v.measures)
	}
	seen := map[string]bool{}
	known := v.measures
	for i, m := range raw.Measures {
		switch {
		case !slices.Contains(known, m):
			v.fail(fmt.Sprintf("%s.measures[%d]", field, i), "%q is not a measure of the catalogue", m)
		case seen[m]:
			v.fail(fmt.Sprintf("%s.measures[%d]", field, i), "%q is listed twice", m)
		}
		seen[m] = true
	}
	return raw.Measures
}
