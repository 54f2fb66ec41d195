// Package redisstore keeps meeting records (meeting.Store) in Redis, shared by the nodes of a
// cluster, together with the one fact about a meeting that only a cluster has: which node owns
// it (holds its participants and media).
//
// A record is one Redis hash per meeting, keyed "parley:m:{<meetingId>}" (the braces make a hash
// tag, so the package works on Redis Cluster: every script touches one key). It holds the
// SHA-256 of the hostKey, never the key. Writes where two nodes may race are Lua scripts: create
// only if absent, update only if present and never reopen an ended meeting, claim ownership only
// from the owner the caller saw. The set "parley:meetings:open" counts open meetings. The hash's
// field "takeover" keeps what another node needs to take the meeting over (takeover.go): the
// host's decisions and the roster; the chat history and audit log are lists beside the hash,
// under the same hash tag (history.go).
//
// It owns the key layout of meetings and nothing of the domain's rules (package meeting) nor of
// the node registry (package cluster).
package redisstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// EndedTTL is how long an ended meeting's record stays (a join to it is meeting_ended rather
// than not_found meanwhile).
const EndedTTL = 24 * time.Hour

// openSet is the set of the ids of open meetings.
const openSet = "parley:meetings:open"

// Key is the Redis key of a meeting's record.
func Key(meetingID string) string { return "parley:m:{" + meetingID + "}" }

// Placer chooses the node a new meeting lives on; nil (or "") leaves it unowned until a node
// claims it.
type Placer func(ctx context.Context) (nodeID string, err error)

// Store is a meeting.Store in Redis.
type Store struct {
	rdb   redis.UniversalClient
	place Placer
	node  string // writes of takeover state only while this node owns the meeting ("": any)
}

// New returns a Store on rdb; place, if not nil, names the owner of each new meeting.
func New(rdb redis.UniversalClient, place Placer) *Store { return &Store{rdb: rdb, place: place} }

// Fenced returns the store as seen by node: its writes of a meeting's takeover state and
// history (takeover.go, history.go) are dropped, silently, once another node owns the meeting.
// A node that lost a meeting (it drained, or was taken for dead and is not) writes behind it
// for a moment; its old view must not overwrite the new owner's.
func (s *Store) Fenced(node string) *Store {
	c := *s
	c.node = node
	return &c
}

// ownedBy is the Lua test of the fence: the record exists and is owned by ARGV[1] (or by
// nobody, or ARGV[1] is "": no fence).
const ownedBy = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' then
  local owner = redis.call('HGET', KEYS[1], 'owner')
  if owner and owner ~= '' and owner ~= ARGV[1] then return 0 end
end
`

// createScript writes the record only if the key is absent: ids are random, but a collision
// must fail rather than hand one meeting's host key to another. ARGV: field, value pairs.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`)

// updateScript replaces the record's fields if it exists, and never turns an ended meeting
// back to open (two nodes racing: an end wins); an ended meeting's record and lists (KEYS[2],
// KEYS[3]: chat, audit) expire after the ended TTL. ARGV[1] is the ended TTL in ms, then field,
// value pairs. It returns 0 for a missing record, 1 otherwise.
var updateScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ended = redis.call('HGET', KEYS[1], 'state') == 'ended'
local ttl = ARGV[1]
local fields = {}
for i = 2, #ARGV, 2 do
  if not (ended and ARGV[i] == 'state') then
    table.insert(fields, ARGV[i]); table.insert(fields, ARGV[i+1])
  end
end
redis.call('HSET', KEYS[1], unpack(fields))
if redis.call('HGET', KEYS[1], 'state') == 'ended' then
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`)

// claimScript sets the owner to ARGV[2] only if it is still ARGV[1] (the owner the caller saw,
// "" for none) and the record exists; it returns the owner after the call.
var claimScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local cur = redis.call('HGET', KEYS[1], 'owner') or ''
if cur == ARGV[1] then
  redis.call('HSET', KEYS[1], 'owner', ARGV[2])
  return ARGV[2]
end
return cur`)

func fields(r meeting.Record) []any {
	banned, _ := json.Marshal(r.BannedBrowsers) // a list of strings always encodes
	return []any{
		"bannedBrowsers", string(banned),
		"hostKeyHash", hex.EncodeToString(r.HostKeyHash[:]),
		"hostName", r.HostName,
		"createdAt", strconv.FormatInt(r.CreatedAt.UnixMilli(), 10),
		"state", string(r.State),
		"locked", flag(r.Locked),
		"lobby", flag(r.Lobby),
		"chatDisabled", flag(r.ChatDisabled),
		"screenShareDisabled", flag(r.ScreenShareDisabled),
	}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Create implements meeting.Store: it writes the record and its owner (from the Placer).
func (s *Store) Create(ctx context.Context, r meeting.Record) error {
	args := fields(r)
	if s.place != nil {
		owner, err := s.place(ctx)
		if err != nil {
			return unavailable("place meeting", err)
		}
		args = append(args, "owner", owner)
	}
	ok, err := createScript.Run(ctx, s.rdb, []string{Key(r.ID)}, args...).Int()
	if err != nil {
		return unavailable("create meeting in redis", err)
	}
	if ok == 0 {
		return &meeting.Error{Code: wire.CodeInternal, Message: "a meeting with this id exists"}
	}
	if r.State != wire.StateEnded {
		if err := s.rdb.SAdd(ctx, openSet, r.ID).Err(); err != nil {
			return unavailable("count open meeting in redis", err)
		}
	}
	return nil
}

// Get implements meeting.Store.
func (s *Store) Get(ctx context.Context, id string) (meeting.Record, error) {
	h, err := s.rdb.HGetAll(ctx, Key(id)).Result()
	if err != nil {
		return meeting.Record{}, unavailable("read meeting from redis", err)
	}
	if len(h) == 0 {
		return meeting.Record{}, &meeting.Error{Code: wire.CodeNotFound, Message: "no such meeting"}
	}
	return parse(id, h)
}

func parse(id string, h map[string]string) (meeting.Record, error) {
	r := meeting.Record{ID: id, HostName: h["hostName"], State: wire.State(h["state"]),
		Locked: h["locked"] == "1", Lobby: h["lobby"] == "1", ChatDisabled: h["chatDisabled"] == "1",
		ScreenShareDisabled: h["screenShareDisabled"] == "1"}
	hash, err := hex.DecodeString(h["hostKeyHash"])
	if err != nil || len(hash) != len(r.HostKeyHash) {
		return meeting.Record{}, fmt.Errorf("meeting %s in redis: bad host key hash", id)
	}
	copy(r.HostKeyHash[:], hash)
	ms, err := strconv.ParseInt(h["createdAt"], 10, 64)
	if err != nil {
		return meeting.Record{}, fmt.Errorf("meeting %s in redis: bad createdAt: %w", id, err)
	}
	r.CreatedAt = time.UnixMilli(ms)
	if b := h["bannedBrowsers"]; b != "" && b != "null" {
		if err := json.Unmarshal([]byte(b), &r.BannedBrowsers); err != nil {
			return meeting.Record{}, fmt.Errorf("meeting %s in redis: bad bannedBrowsers: %w", id, err)
		}
	}
	if r.State != wire.StateOpen && r.State != wire.StateEnded {
		return meeting.Record{}, fmt.Errorf("meeting %s in redis: bad state %q", id, r.State)
	}
	return r, nil
}

// Update implements meeting.Store. An ended meeting stays ended, and its record expires after
// EndedTTL.
func (s *Store) Update(ctx context.Context, r meeting.Record) error {
	args := append([]any{EndedTTL.Milliseconds()}, fields(r)...)
	ok, err := updateScript.Run(ctx, s.rdb, []string{Key(r.ID), ChatKey(r.ID), AuditKey(r.ID)}, args...).Int()
	if err != nil {
		return unavailable("update meeting in redis", err)
	}
	if ok == 0 {
		return &meeting.Error{Code: wire.CodeNotFound, Message: "no such meeting"}
	}
	if r.State == wire.StateEnded {
		if err := s.rdb.SRem(ctx, openSet, r.ID).Err(); err != nil {
			return unavailable("count ended meeting in redis", err)
		}
	}
	return nil
}

// Delete implements meeting.RecordDeleter: the record of an ended meeting whose audit log has
// gone. (Ended records also expire by themselves after EndedTTL.)
func (s *Store) Delete(ctx context.Context, id string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, Key(id), ChatKey(id), AuditKey(id))
		p.SRem(ctx, openSet, id)
		return nil
	})
	if err != nil {
		return unavailable("delete meeting from redis", err)
	}
	return nil
}

// OpenMeetings is the number of open meetings in the cluster.
func (s *Store) OpenMeetings(ctx context.Context) (int64, error) {
	n, err := s.rdb.SCard(ctx, openSet).Result()
	if err != nil {
		return 0, unavailable("count open meetings in redis", err)
	}
	return n, nil
}

// ErrNoMeeting is Owner's and Claim's error for a meeting Redis does not hold.
var ErrNoMeeting = errors.New("no such meeting")

// Owner returns the id of the node that owns the meeting ("" for none yet), or ErrNoMeeting.
func (s *Store) Owner(ctx context.Context, meetingID string) (string, error) {
	vals, err := s.rdb.HMGet(ctx, Key(meetingID), "owner", "state").Result()
	if err != nil {
		return "", unavailable("read meeting owner from redis", err)
	}
	if vals[1] == nil {
		return "", ErrNoMeeting
	}
	owner, _ := vals[0].(string)
	return owner, nil
}

// Claim makes node the owner of the meeting if its owner is still seen (the owner the caller
// read: two nodes claiming a dead node's meeting, one wins). It returns the owner after the
// claim: node if it won, the winner if not.
func (s *Store) Claim(ctx context.Context, meetingID, seen, node string) (string, error) {
	owner, err := claimScript.Run(ctx, s.rdb, []string{Key(meetingID)}, seen, node).Text()
	if errors.Is(err, redis.Nil) {
		return "", ErrNoMeeting
	}
	if err != nil {
		return "", unavailable("claim meeting in redis", err)
	}
	return owner, nil
}

// unavailable wraps a Redis failure as the protocol's unavailable error, with a clear message
// for the client and the cause for the log.
func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %w: %w", what, err, &meeting.Error{Code: wire.CodeUnavailable,
		Message: "the cluster's shared state (Redis) is unreachable; try again shortly"})
}
