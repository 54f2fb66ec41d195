package signaling_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

type discardSink struct{}

func (discardSink) Deliver([]*wire.EventMessage) {}
func (discardSink) Flush()                       {}

func startBenchNode(b *testing.B, maxParticipants int) (string, *meeting.Service) {
	n := nodetest.Start(b, func(c *node.Config) {
		c.Meetings.MaxParticipants = maxParticipants
		c.Edge.JoinsPerMinute = 100000
	})
	return n.URL, n.Meetings
}

func benchCreate(b *testing.B, url string) wire.Created {
	resp, err := http.Post(url+"/api/meetings", "application/json", strings.NewReader(`{"hostName":"Host"}`))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var c wire.Created
	if err := json.Unmarshal(body, &c); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkMuteAll measures muteAll in meetings of 100 and 500 through the whole server: the
// real edge with one WebSocket per participant, the real meeting service, and the real sfu's
// gates (no Pion clients, so no published tracks: closing a gate has no packet in flight to
// wait for). Each muteAll flips allowSelfUnmute, so every participant's state changes and each
// of the N-1 participantUpdated events goes to all N members: about N² messages, every one
// encoded and written to its socket.
//
// "ws": the host is a WebSocket client too; ns/op is the time from writing the request to
// reading its ok, fanout-ms/op the time until every member has read every event it caused.
// "do": the host is a member joined directly (its own events are discarded) and ns/op is how
// long its Member.Do(MuteAll) takes: the meeting's lock section (while the lock is held no other
// request of the meeting, no join and no leave can proceed) and, where the events are handed
// to the sessions after the lock is released, that hand-over. It is an upper bound of the time
// the lock is held.
func BenchmarkMuteAll(b *testing.B) {
	for _, n := range []int{100, 500} {
		b.Run(fmt.Sprintf("ws/participants=%d", n), func(b *testing.B) { benchMuteAll(b, n, false) })
		b.Run(fmt.Sprintf("do/participants=%d", n), func(b *testing.B) { benchMuteAll(b, n, true) })
	}
}

// benchConn is a bare WebSocket member that reads and counts what it is sent, cheaply, so the
// clients take as little of the CPU as they can.
type benchConn struct {
	conn *websocket.Conn
	ok   chan struct{} // the host's: one per ok
}

func benchMuteAll(b *testing.B, n int, direct bool) {
	url, svc := startBenchNode(b, n)
	ctx := context.Background()
	created := benchCreate(b, url)
	var counted atomic.Int64 // participantUpdated and mutedByHost read by WebSocket members
	var wg sync.WaitGroup
	var host *meeting.Member
	conns := make([]*benchConn, 0, n)
	for i := range n {
		if i == 0 && direct {
			m, _, err := svc.Join(ctx, meeting.JoinRequest{MeetingID: created.MeetingID, Name: "Host", HostKey: created.HostKey}, discardSink{})
			if err != nil {
				b.Fatal(err)
			}
			host = m
			continue
		}
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", &websocket.DialOptions{
			HTTPHeader: http.Header{"Origin": []string{url}},
		})
		if err != nil {
			b.Fatal(err)
		}
		c.SetReadLimit(16 << 20)
		bc := &benchConn{conn: c, ok: make(chan struct{}, 1)}
		conns = append(conns, bc)
		join := fmt.Sprintf(`{"type":"join","id":"j","meetingId":%q,"name":"P%d"}`, created.MeetingID, i)
		if i == 0 {
			join = fmt.Sprintf(`{"type":"join","id":"j","meetingId":%q,"name":"Host","hostKey":%q}`, created.MeetingID, created.HostKey)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte(join)); err != nil {
			b.Fatal(err)
		}
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				b.Fatalf("join %d: %v", i, err)
			}
			if bytes.Contains(data, []byte(`"type":"joined"`)) {
				break
			}
			if bytes.Contains(data, []byte(`"type":"error"`)) {
				b.Fatalf("join %d: %s", i, data)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					return
				}
				switch {
				case bytes.HasPrefix(data, []byte(`{"type":"participantUpdated"`)), bytes.HasPrefix(data, []byte(`{"type":"mutedByHost"`)):
					counted.Add(1)
				case bytes.HasPrefix(data, []byte(`{"type":"ok"`)):
					bc.ok <- struct{}{}
				}
			}
		}()
	}
	defer func() {
		for _, c := range conns {
			c.conn.Close(websocket.StatusNormalClosure, "")
		}
		wg.Wait()
	}()
	// N-1 updates to each of the N-1 participants and their mutedByHost; to the host its N-1
	// updates when it reads them.
	perRound := int64((n - 1) * n)
	if !direct {
		perRound += int64(n - 1)
	}
	var fanout time.Duration
	b.ResetTimer()
	for i := range b.N {
		allow := i%2 == 0
		start := time.Now()
		if direct {
			if err := host.Do(ctx, meeting.MuteAll{AllowSelfUnmute: allow}); err != nil {
				b.Fatal(err)
			}
		} else {
			req := fmt.Sprintf(`{"type":"muteAll","id":%d,"allowSelfUnmute":%t}`, i, allow)
			if err := conns[0].conn.Write(ctx, websocket.MessageText, []byte(req)); err != nil {
				b.Fatal(err)
			}
			select {
			case <-conns[0].ok:
			case <-time.After(time.Minute):
				b.Fatal("no ok within a minute")
			}
		}
		b.StopTimer()
		want := int64(i+1) * perRound
		deadline := time.Now().Add(time.Minute)
		for counted.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("members read %d of %d events", counted.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
		fanout += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(fanout.Milliseconds())/float64(b.N), "fanout-ms/op")
}
