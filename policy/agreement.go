package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// dateLayout is the layout of valid_from and valid_until.
const dateLayout = "2006-01-02"

// Agreement is one data-sharing agreement: who submits which datasets, who
// receives what, for what purpose, and for how long.
type Agreement struct {
	// ID is the agreement's slug, unique across every file.
	ID string
	// Title is the agreement's human name.
	Title string
	// Version is the agreement's own version label, e.g. "2024.2".
	Version string
	// Controllers are the organisations that submit data under it:
	// "force/<id>" or "trust/<ODS code>".
	Controllers []string
	// Datasets are the datasets it covers: incidents, health_updates.
	Datasets []string
	// ValidFrom and ValidUntil are the first and last days (inclusive) on
	// which it is in force, as midnight UTC of that calendar date; the
	// decision date is the calendar date in Europe/London.
	ValidFrom, ValidUntil time.Time
	// Retention is how long recipients may keep what they receive.
	Retention Retention
	// Recipients are the parties that receive data under it.
	Recipients []Recipient
	// File is the path the agreement was loaded from.
	File string
}

// Recipient is one party that receives data under an agreement. Its ID names
// the share database (share_<id>) and the database user the hub creates.
type Recipient struct {
	// ID is unique across every agreement and matches ^[a-z][a-z0-9_]{1,40}$.
	ID string
	// Org is the receiving organisation, e.g. "icb/QMJ", "region/london".
	Org string
	// Role is regional_lead, commissioner, force_supervisor or force_analyst.
	Role string
	// Purpose says what the data is for.
	Purpose string
	// Scope limits the data to forces, regions and local authority districts.
	Scope Scope
	// Granularity is record or aggregate.
	Granularity string
	// Measures are the measure ids an aggregate recipient receives, with
	// "all" expanded to the whole catalogue.
	Measures []string
	// Fields are the columns a record recipient receives.
	Fields []string
	// Disclosure is the statistical disclosure control applied to counts.
	Disclosure Disclosure
	// Export says whether the recipient may download evidence packs.
	Export bool
}

// Scope limits what a recipient sees. A row is in scope when it matches every
// non-empty list.
type Scope struct {
	// Forces are data.police.uk force ids, e.g. "btp".
	Forces []string
	// Regions are ONS region codes, e.g. "E12000007" (London).
	Regions []string
	// LADs are ONS local authority district codes, e.g. "E09000007".
	LADs []string
}

// Disclosure is the disclosure control for a recipient: counts from 1 to
// Threshold are suppressed, then every count is rounded to the nearest
// multiple of Rounding.
type Disclosure struct {
	// Threshold is the largest count that is suppressed.
	Threshold int
	// Rounding is the base counts are rounded to.
	Rounding int
}

// Retention is how long a recipient may keep data: a count of days, months
// or years, written in agreement files as "730 days", "24 months" or
// "7 years".
type Retention struct {
	// Count is the number of units, at least 1.
	Count int
	// Unit is "days", "months" or "years".
	Unit string
}

// String returns the retention as written in agreement files, e.g.
// "24 months".
func (r Retention) String() string {
	if r.Count == 1 {
		return "1 " + strings.TrimSuffix(r.Unit, "s")
	}
	return fmt.Sprintf("%d %s", r.Count, r.Unit)
}

// Cutoff returns the oldest instant a recipient may still hold at now: data
// from before it must be deleted.
func (r Retention) Cutoff(now time.Time) time.Time {
	switch r.Unit {
	case "days":
		return now.AddDate(0, 0, -r.Count)
	case "months":
		return now.AddDate(0, -r.Count, 0)
	default:
		return now.AddDate(-r.Count, 0, 0)
	}
}

// The file format, decoded loosely and then checked field by field.
type rawFile struct {
	Agreements []yaml.Node `yaml:"agreements"`
}

type rawAgreement struct {
	ID          string         `yaml:"id"`
	Title       string         `yaml:"title"`
	Version     string         `yaml:"version"`
	Controllers []string       `yaml:"controllers"`
	Datasets    []string       `yaml:"datasets"`
	ValidFrom   string         `yaml:"valid_from"`
	ValidUntil  string         `yaml:"valid_until"`
	Retention   string         `yaml:"retention"`
	Recipients  []rawRecipient `yaml:"recipients"`
}

type rawRecipient struct {
	ID          string        `yaml:"id"`
	Org         string        `yaml:"org"`
	Role        string        `yaml:"role"`
	Purpose     string        `yaml:"purpose"`
	Scope       rawScope      `yaml:"scope"`
	Granularity string        `yaml:"granularity"`
	Measures    []string      `yaml:"measures"`
	Fields      []string      `yaml:"fields"`
	Disclosure  rawDisclosure `yaml:"disclosure"`
	Export      bool          `yaml:"export"`
}

type rawScope struct {
	Forces  []string `yaml:"forces"`
	Regions []string `yaml:"regions"`
	LADs    []string `yaml:"lads"`
}

type rawDisclosure struct {
	Threshold *int `yaml:"threshold"`
	Rounding  *int `yaml:"rounding"`
}

// sourceFile is one agreement file as read, for the revision hash.
type sourceFile struct {
	path string
	data []byte
}

// LoadAgreements reads every *.yaml file under dir, recursively (names
// starting with "." are skipped), and returns the agreements sorted by id.
// Every problem is reported, each naming the file, the agreement and the
// field; the errors are joined with errors.Join.
func LoadAgreements(dir string, measures []string) ([]Agreement, error) {
	agreements, _, err := loadDir(dir, measures)
	return agreements, err
}

func loadDir(dir string, measures []string) ([]Agreement, []sourceFile, error) {
	if len(measures) == 0 {
		return nil, nil, errors.New("policy: no measure ids given: pass the catalogue's (hub/measures IDs)")
	}
	files, err := readDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("policy: %w", err)
	}
	var (
		all  []Agreement
		errs []error
	)
	for _, f := range files {
		as, err := parseFile(f.path, f.data, measures)
		if err != nil {
			errs = append(errs, err)
		}
		all = append(all, as...)
	}
	errs = append(errs, checkUnique(all)...)
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("policy: invalid agreements:\n%w", errors.Join(errs...))
	}
	slices.SortFunc(all, func(a, b Agreement) int { return strings.Compare(a.ID, b.ID) })
	return all, files, nil
}

func readDir(dir string) ([]sourceFile, error) {
	var files []sourceFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".yaml") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files = append(files, sourceFile{path: path, data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read agreements: %w", err)
	}
	slices.SortFunc(files, func(a, b sourceFile) int { return strings.Compare(a.path, b.path) })
	return files, nil
}

// parseFile parses and validates one agreement file.
func parseFile(path string, data []byte, measures []string) ([]Agreement, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: agreements: the file is empty", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: agreements: the file is empty", path)
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: want a mapping with an agreements list", path, doc.Content[0].Line)
	}
	var errs []error
	for _, e := range unknownKeys(doc.Content[0], reflect.TypeFor[rawFile](), "") {
		errs = append(errs, fmt.Errorf("%s: %w", path, e))
	}
	var f rawFile
	if err := doc.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Agreements) == 0 {
		errs = append(errs, fmt.Errorf("%s: agreements: at least one agreement is required", path))
	}
	var out []Agreement
	for i := range f.Agreements {
		a, aerrs := parseAgreement(path, i, &f.Agreements[i], measures)
		errs = append(errs, aerrs...)
		if len(aerrs) == 0 {
			out = append(out, a)
		}
	}
	return out, errors.Join(errs...)
}

// parseAgreement decodes and validates one agreement node.
func parseAgreement(path string, index int, node *yaml.Node, measures []string) (Agreement, []error) {
	v := &validator{prefix: fmt.Sprintf("%s: agreements[%d]", path, index), measures: measures}
	if id := mappingValue(node, "id"); id != "" {
		v.prefix = fmt.Sprintf("%s: agreement %q", path, id)
	}
	for _, e := range unknownKeys(node, reflect.TypeFor[rawAgreement](), "") {
		v.errs = append(v.errs, fmt.Errorf("%s: %w", v.prefix, e))
	}
	var raw rawAgreement
	if err := node.Decode(&raw); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			v.errs = append(v.errs, fmt.Errorf("%s: %w", v.prefix, err))
			return Agreement{}, v.errs
		}
		for _, msg := range te.Errors {
			v.errs = append(v.errs, fmt.Errorf("%s: %s", v.prefix, msg))
		}
		return Agreement{}, v.errs
	}
	a := v.agreement(&raw)
	a.File = path
	return a, v.errs
}

// mappingValue returns the scalar value of key in a mapping node, or "".
func mappingValue(node *yaml.Node, key string) string {
	if node.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key && node.Content[i+1].Kind == yaml.ScalarNode {
			return node.Content[i+1].Value
		}
	}
	return ""
}

// unknownKeys reports mapping keys that t (a struct with yaml tags) does
// not declare, descending into nested structs and slices of structs.
func unknownKeys(node *yaml.Node, t reflect.Type, path string) []error {
	switch {
	case t.Kind() == reflect.Pointer:
		return unknownKeys(node, t.Elem(), path)
	case t.Kind() == reflect.Slice && node.Kind == yaml.SequenceNode:
		if t == reflect.TypeFor[[]yaml.Node]() {
			return nil
		}
		var errs []error
		for i, item := range node.Content {
			errs = append(errs, unknownKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case t.Kind() != reflect.Struct || node.Kind != yaml.MappingNode:
		return nil
	}
	var errs []error
	for i := 0; i+1 < len(node.Content); i += 2 {
		key := node.Content[i].Value
		field, ok := fieldByTag(t, key)
		name := key
		if path != "" {
			name = path + "." + key
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s: unknown key (line %d)", name, node.Content[i].Line))
			continue
		}
		errs = append(errs, unknownKeys(node.Content[i+1], field.Type, name)...)
	}
	return errs
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// checkUnique reports agreement and recipient ids used more than once.
func checkUnique(all []Agreement) []error {
	var errs []error
	agreements := map[string]Agreement{}
	type owner struct{ agreement, file string }
	recipients := map[string]owner{}
	for _, a := range all {
		if first, dup := agreements[a.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: agreement %q: id: already used in %s", a.File, a.ID, first.File))
		} else {
			agreements[a.ID] = a
		}
		for i, r := range a.Recipients {
			if first, dup := recipients[r.ID]; dup {
				errs = append(errs, fmt.Errorf("%s: agreement %q: recipients[%d].id: %q is already used by agreement %q (%s)",
					a.File, a.ID, i, r.ID, first.agreement, first.file))
				continue
			}
			recipients[r.ID] = owner{agreement: a.ID, file: a.File}
		}
	}
	return errs
}

// parseRetention parses "730 days", "24 months" or "7 years".
func parseRetention(s string) (Retention, bool) {
	m := retentionPattern.FindStringSubmatch(s)
	if m == nil {
		return Retention{}, false
	}
	n, _ := strconv.Atoi(m[1])
	unit := m[2]
	if !strings.HasSuffix(unit, "s") {
		unit += "s"
	}
	return Retention{Count: n, Unit: unit}, true
}
