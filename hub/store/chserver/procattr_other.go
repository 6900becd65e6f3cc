//go:build !unix

package chserver

import (
	"os"
	"syscall"
)

// processAttr returns no special attributes on this platform.
func processAttr() *syscall.SysProcAttr { return nil }

// terminate stops the server; there is no graceful signal on this platform.
func terminate(p *os.Process) error { return p.Kill() }

// kill kills the server.
func kill(p *os.Process) error { return p.Kill() }
