package auth

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long Watch waits after the last change to the file
// before it reloads, so an editor's several writes make one reload.
const watchDebounce = 200 * time.Millisecond

// Watch reloads c from the file at path whenever the file changes
// (watching its directory, so a file replaced by renaming is seen too),
// until ctx ends. Each reload's outcome goes to reloaded: nil, or the error
// that left the previous credentials in force.
func (c *Credentials) Watch(ctx context.Context, path string, reloaded func(error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("auth: watch: %w", err)
	}
	defer func() { _ = w.Close() }()
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("auth: watch: %w", err)
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("auth: watch: %w", err)
	}
	// A change made after the credentials were loaded but before the watch
	// was added raised no event: compare what is on disk now.
	if next, err := Load(abs); err != nil {
		reloaded(err)
	} else if !c.equal(next) {
		c.Replace(next)
		reloaded(nil)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Clean(ev.Name) == abs {
				timer.Reset(watchDebounce)
			}
		case _, ok := <-w.Errors:
			if !ok {
				return nil
			}
		case <-timer.C:
			reloaded(c.Reload(abs))
		}
	}
}

// equal reports whether c and o hold the same credentials.
func (c *Credentials) equal(o *Credentials) bool {
	o.mu.RLock()
	theirs := o.byHash
	o.mu.RUnlock()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return maps.Equal(c.byHash, theirs)
}
