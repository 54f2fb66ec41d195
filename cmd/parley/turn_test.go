package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/parleyhq/parley/client"
)

// TestTURNOverTLS: with -turn and a certificate, the server runs the relay on its ports, a
// participant's joined.iceServers name it over UDP, TCP and TLS (at the name the client used),
// and its credential allocates through the TLS port with the operator's certificate.
func TestTURNOverTLS(t *testing.T) {
	certFile, keyFile, leaf := certPair(t, t.TempDir(), "localhost")
	s := start(t, "-listen", "127.0.0.1:0", "-turn", "-turn-port", "0", "-turn-tls-port", "0",
		"-turn-tls-cert", certFile, "-turn-tls-key", keyFile)
	ready := s.line("parley is ready")
	turnPort, _ := ready["turn_port"].(float64)
	tlsPort, _ := ready["turn_tls_port"].(float64)
	if turnPort == 0 || tlsPort == 0 {
		t.Fatalf("the ready line names no TURN ports: %v", ready)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := "http://localhost:" + listenPort(t, ready)
	created, err := client.CreateMeeting(ctx, base, "Host")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, client.Options{BaseURL: base, MeetingID: created.MeetingID, Name: "Host", HostKey: created.HostKey, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	servers := c.Joined().ICEServers
	hostPort := "127.0.0.1:" + strconv.Itoa(int(turnPort))
	want := []string{"turn:" + hostPort + "?transport=udp", "turn:" + hostPort + "?transport=tcp",
		"turns:localhost:" + strconv.Itoa(int(tlsPort)) + "?transport=tcp"}
	if len(servers) != 2 || strings.Join(servers[0].URLs, " ") != "stun:"+hostPort || strings.Join(servers[1].URLs, " ") != strings.Join(want, " ") {
		t.Fatalf("iceServers %+v, want stun:%s and %v", servers, hostPort, want)
	}

	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(tlsPort)))
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS to the relay: %v", err)
	}
	stunConn := turn.NewSTUNConn(conn)
	tc, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Conn: stunConn,
		Username: servers[1].Username, Password: servers[1].Credential, Realm: "parley"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { tc.Close(); _ = stunConn.Close() }()
	if err := tc.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := tc.Allocate()
	if err != nil {
		t.Fatalf("allocate over TLS with the issued credential: %v", err)
	}
	_ = relayed.Close()
}
