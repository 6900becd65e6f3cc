package sqlrecord

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Load reads every log file in dir and returns each process's entries in
// the order they started.
func Load(dir string) (map[string][]Entry, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("sqlrecord: %w", err)
	}
	out := map[string][]Entry{}
	for _, name := range files {
		if err := loadFile(name, out); err != nil {
			return nil, err
		}
	}
	for _, es := range out {
		sort.SliceStable(es, func(i, j int) bool { return es[i].At < es[j].At })
	}
	return out, nil
}

func loadFile(name string, out map[string][]Entry) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("sqlrecord: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var e Entry
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				return fmt.Errorf("sqlrecord: %s:%d: %w", name, n, jerr)
			}
			out[e.Process] = append(out[e.Process], e)
		}
		if err == io.EOF {
			return nil // a last line without its newline was cut off by a killed process
		}
		if err != nil {
			return fmt.Errorf("sqlrecord: %s: %w", name, err)
		}
	}
}
