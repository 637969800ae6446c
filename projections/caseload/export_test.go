package caseload

import "github.com/go-json-experiment/json"

// DecodePayload decodes an event's payload as Apply does, for the rebuild
// benchmark's measure of the decoder alone.
func DecodePayload(data []byte) error {
	var p payload
	return json.Unmarshal(data, &p)
}
