package redisstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// takeover is meeting.Takeover as stored: field "takeover" of the meeting's hash, JSON. It is
// written whole (the newest snapshot; the meeting's saver coalesces changes), so it goes with
// the record: deleted with it, expired with it.
type takeover struct {
	MuteLock    bool            `json:"muteLock,omitempty"`
	TimerID     string          `json:"timerId,omitempty"`
	TimerEndsAt int64           `json:"timerEndsAt,omitempty"` // Unix ms
	HostMutes   map[string]bool `json:"hostMutes,omitempty"`
	HostID      string          `json:"hostId,omitempty"`
	Seats       []savedSeat     `json:"seats,omitempty"`
	ChatSeq     uint64          `json:"chatSeq,omitempty"`
}

// savedSeat is meeting.SavedSeat as stored: the participant as on the wire, the token's hash
// in hex ("" for none).
type savedSeat struct {
	Participant wire.Participant `json:"participant"`
	BrowserID   string           `json:"browserId,omitempty"`
	TokenHash   string           `json:"tokenHash,omitempty"`
}

func encodeSeats(seats []meeting.SavedSeat) []savedSeat {
	out := make([]savedSeat, len(seats))
	for i, s := range seats {
		out[i] = savedSeat{Participant: s.Participant, BrowserID: s.BrowserID}
		if s.TokenHash != ([32]byte{}) {
			out[i].TokenHash = hex.EncodeToString(s.TokenHash[:])
		}
	}
	return out
}

func decodeSeats(meetingID string, seats []savedSeat) ([]meeting.SavedSeat, error) {
	out := make([]meeting.SavedSeat, len(seats))
	for i, s := range seats {
		out[i] = meeting.SavedSeat{Participant: s.Participant, BrowserID: s.BrowserID}
		if s.TokenHash == "" {
			continue
		}
		b, err := hex.DecodeString(s.TokenHash)
		if err != nil || len(b) != len(out[i].TokenHash) {
			return nil, fmt.Errorf("meeting %s in redis: bad token hash of participant %s", meetingID, s.Participant.ID)
		}
		copy(out[i].TokenHash[:], b)
	}
	return out, nil
}

// saveTakeoverScript writes the field only into an existing record (a meeting that expired or
// was deleted meanwhile must not come back as a record with nothing but this field) owned by
// the writer (Fenced). ARGV: the writer's node, the state.
var saveTakeoverScript = redis.NewScript(ownedBy + `
redis.call('HSET', KEYS[1], 'takeover', ARGV[2])
return 1`)

// SaveTakeover implements meeting.TakeoverStore.
func (s *Store) SaveTakeover(ctx context.Context, meetingID string, t meeting.Takeover) error {
	st := takeover{MuteLock: t.MuteLock, TimerID: t.TimerID, HostMutes: t.HostMutes, HostID: t.HostID,
		Seats: encodeSeats(t.Seats), ChatSeq: t.ChatSeq}
	if t.TimerID != "" {
		st.TimerEndsAt = t.TimerEndsAt.UnixMilli()
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode takeover state: %w", err)
	}
	if err := saveTakeoverScript.Run(ctx, s.rdb, []string{Key(meetingID)}, s.node, string(b)).Err(); err != nil {
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
	seats, err := decodeSeats(meetingID, st.Seats)
	if err != nil {
		return meeting.Takeover{}, false, err
	}
	t := meeting.Takeover{MuteLock: st.MuteLock, TimerID: st.TimerID, HostMutes: st.HostMutes, HostID: st.HostID,
		Seats: seats, ChatSeq: st.ChatSeq}
	if st.TimerID != "" {
		t.TimerEndsAt = time.UnixMilli(st.TimerEndsAt)
	}
	return t, true, nil
}
