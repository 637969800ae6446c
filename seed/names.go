package seed

import (
	"fmt"
	"math/rand/v2"

	"github.com/caseledger/caseledger/domain"
)

// Everything personal the generator writes is made up so that it cannot
// point at a real person:
//
//   - surnames are invented from "Test" and "Prøve" ("Testesen",
//     "Testović"); first names are common ones, which identify nobody alone;
//   - national id numbers are synthetic (domain.SyntheticNationalID: the
//     month has 80 added, which the population register never issues);
//   - phone numbers are "+47 00 …": Norwegian subscriber numbers never
//     start with 0, so none of these can ring anyone;
//   - e-mail addresses are at example.org and example.com (RFC 2606);
//   - addresses have postcode 0000, which Norway does not use;
//   - organisation numbers start with 3, where real ones start with 8 or 9.

func femaleNames() []string {
	return []string{
		"Amina", "Fatima", "Mariam", "Selam", "Hodan", "Ngozi", "Blessing", "Joy", "Precious", "Malai",
		"Siriporn", "Leyla", "Yasmin", "Zahra", "Nadia", "Elena", "Ioana", "Daniela", "Olga", "Ana",
		"Maria", "Sunita", "Ingrid", "Kari", "Hanne", "Aisha", "Saba", "Luul", "Rahel", "Gloria",
	}
}

func maleNames() []string {
	return []string{
		"Ahmed", "Mohammed", "Yonas", "Abdi", "Ali", "Omar", "Piotr", "Tomasz", "Ion", "Mihai",
		"Dawit", "Samuel", "Hassan", "Reza", "Ole", "Per", "Jonas", "Luis", "Carlos", "Kwame",
		"Tesfay", "Yusuf", "Bilal", "Arman", "Andrii", "Emeka", "Nuri", "Khalid", "Filmon", "Erik",
	}
}

// surnames are plainly invented: every one is built on "Test" or "Prøve".
func surnames() []string {
	return []string{
		"Testesen", "Prøvesen", "Testvik", "Testberg", "Testova", "Testović", "Testescu", "Testinen",
		"Testsson", "Testowski", "Test-Haile", "Test-Osman", "Testiye", "Testoğlu", "Testzadeh", "Testani",
		"Testadi", "Testmann", "Testez", "Testuri", "Testini", "Prøvedal", "Testdóttir", "Test-Mensah",
	}
}

func streets() []string {
	return []string{"Testveien", "Prøvegata", "Eksempelvegen", "Fiktivgata", "Demoalléen", "Liksomstien", "Testbakken"}
}

// languages people of a region often prefer to be spoken to in, as the
// language tags interpreter bookings use.
func languages(r domain.RegionOfBirth) []string {
	switch r {
	case domain.RegionAfrica:
		return []string{"ti", "so", "ar", "am", "en", "fr"}
	case domain.RegionAsia:
		return []string{"ar", "fa", "prs", "ur", "th", "tl", "ku"}
	case domain.RegionEuropeOther:
		return []string{"uk", "ru", "bs", "sq"}
	case domain.RegionEUEEA:
		return []string{"pl", "ro", "lt", "bg"}
	case domain.RegionLatinAmerica:
		return []string{"es", "pt"}
	case domain.RegionNordic:
		return []string{"sv", "da"}
	case domain.RegionNorthAmericaOceania:
		return []string{"en"}
	case domain.RegionNorway:
		return []string{"nb", "nn"}
	}
	return nil
}

// fakePhone is a phone number in the unused "+47 00" range.
func fakePhone(n int) string {
	n %= 1_000_000
	return fmt.Sprintf("+47 00 %02d %02d %02d", n/10000, n/100%100, n%100)
}

func contactName(n int) string {
	first := femaleNames()
	if n%2 == 1 {
		first = maleNames()
	}
	return first[n/2%len(first)] + " " + surnames()[n/7%len(surnames())]
}

// nationalID is a synthetic national id number for someone born on
// birth. Individual numbers are tried from a random one on, because about
// one in five gives no valid check digits.
func nationalID(r *rand.Rand, birth domain.Date) string {
	lo, hi := 0, 499
	if birth.Year() >= 2000 {
		lo, hi = 500, 999
	}
	start := lo + r.IntN(hi-lo+1)
	for i := range hi - lo + 1 {
		ind := lo + (start-lo+i)%(hi-lo+1)
		if id, err := domain.SyntheticNationalID(birth, ind); err == nil {
			return id
		}
	}
	return "" // no number fits: the person has none, which the domain allows
}

// Free text that caseworkers write, short and in Norwegian as they would.

func goalTitles(a domain.GoalArea) []string {
	switch a {
	case domain.AreaWork:
		return []string{"Få en fast jobb i butikk", "Jobb på kjøkken eller kafé", "Jobbe innen renhold", "Få deltidsjobb i omsorg", "Jobb på lager", "Komme i ordinært arbeid"}
	case domain.AreaEducation:
		return []string{"Fullføre videregående", "Ta fagbrev", "Starte på kurs som helsefagarbeider"}
	case domain.AreaLanguage:
		return []string{"Norsk nivå B1 muntlig", "Bestå norskprøve A2", "Bruke norsk på jobb"}
	case domain.AreaHousing:
		return []string{"Finne egen bolig", "Søke kommunal bolig", "Stabil bosituasjon"}
	case domain.AreaEconomy:
		return []string{"Lage budsjett", "Betale ned gjeld", "Søke bostøtte"}
	case domain.AreaHealth:
		return []string{"Fast lege og oppfølging", "Bedre søvn og rutiner"}
	case domain.AreaFamily:
		return []string{"Barnehageplass til barna", "Ordne SFO"}
	case domain.AreaNetwork:
		return []string{"Bli med i frivillig aktivitet", "Bli kjent med naboer", "Trene med en venn"}
	}
	return []string{"Annet mål"}
}

func meetingMinutes() []string {
	return []string{
		"Gikk gjennom CV og søknader.",
		"Snakket om jobbmuligheter i butikk.",
		"Planla møte med arbeidsgiver.",
		"Fulgte opp praksisplassen, går bra.",
		"Snakket om økonomi og regninger.",
		"Deltaker var sliten, avtalte kortere møte neste gang.",
		"Øvde på jobbintervju.",
		"Fulgte opp på arbeidsplassen sammen med leder.",
		"Snakket om barnehage og arbeidstid.",
		"Ringte for å høre hvordan det går.",
	}
}

func placementTitles(k domain.PlacementKind) []string {
	switch k {
	case domain.PlacementLanguageTraining:
		return []string{"Språkpraksis i barnehage", "Språkpraksis i butikk", "Språkpraksis på kafé"}
	case domain.PlacementWorkPractice:
		return []string{"Praksis på lager", "Praksis på kjøkken", "Praksis i renhold", "Praksis på sykehjem"}
	case domain.PlacementEducation:
		return []string{"Videregående for voksne", "Helsefagarbeider, voksenopplæring", "Fagbrev i renhold"}
	}
	return []string{"Butikkmedarbeider", "Kokkeassistent", "Renholder", "Assistent i barnehage", "Lagermedarbeider", "Pleieassistent", "Hotellrenholder", "Bakerassistent"}
}

func exitNotes() []string {
	return []string{"Avsluttet etter avtale.", "Ikke fått kontakt på lenge.", "Flyttet til annen kommune.", "Overført til annet tiltak.", "Avsluttet på grunn av helse."}
}
