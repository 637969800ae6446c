package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// Kinds of request.
const (
	kindTrivial   = "trivial"
	kindCaseload  = "caseload"
	kindOverview  = "overview"
	kindMeeting   = "meeting"
	kindScore     = "score"
	kindPlacement = "placement"
)

// Phases.
const (
	phaseTrivial = "trivial"
	phaseMix     = "mix"
	phaseWrites  = "writes"
)

// mix is a phase's share of each kind, in percent.
type mix []struct {
	kind    string
	percent int
}

// The caseworkers' mix: 80 % reads, 20 % writes.
var caseworkerMix = mix{
	{kindCaseload, 40}, {kindOverview, 40},
	{kindMeeting, 7}, {kindScore, 7}, {kindPlacement, 6},
}

// Writes alone, a third of each.
var writesMix = mix{{kindMeeting, 34}, {kindScore, 33}, {kindPlacement, 33}}

// pick chooses a kind by its share; roll is 0 to 99.
func (m mix) pick(roll int) string {
	for _, k := range m {
		if roll < k.percent {
			return k.kind
		}
		roll -= k.percent
	}
	return m[len(m)-1].kind
}

func (m mix) total() int {
	n := 0
	for _, k := range m {
		n += k.percent
	}
	return n
}

// caseworker is a member of staff with a token and the active
// participants whose team they are in.
type caseworker struct {
	user, office string
	token        string
	participants []uuid.UUID
}

// population is who acts in a run.
type population struct {
	caseworkers []caseworker
	today       string // the server's business date, for the writes
}

// assignment is a participant a worker writes to, as one of their
// caseworkers.
type assignment struct {
	cw          *caseworker
	participant uuid.UUID
}

// deal shares the participants out among n workers, each to one worker
// only, so that no two workers write to the same participant at once (as
// caseworkers do not): concurrent writes to one participant are decided
// again when another won the race, and give up after a few rounds (409),
// which would measure contention this load does not mean to make. Each
// participant is written by the first of its caseworkers in the
// population.
func (p *population) deal(n int) ([][]assignment, error) {
	seen := map[uuid.UUID]bool{}
	out := make([][]assignment, n)
	i := 0
	for c := range p.caseworkers {
		cw := &p.caseworkers[c]
		for _, id := range cw.participants {
			if seen[id] {
				continue
			}
			seen[id] = true
			out[i%n] = append(out[i%n], assignment{cw: cw, participant: id})
			i++
		}
	}
	if i < n {
		return nil, fmt.Errorf("%d participants to write to for %d connections: each connection writes to participants of its own; ask for more -caseworkers or fewer -conns", i, n)
	}
	return out, nil
}

func (p *population) participants() int {
	n := 0
	for _, c := range p.caseworkers {
		n += len(c.participants)
	}
	return n
}

// caseloadRow is what the load generator reads of a caseload row.
type caseloadRow struct {
	ID          uuid.UUID `json:"id"`
	Status      string    `json:"status"`
	Caseworkers []struct {
		UserID string `json:"user_id"`
		Role   string `json:"role"`
	} `json:"caseworkers"`
}

type caseloadPage struct {
	Rows       []caseloadRow `json:"rows"`
	NextCursor string        `json:"next_cursor"`
	Today      string        `json:"today"`
}

// discover finds who acts: for each office, its team lead lists the
// active participants, and the perOffice staff in the most of their teams
// (job specialists, social workers, coordinators; not volunteer mentors)
// get a caseworker's token.
func discover(ctx context.Context, cfg config, srv *server) (*population, error) {
	pop := &population{}
	client := &http.Client{}
	for _, office := range cfg.offices {
		lead, err := srv.token(ctx, "load-lead-"+office, "team_lead", office)
		if err != nil {
			return nil, err
		}
		teams := map[string][]uuid.UUID{}
		cursor := ""
		for {
			q := url.Values{"status": {"active"}, "limit": {"500"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var page caseloadPage
			if err := getJSON(ctx, client, srv.base+"/v1/caseload?"+q.Encode(), lead, &page); err != nil {
				return nil, fmt.Errorf("list the caseload of %s: %w", office, err)
			}
			pop.today = page.Today
			for _, row := range page.Rows {
				for _, cw := range row.Caseworkers {
					if cw.Role != string(domain.RoleVolunteerMentor) {
						teams[cw.UserID] = append(teams[cw.UserID], row.ID)
					}
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		users := make([]string, 0, len(teams))
		for u := range teams {
			users = append(users, u)
		}
		slices.SortFunc(users, func(a, b string) int {
			return cmp.Or(cmp.Compare(len(teams[b]), len(teams[a])), cmp.Compare(a, b))
		})
		if len(users) == 0 {
			return nil, fmt.Errorf("office %s has no active participants with a caseworker: is the data directory seeded?", office)
		}
		for _, u := range users[:min(cfg.perOffice, len(users))] {
			tok, err := srv.token(ctx, u, "caseworker", office)
			if err != nil {
				return nil, err
			}
			pop.caseworkers = append(pop.caseworkers, caseworker{user: u, office: office, token: tok, participants: teams[u]})
		}
	}
	if pop.today == "" {
		return nil, fmt.Errorf("the caseload did not say the server's date")
	}
	return pop, nil
}

func getJSON(ctx context.Context, client *http.Client, url, token string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return json.Unmarshal(body, into)
}

// caseloadQueries are the caseload pages caseworkers ask for: their
// active list as it comes, sorted by the columns they work from, and
// filtered by the flags that call for action.
var caseloadQueries = []string{
	"status=active&limit=50",
	"status=active&sort=-days_since_contact&limit=50",
	"status=active&sort=next_meeting&limit=50",
	"flag=no_contact_14d&limit=50",
	"flag=midway_due,meeting_overdue&limit=50",
	"limit=50",
}

// requester makes the requests of one worker: its own random choices and
// idempotency keys.
type requester struct {
	base   string
	pop    *population
	own    []assignment // the participants this worker writes to
	rng    *rand.Rand
	keys   string // prefix of this worker's idempotency keys
	n      int    // requests made
	client *http.Client
}

// next builds a request of the kind.
func (r *requester) next(ctx context.Context, kind string) (*http.Request, error) {
	if kind == kindTrivial {
		return http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/", nil)
	}
	cw := &r.pop.caseworkers[r.rng.IntN(len(r.pop.caseworkers))]
	switch kind {
	case kindCaseload:
		return r.get(ctx, cw, "/v1/caseload?"+caseloadQueries[r.rng.IntN(len(caseloadQueries))])
	case kindOverview:
		if len(cw.participants) == 0 {
			return nil, fmt.Errorf("caseworker %s has no active participants", cw.user)
		}
		return r.get(ctx, cw, "/v1/participants/"+cw.participants[r.rng.IntN(len(cw.participants))].String())
	}
	if len(r.own) == 0 {
		return nil, fmt.Errorf("a worker without participants to write to")
	}
	a := r.own[r.rng.IntN(len(r.own))]
	cw = a.cw
	path := r.base + "/v1/participants/" + a.participant.String()
	var body any
	switch kind {
	case kindMeeting:
		path += "/meetings"
		kinds := domain.MeetingKinds()
		body = map[string]any{"date": r.pop.today, "kind": kinds[r.rng.IntN(len(kinds))]}
	case kindScore:
		path += "/scores"
		score := func() int {
			return domain.IndicatorIndexMin + r.rng.IntN(domain.IndicatorIndexMax-domain.IndicatorIndexMin+1)
		}
		tp := []domain.Timepoint{domain.TimepointMidway, domain.TimepointFollowUp}[r.rng.IntN(2)]
		body = map[string]any{"date": r.pop.today, "timepoint": tp, "instrument": domain.InstrumentIndicatorIndex,
			"instrument_version": domain.IndicatorIndexVersion,
			"scores":             map[string]int{"hope": score(), "well_being": score(), "network": score(), "work_attachment": score()}}
	case kindPlacement:
		path += "/placements/start"
		// Kinds that need no employer, and so no employer-disclosure
		// consent, which not every participant has given.
		kinds := []domain.PlacementKind{domain.PlacementLanguageTraining, domain.PlacementEducation, domain.PlacementVolunteerWork}
		body = map[string]any{"placement_id": uuid.New(), "kind": kinds[r.rng.IntN(len(kinds))], "started_on": r.pop.today,
			"hours_percentage": 20 + 10*r.rng.IntN(9)}
	default:
		return nil, fmt.Errorf("unknown kind of request %q", kind)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	r.n++
	req.Header.Set("Authorization", "Bearer "+cw.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", r.keys+strconv.Itoa(r.n))
	return req, nil
}

func (r *requester) get(ctx context.Context, cw *caseworker, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+cw.token)
	return req, nil
}
