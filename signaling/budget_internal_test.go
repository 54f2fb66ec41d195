package signaling

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/wire"
)

// Many addresses in one meeting share the meeting's budget: together they get its burst and no
// more, while another meeting keeps its own.
func TestMeetingBudget(t *testing.T) {
	cfg := Config{Registry: prometheus.NewRegistry()}
	cfg.defaults()
	b := newBudgets(cfg)
	served := 0
	for i := range 100 { // 100 addresses, each well within its own budget
		for range 30 {
			if b.spend(fmt.Sprintf("10.0.0.%d", i), "m1", wire.TypeOffer) == "" {
				served++
			}
		}
	}
	// The meeting's burst is 5 s worth; the loop takes far less than a second.
	if limit := int(5*DefaultMeetingCostPerSecond)/offerCost + 2*DefaultMeetingCostPerSecond/offerCost; served > limit || served < limit/2 {
		t.Errorf("%d offers served in one meeting; want about %d", served, 5*DefaultMeetingCostPerSecond/offerCost)
	}
	if b.spend("10.1.0.1", "m2", wire.TypeOffer) != "" {
		t.Error("another meeting was refused")
	}
	// An offer from a fresh address: what the loop left of the meeting's budget is less than one.
	if b.spend("10.1.0.1", "m1", wire.TypeOffer) != "meeting" {
		t.Error("the meeting's budget was not spent")
	}
}
