package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/synth"
	"github.com/parleyhq/parley/wire"
)

// config is the run's settings, from the command line.
type config struct {
	url              string
	meetings         int
	publishers       int
	subscribers      int
	audioOnly        bool
	videoBitrate     int
	videoCodec       string
	fps              int
	keyframeInterval time.Duration
	duration         time.Duration
	warmup           time.Duration
	ramp             float64
	loopback         bool
	serverPID        int
	metricsURL       string
	jsonFile         string
	interceptors     string
	spreadSources    bool
	waitReady        time.Duration
	verbose          bool
	cpuProfile       string
	simulcast        bool
	qualities        []wire.Quality // asked of every publisher's camera, round robin over the subscribers
}

// maxDuration bounds a run's measurement window.
const maxDuration = time.Hour

func parseConfig(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("parley-load", flag.ContinueOnError)
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "base URL of the server (any server speaking the Parley protocol)")
	fs.IntVar(&c.meetings, "meetings", 1, "number of meetings")
	fs.IntVar(&c.publishers, "publishers", 1, "publishers per meeting (the first one is the host)")
	fs.IntVar(&c.subscribers, "subscribers", 10, "subscribers (receive only) per meeting")
	fs.BoolVar(&c.audioOnly, "audio-only", false, "publish audio only")
	fs.IntVar(&c.videoBitrate, "video-bitrate", synth.DefaultVideoBitrate, "video bitrate of each publisher, bits/s")
	fs.StringVar(&c.videoCodec, "video-codec", "VP8", "video codec: VP8 or H264")
	fs.IntVar(&c.fps, "fps", synth.DefaultFPS, "video frames per second")
	fs.DurationVar(&c.keyframeInterval, "keyframe-interval", synth.DefaultKeyframeInterval, "time between periodic keyframes")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "length of the measurement window, after every join and the warm-up")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "time between the last join and the measurement window")
	fs.Float64Var(&c.ramp, "ramp", 20, "joins started per second")
	loopback := fs.Bool("loopback", false, "keep media on 127.0.0.1 (default: true when the URL's host is loopback)")
	fs.IntVar(&c.serverPID, "server-pid", 0, "PID of a local server process, for its CPU and memory")
	fs.StringVar(&c.metricsURL, "metrics-url", "", "the server's Prometheus /metrics URL, for forwarded packets (and CPU, memory without -server-pid)")
	fs.StringVar(&c.jsonFile, "json", "", "write the results as JSON to this file")
	fs.StringVar(&c.interceptors, "interceptors", "default", "clients' RTP interceptors: default (as browsers: NACK, reports, TWCC) or lean (NACK, reports)")
	spread := fs.Bool("spread-sources", false, "give every client its own 127.x source address, as distinct users have (default: true for a loopback URL)")
	fs.DurationVar(&c.waitReady, "wait-ready", 0, "wait up to this long for the server's /readyz before starting")
	fs.BoolVar(&c.verbose, "v", false, "log the clients' warnings")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile of the measurement window to this file")
	fs.BoolVar(&c.simulcast, "simulcast", false, "publish the camera as three simulcast layers (q, h, f at a tenth, a third and all of -video-bitrate), obeying the server's publisherLayers")
	quality := fs.String("quality", "", "comma-separated qualities (high, medium, low, off) the subscribers ask of each publisher's camera, in turn (default: none asked, the server's high)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("-url %q: want http(s)://host[:port]", c.url)
	}
	c.url = strings.TrimRight(c.url, "/")
	local := isLoopbackHost(u.Hostname())
	c.loopback, c.spreadSources = local, local
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "loopback":
			c.loopback = *loopback
		case "spread-sources":
			c.spreadSources = *spread
		}
	})
	if c.spreadSources && !local {
		return c, errors.New("-spread-sources needs a loopback server URL")
	}
	if *quality != "" {
		for _, q := range strings.Split(*quality, ",") {
			if q := wire.Quality(strings.TrimSpace(q)); q.Valid() {
				c.qualities = append(c.qualities, q)
			} else {
				return c, fmt.Errorf("-quality %q: want high, medium, low or off, comma-separated", *quality)
			}
		}
	}
	if c.simulcast && c.audioOnly {
		return c, errors.New("-simulcast needs video (not -audio-only)")
	}
	if c.videoCodec = strings.ToUpper(c.videoCodec); c.videoCodec != string(synth.VP8) && c.videoCodec != string(synth.H264) {
		return c, fmt.Errorf("-video-codec %q: want VP8 or H264", c.videoCodec)
	}
	switch {
	case c.meetings < 1 || c.meetings > 10000:
		return c, fmt.Errorf("-meetings %d: want 1 to 10000", c.meetings)
	case c.publishers < 1 || c.publishers > 1000:
		return c, fmt.Errorf("-publishers %d: want 1 to 1000 (the first publisher is the host)", c.publishers)
	case c.subscribers < 0 || c.subscribers > 10000:
		return c, fmt.Errorf("-subscribers %d: want 0 to 10000", c.subscribers)
	case c.duration <= 0 || c.duration > maxDuration:
		return c, fmt.Errorf("-duration %v: want more than 0 and at most %v", c.duration, maxDuration)
	case c.warmup < 0 || c.warmup > time.Minute:
		return c, fmt.Errorf("-warmup %v: want 0 to 1m", c.warmup)
	case c.ramp <= 0 || c.ramp > 1000:
		return c, fmt.Errorf("-ramp %v: want more than 0 and at most 1000 joins/s", c.ramp)
	case c.serverPID < 0:
		return c, fmt.Errorf("-server-pid %d: not a PID", c.serverPID)
	case c.interceptors != "default" && c.interceptors != "lean":
		return c, fmt.Errorf("-interceptors %q: want default or lean", c.interceptors)
	case c.waitReady < 0 || c.waitReady > 5*time.Minute:
		return c, fmt.Errorf("-wait-ready %v: want 0 to 5m", c.waitReady)
	}
	if !c.audioOnly {
		if _, err := synth.NewVideo(c.videoConfig()); err != nil {
			return c, err
		}
	}
	if c.metricsURL != "" {
		if m, err := url.Parse(c.metricsURL); err != nil || (m.Scheme != "http" && m.Scheme != "https") || m.Host == "" {
			return c, fmt.Errorf("-metrics-url %q: want http(s)://host[:port]/path", c.metricsURL)
		}
	}
	return c, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c config) videoConfig() synth.VideoConfig {
	return synth.VideoConfig{Codec: synth.Codec(c.videoCodec), Bitrate: c.videoBitrate, FPS: c.fps, KeyframeInterval: c.keyframeInterval}
}

func (c config) publishOptions() client.PublishOptions {
	return client.PublishOptions{
		Audio: true, Video: !c.audioOnly, VideoCodec: synth.Codec(c.videoCodec),
		VideoBitrate: c.videoBitrate, FPS: c.fps, KeyframeInterval: c.keyframeInterval,
		Simulcast: c.simulcast,
	}
}

func (c config) clientInterceptors() client.Interceptors {
	if c.interceptors == "lean" {
		return client.LeanInterceptors
	}
	return client.DefaultInterceptors
}

// describe is the scenario in one line.
func (c config) describe() string {
	media := "audio only"
	if !c.audioOnly {
		media = fmt.Sprintf("audio + %s %.2f Mbit/s %d fps", c.videoCodec, float64(c.videoBitrate)/1e6, c.fps)
		if c.simulcast {
			media += " simulcast (3 layers)"
		}
		if len(c.qualities) > 0 {
			media += fmt.Sprintf(", subscribers ask %v", c.qualities)
		}
	}
	return fmt.Sprintf("%d meeting(s) x (%d publisher(s) + %d subscriber(s)), %s", c.meetings, c.publishers, c.subscribers, media)
}
