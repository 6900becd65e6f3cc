package export_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pathwayhub/pathwayhub/ingest/export"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// TestWriterRoundTrip writes the sample rows with a Writer in both formats
// and reads them back to the same records.
func TestWriterRoundTrip(t *testing.T) {
	t.Parallel()
	recs, _ := sampleRecords(t, sampleCSV)
	incidents, persons := sampleRaw(t)
	for _, f := range []export.Format{export.FormatCSV, export.FormatNDJSON} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w, err := export.NewWriter(&buf, f)
			if err != nil {
				t.Fatal(err)
			}
			for i, rec := range recs {
				// The Writer ignores the reader-set fields.
				in := proto.Clone(rec).(*pathwayv1.IncidentRecord)
				in.IncidentRef, in.SubjectToken, in.ForceId, in.SchemaVersion = "", "", "other-force", 9
				if err := w.Write(export.Row{IncidentNumber: incidents[i], PersonID: persons[i], Record: in}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, f, buf.String())
			if len(got) != len(recs) {
				t.Fatalf("read back %d records, want %d:\n%s", len(got), len(recs), buf.String())
			}
			for i, r := range got {
				if r.err != nil {
					t.Fatalf("row %d: %v\n%s", i+1, r.err, buf.String())
				}
				if !proto.Equal(r.rec, recs[i]) {
					t.Errorf("row %d:\n got %v\nwant %v", i+1, r.rec, recs[i])
				}
			}
			if f == export.FormatCSV && !strings.HasPrefix(buf.String(), strings.Join(export.Columns(), ",")+"\n") {
				t.Error("CSV does not start with the canonical header")
			}
		})
	}
}

func TestWriterEmptyCSVHasHeader(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := export.NewWriter(&buf, export.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, export.FormatCSV, buf.String()); len(got) != 0 {
		t.Errorf("an empty export gave %d rows", len(got))
	}
}

func TestWriterRefusesInexpressibleRows(t *testing.T) {
	t.Parallel()
	ok := func() *pathwayv1.IncidentRecord {
		return &pathwayv1.IncidentRecord{Revision: 1, Timeline: &pathwayv1.Timeline{CallReceived: ts("2025-03-01T10:00:00Z")}}
	}
	fractional := ok()
	fractional.Timeline.Detained = &timestamppb.Timestamp{Seconds: 1740823200, Nanos: 5}
	undefined := ok()
	undefined.Sex = pathwayv1.Sex(42)
	cases := map[string]export.Row{
		"no incident number": {Record: ok()},
		"no record":          {IncidentNumber: "X1"},
		"fractional seconds": {IncidentNumber: "X1", Record: fractional},
		"undefined enum":     {IncidentNumber: "X1", Record: undefined},
	}
	for name, row := range cases {
		for _, f := range []export.Format{export.FormatCSV, export.FormatNDJSON} {
			w, err := export.NewWriter(&bytes.Buffer{}, f)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(row); err == nil {
				t.Errorf("%s (%v): Write accepted the row", name, f)
			}
		}
	}
	if _, err := export.NewWriter(&bytes.Buffer{}, 0); !errors.Is(err, export.ErrUnknownFormat) {
		t.Errorf("NewWriter(0): %v", err)
	}
}
