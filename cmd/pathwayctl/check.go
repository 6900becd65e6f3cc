package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/ingest/validate"
)

func checkCmd() *cobra.Command {
	var k keyFlags
	cmd := &cobra.Command{
		Use:   "check FILE...",
		Short: "Validate export files offline with the hub's own rules",
		Long: `Parse and tokenise each export file and check every record with the same
validator the hub runs (field rules, pathway order, legal checks). Nothing is
sent. Exits 1 if any record would be rejected.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := validate.New(validate.Options{})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			bad := 0
			for _, path := range args {
				p, err := readExport(path, &k)
				if err != nil {
					return err
				}
				for _, e := range p.errs {
					fmt.Fprintf(out, "%s: %v\n", path, e)
				}
				fileBad := len(p.errs)
				for i, rec := range p.records {
					r := v.Incident(rec)
					for _, e := range r.Errors {
						fmt.Fprintf(out, "%s: line %d: %s: %s (%s)\n", path, p.lines[i], e.GetField(), e.GetMessage(), e.GetCode())
					}
					for _, w := range r.Warnings {
						fmt.Fprintf(out, "%s: line %d: warning: %s: %s (%s)\n", path, p.lines[i], w.GetField(), w.GetMessage(), w.GetCode())
					}
					if !r.OK() {
						fileBad++
					}
				}
				fmt.Fprintf(out, "%s: %d records, %d would be rejected\n", path, len(p.records)+len(p.errs), fileBad)
				bad += fileBad
			}
			if bad > 0 {
				return rejectedError{n: bad}
			}
			return nil
		},
	}
	k.register(cmd.Flags())
	return cmd
}
