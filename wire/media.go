package wire

import (
	"errors"
	"fmt"
)

// Source names what a published track carries (PROTOCOL.md 1.1, "Sources and screen share"):
// the track id a subscriber sees, and the values of an offer's sources.
type Source string

// The sources.
const (
	SourceMicrophone  Source = "microphone"
	SourceCamera      Source = "camera"
	SourceScreen      Source = "screen"
	SourceScreenAudio Source = "screenAudio"
)

// Valid reports whether s is one of the protocol's sources.
func (s Source) Valid() bool {
	switch s {
	case SourceMicrophone, SourceCamera, SourceScreen, SourceScreenAudio:
		return true
	}
	return false
}

// Video reports whether s is a video source (the ones setVideoQuality and publisherLayers name).
func (s Source) Video() bool { return s == SourceCamera || s == SourceScreen }

// Quality is what a subscriber asks of one video track (setVideoQuality).
type Quality string

// The qualities: high is up to the full layer f, medium up to h, low the lowest layer q, off
// nothing.
const (
	QualityHigh   Quality = "high"
	QualityMedium Quality = "medium"
	QualityLow    Quality = "low"
	QualityOff    Quality = "off"
)

// Valid reports whether q is one of the protocol's qualities.
func (q Quality) Valid() bool {
	switch q {
	case QualityHigh, QualityMedium, QualityLow, QualityOff:
		return true
	}
	return false
}

// LayerRIDs are the simulcast layers' RIDs, lowest first.
var LayerRIDs = [...]string{"q", "h", "f"}

// SetVideoQuality asks the server for a quality of one participant's camera or screen on the
// sender's subscriber connection.
type SetVideoQuality struct {
	ParticipantID *string `json:"participantId"`
	Source        Source  `json:"source"`
	Quality       Quality `json:"quality"`
}

// MessageType implements Request.
func (*SetVideoQuality) MessageType() string { return TypeSetVideoQuality }

func (q *SetVideoQuality) validate() error {
	if q.ParticipantID == nil {
		return missing("participantId")
	}
	if !q.Source.Video() {
		return errors.New(`"source" must be "camera" or "screen"`)
	}
	if !q.Quality.Valid() {
		return errors.New(`"quality" must be "high", "medium", "low" or "off"`)
	}
	return nil
}

// validateSources checks an offer's sources: each value one of the protocol's sources. Which
// sections they name, and whether they fit the offer, the media server judges.
func validateSources(sources map[string]Source) error {
	for mid, src := range sources {
		if !src.Valid() {
			return fmt.Errorf(`"sources": %q for mid %q is not a source`, src, mid)
		}
	}
	return nil
}

// PublisherLayers goes to a publisher: the simulcast layers of one of its video sources that
// some subscriber needs now (RIDs, lowest first); it may stop encoding the others.
type PublisherLayers struct {
	Source Source   `json:"source"`
	Active []string `json:"active"`
}

// EventType returns "publisherLayers".
func (PublisherLayers) EventType() string { return "publisherLayers" }
