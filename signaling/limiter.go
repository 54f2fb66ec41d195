package signaling

import "time"

// limiter allows each key (a client address, a meeting) a number of actions per minute, with a
// burst of the same size, and forgets idle keys: creates and joins, one action each, on the same
// buckets as the request budgets (keyedBudget).
type limiter struct {
	b *keyedBudget
}

func newLimiter(perMinute int) *limiter {
	return &limiter{b: newKeyedBudget(float64(perMinute)/60, perMinute)}
}

func (l *limiter) allow(key string) bool { return l.b.allow(key, 1, time.Now()) }
