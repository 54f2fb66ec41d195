package signaling

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/wire"
)

// Request budgets. A joined connection's requests are bounded three ways besides its own
// message rate (Config.MessagesPerSecond): the bytes it sends, judged before a message is
// decoded (a 60 KB junk message costs a decode; a byte budget makes a flood of them cost
// nothing), and the cost of its requests summed per client address and per meeting, so that
// many connections cannot multiply one connection's allowance. An offer costs offerCost (it
// builds a scratch peer connection and renegotiates); any other request costs 1. What is over a
// budget is answered rate_limited (a message refused for bytes is not decoded, so that error
// carries no id) and counted in parley_requests_limited_total{budget}.
const (
	// DefaultMessageBytesPerSecond is one connection's byte budget; four largest messages
	// (wire.MaxClientMessage) may come at once.
	DefaultMessageBytesPerSecond = 64 << 10
	messageBytesBurst            = 4 * wire.MaxClientMessage
	// DefaultAddrCostPerSecond is the request cost one client address may spend a second, with
	// a burst of four seconds' worth: a household or an office shares one address.
	DefaultAddrCostPerSecond = 100
	// DefaultMeetingCostPerSecond is the request cost one meeting may spend a second, with a
	// burst of five seconds' worth: everyone of a large meeting joining at once (an offer and a
	// few candidates each) fits.
	DefaultMeetingCostPerSecond = 400
	offerCost                   = 10
	// budgetIdle is how long an address or meeting without requests keeps its bucket.
	budgetIdle = 5 * time.Minute
)

// requestCost is what one request of typ spends of the address's and the meeting's budgets.
func requestCost(typ string) int {
	if typ == wire.TypeOffer {
		return offerCost
	}
	return 1
}

// keyedBudget is a token bucket per key, forgetting keys idle for budgetIdle.
type keyedBudget struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*keyedBucket
	swept   time.Time
}

type keyedBucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newKeyedBudget(perSecond float64, burst int) *keyedBudget {
	return &keyedBudget{rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*keyedBucket{}}
}

// allow spends n of key's budget at now, if it has them.
func (k *keyedBudget) allow(key string, n int, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.swept) > budgetIdle {
		for key, b := range k.buckets {
			if now.Sub(b.last) > budgetIdle {
				delete(k.buckets, key)
			}
		}
		k.swept = now
	}
	b := k.buckets[key]
	if b == nil {
		b = &keyedBucket{lim: rate.NewLimiter(k.rate, k.burst)}
		k.buckets[key] = b
	}
	b.last = now
	return b.lim.AllowN(now, n)
}

// budgets are the edge's shared request budgets.
type budgets struct {
	addr, meeting *keyedBudget
	limited       *prometheus.CounterVec
}

func newBudgets(cfg Config) *budgets {
	b := &budgets{
		addr:    newKeyedBudget(cfg.AddrCostPerSecond, int(4*cfg.AddrCostPerSecond)),
		meeting: newKeyedBudget(cfg.MeetingCostPerSecond, int(5*cfg.MeetingCostPerSecond)),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_requests_limited_total",
			Help: "Client messages refused as rate_limited, by budget: bytes, messages (per connection), address, meeting.",
		}, []string{"budget"}),
	}
	cfg.Registry.MustRegister(b.limited)
	return b
}

// spend charges a request of typ to the address and the meeting; it returns the budget that
// refused it, or "".
func (b *budgets) spend(addr, meetingID, typ string) string {
	return b.spendAt(addr, meetingID, typ, time.Now())
}

// spendAt is spend at the time now.
func (b *budgets) spendAt(addr, meetingID, typ string, now time.Time) string {
	n := requestCost(typ)
	if !b.addr.allow(addr, n, now) {
		b.limited.WithLabelValues("address").Inc()
		return "address"
	}
	if !b.meeting.allow(meetingID, n, now) {
		b.limited.WithLabelValues("meeting").Inc()
		return "meeting"
	}
	return ""
}

// newByteBudget is one connection's budget of bytes received.
func newByteBudget(cfg Config) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(cfg.MessageBytesPerSecond), max(messageBytesBurst, cfg.MessageBytesPerSecond))
}

// overBytes reports whether a message of n bytes is over the session's byte budget (then it is
// answered rate_limited without being decoded).
func (s *session) overBytes(n int) bool {
	if s.bytes.AllowN(time.Now(), n) {
		return false
	}
	s.srv.budgets.limited.WithLabelValues("bytes").Inc()
	return true
}
