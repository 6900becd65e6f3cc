package returns

import (
	"fmt"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/pathwayhub/pathwayhub/hub/measures/annual"
	"github.com/pathwayhub/pathwayhub/ingest/pack"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// render writes the return in format: return.csv, or return.xlsx (the
// default) with a sheet per table and an "About" sheet of provenance.
func render(r annual.Return, format pathwayv1.ReturnFormat, prov *pathwayv1.ReturnProvenance) (pack.File, error) {
	if format == pathwayv1.ReturnFormat_RETURN_FORMAT_CSV {
		return pack.File{Name: "return.csv", Data: r.CSV()}, nil
	}
	data, err := XLSX(r, prov)
	return pack.File{Name: "return.xlsx", Data: data}, err
}

// XLSX writes the return as a workbook: the sheet "About" with the
// provenance, then one sheet per table (named by its id) with its title,
// its note, and a row per category: code, category, detentions.
func XLSX(r annual.Return, prov *pathwayv1.ReturnProvenance) ([]byte, error) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	if err := f.SetSheetName("Sheet1", "About"); err != nil {
		return nil, fmt.Errorf("returns: xlsx: %w", err)
	}
	ts := func(t interface{ AsTime() time.Time }) string {
		if t == nil {
			return ""
		}
		return t.AsTime().UTC().Format(time.RFC3339)
	}
	about := [][2]any{
		{"Return", "Section 136 detentions (Mental Health Act 1983), Home Office annual return"},
		{"Force", prov.GetForce()},
		{"Financial year", prov.GetYear()},
		{"Period start", ts(prov.GetPeriodStart())},
		{"Period end (exclusive)", ts(prov.GetPeriodEnd())},
		{"Data cut-off", ts(prov.GetCutoff())},
		{"Provisional", prov.GetProvisional()},
		{"Detentions", prov.GetDetentions()},
		{"Revised after first sent", prov.GetRevised()},
		{"Last revision received", ts(prov.GetLastReceived())},
		{"Agreement", prov.GetAgreement()},
		{"Recipient", prov.GetRecipient()},
		{"Policy revision", prov.GetPolicyRevision()},
		{"Export decision", prov.GetDecisionId()},
		{"Content hash (SHA-256)", prov.GetContentHash()},
		{"Counts", "Unrounded and unsuppressed: the force's own return. Values not recorded are counted as not known."},
	}
	for i, kv := range about {
		if err := f.SetSheetRow("About", fmt.Sprintf("A%d", i+1), &[]any{kv[0], kv[1]}); err != nil {
			return nil, fmt.Errorf("returns: xlsx: %w", err)
		}
	}
	for _, t := range r.Tables {
		if _, err := f.NewSheet(t.ID); err != nil {
			return nil, fmt.Errorf("returns: xlsx: %w", err)
		}
		rows := [][]any{{t.Title}, {t.Note}, {}, {"code", "category", "detentions"}}
		for _, row := range t.Rows {
			rows = append(rows, []any{row.Code, row.Label, row.Detentions})
		}
		for i, row := range rows {
			if err := f.SetSheetRow(t.ID, fmt.Sprintf("A%d", i+1), &row); err != nil {
				return nil, fmt.Errorf("returns: xlsx: %w", err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("returns: xlsx: %w", err)
	}
	return buf.Bytes(), nil
}
