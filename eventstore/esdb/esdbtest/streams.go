package esdbtest

import (
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Metadata keys and values of the EventStoreDB protocol.
const (
	keyType        = "type"
	keyContentType = "content-type"
	keyCreated     = "created"
	contentJSON    = "application/json"
	contentBinary  = "application/octet-stream"
)

// streamsService implements the Read and Append calls of the Streams
// service. Delete, Tombstone and BatchAppend answer Unimplemented: the
// official Go client never uses BatchAppend for AppendToStream, and the
// adapter deletes nothing.
type streamsService struct {
	api.UnimplementedStreamsServer
	srv *Server
}

// Append receives the options, then one message per event, and answers
// once the client has sent everything, as EventStoreDB does.
func (s *streamsService) Append(stream api.Streams_AppendServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "the first message of an append must carry its options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	if name == "" {
		return status.Error(codes.InvalidArgument, "empty stream name")
	}
	var exp expectation
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Any:
		exp.kind = expectAny
	case *api.AppendReq_Options_NoStream:
		exp.kind = expectNoStream
	case *api.AppendReq_Options_StreamExists:
		exp.kind = expectExists
	case *api.AppendReq_Options_Revision:
		exp = expectation{kind: expectRevision, rev: o.Revision}
	default:
		return status.Error(codes.InvalidArgument, "missing expected stream revision")
	}

	var (
		events []proposed
		size   int
	)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := msg.GetProposedMessage()
		if pm == nil {
			return status.Error(codes.InvalidArgument, "expected a proposed message")
		}
		p, err := fromProposed(pm)
		if err != nil {
			return err
		}
		// Checked while reading, as the real server does, so an
		// oversized append fails before all of it has been received.
		size += sizeOnDisk(p)
		if size > s.srv.log.maxAppendSize {
			stream.SetTrailer(metadata.Pairs(
				"exception", "maximum-append-size-exceeded",
				"maximum-append-size", strconv.Itoa(s.srv.log.maxAppendSize),
			))
			return status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", s.srv.log.maxAppendSize)
		}
		events = append(events, p)
	}

	out := s.srv.log.append(name, exp, events)
	if out.wrong {
		return stream.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{
			WrongExpectedVersion: wrongExpectedVersion(exp, out.current),
		}})
	}
	success := &api.AppendResp_Success{
		CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: out.rev},
		PositionOption: &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
			CommitPosition: out.pos, PreparePosition: out.pos,
		}},
	}
	if out.current < 0 {
		success.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
		success.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	}
	return stream.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: success}})
}

func fromProposed(pm *api.AppendReq_ProposedMessage) (proposed, error) {
	id, err := fromUUID(pm.GetId())
	if err != nil {
		return proposed{}, status.Errorf(codes.InvalidArgument, "event id: %v", err)
	}
	typ, ok := pm.GetMetadata()[keyType]
	if !ok {
		return proposed{}, status.Errorf(codes.InvalidArgument, "Required Metadata Property '%s' is missing", keyType)
	}
	ct, ok := pm.GetMetadata()[keyContentType]
	if !ok {
		return proposed{}, status.Errorf(codes.InvalidArgument, "Required Metadata Property '%s' is missing", keyContentType)
	}
	if typ == "" {
		return proposed{}, status.Error(codes.InvalidArgument, "Empty eventType provided.")
	}
	if id == uuid.Nil {
		return proposed{}, status.Error(codes.InvalidArgument, "Empty eventId provided.")
	}
	// The server keeps only whether the content is JSON, so that is all a
	// reader gets back: application/json or application/octet-stream.
	return proposed{id: id, typ: typ, json: ct == contentJSON, data: pm.GetData(), meta: pm.GetCustomMetadata()}, nil
}

func fromUUID(u *shared.UUID) (uuid.UUID, error) {
	switch v := u.GetValue().(type) {
	case *shared.UUID_Structured_:
		var id uuid.UUID
		most, least := uint64(v.Structured.GetMostSignificantBits()), uint64(v.Structured.GetLeastSignificantBits())
		for i := range 8 {
			id[i] = byte(most >> (56 - 8*i))
			id[8+i] = byte(least >> (56 - 8*i))
		}
		return id, nil
	case *shared.UUID_String_:
		return uuid.Parse(v.String_)
	default:
		return uuid.Nil, errors.New("missing")
	}
}

func toUUID(id uuid.UUID, structured bool) *shared.UUID {
	if !structured {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	var most, least uint64
	for i := range 8 {
		most = most<<8 | uint64(id[i])
		least = least<<8 | uint64(id[8+i])
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits: int64(most), LeastSignificantBits: int64(least),
	}}}
}

func wrongExpectedVersion(exp expectation, current int64) *api.AppendResp_WrongExpectedVersion {
	w := &api.AppendResp_WrongExpectedVersion{}
	if current < 0 {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(current)}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(current)}
	}
	switch exp.kind {
	case expectAny:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	case expectExists:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	case expectNoStream:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case expectRevision:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.rev}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: exp.rev}
	}
	return w
}

// readEvent is an event as the Read call sends it. Every event carries the
// created, type and content-type metadata: the official Go client calls
// log.Fatalf on an event without a parsable created time.
func readEvent(r *record, structuredIDs, withCommit bool) *api.ReadResp {
	ct := contentBinary
	if r.json {
		ct = contentJSON
	}
	ev := &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               toUUID(r.id, structuredIDs),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.rev,
			PreparePosition:  r.pos,
			CommitPosition:   r.pos,
			Metadata: map[string]string{
				keyType:        r.typ,
				keyContentType: ct,
				keyCreated:     strconv.FormatInt(r.created, 10),
			},
			CustomMetadata: r.meta,
			Data:           r.data,
		},
		Position: &api.ReadResp_ReadEvent_NoPosition{NoPosition: &shared.Empty{}},
	}
	if withCommit {
		ev.Position = &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos}
	}
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: ev}}
}

// Read serves stream reads, $all reads and $all subscriptions. A plain
// read answers only with events or stream_not_found: the official Go
// client panics on any other message in a read.
func (s *streamsService) Read(req *api.ReadReq, stream api.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "missing read options")
	}
	structured := opts.GetUuidOption().GetString_() == nil
	backwards := opts.GetReadDirection() == api.ReadReq_Options_Backwards

	if opts.GetSubscription() != nil {
		if opts.GetStream() != nil {
			return status.Error(codes.Unimplemented, "stream subscriptions are not implemented by the test server; subscribe to $all")
		}
		return s.subscribeAll(opts, structured, stream)
	}
	count := opts.GetCount()

	if so := opts.GetStream(); so != nil {
		name := string(so.GetStreamIdentifier().GetStreamName())
		var from uint64
		switch o := so.GetRevisionOption().(type) {
		case *api.ReadReq_Options_StreamOptions_Start:
			from = 0
		case *api.ReadReq_Options_StreamOptions_End:
			from = ^uint64(0)
		case *api.ReadReq_Options_StreamOptions_Revision:
			from = o.Revision
		default:
			return status.Error(codes.InvalidArgument, "missing stream revision option")
		}
		recs, found := s.srv.log.readStream(name, from, backwards, count)
		if !found {
			return stream.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
			}}})
		}
		for _, r := range recs {
			if err := stream.Send(readEvent(r, structured, false)); err != nil {
				return err
			}
		}
		return nil
	}

	ao := opts.GetAll()
	if ao == nil {
		return status.Error(codes.InvalidArgument, "read neither a stream nor $all")
	}
	from, err := fromAllOptions(ao)
	if err != nil {
		return err
	}
	recs, err := s.srv.log.readAll(from, backwards, count)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	f, err := newFilter(opts.GetFilter())
	if err != nil {
		return err
	}
	for _, r := range recs {
		if !f.match(r) {
			continue
		}
		if err := stream.Send(readEvent(r, structured, true)); err != nil {
			return err
		}
	}
	return nil
}

func fromAllOptions(ao *api.ReadReq_Options_AllOptions) (allPosition, error) {
	switch o := ao.GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Start:
		return allPosition{start: true}, nil
	case *api.ReadReq_Options_AllOptions_End:
		return allPosition{end: true}, nil
	case *api.ReadReq_Options_AllOptions_Position:
		return allPosition{commit: o.Position.GetCommitPosition(), prepare: o.Position.GetPreparePosition()}, nil
	default:
		return allPosition{}, status.Error(codes.InvalidArgument, "missing $all position option")
	}
}

// errDropped ends a subscription that DropSubscriptions dropped.
var errDropped = status.Error(codes.Unavailable, "subscription dropped by the test server")

// subscriptionChunk bounds how many records a subscription takes from the
// log at a time; it never holds the log's lock while sending.
const subscriptionChunk = 256

// subscribeAll follows $all after the start position: confirmation first,
// then history, a checkpoint and caught-up at the head, then live events.
// It pulls from the log at its own pace, so a slow client slows only its
// own subscription, never a writer.
func (s *streamsService) subscribeAll(opts *api.ReadReq_Options, structured bool, stream api.Streams_ReadServer) error {
	from, err := fromAllOptions(opts.GetAll())
	if err != nil {
		return err
	}
	f, err := newFilter(opts.GetFilter())
	if err != nil {
		return err
	}
	cursor, err := s.srv.log.subscriptionStart(from)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	dropped := s.srv.log.drops()
	id := uuid.NewString()
	if err := stream.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{
		Confirmation: &api.ReadResp_SubscriptionConfirmation{SubscriptionId: id},
	}}); err != nil {
		return err
	}
	s.srv.logger.Debug("subscription started", "id", id, "after", cursor, "filtered", f.active())

	var (
		ctx      = stream.Context()
		caughtUp bool
		scanned  uint32 // events looked at since the last checkpoint
	)
	for {
		recs, changed, head := s.srv.log.after(cursor, subscriptionChunk)
		for _, r := range recs {
			select {
			case <-dropped:
				return errDropped
			default:
			}
			cursor = r.pos
			if f.match(r) {
				if err := stream.Send(readEvent(r, structured, true)); err != nil {
					return err
				}
			}
			if !f.active() {
				continue
			}
			scanned++
			if scanned >= f.checkpointEvery {
				scanned = 0
				if err := sendCheckpoint(stream, r.pos); err != nil {
					return err
				}
			}
		}
		if len(recs) == subscriptionChunk {
			continue
		}
		if f.active() && scanned > 0 {
			// At the head a filtered subscription reports a checkpoint at
			// the position the next event will take, as EventStoreDB does
			// (kurrent-io/KurrentDB#4970): resuming after it would skip
			// that event, so an adapter must never resume from one.
			scanned = 0
			if err := sendCheckpoint(stream, head); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if !s.srv.opts.NoCaughtUp {
				if err := stream.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
					return err
				}
			}
		}
		select {
		case <-changed:
		case <-dropped:
			s.srv.logger.Debug("subscription dropped on request", "id", id, "at", cursor)
			return errDropped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func sendCheckpoint(stream api.Streams_ReadServer, pos uint64) error {
	return stream.Send(&api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{
		CommitPosition: pos, PreparePosition: pos,
	}}})
}

// filter is a server-side subscription filter: a regex or a set of
// prefixes, on the stream name or the event type.
type filter struct {
	on              bool
	onType          bool
	re              *regexp.Regexp
	prefixes        []string
	checkpointEvery uint32
}

func newFilter(fo *api.ReadReq_Options_FilterOptions) (filter, error) {
	if fo == nil {
		return filter{}, nil
	}
	f := filter{on: true}
	var expr *api.ReadReq_Options_FilterOptions_Expression
	switch {
	case fo.GetStreamIdentifier() != nil:
		expr = fo.GetStreamIdentifier()
	case fo.GetEventType() != nil:
		expr, f.onType = fo.GetEventType(), true
	default:
		return filter{}, status.Error(codes.InvalidArgument, "filter on neither stream nor event type")
	}
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return filter{}, status.Errorf(codes.InvalidArgument, "filter regex: %v", err)
		}
		f.re = re
	} else {
		f.prefixes = expr.GetPrefix()
	}
	// A checkpoint every window × multiplier events looked at, as the
	// server pages through the log one search window at a time.
	window := fo.GetMax()
	if window == 0 {
		window = 32
	}
	f.checkpointEvery = window * max(fo.GetCheckpointIntervalMultiplier(), 1)
	return f, nil
}

func (f filter) active() bool { return f.on }

func (f filter) match(r *record) bool {
	if !f.on {
		return true
	}
	s := r.stream
	if f.onType {
		s = r.typ
	}
	if f.re != nil {
		return f.re.MatchString(s)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
