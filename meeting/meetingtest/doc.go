// Package meetingtest holds test doubles for the meeting package's interfaces, for the tests of
// meeting and of the packages that use it: a deterministic Clock moved by hand, and recording
// Sink and Media that can share one Trace so a test sees media calls and event deliveries in the
// order they happened. It must not be imported by non-test code.
package meetingtest
