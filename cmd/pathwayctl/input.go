package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/pathwayhub/pathwayhub/ingest/export"
	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
	pathwayv1 "github.com/pathwayhub/pathwayhub/schemas/gen/pathway/v1"
)

// keyFlags are the pseudonymisation settings shared by submit and check.
type keyFlags struct {
	keyFile, incidentKeyFile, force, format string
}

func (k *keyFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&k.keyFile, "key-file", os.Getenv("PATHWAYCTL_KEY_FILE"), "region's shared key file, hex or base64 (env PATHWAYCTL_KEY_FILE)")
	fs.StringVar(&k.incidentKeyFile, "incident-key-file", "", "force's own key for incident numbers (default: the region key)")
	fs.StringVar(&k.force, "force", "", "force id written to force_id (the hub always uses the credential's force)")
	fs.StringVar(&k.format, "format", "", "csv or ndjson (default: from the file extension)")
}

func (k *keyFlags) options() (export.Options, error) {
	if k.keyFile == "" {
		return export.Options{}, errors.New("--key-file is required: identifiers are tokenised before anything leaves the force")
	}
	key, err := pseudo.LoadKey(k.keyFile)
	if err != nil {
		return export.Options{}, err
	}
	opts := export.Options{ForceID: k.force, Key: key}
	if k.incidentKeyFile != "" {
		if opts.IncidentKey, err = pseudo.LoadKey(k.incidentKeyFile); err != nil {
			return export.Options{}, err
		}
	}
	return opts, nil
}

// parsed is one export file read into records.
type parsed struct {
	records []*pathwayv1.IncidentRecord
	lines   []int // source line of each record
	errs    []error
}

func readExport(path string, k *keyFlags) (parsed, error) {
	opts, err := k.options()
	if err != nil {
		return parsed{}, err
	}
	var format export.Format
	if k.format != "" {
		format, err = export.ParseFormat(k.format)
	} else {
		format, err = export.FormatFromPath(path)
	}
	if err != nil {
		return parsed{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return parsed{}, err
	}
	defer f.Close()
	r, err := export.NewReader(f, format, opts)
	if err != nil {
		return parsed{}, fmt.Errorf("%s: %w", path, err)
	}
	var p parsed
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return p, nil
		}
		var rowErr *export.RowError
		if errors.As(err, &rowErr) {
			p.errs = append(p.errs, err)
			continue
		}
		if err != nil {
			return parsed{}, fmt.Errorf("%s: %w", path, err)
		}
		p.records = append(p.records, rec)
		p.lines = append(p.lines, r.Line())
	}
}
