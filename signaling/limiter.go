package signaling

import (
	"time"

	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// limiter allows each client address a number of actions per minute, with a burst of the same
// size, and forgets idle addresses.
type limiter struct {
	store *middleware.RateLimiterMemoryStore
}

func newLimiter(perMinute int) *limiter {
	return &limiter{store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate:      rate.Limit(float64(perMinute) / 60),
		Burst:     perMinute,
		ExpiresIn: 5 * time.Minute,
	})}
}

func (l *limiter) allow(key string) bool {
	ok, err := l.store.Allow(key)
	return err == nil && ok
}
