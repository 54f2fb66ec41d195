package wire

import "errors"

// IceRestart asks the server for a subscriber offer that restarts ICE (PROTOCOL.md 1.1,
// "Staying connected"): the client's network changed and the old candidate pairs are dead.
// The publisher connection restarts with a client's offer instead.
type IceRestart struct {
	Target string `json:"target"`
}

// MessageType implements Request.
func (*IceRestart) MessageType() string { return TypeIceRestart }

func (r *IceRestart) validate() error {
	if r.Target != TargetSubscriber {
		return errors.New(`"target" must be "subscriber" (the publisher restarts ICE with a new offer)`)
	}
	return nil
}
