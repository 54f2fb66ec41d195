package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/wire"
)

// maxHTTPBody bounds what the client reads of an API response.
const maxHTTPBody = 1 << 20

// CreateMeeting creates a meeting (POST /api/meetings) with hostName as the host's name.
func CreateMeeting(ctx context.Context, baseURL, hostName string) (wire.Created, error) {
	return API{BaseURL: baseURL}.CreateMeeting(ctx, hostName)
}

// GetMeeting returns a meeting's public summary (GET /api/meetings/{meetingId}).
func GetMeeting(ctx context.Context, baseURL, meetingID string) (wire.MeetingInfo, error) {
	return API{BaseURL: baseURL}.GetMeeting(ctx, meetingID)
}

// API calls the server's HTTP API through a chosen HTTP client.
type API struct {
	BaseURL string
	// HTTPClient makes the calls; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// CreateMeeting creates a meeting (POST /api/meetings) with hostName as the host's name.
func (a API) CreateMeeting(ctx context.Context, hostName string) (wire.Created, error) {
	body, err := json.Marshal(map[string]string{"hostName": hostName})
	if err != nil {
		return wire.Created{}, fmt.Errorf("create meeting: %w", err)
	}
	var created wire.Created
	if err := a.do(ctx, http.MethodPost, "/api/meetings", body, http.StatusCreated, &created); err != nil {
		return wire.Created{}, fmt.Errorf("create meeting: %w", err)
	}
	return created, nil
}

// GetMeeting returns a meeting's public summary (GET /api/meetings/{meetingId}).
func (a API) GetMeeting(ctx context.Context, meetingID string) (wire.MeetingInfo, error) {
	var info wire.MeetingInfo
	if err := a.do(ctx, http.MethodGet, "/api/meetings/"+url.PathEscape(meetingID), nil, http.StatusOK, &info); err != nil {
		return wire.MeetingInfo{}, fmt.Errorf("get meeting: %w", err)
	}
	return info, nil
}

// do makes one API call; an answer other than want is returned as a *ProtocolError.
func (a API) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	u := strings.TrimRight(a.BaseURL, "/") + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return a.send(req, want, out)
}

// send makes one API call; an answer other than want is returned as a *ProtocolError.
func (a API) send(req *http.Request, want int, out any) error {
	hc := a.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != want {
		var e wire.HTTPError
		if json.Unmarshal(data, &e) != nil || e.Error.Code == "" {
			return &ProtocolError{Code: "unknown", Message: strings.TrimSpace(string(data)), HTTPStatus: resp.StatusCode}
		}
		return &ProtocolError{Code: string(e.Error.Code), Message: e.Error.Message, HTTPStatus: resp.StatusCode}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response %s: %w", data, err)
	}
	return nil
}
