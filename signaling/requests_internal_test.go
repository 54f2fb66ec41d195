package signaling

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// TestEveryRequestIsRouted: each request type of the protocol is served by exactly one of the
// edge's own handlers and the domain's request table, so a new message cannot be forgotten by
// both nor claimed by both.
func TestEveryRequestIsRouted(t *testing.T) {
	for _, typ := range wire.RequestTypes() {
		_, edge := handlers[typ]
		domain := meeting.Allowed(wire.RoleHost, meeting.RequestKind(typ))
		if edge == domain {
			t.Errorf("%q: edge handler %t, domain request %t; want exactly one", typ, edge, domain)
		}
	}
	for typ := range handlers {
		if _, err := wire.Decode([]byte(`{"type":"` + typ + `"}`)); err != nil {
			if de, ok := errors.AsType[*wire.DecodeError](err); !ok || !de.Known {
				t.Errorf("handler for %q, which is no request of the protocol", typ)
			}
		}
	}
}
