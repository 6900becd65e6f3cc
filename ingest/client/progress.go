package client

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// NewProgressBar returns the progress bar submitters show on w for a long
// upload of total records, or a silent one when show is false.
func NewProgressBar(w io.Writer, total int, label string, show bool) *progressbar.ProgressBar {
	if !show {
		return progressbar.DefaultSilent(int64(total), label)
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetDescription(label),
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}
