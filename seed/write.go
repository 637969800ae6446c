package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// Everything is written through casework.Service.Execute with the domain's
// decisions, exactly as the API writes, so that the demo data obey every
// rule real data obey. Each request carries an idempotency key made of the
// seed, the participant's number and the step's name: event ids derive
// from it, so the same seed writes the same ids, and a re-run finds every
// step already stored and writes nothing.

// admin is who registers programmes and employers.
func admin() domain.Actor { return domain.Actor{UserID: "seed", Role: "admin"} }

// correlationNamespace derives a request's correlation id from its key.
var correlationNamespace = uuid.MustParse("3d0f6a2c-91b7-4e5d-8c24-6b1e9f7a0c53")

// request is a seeding request for stream with idempotency key key; body
// is what the request asks, so that the same key reused for something
// else (a re-run with another reference date) is refused, not replayed.
func request(actor domain.Actor, key, stream string, body []byte) casework.Request {
	return casework.Request{
		Actor:          actor,
		CorrelationID:  uuid.NewSHA1(correlationNamespace, []byte(key)),
		IdempotencyKey: key,
		Digest:         casework.RequestDigest("SEED", stream, body),
	}
}

// outcome is what one Execute did: events it wrote, or found written.
type outcome struct {
	written, existing int
}

// execute runs one seeding request. decided tells a write from a replay:
// the service decides only when the request's events are not stored yet.
func execute(ctx context.Context, svc *casework.Service, stream string, req casework.Request, decide casework.Decision) (casework.Result, outcome, error) {
	decided := false
	res, err := svc.Execute(ctx, stream, req, func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		decided = true
		return decide(h, today)
	})
	if err != nil {
		return res, outcome{}, err
	}
	if decided {
		return res, outcome{written: len(res.EventIDs)}, nil
	}
	return res, outcome{existing: len(res.EventIDs)}, nil
}

func defineProgramme(ctx context.Context, svc *casework.Service, pr programme) (outcome, error) {
	stream := domain.ProgrammeStream(pr.slug)
	cmd := domain.DefineProgrammeCommand{Slug: pr.slug, Name: pr.name, Targets: pr.targets}
	body, err := json.Marshal(cmd)
	if err != nil {
		return outcome{}, fmt.Errorf("define programme %s: %w", pr.slug, err)
	}
	_, out, err := execute(ctx, svc, stream, request(admin(), "seed/programme/"+pr.slug, stream, body),
		func(h []domain.Recorded, _ domain.Date) ([]domain.Event, error) {
			return domain.DefineProgramme(domain.FoldProgramme(h), cmd)
		})
	if err != nil {
		return outcome{}, fmt.Errorf("define programme %s: %w", pr.slug, err)
	}
	return out, nil
}

func registerEmployer(ctx context.Context, svc *casework.Service, e employer) (outcome, error) {
	stream := domain.EmployerStream(e.id)
	body, err := json.Marshal(e.cmd)
	if err != nil {
		return outcome{}, fmt.Errorf("register employer %s: %w", e.cmd.OrganisationNumber, err)
	}
	_, out, err := execute(ctx, svc, stream, request(admin(), "seed/employer/"+e.cmd.OrganisationNumber, stream, body),
		func(h []domain.Recorded, _ domain.Date) ([]domain.Event, error) {
			return domain.RegisterEmployer(domain.FoldEmployer(h), e.cmd)
		})
	if err != nil {
		return outcome{}, fmt.Errorf("register employer %s: %w", e.cmd.OrganisationNumber, err)
	}
	return out, nil
}

// writePlan carries out a participant's plan step by step.
func writePlan(ctx context.Context, svc *casework.Service, seed uint64, pl Plan, t *tally) error {
	stream := pl.Stream()
	// ids holds the event ids each step wrote, for the corrections and
	// voids that point at them later.
	ids := make(map[string][]uuid.UUID, len(pl.Steps))
	for _, step := range pl.Steps {
		body, err := json.Marshal(step.Commands)
		if err != nil {
			return fmt.Errorf("seed participant %d, step %s: encode: %w", pl.Number, step.Name, err)
		}
		key := fmt.Sprintf("seed/%d/%d/%s", seed, pl.Number, step.Name)
		res, out, err := execute(ctx, svc, stream, request(step.Actor, key, stream, body),
			func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
				return decideStep(h, step.Commands, today, ids)
			})
		if err != nil {
			return fmt.Errorf("seed participant %d, step %s: %w", pl.Number, step.Name, err)
		}
		ids[step.Name] = res.EventIDs
		t.step(step, out)
	}
	t.participants++
	t.episodes += pl.Episodes
	return nil
}

// decideStep decides a step's commands in order. Each is decided by the
// domain against the history with the events of the commands before it
// added, so that a step of several commands is held to the same rules as
// the same commands sent one by one.
func decideStep(history []domain.Recorded, cmds []Command, today domain.Date, ids map[string][]uuid.UUID) ([]domain.Event, error) {
	var out []domain.Event
	h := history
	for i, c := range cmds {
		evs, err := decideCommand(h, c, today, ids)
		if err != nil {
			return nil, fmt.Errorf("command %d (%s): %w", i+1, eventType(c), err)
		}
		out = append(out, evs...)
		if i == len(cmds)-1 {
			break
		}
		// The history is the service's cached copy: extend a copy of it.
		h = slices.Clip(h)
		for _, ev := range evs {
			h = append(h, domain.Recorded{ID: provisionalID(len(h)), Event: ev})
		}
	}
	return out, nil
}

// provisionalID stands in for the id an event decided earlier in the same
// step will get; only the fold sees it, which needs ids to be distinct.
func provisionalID(i int) uuid.UUID {
	return uuid.NewSHA1(plannedNamespace, fmt.Appendf(nil, "provisional/%d", i))
}

func decideCommand(h []domain.Recorded, c Command, today domain.Date, ids map[string][]uuid.UUID) ([]domain.Event, error) {
	switch c := c.(type) {
	case domain.EnrolCommand:
		return domain.Enrol(domain.FoldParticipant(h), c, today)
	case domain.AssignCaseworkerCommand:
		return domain.AssignCaseworker(domain.FoldParticipant(h), c, today)
	case domain.UnassignCaseworkerCommand:
		return domain.UnassignCaseworker(domain.FoldParticipant(h), c, today)
	case domain.GiveConsentCommand:
		return domain.GiveConsent(domain.FoldParticipant(h), c, today)
	case domain.WithdrawConsentCommand:
		return domain.WithdrawConsent(domain.FoldParticipant(h), c, today)
	case domain.SetGoalCommand:
		return domain.SetGoal(domain.FoldParticipant(h), c, today)
	case domain.CloseGoalCommand:
		return domain.CloseGoal(domain.FoldParticipant(h), c, today)
	case domain.RecordMeetingCommand:
		return domain.RecordMeeting(domain.FoldParticipant(h), c, today)
	case domain.RecordScoreCommand:
		return domain.RecordScore(domain.FoldParticipant(h), c, today)
	case domain.RecordEmployerContactCommand:
		return domain.RecordEmployerContact(domain.FoldParticipant(h), c, today)
	case domain.StartPlacementCommand:
		return domain.StartPlacement(domain.FoldParticipant(h), c, today)
	case domain.ChangePlacementCommand:
		return domain.ChangePlacement(domain.FoldParticipant(h), c, today)
	case domain.EndPlacementCommand:
		return domain.EndPlacement(domain.FoldParticipant(h), c, today)
	case domain.ChangeIncomeSourceCommand:
		return domain.ChangeIncomeSource(domain.FoldParticipant(h), c, today)
	case domain.PauseParticipationCommand:
		return domain.PauseParticipation(domain.FoldParticipant(h), c, today)
	case domain.ResumeParticipationCommand:
		return domain.ResumeParticipation(domain.FoldParticipant(h), c, today)
	case domain.ExitCommand:
		return domain.Exit(domain.FoldParticipant(h), c, today)
	case domain.ErasePersonalDataCommand:
		return domain.ErasePersonalData(domain.FoldParticipant(h), c, today)
	case CorrectEntry:
		id, err := entryID(ids, c.Step, c.Index)
		if err != nil {
			return nil, err
		}
		typ, data, err := domain.EncodeEvent(c.Replacement)
		if err != nil {
			return nil, fmt.Errorf("encode replacement: %w", err)
		}
		cmd := domain.CorrectEntryCommand{EntryID: id, EntryType: typ, Reason: c.Reason, Replacement: data}
		if c.Note != "" {
			cmd.Personal = &domain.CorrectEntryPersonal{Note: c.Note}
		}
		return domain.CorrectEntry(h, cmd, today)
	case VoidEntry:
		id, err := entryID(ids, c.Step, c.Index)
		if err != nil {
			return nil, err
		}
		cmd := domain.VoidEntryCommand{EntryID: id, Reason: c.Reason}
		if c.Note != "" {
			cmd.Personal = &domain.NotePersonal{Note: c.Note}
		}
		return domain.VoidEntry(h, cmd, today)
	}
	return nil, fmt.Errorf("no decision for %T", c)
}

func entryID(ids map[string][]uuid.UUID, step string, i int) (uuid.UUID, error) {
	got, ok := ids[step]
	if !ok || i >= len(got) {
		return uuid.Nil, fmt.Errorf("the entry of step %s, event %d, is not written", step, i)
	}
	return got[i], nil
}

// eventType is the type of the event a command leads to.
func eventType(c Command) string {
	switch c.(type) {
	case domain.EnrolCommand:
		return domain.TypeParticipantEnrolled
	case domain.AssignCaseworkerCommand:
		return domain.TypeCaseworkerAssigned
	case domain.UnassignCaseworkerCommand:
		return domain.TypeCaseworkerUnassigned
	case domain.GiveConsentCommand:
		return domain.TypeConsentGiven
	case domain.WithdrawConsentCommand:
		return domain.TypeConsentWithdrawn
	case domain.SetGoalCommand:
		return domain.TypeGoalSet
	case domain.CloseGoalCommand:
		return domain.TypeGoalClosed
	case domain.RecordMeetingCommand:
		return domain.TypeMeetingHeld
	case domain.RecordScoreCommand:
		return domain.TypeIndicatorScored
	case domain.RecordEmployerContactCommand:
		return domain.TypeEmployerContacted
	case domain.StartPlacementCommand:
		return domain.TypePlacementStarted
	case domain.ChangePlacementCommand:
		return domain.TypePlacementChanged
	case domain.EndPlacementCommand:
		return domain.TypePlacementEnded
	case domain.ChangeIncomeSourceCommand:
		return domain.TypeIncomeSourceChanged
	case domain.PauseParticipationCommand:
		return domain.TypeParticipationPaused
	case domain.ResumeParticipationCommand:
		return domain.TypeParticipationResumed
	case domain.ExitCommand:
		return domain.TypeParticipantExited
	case domain.ErasePersonalDataCommand:
		return domain.TypePersonalDataErased
	case CorrectEntry:
		return domain.TypeEntryCorrected
	case VoidEntry:
		return domain.TypeEntryVoided
	}
	return fmt.Sprintf("%T", c)
}
