package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/eventstore/bolt"
	"github.com/caseledger/caseledger/projections/caseload"
)

// newCaseloadHarness is newHarness with the caseload list served from a
// running projection; waiter, when set, replaces the runner for
// min_position.
func newCaseloadHarness(t *testing.T, waiter api.PositionWaiter) *harness {
	t.Helper()
	return newHarnessWith(t, harnessSetup{caseload: func(t *testing.T, store *bolt.Store) (*caseload.Model, api.PositionWaiter, func(context.Context) error) {
		model := caseload.New(store)
		runner := runProjection(t, store, model)
		if waiter == nil {
			waiter = runner
		}
		return model, waiter, runner.Ready
	}})
}

type caseloadDoc struct {
	Rows []struct {
		ID    uuid.UUID       `json:"id"`
		Name  string          `json:"name"`
		Phase string          `json:"phase"`
		Flags []caseload.Flag `json:"flags"`
	} `json:"rows"`
	NextCursor string          `json:"next_cursor"`
	Total      int             `json:"total"`
	Counts     caseload.Counts `json:"counts"`
	Position   uint64          `json:"position"`
}

func (h *harness) caseload(t *testing.T, who, query string, min uint64) caseloadDoc {
	t.Helper()
	path := "/v1/caseload?min_position=" + strconv.FormatUint(min, 10)
	if query != "" {
		path += "&" + query
	}
	r := h.get(t, who, path)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %s", path, r)
	}
	var doc caseloadDoc
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCaseloadList(t *testing.T) {
	h := newCaseloadHarness(t, nil)
	h.setupProgramme(t, "hope-oslo")
	mine := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02"))
	h.ok(t, http.StatusOK, "team-lead", participantPath(mine, "/caseworkers/assign"), object{"user_id": "u-kari", "role": "job_specialist", "date": "2026-03-02"})
	protected := enrolBody("oslo", nationalID(t, "1990-04-12", 200), "2026-03-02")
	protected["address_protection"] = true
	delete(protected["personal"].(object), "phone")
	prot := h.enrol(t, "caseworker", protected)
	last := h.ok(t, http.StatusOK, "team-lead", participantPath(prot, "/caseworkers/assign"), object{"user_id": "u-kari", "role": "job_specialist", "date": "2026-03-02"})

	t.Run("the caseworker's own participants, with names, read after the write", func(t *testing.T) {
		doc := h.caseload(t, "caseworker", "sort=enrolled_on", last.Position)
		if len(doc.Rows) != 2 || doc.Position < last.Position {
			t.Fatalf("rows %d at position %d, want 2 at %d", len(doc.Rows), doc.Position, last.Position)
		}
		for _, r := range doc.Rows {
			if r.Name != "Test Person" {
				t.Errorf("name %q, want the participant's name for their caseworker", r.Name)
			}
		}
		if doc.Counts.ByFlag[caseload.FlagNoContact] != 2 {
			t.Errorf("counts %+v, want 2 without contact", doc.Counts)
		}
		// A page that shows names is a look at personal data, recorded
		// once with everyone it named, in the order shown.
		var pages []domain.AccessRecorded
		for _, a := range h.accessLog(t) {
			if a.access.View == domain.ViewCaseload && a.meta.Actor.UserID == callers["caseworker"].UserID {
				pages = append(pages, a.access)
			}
		}
		if len(pages) != 1 {
			t.Fatalf("%d caseload records for one page, want 1: %+v", len(pages), pages)
		}
		want := []uuid.UUID{doc.Rows[0].ID, doc.Rows[1].ID}
		if p := pages[0]; !p.PersonalData || p.Decision != domain.AccessPermitted || p.ParticipantID != uuid.Nil || !slices.Equal(p.Participants, want) {
			t.Errorf("caseload record %+v: want a permitted look at personal data listing %v", p, want)
		}
		if !slices.Contains(want, mine) || !slices.Contains(want, prot) {
			t.Errorf("the page showed %v, want both participants", want)
		}
	})
	t.Run("a row shown by its label is not a look at personal data", func(t *testing.T) {
		before := len(h.accessLog(t))
		doc := h.caseload(t, "team-lead", "", last.Position)
		var recorded []uuid.UUID
		for _, a := range h.accessLog(t)[before:] {
			recorded = append(recorded, a.access.Participants...)
		}
		if len(doc.Rows) != 2 || len(recorded) != 1 || recorded[0] != mine {
			t.Errorf("team lead's page recorded looks at %v, want only the named participant %s", recorded, mine)
		}
	})
	t.Run("another caseworker sees none", func(t *testing.T) {
		if doc := h.caseload(t, "caseworker-2", "", last.Position); len(doc.Rows) != 0 || doc.Counts.Total != 0 {
			t.Errorf("rows %d", len(doc.Rows))
		}
	})
	t.Run("the team lead sees the office, protected participants by label", func(t *testing.T) {
		doc := h.caseload(t, "team-lead", "", last.Position)
		names := map[string]int{}
		for _, r := range doc.Rows {
			names[r.Name]++
		}
		if names[api.ProtectedLabel] != 1 || names["Test Person"] != 1 {
			t.Errorf("names %v", names)
		}
		if doc := h.caseload(t, "team-lead", "q=test", last.Position); len(doc.Rows) != 1 || doc.Rows[0].ID != mine {
			t.Errorf("search found %d rows; a protected participant must not be found by name", len(doc.Rows))
		}
	})
	t.Run("other roles are refused", func(t *testing.T) {
		for _, who := range []string{"auditor", "evaluator", "volunteer", "admin"} {
			h.get(t, who, "/v1/caseload").problem(t, http.StatusForbidden)
		}
	})
	t.Run("bad parameters are named", func(t *testing.T) {
		for param, query := range map[string]string{
			"flag": "flag=nope", "sort": "sort=name", "limit": "limit=0", "status": "status=gone",
			"cursor": "cursor=xyz", "min_position": "min_position=-1", "phase": "phase=7",
		} {
			p := h.get(t, "team-lead", "/v1/caseload?"+query).problem(t, http.StatusBadRequest)
			if len(p.Errors) != 1 || p.Errors[0].Parameter != param {
				t.Errorf("%s: problem %+v, want one naming %s", query, p, param)
			}
		}
	})
}

// neverReached is a read model that never catches up.
type neverReached struct{}

func (neverReached) WaitFor(ctx context.Context, _ uint64) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestCaseloadReadYourWritesTimesOut(t *testing.T) {
	h := newCaseloadHarness(t, neverReached{})
	r := h.get(t, "team-lead", "/v1/caseload?min_position=99")
	r.problem(t, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// The caseload's read model may lag behind the log (or have stopped on an
// event it cannot apply), so whether a name is shown is decided on the
// participant as the log holds them when the name is opened: protection
// added by a correction, or a move to another office, takes effect at once.
func TestCaseloadNamesDecideOnTheLiveParticipant(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.setupProgramme(t, "hope-oslo")
	id := h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 300), "2026-03-02"))
	h.ok(t, http.StatusOK, "team-lead", participantPath(id, "/caseworkers/assign"), object{"user_id": "u-kari", "role": "job_specialist", "date": "2026-03-02"})
	names := api.CaseloadNames(h.svc)
	shown := func(who string) bool {
		t.Helper()
		name, ok, err := names.Name(ctx, callers[who], id)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (name != "") {
			t.Fatalf("%s: name %q with shown %v", who, name, ok)
		}
		return ok
	}
	if !shown("team-lead") || !shown("caseworker") || shown("caseworker-bergen") {
		t.Fatal("before protection: the office sees the name, another office does not")
	}

	// Protection comes with a correction of the enrolment; no read model
	// has seen it.
	var enrolmentID uuid.UUID
	hist, _, err := h.svc.Load(ctx, domain.ParticipantStream(id))
	if err != nil {
		t.Fatal(err)
	}
	enrolmentID = hist[0].ID
	replacement := enrolBody("oslo", nationalID(t, "1990-04-12", 300), "2026-03-02")
	replacement["address_protection"] = true
	personal := replacement["personal"].(object)
	delete(personal, "phone")
	delete(replacement, "personal")
	h.ok(t, http.StatusOK, "caseworker", participantPath(id, "/corrections"), object{
		"entry_id": enrolmentID.String(), "entry_type": "ParticipantEnrolled", "reason": "wrong_value",
		"replacement": replacement, "personal": object{"replacement": personal},
	})
	if shown("team-lead") {
		t.Error("after protection: the team lead, not on the team, still sees the name")
	}
	if !shown("caseworker") {
		t.Error("after protection: the assigned caseworker no longer sees the name")
	}
}

// A page's access record lists everyone it named: the largest page must
// fit in one record.
func TestTheLargestCaseloadPageFitsItsAccessRecord(t *testing.T) {
	if caseload.MaxLimit > domain.MaxListedParticipants {
		t.Fatalf("a caseload page holds up to %d rows, an access record lists up to %d participants", caseload.MaxLimit, domain.MaxListedParticipants)
	}
}
