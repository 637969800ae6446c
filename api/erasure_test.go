package api_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/chain"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/personaldata"
)

// erasureWorld is a participant with personal data in notes and
// statistics, and another who is not erased.
type erasureWorld struct {
	id, other uuid.UUID
	path      string
}

func newErasureWorld(t *testing.T, h *harness) erasureWorld {
	t.Helper()
	h.setupProgramme(t, "hope-oslo")
	w := erasureWorld{
		id:    h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-04-12", 100), "2026-03-02")),
		other: h.enrol(t, "caseworker", enrolBody("oslo", nationalID(t, "1990-05-13", 100), "2026-03-02")),
	}
	w.path = participantPath(w.id, "/personal-data")
	h.ok(t, http.StatusOK, "caseworker", participantPath(w.id, "/meetings"),
		object{"date": "2026-03-05", "kind": "guidance", "personal": object{"minutes": "Test minutes of a meeting"}})
	h.ok(t, http.StatusOK, "caseworker", participantPath(w.id, "/scores"),
		object{"date": "2026-03-05", "timepoint": "baseline", "instrument": "indicator_index", "instrument_version": 1,
			"scores": object{"hope": 4, "well_being": 5, "network": 3, "work_attachment": 2}})
	return w
}

func erasureBody() object {
	return object{"date": caseToday, "legal_basis": "consent_withdrawn", "requested_by": "participant"}
}

func (h *harness) keyFile(id uuid.UUID) string {
	return filepath.Join(h.dir, "keys", personaldata.KeyID(domain.ParticipantStream(id))+".key")
}

func (h *harness) del(t *testing.T, who, path string, body any, hdr ...string) response {
	t.Helper()
	m := map[string]string{}
	for i := 0; i+1 < len(hdr); i += 2 {
		m[hdr[i]] = hdr[i+1]
	}
	return h.do(t, http.MethodDelete, path, who, m, js(t, body))
}

func TestErasureIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := newErasureWorld(t, h)
	body := erasureBody()
	tests := []struct {
		name   string
		who    string
		path   string
		hdr    []string
		body   string
		status int
		field  string // where the problem points: a JSON pointer, "header:Name", or ""
	}{
		{"without a token", "", w.path, nil, body.String(), 401, ""},
		{"by a caseworker of the office", "caseworker", w.path, nil, body.String(), 403, ""},
		{"by a team lead", "team-lead", w.path, nil, body.String(), 403, ""},
		{"by an evaluator", "evaluator", w.path, nil, body.String(), 403, ""},
		{"by a volunteer", "volunteer", w.path, nil, body.String(), 403, ""},
		{"by an auditor without a purpose", "auditor", w.path, nil, body.String(), 400, "header:Purpose"},
		{"of an unknown participant", "admin", participantPath(uuid.New(), "/personal-data"), nil, body.String(), 404, ""},
		{"of a malformed id", "admin", "/v1/participants/NOT-AN-ID/personal-data", nil, body.String(), 404, ""},
		{"without a legal basis", "admin", w.path, nil, body.with("/legal_basis", drop{}), 422, "/legal_basis"},
		{"on an unknown legal basis", "admin", w.path, nil, body.with("/legal_basis", "whim"), 422, "/legal_basis"},
		{"asked by someone named", "admin", w.path, nil, body.with("/requested_by", "Test Person"), 422, "/requested_by"},
		{"without a date", "admin", w.path, nil, body.with("/date", drop{}), 422, "/date"},
		{"in the future", "admin", w.path, nil, body.with("/date", "2026-05-16"), 422, "/date"},
		{"with an unknown member", "admin", w.path, nil, body.with("/reason", "because"), 400, "/reason"},
		{"without a body", "admin", w.path, nil, "", 400, ""},
		{"with a stale If-Match", "admin", w.path, []string{"If-Match", `"0"`}, body.String(), 412, "header:If-Match"},
	}
	events := len(h.events(t, domain.ParticipantStream(w.id)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.del(t, tt.who, tt.path, tt.body, tt.hdr...)
			p := r.problem(t, tt.status)
			if tt.field != "" {
				var got []string
				for _, e := range p.Errors {
					if e.Header != "" {
						got = append(got, "header:"+e.Header)
					} else {
						got = append(got, e.Pointer)
					}
				}
				if len(got) == 0 || got[0] != tt.field {
					t.Fatalf("problem points at %v, want %s: %s", got, tt.field, r.body)
				}
			}
		})
	}
	if n := len(h.events(t, domain.ParticipantStream(w.id))); n != events {
		t.Fatalf("refused erasures appended %d events", n-events)
	}
	if _, err := os.Stat(h.keyFile(w.id)); err != nil {
		t.Fatalf("a refused erasure touched the data key: %v", err)
	}
}

func TestErasure(t *testing.T) {
	t.Parallel()
	for _, who := range []string{"admin", "auditor"} {
		t.Run("by "+who, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			w := newErasureWorld(t, h)
			stream := domain.ParticipantStream(w.id)
			before := h.participant(t, "caseworker", w.id)
			storedBefore := h.events(t, stream)

			var hdr []string
			if who == "auditor" {
				hdr = []string{"Purpose", "erasure on the participant's request"}
			}
			res := h.del(t, who, w.path, erasureBody(), hdr...).written(t, http.StatusOK)
			if res.Stream != stream || res.Revision != uint64(len(storedBefore)) || len(res.EventIDs) != 1 {
				t.Fatalf("erasure answered %+v", res)
			}
			if _, err := os.Stat(h.keyFile(w.id)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the data key survived the erasure: %v", err)
			}
			if _, err := os.Stat(h.keyFile(w.other)); err != nil {
				t.Fatalf("another participant's key: %v", err)
			}

			// What is stored: the events as they were, and the erasure
			// recorded as who did it; the chain holds.
			stored := h.events(t, stream)
			last := stored[len(stored)-1]
			var meta domain.Metadata
			if err := json.Unmarshal(last.Metadata, &meta); err != nil {
				t.Fatal(err)
			}
			if last.Type != domain.TypePersonalDataErased || meta.Actor.UserID != callers[who].UserID || meta.Actor.Role != who {
				t.Fatalf("last event %s by %+v", last.Type, meta.Actor)
			}
			for i, ev := range storedBefore {
				if string(stored[i].Data) != string(ev.Data) || string(stored[i].Metadata) != string(ev.Metadata) {
					t.Fatalf("stored event %d changed", i)
				}
			}
			if r, err := chain.Verify(t.Context(), h.store, 0); err != nil || !r.OK() {
				t.Fatalf("chain: %+v, %v", r.Breaks, err)
			}

			// Every read shows the personal data as erased; the public
			// facts are as they were.
			for _, reader := range []string{"caseworker", "auditor"} {
				p := h.participant(t, reader, w.id)
				r := h.get(t, reader, participantPath(w.id, ""), "Purpose", "check")
				var doc struct {
					Erased bool `json:"erased"`
				}
				json.Unmarshal(r.body, &doc)
				if !doc.Erased || p.Personal != nil || p.Name != "" || strings.Contains(string(r.body), "Test Person") || strings.Contains(string(r.body), "Test minutes") {
					t.Fatalf("%s reads %s", reader, r.body)
				}
				if len(p.Episodes) != 1 || p.Episodes[0].Office != before.Episodes[0].Office || len(p.Scores) != 1 ||
					p.Scores[0].Scores != before.Scores[0].Scores || len(p.Meetings) != 1 || p.Meetings[0].Date != before.Meetings[0].Date {
					t.Fatalf("%s: public facts changed:\n%+v\nwere\n%+v", reader, p, before)
				}
			}
			// As known before the erasure, too.
			r := h.get(t, "auditor", participantPath(w.id, "?known_at="+strconv.FormatUint(res.Position-1, 10)), "Purpose", "check")
			if r.status != http.StatusOK || strings.Contains(string(r.body), "Test Person") || strings.Contains(string(r.body), `"personal"`) {
				t.Fatalf("state as known before the erasure: %s", r)
			}
			if p := h.participant(t, "caseworker", w.other); p.Personal == nil || p.Name != "Test Person" {
				t.Fatalf("another participant lost their personal data: %+v", p)
			}

			// Personal data can no longer be recorded; facts can.
			h.post(t, "caseworker", participantPath(w.id, "/meetings"),
				object{"date": "2026-03-06", "kind": "guidance", "personal": object{"note": "Test note"}}).problem(t, http.StatusConflict)
			h.ok(t, http.StatusOK, "caseworker", participantPath(w.id, "/meetings"), object{"date": "2026-03-06", "kind": "guidance"})
			// Erasing again is refused as done already.
			p := h.del(t, who, w.path, erasureBody(), hdr...).problem(t, http.StatusConflict)
			if !strings.HasSuffix(p.Type, "already_erased") && (len(p.Errors) == 0 || p.Errors[0].Code != "already_erased") {
				t.Fatalf("second erasure: %+v", p)
			}
			if _, err := os.Stat(h.keyFile(w.id)); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a data key came back")
			}
		})
	}
}

// A retried erasure with the same Idempotency-Key gets the first answer.
func TestErasureRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := newErasureWorld(t, h)
	first := h.del(t, "admin", w.path, erasureBody(), "Idempotency-Key", "erase-1").written(t, http.StatusOK)
	again := h.del(t, "admin", w.path, erasureBody(), "Idempotency-Key", "erase-1").written(t, http.StatusOK)
	if again.Revision != first.Revision || again.Position != first.Position || again.EventIDs[0] != first.EventIDs[0] {
		t.Fatalf("retry answered %+v, first %+v", again, first)
	}
}
