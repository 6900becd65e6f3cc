package measures

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// Scope restricts a query to some forces, regions and local authority
// districts. An empty list places no restriction on its dimension; the
// conditions of the non-empty lists are ANDed, so Forces {"metropolitan"}
// with LADs {"E09000028"} means the Metropolitan Police's incidents that
// began in Southwark.
type Scope struct {
	// Forces are data.police.uk force ids, e.g. "metropolitan".
	Forces []string
	// Regions are ONS region codes, e.g. "E12000007" (London), or
	// "W92000004" for Wales.
	Regions []string
	// LADs are ONS local authority district codes, e.g. "E09000028".
	LADs []string
}

// ErrInvalidScope is wrapped by Query's error when a scope value does not
// match its pattern.
var ErrInvalidScope = errors.New("invalid scope value")

// ErrScopeNotSupported is wrapped by Query's error when a measure cannot be
// computed for the scope asked for, e.g. a rate per resident for a subset of
// a force's districts, whose population the catalogue does not hold.
var ErrScopeNotSupported = errors.New("scope not supported by this measure")

// The patterns scope values must match. They admit no quote, backslash or
// space, so a validated value can be inlined as a quoted SQL literal.
var (
	forcePattern  = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)
	regionPattern = regexp.MustCompile(`^(E12[0-9]{6}|W92000004)$`)
	ladPattern    = regexp.MustCompile(`^(E0[6-9][0-9]{6}|W06[0-9]{6})$`)
)

// Validate reports every scope value that does not match its pattern.
func (s Scope) Validate() error {
	var errs []error
	check := func(dim string, re *regexp.Regexp, values []string) {
		for _, v := range values {
			if !re.MatchString(v) {
				errs = append(errs, fmt.Errorf("%w: %s %q", ErrInvalidScope, dim, v))
			}
		}
	}
	check("force", forcePattern, s.Forces)
	check("region", regionPattern, s.Regions)
	check("lad", ladPattern, s.LADs)
	return errors.Join(errs...)
}

// conditions returns the scope as SQL conditions over the incidents
// columns force_id, region_code and lad_code, one per non-empty dimension.
// The scope must have been validated.
func (s Scope) conditions() []string {
	var out []string
	if len(s.Forces) > 0 {
		out = append(out, inList("force_id", s.Forces))
	}
	if len(s.Regions) > 0 {
		out = append(out, inList("region_code", s.Regions))
	}
	if len(s.LADs) > 0 {
		out = append(out, inList("lad_code", s.LADs))
	}
	return out
}

// inList renders col IN ('a', 'b').
func inList(col string, values []string) string {
	return col + " IN (" + sqltext.List(values) + ")"
}
