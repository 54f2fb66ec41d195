package signaling

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/wire"
)

// Many addresses in one meeting share the meeting's budget: together they get its burst and no
// more, while another meeting keeps its own.
func TestMeetingBudget(t *testing.T) {
	cfg := Config{Registry: prometheus.NewRegistry()}
	cfg.defaults()
	b := newBudgets(cfg)
	// One instant: the buckets do not refill meanwhile. 100 addresses, each well within its own
	// budget.
	served, now := 0, time.Now()
	for i := range 100 {
		for range 30 {
			if b.spendAt(fmt.Sprintf("10.0.0.%d", i), "m1", wire.TypeOffer, now) == "" {
				served++
			}
		}
	}
	// The meeting's burst is 5 s worth.
	if want := int(5*DefaultMeetingCostPerSecond) / offerCost; served != want {
		t.Errorf("%d offers served in one meeting; want %d", served, want)
	}
	if b.spendAt("10.1.0.1", "m2", wire.TypeOffer, now) != "" {
		t.Error("another meeting was refused")
	}
	if b.spendAt("10.1.0.1", "m1", wire.TypeSetHandRaised, now) != "meeting" {
		t.Error("the meeting's budget was not spent")
	}
}
