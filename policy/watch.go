package policy

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch reloads the agreements whenever a file under the directory changes,
// once changes have settled for Options.WatchDebounce. A reload that fails is
// logged and counted, and the bundle in force stays. Watch blocks until ctx
// is done and then returns nil; it returns an error only when the directory
// cannot be watched. It is meant to be one actor of the hub's run group.
func (e *Engine) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("policy: watch: %w", err)
	}
	defer func() {
		if err := w.Close(); err != nil {
			e.logger.WarnContext(ctx, "agreement watch: close", "error", err)
		}
	}()
	if err := addDirs(w, e.dir); err != nil {
		return fmt.Errorf("policy: watch: %w", err)
	}
	e.logger.InfoContext(ctx, "watching agreements", "dir", e.dir)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// A file written after the bundle was loaded but before the watches
	// were added raised no event: compare what is on disk now.
	if e.changedOnDisk() {
		timer.Reset(e.debounce)
	}
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if relevant(ev) {
				timer.Reset(e.debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			e.logger.WarnContext(ctx, "agreement watch error", "error", err)
		case <-timer.C:
			// New subdirectories are watched too; adding a watched one again
			// is harmless.
			if err := addDirs(w, e.dir); err != nil {
				e.logger.WarnContext(ctx, "agreement watch: cannot watch directories", "error", err)
			}
			// Reload logs and counts its own failures.
			_ = e.Reload(ctx)
		}
	}
}

// relevant reports whether an event may change the bundle. Every change but
// a mode change counts: directories and symbolic links (such as a mounted
// volume's "..data") can bring YAML files with them, and a needless reload
// only finds the same revision.
func relevant(ev fsnotify.Event) bool {
	return ev.Op != fsnotify.Chmod
}

// addDirs watches dir and every directory under it.
func addDirs(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		return w.Add(path)
	})
}

// changedOnDisk reports whether the agreement files differ from the bundle
// in force: they no longer load, or their revision is another.
func (e *Engine) changedOnDisk() bool {
	_, files, err := loadDir(e.dir, e.measures)
	if err != nil {
		return true
	}
	srcs, err := regoSources(false)
	if err != nil {
		return true
	}
	return revision(e.dir, srcs, files) != e.Revision()
}
