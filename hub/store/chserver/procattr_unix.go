//go:build unix

package chserver

import (
	"os"
	"syscall"
)

// processAttr puts the server in its own process group so that terminal
// signals aimed at the hub do not reach it directly.
func processAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the server to shut down gracefully.
func terminate(p *os.Process) error {
	return p.Signal(syscall.SIGTERM)
}

// kill kills the server's whole process group.
func kill(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		return p.Kill()
	}
	return nil
}
