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

	"parley/meeting"
	"parley/signaling/wire"
)

// maxHTTPBody bounds what the client reads of an API response.
const maxHTTPBody = 1 << 20

// CreateMeeting creates a meeting (POST /api/meetings) with hostName as the host's name.
func CreateMeeting(ctx context.Context, baseURL, hostName string) (wire.Created, error) {
	body, err := json.Marshal(map[string]string{"hostName": hostName})
	if err != nil {
		return wire.Created{}, fmt.Errorf("create meeting: %w", err)
	}
	var created wire.Created
	if err := doJSON(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+"/api/meetings", body, http.StatusCreated, &created); err != nil {
		return wire.Created{}, fmt.Errorf("create meeting: %w", err)
	}
	return created, nil
}

// GetMeeting returns a meeting's public summary (GET /api/meetings/{meetingId}).
func GetMeeting(ctx context.Context, baseURL, meetingID string) (meeting.Info, error) {
	var info meeting.Info
	u := strings.TrimRight(baseURL, "/") + "/api/meetings/" + url.PathEscape(meetingID)
	if err := doJSON(ctx, http.MethodGet, u, nil, http.StatusOK, &info); err != nil {
		return meeting.Info{}, fmt.Errorf("get meeting: %w", err)
	}
	return info, nil
}

// doJSON makes one API call; an answer other than want is returned as a *ProtocolError.
func doJSON(ctx context.Context, method, u string, body []byte, want int, out any) error {
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
	resp, err := http.DefaultClient.Do(req)
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
		return &ProtocolError{Code: e.Error.Code, Message: e.Error.Message, HTTPStatus: resp.StatusCode}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response %s: %w", data, err)
	}
	return nil
}
