package main

import (
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// openURL is an address to open Parley at, as the startup lines tell it.
type openURL struct {
	url string
	// who it is for: "everyone" (the public URL), "this machine", "the local network".
	who string
	// camera says browsers will let pages there use camera and microphone: they allow them only
	// in a secure context, https or localhost.
	camera bool
}

// openURLs lists where people can open Parley, best first: the public URL if there is one; the
// ACME names; else this machine (localhost) and, when the server listens on every interface,
// its LAN addresses.
func openURLs(scheme string, listen *net.TCPAddr, publicURL string, acmeDomains []string, lan []net.IP) []openURL {
	if publicURL != "" {
		return []openURL{{url: publicURL, who: "everyone", camera: secureContext(publicURL)}}
	}
	port := listen.Port
	hostPort := func(host string, defaultPort int) string {
		if port == defaultPort {
			return host
		}
		return net.JoinHostPort(host, strconv.Itoa(port))
	}
	var out []openURL
	if len(acmeDomains) > 0 {
		for _, d := range acmeDomains {
			out = append(out, openURL{url: "https://" + hostPort(d, 443), who: "everyone", camera: true})
		}
		return out
	}
	defaultPort := 80
	if scheme == "https" {
		defaultPort = 443
	}
	add := func(host, who string) {
		u := scheme + "://" + hostPort(host, defaultPort)
		out = append(out, openURL{url: u, who: who, camera: secureContext(u)})
	}
	switch ip := listen.IP; {
	case ip == nil || ip.IsUnspecified():
		add("localhost", "this machine")
		for _, a := range lanChoice(lan) {
			add(a.String(), "the local network")
		}
	case ip.IsLoopback():
		add(ip.String(), "this machine")
	default:
		add(ip.String(), "the local network")
	}
	return out
}

// lanChoice is the LAN addresses worth printing: the IPv4 ones, or the IPv6 ones when there is no
// IPv4 address. (Listening on every interface, Go listens on both.)
func lanChoice(lan []net.IP) []net.IP {
	var v4, v6 []net.IP
	for _, ip := range lan {
		if ip.To4() != nil {
			v4 = append(v4, ip)
		} else {
			v6 = append(v6, ip)
		}
	}
	if len(v4) > 0 {
		return v4
	}
	return v6
}

// secureContext reports whether browsers treat pages at rawURL as a secure context: https, or
// http on localhost or a loopback address.
func secureContext(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// logURLs prints the startup lines: each address to open, then a warning for those where
// browsers will refuse camera and microphone.
func logURLs(log *slog.Logger, urls []openURL) {
	var noCamera []string
	for _, u := range urls {
		log.Info("open Parley at", "url", u.url, "for", u.who)
		if !u.camera {
			noCamera = append(noCamera, u.url)
		}
	}
	if len(noCamera) > 0 {
		log.Warn("cameras and microphones will not work at these addresses: browsers allow them only over https or on localhost",
			"urls", noCamera,
			"fix", "serve https: -dev (self-signed, for a LAN), -acme-domain (a public name), or a proxy with TLS; see the README, Put it on the internet")
	}
}

// httpsPort is the port browsers reach https on: the public URL's, if it is an https one (the
// server may listen on another port behind a port mapping), else the listener's.
func httpsPort(publicURL string, listenPort int) int {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme != "https" {
		return listenPort
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	return 443
}
