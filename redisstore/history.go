package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// A live meeting's chat history and audit log (meeting.HistoryStore) are two Redis lists
// beside its record, "parley:m:{<meetingId>}:chat" and ":audit", one JSON value an element,
// oldest first. They share the record's hash tag, so that one script touches them all on Redis
// Cluster. They are appended (RPUSH, then LTRIM to the caps the meeting keeps in memory), never
// rewritten; they expire with the record once the meeting has ended, and go with it when it is
// deleted.

// ChatKey is the Redis key of a meeting's chat history.
func ChatKey(meetingID string) string { return Key(meetingID) + ":chat" }

// AuditKey is the Redis key of a meeting's audit log.
func AuditKey(meetingID string) string { return Key(meetingID) + ":audit" }

// appendScript appends to the lists of an existing record only (a meeting deleted meanwhile
// must not leave lists nobody deletes) owned by the writer (Fenced), trims them to their caps,
// and gives them the record's time to live when it has one (ended). KEYS: record, chat, audit.
// ARGV: the writer's node, the number of chat messages, the chat cap, the audit cap, then the
// chat messages and the audit entries.
var appendScript = redis.NewScript(ownedBy + `
local nchat = tonumber(ARGV[2])
local chat, audit = {}, {}
for i = 5, #ARGV do
  if i - 4 <= nchat then table.insert(chat, ARGV[i]) else table.insert(audit, ARGV[i]) end
end
local ttl = redis.call('PTTL', KEYS[1])
local function push(key, items, cap)
  if #items == 0 then return end
  for i = 1, #items, 1000 do
    redis.call('RPUSH', key, unpack(items, i, math.min(i + 999, #items)))
  end
  redis.call('LTRIM', key, -cap, -1)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
push(KEYS[2], chat, tonumber(ARGV[3]))
push(KEYS[3], audit, tonumber(ARGV[4]))
return 1`)

// dropChatScript deletes the chat history if the writer owns the meeting (Fenced): a node
// releasing a meeting it lost must not drop the new owner's chat. KEYS: record, chat.
var dropChatScript = redis.NewScript(ownedBy + `
redis.call('DEL', KEYS[2])
return 1`)

// AppendHistory implements meeting.HistoryStore.
func (s *Store) AppendHistory(ctx context.Context, meetingID string, chat []wire.Chat, audit []wire.AuditEntry, maxAudit int) error {
	if len(chat) == 0 && len(audit) == 0 {
		return nil
	}
	args := make([]any, 0, 4+len(chat)+len(audit))
	args = append(args, s.node, len(chat), meeting.ChatHistoryLength, max(maxAudit, 1))
	for _, m := range chat {
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode chat message: %w", err)
		}
		args = append(args, string(b))
	}
	for _, e := range audit {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode audit entry: %w", err)
		}
		args = append(args, string(b))
	}
	keys := []string{Key(meetingID), ChatKey(meetingID), AuditKey(meetingID)}
	if err := appendScript.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
		return unavailable("append meeting history in redis", err)
	}
	return nil
}

// LoadHistory implements meeting.HistoryStore.
func (s *Store) LoadHistory(ctx context.Context, meetingID string) ([]wire.Chat, []wire.AuditEntry, error) {
	var chatCmd, auditCmd *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		chatCmd = p.LRange(ctx, ChatKey(meetingID), 0, -1)
		auditCmd = p.LRange(ctx, AuditKey(meetingID), 0, -1)
		return nil
	})
	if err != nil {
		return nil, nil, unavailable("read meeting history from redis", err)
	}
	chat, err := decodeList[wire.Chat](meetingID, "chat message", chatCmd.Val())
	if err != nil {
		return nil, nil, err
	}
	audit, err := decodeList[wire.AuditEntry](meetingID, "audit entry", auditCmd.Val())
	if err != nil {
		return nil, nil, err
	}
	return chat, audit, nil
}

func decodeList[T any](meetingID, what string, vals []string) ([]T, error) {
	out := make([]T, len(vals))
	for i, v := range vals {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, fmt.Errorf("meeting %s in redis: bad %s: %w", meetingID, what, err)
		}
	}
	return out, nil
}

// DropChat implements meeting.HistoryStore.
func (s *Store) DropChat(ctx context.Context, meetingID string) error {
	if err := dropChatScript.Run(ctx, s.rdb, []string{Key(meetingID), ChatKey(meetingID)}, s.node).Err(); err != nil {
		return unavailable("drop chat history in redis", err)
	}
	return nil
}
