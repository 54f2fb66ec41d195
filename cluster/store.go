package cluster

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

// ownedStore is the meetings' Store as a node of the cluster sees it: redisstore's, except that
// only a meeting's owner may end it while the owner lives. A node's Service ends the meetings it
// has not seen used for a long time (meeting's RecordRetention), and a node does not see the
// meetings that live on another node: the node that created a meeting placed elsewhere would
// end it however busy it is there.
type ownedStore struct {
	*redisstore.Store
	c *Cluster
}

// Update implements meeting.Store.
func (s ownedStore) Update(ctx context.Context, r meeting.Record) error {
	if r.State == wire.StateEnded {
		owner, err := s.Owner(ctx, r.ID)
		if err == nil && owner != "" && owner != s.c.cfg.NodeID && s.c.alive(ctx, owner) {
			return fmt.Errorf("end meeting %s: it lives on node %s, which ends it", r.ID, owner)
		}
	}
	return s.Store.Update(ctx, r)
}

// alive reports whether the node's heartbeat has not expired (an unreachable Redis counts as
// alive: nothing is ended on a guess).
func (c *Cluster) alive(ctx context.Context, id string) bool {
	n, err := c.rdb.Exists(ctx, nodeKey(id)).Result()
	return err != nil || n == 1
}

// The takeover state and history are written fenced (redisstore.Store.Fenced): only while this
// node owns the meeting, so that a node that lost a meeting (drained, or taken for dead) and
// writes behind it for a moment never overwrites the new owner's roster.

// SaveTakeover implements meeting.TakeoverStore.
func (s ownedStore) SaveTakeover(ctx context.Context, meetingID string, t meeting.Takeover) error {
	return s.Fenced(s.c.cfg.NodeID).SaveTakeover(ctx, meetingID, t)
}

// AppendHistory implements meeting.HistoryStore.
func (s ownedStore) AppendHistory(ctx context.Context, meetingID string, chat []wire.Chat, audit []wire.AuditEntry, maxAudit int) error {
	return s.Fenced(s.c.cfg.NodeID).AppendHistory(ctx, meetingID, chat, audit, maxAudit)
}

// DropChat implements meeting.HistoryStore.
func (s ownedStore) DropChat(ctx context.Context, meetingID string) error {
	return s.Fenced(s.c.cfg.NodeID).DropChat(ctx, meetingID)
}
