package domain

import "testing"

func TestEmployer(t *testing.T) {
	reg := RegisterEmployerCommand{OrganisationNumber: "310000019", Name: "Test Employer AS", IndustryCode: "88.990", Municipality: "4601"}
	upd := UpdateEmployerCommand{Name: "Test Employer ASA", IndustryCode: "47.111", Municipality: "0301"}
	registered := Employer{Registered: true, OrganisationNumber: reg.OrganisationNumber, Name: reg.Name, IndustryCode: reg.IndustryCode, Municipality: reg.Municipality}

	events, err := RegisterEmployer(Employer{}, reg)
	wantEvents(t, events, err, EmployerRegistered(reg))
	_, err = RegisterEmployer(registered, reg)
	wantErr(t, err, "rejected", "", CodeAlreadyRegistered)
	events, err = UpdateEmployer(registered, upd)
	wantEvents(t, events, err, EmployerUpdated(upd))
	_, err = UpdateEmployer(Employer{}, upd)
	wantErr(t, err, "rejected", "", CodeNotRegistered)

	invalid := []struct {
		edit          func(*RegisterEmployerCommand)
		pointer, code string
	}{
		{func(c *RegisterEmployerCommand) { c.OrganisationNumber = "310000010" }, "/organisation_number", CodeCheckDigit},
		{func(c *RegisterEmployerCommand) { c.OrganisationNumber = "31000001" }, "/organisation_number", CodeFormat},
		{func(c *RegisterEmployerCommand) { c.OrganisationNumber = "" }, "/organisation_number", CodeRequired},
		{func(c *RegisterEmployerCommand) { c.Name = "" }, "/name", CodeRequired},
		{func(c *RegisterEmployerCommand) { c.Name = long(201) }, "/name", CodeTooLong},
		{func(c *RegisterEmployerCommand) { c.IndustryCode = "88.99" }, "/industry_code", CodeFormat},
		{func(c *RegisterEmployerCommand) { c.IndustryCode = "88990" }, "/industry_code", CodeFormat},
		{func(c *RegisterEmployerCommand) { c.IndustryCode = "00.100" }, "/industry_code", CodeFormat},
		{func(c *RegisterEmployerCommand) { c.IndustryCode = "" }, "/industry_code", CodeRequired},
		{func(c *RegisterEmployerCommand) { c.Municipality = "301" }, "/municipality", CodeFormat},
		{func(c *RegisterEmployerCommand) { c.Municipality = "0000" }, "/municipality", CodeFormat},
		{func(c *RegisterEmployerCommand) { c.Municipality = "03O1" }, "/municipality", CodeFormat},
		{func(c *RegisterEmployerCommand) { c.Personal = &EmployerPersonal{ContactPhone: "ring"} }, "/personal/contact_phone", CodeFormat},
		{func(c *RegisterEmployerCommand) { c.Personal = &EmployerPersonal{ContactEmail: "a@b"} }, "/personal/contact_email", CodeFormat},
	}
	for _, c := range invalid {
		cmd := reg
		c.edit(&cmd)
		_, err := RegisterEmployer(Employer{}, cmd)
		wantErr(t, err, "invalid", c.pointer, c.code)
	}
	_, err = UpdateEmployer(registered, UpdateEmployerCommand{Name: "X", IndustryCode: "88.990", Municipality: "99999"})
	wantErr(t, err, "invalid", "/municipality", CodeFormat)

	h := given(EmployerRegistered(reg), EmployerUpdated(upd), EmployerRegistered{Name: "ignored"})
	if got := FoldEmployer(h); got.Name != upd.Name || got.OrganisationNumber != reg.OrganisationNumber || got.Updates != 1 || !got.Registered {
		t.Errorf("FoldEmployer = %+v", got)
	}
	if got := FoldEmployer(given(EmployerUpdated(upd))); got.Registered {
		t.Errorf("an update without registration: %+v", got)
	}
}

func TestProgramme(t *testing.T) {
	def := DefineProgrammeCommand{Slug: "city-mission-oslo", Name: "Test Programme", Targets: []Target{
		{Measure: MeasureJobWithin183d, Rate: 0.60}, {Measure: MeasureWorkOrEducationAtExit, Rate: 0.70},
	}}
	events, err := DefineProgramme(Programme{}, def)
	wantEvents(t, events, err, ProgrammeDefined(def))
	p := FoldProgramme(given(ProgrammeDefined(def)))
	if rate, ok := p.Target(MeasureJobWithin183d); !ok || rate != 0.60 || p.Version != 1 {
		t.Errorf("programme = %+v", p)
	}
	redef := def
	redef.Targets = []Target{{Measure: MeasureJobWithin183d, Rate: 1}}
	if _, err := DefineProgramme(p, DefineProgrammeCommand(redef)); err != nil {
		t.Errorf("a redefinition under the same slug: %v", err)
	}
	if p2 := FoldProgramme(given(ProgrammeDefined(def), ProgrammeDefined(redef))); p2.Version != 2 || len(p2.Targets) != 1 {
		t.Errorf("redefined = %+v", p2)
	}
	other := def
	other.Slug = "other"
	_, err = DefineProgramme(p, other)
	wantErr(t, err, "rejected", "/slug", CodeSlugMismatch)

	invalid := []struct {
		edit          func(*DefineProgrammeCommand)
		pointer, code string
	}{
		{func(c *DefineProgrammeCommand) { c.Slug = "City-Mission" }, "/slug", CodeFormat},
		{func(c *DefineProgrammeCommand) { c.Slug = "-oslo" }, "/slug", CodeFormat},
		{func(c *DefineProgrammeCommand) { c.Slug = "oslo_mission" }, "/slug", CodeFormat},
		{func(c *DefineProgrammeCommand) { c.Slug = long(65) }, "/slug", CodeFormat},
		{func(c *DefineProgrammeCommand) { c.Slug = "" }, "/slug", CodeRequired},
		{func(c *DefineProgrammeCommand) { c.Name = "" }, "/name", CodeRequired},
		{func(c *DefineProgrammeCommand) { c.Targets = []Target{{Measure: "happiness", Rate: 0.5}} }, "/targets/0/measure", CodeNotAllowed},
		{func(c *DefineProgrammeCommand) { c.Targets = []Target{{Measure: MeasureRetention90d, Rate: 0}} }, "/targets/0/rate", CodeOutOfRange},
		{func(c *DefineProgrammeCommand) { c.Targets = []Target{{Measure: MeasureRetention90d, Rate: 1.0001}} }, "/targets/0/rate", CodeOutOfRange},
		{func(c *DefineProgrammeCommand) {
			c.Targets = []Target{{Measure: MeasureRetention90d, Rate: 0.5}, {Measure: MeasureRetention90d, Rate: 0.6}}
		}, "/targets/1/measure", CodeDuplicate},
	}
	for _, c := range invalid {
		cmd := def
		c.edit(&cmd)
		_, err := DefineProgramme(Programme{}, cmd)
		wantErr(t, err, "invalid", c.pointer, c.code)
	}
	if _, err := DefineProgramme(Programme{}, DefineProgrammeCommand{Slug: "a", Name: "A", Targets: []Target{{Measure: MeasureOffSocialAssistanceAtExit, Rate: 1}}}); err != nil {
		t.Errorf("rate 1 and a one-letter slug: %v", err)
	}
}
