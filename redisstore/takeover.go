package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/meeting"
)

// takeover is meeting.Takeover as stored: field "takeover" of the meeting's hash, JSON.
type takeover struct {
	MuteLock    bool            `json:"muteLock,omitempty"`
	TimerID     string          `json:"timerId,omitempty"`
	TimerEndsAt int64           `json:"timerEndsAt,omitempty"` // Unix ms
	HostMutes   map[string]bool `json:"hostMutes,omitempty"`
}

// saveTakeoverScript writes the field only into an existing record: a meeting that expired or
// was deleted meanwhile must not come back as a record with nothing but this field.
var saveTakeoverScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'takeover', ARGV[1])
return 1`)

// SaveTakeover implements meeting.TakeoverStore.
func (s *Store) SaveTakeover(ctx context.Context, meetingID string, t meeting.Takeover) error {
	st := takeover{MuteLock: t.MuteLock, TimerID: t.TimerID, HostMutes: t.HostMutes}
	if t.TimerID != "" {
		st.TimerEndsAt = t.TimerEndsAt.UnixMilli()
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode takeover state: %w", err)
	}
	if err := saveTakeoverScript.Run(ctx, s.rdb, []string{Key(meetingID)}, string(b)).Err(); err != nil {
		return unavailable("save takeover state in redis", err)
	}
	return nil
}

// LoadTakeover implements meeting.TakeoverStore.
func (s *Store) LoadTakeover(ctx context.Context, meetingID string) (meeting.Takeover, bool, error) {
	b, err := s.rdb.HGet(ctx, Key(meetingID), "takeover").Bytes()
	if errors.Is(err, redis.Nil) {
		return meeting.Takeover{}, false, nil
	}
	if err != nil {
		return meeting.Takeover{}, false, unavailable("read takeover state from redis", err)
	}
	var st takeover
	if err := json.Unmarshal(b, &st); err != nil {
		return meeting.Takeover{}, false, fmt.Errorf("meeting %s in redis: bad takeover state: %w", meetingID, err)
	}
	t := meeting.Takeover{MuteLock: st.MuteLock, TimerID: st.TimerID, HostMutes: st.HostMutes}
	if st.TimerID != "" {
		t.TimerEndsAt = time.UnixMilli(st.TimerEndsAt)
	}
	return t, true, nil
}
