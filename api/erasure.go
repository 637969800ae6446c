package api

import (
	"net/http"

	"github.com/caseledger/caseledger/casework"
	"github.com/caseledger/caseledger/domain"
)

// RegisterErasure adds DELETE /v1/participants/{id}/personal-data, the
// right to be forgotten (or the end of a retention period): it records
// PersonalDataErased and destroys the participant's data key, after which
// every read shows their personal data as erased while the public facts,
// who did what and when, and the hash chain stay.
//
// Who may erase (policy.go): admins, who manage the installation without
// reading personal data, and auditors, who state why, as for everything
// they do; for any participant.
func RegisterErasure(a *API, svc *casework.Service) {
	c := a.casework(svc)
	a.HandleAction(http.MethodDelete, "/participants/{id}/personal-data", ActErase, c.erasePersonalData)
}

// erasePersonalData takes a domain.ErasePersonalDataCommand: the date, the
// legal basis and who asked (a role, never a name). A second erasure is
// refused (409, already_erased). When the key cannot be destroyed after
// the erasure is recorded, the answer is an error; the participant's next
// load, such as a retry of the request, destroys it.
func (c *caseworkRoutes) erasePersonalData(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var cmd domain.ErasePersonalDataCommand
	req, err := c.command(w, r, &cmd)
	if err != nil {
		return err
	}
	if err := c.authorizeStream(r, id); err != nil {
		return err
	}
	res, err := c.svc.Execute(r.Context(), domain.ParticipantStream(id), req,
		func(h []domain.Recorded, today domain.Date) ([]domain.Event, error) {
			p := domain.FoldParticipant(h)
			if err := decideAgain(r.Context(), p); err != nil {
				return nil, err
			}
			return domain.ErasePersonalData(p, cmd, today)
		})
	if err != nil { // casework.ErrKeyNotDestroyed among others: a 500, logged
		return writeError(err)
	}
	c.written(w, r, http.StatusOK, res)
	return nil
}
