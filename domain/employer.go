package domain

// Employer is the state of one employer stream.
type Employer struct {
	Registered         bool
	OrganisationNumber string
	Name               string
	IndustryCode       string
	Municipality       string
	Personal           *EmployerPersonal
	Updates            int
}

// FoldEmployer computes an employer's state from its stream, leniently.
func FoldEmployer(history []Recorded) Employer {
	var e Employer
	for _, r := range history {
		switch ev := deref(r.Event).(type) {
		case EmployerRegistered:
			if !e.Registered {
				e = Employer{Registered: true, OrganisationNumber: ev.OrganisationNumber, Name: ev.Name,
					IndustryCode: ev.IndustryCode, Municipality: ev.Municipality, Personal: ev.Personal}
			}
		case EmployerUpdated:
			if e.Registered {
				e.Name, e.IndustryCode, e.Municipality, e.Personal = ev.Name, ev.IndustryCode, ev.Municipality, ev.Personal
				e.Updates++
			}
		}
	}
	return e
}

// RegisterEmployerCommand is the body of RegisterEmployer.
type RegisterEmployerCommand EmployerRegistered

// UpdateEmployerCommand is the body of UpdateEmployer.
type UpdateEmployerCommand EmployerUpdated

// RegisterEmployer registers a new employer in its own stream. Whether
// another stream holds the same organisation number is for the caller to
// ask a read model; this package sees one stream.
func RegisterEmployer(e Employer, cmd RegisterEmployerCommand) ([]Event, error) {
	v := &validator{}
	if cmd.OrganisationNumber == "" {
		v.fail("/organisation_number", CodeRequired, "is required")
	} else if err := ValidateOrganisationNumber(cmd.OrganisationNumber); err != nil {
		v.failWith("/organisation_number", err.(*InvalidError))
	}
	validateEmployerFields(v, cmd.Name, cmd.IndustryCode, cmd.Municipality, cmd.Personal)
	if err := v.result(); err != nil {
		return nil, err
	}
	if e.Registered {
		return nil, rejected("", CodeAlreadyRegistered, "the employer is registered already")
	}
	return []Event{EmployerRegistered(cmd)}, nil
}

// UpdateEmployer replaces a registered employer's details.
func UpdateEmployer(e Employer, cmd UpdateEmployerCommand) ([]Event, error) {
	v := &validator{}
	validateEmployerFields(v, cmd.Name, cmd.IndustryCode, cmd.Municipality, cmd.Personal)
	if err := v.result(); err != nil {
		return nil, err
	}
	if !e.Registered {
		return nil, rejected("", CodeNotRegistered, "no employer is registered in this stream")
	}
	return []Event{EmployerUpdated(cmd)}, nil
}

func validateEmployerFields(v *validator, name, industry, municipality string, p *EmployerPersonal) {
	v.line("/name", name, MaxNameLen, true)
	switch {
	case industry == "":
		v.fail("/industry_code", CodeRequired, "is required")
	case !ValidIndustryCode(industry):
		v.fail("/industry_code", CodeFormat, "must be a five-digit industry code written nn.nnn, e.g. 88.990")
	}
	switch {
	case municipality == "":
		v.fail("/municipality", CodeRequired, "is required")
	case !ValidMunicipality(municipality):
		v.fail("/municipality", CodeFormat, "must be a four-digit municipality number, e.g. 0301")
	}
	if p != nil {
		v.line("/personal/contact_name", p.ContactName, MaxNameLen, false)
		v.phone("/personal/contact_phone", p.ContactPhone)
		v.line("/personal/contact_email", p.ContactEmail, 254, false)
		v.email("/personal/contact_email", p.ContactEmail)
		v.text("/personal/note", p.Note, MaxNoteLen, false)
	}
}

// ValidIndustryCode reports whether s is written like a five-digit
// Norwegian standard industrial classification code (SN2007 and SN2025,
// both refinements of NACE): "nn.nnn" with a division 01 to 99. Whether
// the code is in force is not checked, so that a new edition needs no
// release.
func ValidIndustryCode(s string) bool {
	return len(s) == 6 && s[2] == '.' && allDigits(s[:2]) && allDigits(s[3:]) && s[:2] != "00"
}

// ValidMunicipality reports whether s is a four-digit municipality number
// with a county part 01 to 99 ("0301" is Oslo). The list of municipalities
// changes with reforms, so membership is not checked.
func ValidMunicipality(s string) bool {
	return len(s) == 4 && allDigits(s) && s[:2] != "00"
}
