package redisstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// BenchmarkSaveTakeover is one write of a meeting's takeover state with its roster (what a
// meeting's saver does at most once per round trip while the roster changes), and one append of
// a chat message with its audit entry, against a real redis-server on loopback.
func BenchmarkSaveTakeover(b *testing.B) {
	ctx := context.Background()
	s, _ := storeWithMeeting(b)
	for _, n := range []int{10, 100, 500} {
		t := meeting.Takeover{HostID: "p0", HostMutes: map[string]bool{}}
		for i := range n {
			t.Seats = append(t.Seats, meeting.SavedSeat{
				Participant: wire.Participant{ID: fmt.Sprintf("p%07d", i), Name: fmt.Sprintf("Participant %d", i), Role: wire.RoleParticipant, CanUnmute: true},
				BrowserID:   fmt.Sprintf("browser-%016d", i), TokenHash: [32]byte{byte(i), 1},
			})
		}
		b.Run(fmt.Sprintf("seats=%d", n), func(b *testing.B) {
			for b.Loop() {
				if err := s.SaveTakeover(ctx, "m1", t); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("append chat+audit", func(b *testing.B) {
		chat := []wire.Chat{{MessageID: "1", From: "p1", Name: "Ada", Text: "hello there", SentAt: 1}}
		audit := []wire.AuditEntry{{At: 1, Action: wire.AuditJoin, By: "p1", ByName: "Ada"}}
		for b.Loop() {
			if err := s.AppendHistory(ctx, "m1", chat, audit, meeting.MaxAuditEntries); err != nil {
				b.Fatal(err)
			}
		}
	})
}
