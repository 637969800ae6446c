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
	// The body is a domain.ErasePersonalDataCommand: the date, the legal
	// basis and who asked (a role, never a name). A second erasure is
	// refused (409, already_erased). When the key cannot be destroyed after
	// the erasure is recorded, the answer is an error (casework's
	// ErrKeyNotDestroyed, a logged 500); the participant's next load, such
	// as a retry of the request, destroys it.
	a.HandleAction(http.MethodDelete, "/participants/{id}/personal-data", ActErase,
		participantCommand(c, domain.ErasePersonalData, nil))
}
