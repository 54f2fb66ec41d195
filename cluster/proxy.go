package cluster

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// Proxy serves next, except the requests about one meeting that only its owner can answer
// (GET /api/meetings/{id}: the live participant count; GET /api/meetings/{id}/audit: the log
// the owner keeps), which go to the owner when it is another node. relayed reports a request
// another node already relayed here: it is served here, never sent on. A routing failure
// (Redis down) leaves the request to next, which answers from what it can reach.
func (c *Cluster) Proxy(next http.Handler, relayed func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := meetingPath(r)
		if !ok || relayed(r) {
			next.ServeHTTP(w, r)
			return
		}
		owner, err := c.Route(r.Context(), id)
		if err != nil || owner == "" {
			next.ServeHTTP(w, r)
			return
		}
		target, err := url.Parse(owner)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		p := &httputil.ReverseProxy{
			Transport: c.http.Transport, // the other nodes' certificates verified as -node-ca says
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.SetXForwarded()
				pr.Out.Header.Set(headerSecret, c.secret)
			},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				if !certificateFailure(err) { // that one is logged once, by OwnerUnreachable
					c.log.Warn("proxy to the meeting's node", "owner", owner, "err", err)
				}
				// The owner may be dead: its check starts now (a page asks for the meeting before it
				// joins), and the request is answered from the record meanwhile.
				c.OwnerLost(id, err)
				next.ServeHTTP(w, r)
			},
		}
		p.ServeHTTP(w, r)
	})
}

// headerSecret is signaling.HeaderClusterSecret (not imported: cluster must not depend on the
// edge it serves).
const headerSecret = "X-Parley-Cluster-Secret"

// meetingPath returns the meeting id of GET /api/meetings/{id} and /api/meetings/{id}/audit.
func meetingPath(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/meetings/")
	if !ok {
		return "", false
	}
	id, tail, _ := strings.Cut(rest, "/")
	if id == "" || (tail != "" && tail != "audit") {
		return "", false
	}
	return id, true
}
