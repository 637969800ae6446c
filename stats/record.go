package stats

import (
	"slices"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// record is one participant stream as the read model keeps it: the
// stream's running digest and event count, and the facts the measures
// read (what EpisodesOf reads of domain.Participant), in one slice of
// 32-bit words. One allocation per participant keeps the model small and
// lets a report over a hundred thousand participants read each with one
// memory access where a slice per kind of fact took eight.
//
//	chain       8 words (see digest.go), then the number of events
//	episodes    count, then per episode: number, enrolled on, exit on,
//	            exited (0 or 1), programme, office, gender, region of
//	            birth, income source at intake, exit reason, destination
//	placements  count, then per placement: id (4 words), episode, start,
//	            end, kind
//	incomes     count, then per income source: episode, from, source
//	pauses      count, then per pause: episode, from, to
//	scores      count, then per baseline or end score of the indicator
//	            index: episode, on, end (0 or 1), hope, well-being,
//	            network, work attachment
//	meetings    count of episode numbers, then per number: episode, count,
//	            and the meeting days, sorted
//
// Items are in recorded order and carry the number of the episode they
// were recorded in, as domain.Participant's do. Days are day numbers,
// strings codes of the model's table of texts; a record holds no personal
// data.
type record []int32

// Sections of a record, in order.
const (
	secEpisodes = iota
	secPlacements
	secIncomes
	secPauses
	secScores
	secMeetings
)

// Words of a record's header and of the items of its fixed-width
// sections.
const (
	chainWords     = 8
	headerWords    = chainWords + 1
	episodeWords   = 11
	placementWords = 8
	incomeWords    = 3
	pauseWords     = 3
	scoreWords     = 7
)

// Offsets of the words of an episode.
const (
	epNumber = iota
	epEnrolled
	epExitOn
	epExited
	epProgramme
	epOffice
	epGender
	epRegion
	epIntake
	epReason
	epDest
)

// Offsets of the words of a placement, an income source, a pause and a
// score.
const (
	plID, plEpisode, plStart, plEnd, plKind = 0, 4, 5, 6, 7
	inEpisode, inFrom, inSource             = 0, 1, 2
	paEpisode, paFrom, paTo                 = 0, 1, 2
	scEpisode, scOn, scEnd, scScores        = 0, 1, 2, 3
)

func itemWords(sec int) int {
	switch sec {
	case secEpisodes:
		return episodeWords
	case secPlacements:
		return placementWords
	case secIncomes:
		return incomeWords
	case secPauses:
		return pauseWords
	case secScores:
		return scoreWords
	}
	return 0 // meetings: rows of their own length
}

// newRecord is the record of a stream without events.
func newRecord() record { return make(record, headerWords+secMeetings+1) }

func (r record) chain() chain {
	var c chain
	for i := range chainWords {
		w := uint32(r[i])
		c[4*i], c[4*i+1], c[4*i+2], c[4*i+3] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	}
	return c
}

func (r record) setChain(c chain) {
	for i := range chainWords {
		r[i] = int32(uint32(c[4*i])<<24 | uint32(c[4*i+1])<<16 | uint32(c[4*i+2])<<8 | uint32(c[4*i+3]))
	}
}

func (r record) events() int { return int(r[chainWords]) }

// section is where the items of section sec begin and how many there are
// (for meetings: episode numbers).
func (r record) section(sec int) (at, n int) {
	at = headerWords
	for s := range sec {
		n := int(r[at])
		at++
		if s != secMeetings {
			at += n * itemWords(s)
		}
	}
	return at + 1, int(r[at])
}

// items are the words of the items of a fixed-width section.
func (r record) items(sec int) record {
	at, n := r.section(sec)
	return r[at : at+n*itemWords(sec)]
}

// add appends an item to a fixed-width section.
func (r *record) add(sec int, item ...int32) {
	at, n := r.section(sec)
	*r = slices.Insert(*r, at+n*itemWords(sec), item...)
	(*r)[at-1]++
}

// last is the last item of a fixed-width section, nil when it is empty.
func (r record) last(sec int) record {
	items := r.items(sec)
	if len(items) == 0 {
		return nil
	}
	return items[len(items)-itemWords(sec):]
}

// episodeNumber is the current (last) episode's number, 0 before the
// first enrolment.
func (r record) episodeNumber() int32 {
	if ep := r.last(secEpisodes); ep != nil {
		return ep[epNumber]
	}
	return 0
}

// paused is domain.Participant.Paused: the last pause lasts and the
// current episode is open.
func (r record) paused() bool {
	pause, ep := r.last(secPauses), r.last(secEpisodes)
	return pause != nil && pause[paTo] == 0 && ep != nil && ep[epExited] == 0
}

// placement is the placement of this id, nil when there is none.
func (r record) placement(id uuid.UUID) record {
	items := r.items(secPlacements)
	want := idWords(id)
	for i := 0; i < len(items); i += placementWords {
		if [4]int32(items[i+plID:i+plID+4]) == want {
			return items[i : i+placementWords]
		}
	}
	return nil
}

func idWords(id uuid.UUID) [4]int32 {
	var w [4]int32
	for i := range w {
		w[i] = int32(uint32(id[4*i])<<24 | uint32(id[4*i+1])<<16 | uint32(id[4*i+2])<<8 | uint32(id[4*i+3]))
	}
	return w
}

// addMeeting adds a meeting day to the days of its episode number, after
// the days not later than it.
func (r *record) addMeeting(episode int32, d day) {
	start, rows := r.section(secMeetings)
	at := start
	for range rows {
		n := int((*r)[at+1])
		if (*r)[at] == episode {
			i, _ := slices.BinarySearch((*r)[at+2:at+2+n], d+1) // after every day <= d
			*r = slices.Insert(*r, at+2+i, d)
			(*r)[at+1]++
			return
		}
		at += 2 + n
	}
	*r = append(*r, episode, 1, d) // the meetings are the last section
	(*r)[start-1]++
}

// view is a record split into its sections, for a report to read each
// once.
type view struct {
	episodes, placements, incomes, pauses, scores record
	// meetingRows holds rows of episode number, count and days, rows of
	// them.
	meetingRows record
	rows        int
}

func (r record) view() view {
	var v view
	at := headerWords
	for sec, items := range []*record{&v.episodes, &v.placements, &v.incomes, &v.pauses, &v.scores} {
		end := at + 1 + int(r[at])*itemWords(sec)
		*items = r[at+1 : end]
		at = end
	}
	v.rows, v.meetingRows = int(r[at]), r[at+1:]
	return v
}

// meetings are the meeting days of episode number n, sorted.
func (v view) meetings(n int32) []day {
	rows := v.meetingRows
	for range v.rows {
		k := int(rows[1])
		if rows[0] == n {
			return rows[2 : 2+k : 2+k]
		}
		rows = rows[2+k:]
	}
	return nil
}

// scoreWordsOf are the scores of the four dimensions, in the order of
// dimensions.
func scoreWordsOf(s domain.Scores) [len(dimensions)]int32 {
	var w [len(dimensions)]int32
	for d, dim := range dimensions {
		w[d] = int32(dim.of(s))
	}
	return w
}

// wellFormed reports whether r has the layout of a record, with codes
// into a table of texts of this length: a snapshot is read back only
// when it is.
func (r record) wellFormed(texts int) bool {
	at := headerWords
	for sec := secEpisodes; sec < secMeetings; sec++ {
		if at >= len(r) || r[at] < 0 || int(r[at]) > (len(r)-at-1)/itemWords(sec) {
			return false
		}
		at += 1 + int(r[at])*itemWords(sec)
	}
	if at >= len(r) || r[at] < 0 {
		return false
	}
	rows := int(r[at])
	at++
	for range rows {
		if at+2 > len(r) || r[at+1] < 0 || int(r[at+1]) > len(r)-at-2 {
			return false
		}
		at += 2 + int(r[at+1])
	}
	if at != len(r) {
		return false
	}
	v := r.view()
	code := func(c int32) bool { return c >= 0 && int(c) < texts }
	for e := v.episodes; len(e) > 0; e = e[episodeWords:] {
		for _, c := range e[epProgramme : epDest+1] {
			if !code(c) {
				return false
			}
		}
	}
	for pl := v.placements; len(pl) > 0; pl = pl[placementWords:] {
		if !code(pl[plKind]) {
			return false
		}
	}
	for in := v.incomes; len(in) > 0; in = in[incomeWords:] {
		if !code(in[inSource]) {
			return false
		}
	}
	return true
}
