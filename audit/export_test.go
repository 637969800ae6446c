package audit

import (
	"crypto/sha256"
	"encoding/hex"
)

// Queued is how many callers wait for an append, so that a test can line
// callers up behind one that is under way.
func (l *Log) Queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// JournalLine is a spill journal line of one record with the given
// decision ("permit" makes it well formed), its sum correct.
func JournalLine(decision string) []byte {
	batch := `{"day":"2026-05-15","records":[{"event_id":"3b8e954f-ff9b-4c14-ae75-8c9618e3dd47","at":"2026-05-15T10:00:00Z",` +
		`"actor":{"user_id":"u-kari","role":"caseworker","office":"oslo"},"correlation_id":"84c47551-7861-479e-a22a-4be77bd78b47",` +
		`"access":{"participant_id":"a25f57f2-1a22-4066-8194-bcbb6e482865","view":"participant","personal_data":true,"decision":"` + decision + `","via":"GET /v1/participants/{id}"}}]}`
	sum := sha256.Sum256([]byte(batch))
	return []byte(`{"sha256":"` + hex.EncodeToString(sum[:]) + `","batch":` + batch + "}\n")
}
