package export

import (
	"errors"
	"fmt"
	"strings"
)

// identifierMarkers are fragments of column names that mark a direct
// identifier or free text. They are matched against the column name reduced
// to lower-case letters and digits, so "Date of Birth", "dateOfBirth" and
// "date_of_birth" all match "birth". Only names that are not columns of the
// format are checked: a false match merely changes the message an unknown
// column gets, since it is refused either way.
var identifierMarkers = []string{
	// Names: name, first_name, surname, forenames, full_name, ...
	"name", "surname", "forename",
	// Dates of birth: dob, date_of_birth, birth_date, year_of_birth.
	"dob", "birth",
	// National identifiers: NHS number, PNC id, CRO number, NI number.
	"nhs", "pnc", "cro", "nino", "nationalinsurance", "passport",
	// Addresses.
	"address", "street", "postcode", "zipcode", "postalcode", "houseno",
	// Contact details.
	"phone", "mobile", "email",
	// Free text.
	"note", "comment", "freetext", "narrative", "description", "remark", "summary", "detail", "text",
	// Vehicle registration marks.
	"registration", "vrm",
}

// identifierSuffixes mark a column that holds some other local identifier.
var identifierSuffixes = []string{"id", "number", "ref", "reference"}

// columnHints explain columns that are close to, but not part of, the format.
var columnHints = map[string]string{
	"incidentref":   "incident_ref is computed from incident_number when the file is read; give the force's raw incident number in incident_number instead",
	"subjecttoken":  "subject_token is computed from person_id when the file is read; give the raw local person identifier in person_id instead",
	"forceid":       "force_id is set from the submitting force, not from the file; remove the column",
	"force":         "the force is set from the submitting force, not from the file; remove the column",
	"schemaversion": "schema_version is set when the file is read; remove the column",
	"age":           "exact ages are not submitted; give age_band instead",
	"gender":        "use the column sex",
}

// identifierMessage explains why an identifier column is refused.
const identifierMessage = "it looks like a direct identifier or free text (names, dates of birth, NHS or PNC numbers, addresses, contact details and notes never leave the force); remove it from the export, and put the person's local identifier in person_id, which is tokenised before anything is sent"

// checkUnknownName explains why name, which is not a column of the format,
// is refused. The error wraps ErrIdentifierColumn or ErrUnknownColumn.
func checkUnknownName(name string) error {
	squashed := squash(name)
	if hint, ok := columnHints[squashed]; ok {
		return fmt.Errorf("%w: %s", ErrUnknownColumn, hint)
	}
	if looksLikeIdentifier(squashed) {
		return fmt.Errorf("%w: %s", ErrIdentifierColumn, identifierMessage)
	}
	return fmt.Errorf("%w: not a column of the export format (the columns are listed in schemas/export-format.md)", ErrUnknownColumn)
}

// looksLikeIdentifier reports whether a squashed column name looks like a
// direct identifier.
func looksLikeIdentifier(squashed string) bool {
	for _, m := range identifierMarkers {
		if strings.Contains(squashed, m) {
			return true
		}
	}
	for _, s := range identifierSuffixes {
		if strings.HasSuffix(squashed, s) && len(squashed) > len(s) {
			return true
		}
	}
	return squashed == "id"
}

// squash lower-cases name and keeps only ASCII letters and digits.
func squash(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normaliseName is how a header cell or NDJSON key is matched to a column:
// surrounding white space (and a byte-order mark) removed, lower-cased.
func normaliseName(name string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
}

// nameProblem returns the RowError for a header cell or key that is not a
// column. The name is echoed only if it reads like a column name or is a
// refused identifier column; otherwise it could be a data value and is
// described by position.
func nameProblem(line int, raw string, position string) *RowError {
	err := checkUnknownName(raw)
	name := strings.TrimSpace(raw)
	if columnLike.MatchString(name) || (errors.Is(err, ErrIdentifierColumn) && safeToEcho(name)) {
		return &RowError{Line: line, Column: name, Err: err}
	}
	return &RowError{Line: line, Err: fmt.Errorf("%s (its name is not shown: it does not look like a column name): %w", position, err)}
}

// safeToEcho reports whether a refused identifier column's name may be shown:
// short, and only letters, digits, spaces, underscores and hyphens.
func safeToEcho(name string) bool {
	if name == "" || len(name) > 40 {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
