package cluster

import (
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client opens the Redis that rawURL names, through go-redis's universal client:
//
//   - redis://[user:pass@]host:port[/db] (rediss:// for TLS): one Redis server;
//   - ...?master_name=NAME: Sentinel, with host:port (and any addr=host:port) the sentinels;
//   - ...?cluster=true, or several addr= parameters: Redis Cluster, host:port a seed node.
//
// Timeouts default to short ones (1 s to dial, read and write; one retry) so that an outage
// turns into clear errors quickly rather than joins that hang; the URL's own dial_timeout,
// read_timeout, write_timeout and max_retries win.
func Client(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("redis URL %q: the scheme must be redis:// or rediss://", u.Redacted())
	}
	q := u.Query()
	set := func(name string) bool { return q.Has(name) }
	short := func(dial, read, write *time.Duration, retries *int) {
		if !set("dial_timeout") {
			*dial = time.Second
		}
		if !set("read_timeout") {
			*read = time.Second
		}
		if !set("write_timeout") {
			*write = time.Second
		}
		if !set("max_retries") {
			*retries = 1
		}
	}
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis URL %q: %w", u.Redacted(), err)
		}
		short(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries)
		return redis.NewFailoverClient(o), nil
	case q.Get("cluster") == "true" || len(q["addr"]) > 0:
		q.Del("cluster")
		u.RawQuery = q.Encode()
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redis URL %q: %w", u.Redacted(), err)
		}
		short(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries)
		return redis.NewClusterClient(o), nil
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis URL %q: %w", u.Redacted(), err)
		}
		short(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries)
		return redis.NewClient(o), nil
	}
}
