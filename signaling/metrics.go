package signaling

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// metrics are the edge's own figures; the sfu and the Go runtime register theirs separately.
type metrics struct {
	meetingsCreated prometheus.Counter
	joins           *prometheus.CounterVec
	hostActions     *prometheus.CounterVec
	refused         *prometheus.CounterVec
	participants    prometheus.Gauge
	resumes         *prometheus.CounterVec
	relayed         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		meetingsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_meetings_created_total", Help: "Meetings created.",
		}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_joins_total", Help: "Join attempts by result (ok or the error code).",
		}, []string{"result"}),
		hostActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_host_actions_total", Help: "Host requests carried out, by type.",
		}, []string{"type"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_requests_forbidden_total", Help: "Requests refused as forbidden (a non-host asking for a host power), by type.",
		}, []string{"type"}),
	}
	m.participants = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_participants", Help: "Participants connected to a meeting on this node.",
	})
	m.resumes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_resumes_total",
		Help: "Joins that resumed a participant (resume token), by whether its peer connections were kept (media: kept) or made anew (new).",
	}, []string{"media"})
	m.relayed = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_relayed_sessions", Help: "Sessions this node relays to the node that holds their meeting (a cluster).",
	})
	reg.MustRegister(m.meetingsCreated, m.joins, m.hostActions, m.refused, m.participants, m.resumes, m.relayed)
	return m
}

func (m *metrics) gauges(reg prometheus.Registerer, sessions, meetings func() float64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_websocket_sessions", Help: "Open WebSocket sessions.",
	}, sessions), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_meetings_live", Help: "Meetings held in memory on this node (open, with or without people).",
	}, meetings))
}

// countRequest counts a request that succeeded; only the host's powers are counted by type.
func (m *metrics) countRequest(typ string, role wire.Role) {
	if role == wire.RoleHost && hostOnly(typ) {
		m.hostActions.WithLabelValues(typ).Inc()
	}
}

// domainCollector exports the domain's counts (meeting.Stats): screen shares and active
// speaker changes, read when scraped.
type domainCollector struct{ stats func() meeting.Stats }

var (
	screenStartedDesc = prometheus.NewDesc("parley_screen_shares_started_total",
		"Screen shares that began to be forwarded.", nil, nil)
	screenStoppedDesc = prometheus.NewDesc("parley_screen_shares_stopped_total",
		"Screen shares that ended, by who ended them (self: the sharer; host: stopScreenShare or sharing turned off).", []string{"by"}, nil)
	speakerChangesDesc = prometheus.NewDesc("parley_active_speaker_changes_total",
		"Changes of a meeting's active speakers (activeSpeakers events, one per meeting and change).", nil, nil)
	stateSaveFailuresDesc = prometheus.NewDesc("parley_meeting_state_save_failures_total",
		"Failed writes of meetings' takeover state (roster, chat, audit) to the cluster's store; retried, the meetings go on.", nil, nil)
)

func (domainCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- screenStartedDesc
	ch <- screenStoppedDesc
	ch <- speakerChangesDesc
	ch <- stateSaveFailuresDesc
}

func (c domainCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(screenStartedDesc, prometheus.CounterValue, float64(st.ScreenSharesStarted))
	ch <- prometheus.MustNewConstMetric(screenStoppedDesc, prometheus.CounterValue, float64(st.ScreenSharesStoppedSelf), "self")
	ch <- prometheus.MustNewConstMetric(screenStoppedDesc, prometheus.CounterValue, float64(st.ScreenSharesStoppedHost), "host")
	ch <- prometheus.MustNewConstMetric(speakerChangesDesc, prometheus.CounterValue, float64(st.ActiveSpeakerChanges))
	ch <- prometheus.MustNewConstMetric(stateSaveFailuresDesc, prometheus.CounterValue, float64(st.StateSaveFailures))
}
