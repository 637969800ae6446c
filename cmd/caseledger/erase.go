package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

func runErase(ctx context.Context, e *env, args []string) (err error) {
	fs := newFlagSet("erase", "caseledger erase --participant ID --basis BASIS --requested-by WHO [--date YYYY-MM-DD] [--operator USER] [--data DIR] [--master-key-file FILE]")
	var dataDir, participant, basis, requestedBy, on, operator string
	fs.StringVar(&dataDir, "data", defaultDataDir, "data directory holding the event store and the data keys")
	fs.StringVar(&participant, "participant", "", "id of the participant whose personal data are erased")
	fs.StringVar(&basis, "basis", "", "legal basis: "+joinValues(domain.ErasureBases()))
	fs.StringVar(&requestedBy, "requested-by", "", "who asked for the erasure: "+joinValues(domain.Requesters()))
	fs.StringVar(&on, "date", "", "date of the erasure, YYYY-MM-DD (default today in Europe/Oslo)")
	fs.StringVar(&operator, "operator", "", "your user id, recorded as who erased (default the login name)")
	fs.fromEnv("data", "CASELEDGER_DATA")
	fs.fromEnv("operator", "CASELEDGER_OPERATOR")
	mkf := addMasterKeyFlags(fs)
	storeFlag := addStoreFlag(fs)
	if err := fs.parse(e, args); err != nil {
		return err
	}
	if err := fs.required("data", "participant", "basis", "requested-by"); err != nil {
		return err
	}
	id, err := uuid.Parse(participant)
	if err != nil || id == uuid.Nil || id.String() != participant {
		return usageErrorf(fs.Name(), "--participant: not a participant id (a UUID in lower-case canonical form)")
	}
	cmd := domain.ErasePersonalDataCommand{LegalBasis: domain.ErasureBasis(basis), RequestedBy: domain.Requester(requestedBy)}
	if !cmd.LegalBasis.Valid() {
		return usageErrorf(fs.Name(), "--basis %q is not one of %s", basis, joinValues(domain.ErasureBases()))
	}
	if !cmd.RequestedBy.Valid() {
		return usageErrorf(fs.Name(), "--requested-by %q is not one of %s", requestedBy, joinValues(domain.Requesters()))
	}
	if on != "" {
		if cmd.Date, err = domain.ParseDate(on); err != nil {
			return usageErrorf(fs.Name(), "--date: %v", err)
		}
	}
	for _, name := range []string{"USER", "LOGNAME"} {
		if operator == "" {
			operator = e.getenv(name)
		}
	}
	if operator == "" || len(operator) > domain.MaxIDLen || strings.IndexFunc(operator, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return usageErrorf(fs.Name(), "--operator: a user id of 1 to %d printable bytes is needed (no login name to default to)", domain.MaxIDLen)
	}
	master, err := mkf.load(e, fs.Name(), nil)
	if err != nil {
		return err
	}
	store, err := openExistingStore(ctx, fs.Name(), storeLocation(*storeFlag, dataDir), nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close event store: %w", cerr))
		}
	}()
	keys, err := openKeyring(ctx, dataDir, master)
	if err != nil {
		return err
	}
	svc, err := casework.New(store, casework.Options{Keys: keys})
	if err != nil {
		return err
	}

	stream := domain.ParticipantStream(id)
	// Recorded as the operator's: someone with the data directory in hand,
	// outside the API's roles (as for history and access-log).
	req := casework.Request{Actor: domain.Actor{UserID: operator, Role: operatorRole}, CorrelationID: uuid.New()}
	res, err := svc.Execute(ctx, stream, req, func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
		p := domain.FoldParticipant(h)
		if len(p.Episodes) == 0 {
			return nil, errNoParticipant
		}
		if cmd.Date.IsZero() {
			cmd.Date = today
		}
		return domain.ErasePersonalData(p, cmd, today)
	})
	var rejected *domain.RejectedError
	switch {
	case errors.Is(err, errNoParticipant):
		return fmt.Errorf("erase: no participant %s in %s", id, dataDir)
	case errors.As(err, &rejected) && rejected.Code == domain.CodeAlreadyErased:
		// Loading the stream destroyed the key if a crash had left it.
		h, _, lerr := svc.Load(ctx, stream)
		if lerr != nil {
			return lerr
		}
		fmt.Fprintf(e.stdout, "the personal data of participant %s were erased already, on %s; their data key is destroyed\n", id, domain.FoldParticipant(h).ErasedOn)
		return nil
	case err != nil:
		return fmt.Errorf("erase the personal data of participant %s: %w", id, err)
	}
	fmt.Fprintf(e.stdout, "erased the personal data of participant %s: PersonalDataErased %s at revision %d (position %d), recorded %s by %s; their data key is destroyed\n",
		id, res.EventIDs[0], res.Revision, res.Position, time.Now().UTC().Format(time.RFC3339), operator)
	return nil
}

var errNoParticipant = errors.New("no such participant")

func joinValues[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
