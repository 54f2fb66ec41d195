//go:build !unix

package sfu

import (
	"testing"
	"time"
)

// processCPU is not measured here: the cpu-ns metrics of the benchmarks read 0.
func processCPU(*testing.B) time.Duration { return 0 }
