// Package domain holds caseledger's events, the state folded from them and
// the decisions that turn a command into new events or a typed error.
//
// It is pure: it does no I/O and reads no clock. A caller passes today's
// date (in Europe/Oslo, see DateIn) to every decision that needs it and
// stamps the events it appends with Metadata of its own.
//
// The flow of a write is
//
//	history := ...                         // read the stream, DecodeRecorded each event
//	state := FoldParticipant(history)
//	events, err := RecordMeeting(state, cmd, today)
//	// err is *InvalidError (422) or *RejectedError (409)
//	typ, data, _ := EncodeEvent(events[0]) // append with the revision read
//
// Personal data and free text of an event sit only in its "personal" JSON
// member, so that one member can be encrypted and later erased while the
// public members keep the statistics (see measures.md) intact.
package domain
