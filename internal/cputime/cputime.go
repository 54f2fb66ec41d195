// Package cputime reads the CPU time this process has used, for benchmarks that report CPU per
// unit of work: work handed to other goroutines runs on other cores, where wall time per
// operation does not see it. It knows nothing of what is measured.
package cputime
