package domain

// EmployerRegistered adds an employer that job specialists work with. The
// employer's id is its stream's uuid.
type EmployerRegistered struct {
	OrganisationNumber string `json:"organisation_number"`
	Name               string `json:"name"`
	// IndustryCode is the five-digit Norwegian standard industrial
	// classification (SN2007/SN2025, NACE-based) written "nn.nnn", e.g.
	// "88.990".
	IndustryCode string `json:"industry_code"`
	// Municipality is the four-digit municipality number, e.g. "0301".
	Municipality string            `json:"municipality"`
	Personal     *EmployerPersonal `json:"personal,omitempty"`
}

// EmployerUpdated replaces an employer's name, industry and municipality
// (in full; the organisation number never changes).
type EmployerUpdated struct {
	Name         string            `json:"name"`
	IndustryCode string            `json:"industry_code"`
	Municipality string            `json:"municipality"`
	Personal     *EmployerPersonal `json:"personal,omitempty"`
}

// EmployerPersonal is the employer's contact person, who is a person with
// the same rights as anyone else.
type EmployerPersonal struct {
	ContactName  string `json:"contact_name,omitempty"`
	ContactPhone string `json:"contact_phone,omitempty"`
	ContactEmail string `json:"contact_email,omitempty"`
	Note         string `json:"note,omitempty"`
}

// EventType names the event.
func (EmployerRegistered) EventType() string { return TypeEmployerRegistered }

// EventType names the event.
func (EmployerUpdated) EventType() string { return TypeEmployerUpdated }
