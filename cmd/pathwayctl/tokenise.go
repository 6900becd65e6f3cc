package main

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pathwayhub/pathwayhub/ingest/pseudo"
)

func tokeniseCmd() *cobra.Command {
	var keyFile, kind, newKey string
	cmd := &cobra.Command{
		Use:   "tokenise [IDENTIFIER...]",
		Short: "Turn identifiers into tokens, or create a key file",
		Long: `Print the token of each identifier given as an argument, or of each line on
standard input: HMAC-SHA256 under the key file of the normalised identifier
(trimmed; spaces, tabs, hyphens, dots and slashes removed; upper-cased), with
the domain label of --kind. The same identifier and key always give the same
token; the hub never sees the key.

With --new-key FILE, create a new random key file instead.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if newKey != "" {
				if err := pseudo.WriteNewKey(newKey); err != nil {
					return err
				}
				fmt.Fprintf(out, "wrote a new key to %s; share it only with the region's submitters, never with the hub\n", newKey)
				return nil
			}
			if keyFile == "" {
				return errors.New("--key-file is required")
			}
			key, err := pseudo.LoadKey(keyFile)
			if err != nil {
				return err
			}
			var tok func(string) (string, error)
			switch kind {
			case "subject":
				tok = key.SubjectToken
			case "incident":
				tok = key.IncidentRef
			default:
				return fmt.Errorf("--kind %q: want subject or incident", kind)
			}
			emit := func(id string) error {
				t, err := tok(id)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, t)
				return nil
			}
			if len(args) > 0 {
				for _, a := range args {
					if err := emit(a); err != nil {
						return err
					}
				}
				return nil
			}
			sc := bufio.NewScanner(cmd.InOrStdin())
			for line := 1; sc.Scan(); line++ {
				if err := emit(sc.Text()); err != nil {
					return fmt.Errorf("line %d: %w", line, err)
				}
			}
			return sc.Err()
		},
	}
	cmd.Flags().StringVar(&keyFile, "key-file", "", "key file (hex or base64)")
	cmd.Flags().StringVar(&kind, "kind", "subject", "subject (person identifier) or incident (incident number)")
	cmd.Flags().StringVar(&newKey, "new-key", "", "create a new random key file at this path")
	return cmd
}
