// Package await is how tests wait for a condition: polling it until it holds or a deadline
// passes, never a fixed sleep, so a test is as fast as the machine allows and still passes on a
// loaded one.
//
// It owns that one helper and its deadline, for the tests of every package (sfu, signaling,
// client, the load generator); it must not know about any of them.
package await

import (
	"testing"
	"time"
)

// Limit bounds every wait: generous, for a loaded 2-core machine running tests under -race.
const Limit = 20 * time.Second

// poll is how often a condition is looked at again.
const poll = 10 * time.Millisecond

// Until polls cond until it holds, failing t (with what it was waiting for) after Limit.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !Within(Limit, cond) {
		t.Fatalf("timed out after %v waiting for %s", Limit, what)
	}
}

// Within polls cond until it holds or d has passed, and reports whether it held.
func Within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(poll)
	}
	return true
}
