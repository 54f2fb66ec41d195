//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// raiseFileLimit sets the soft RLIMIT_NOFILE to the hard one and returns the limit in force.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if l.Cur >= l.Max {
		return l.Cur, nil
	}
	raised := syscall.Rlimit{Cur: l.Max, Max: l.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		return l.Cur, fmt.Errorf("setrlimit to %d: %w", l.Max, err)
	}
	return l.Max, nil
}
