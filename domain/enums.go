package domain

import "slices"

// Enumerations of the catalogue. Each has a function listing its values
// (for documents and forms) and a Valid method; the zero value "" is never
// valid, so that a missing enum field is caught as required.

// ReferralSource is who referred the participant.
type ReferralSource string

// Referral sources.
const (
	ReferralWelfareOffice     ReferralSource = "welfare_office"
	ReferralSocialServices    ReferralSource = "social_services"
	ReferralSelf              ReferralSource = "self"
	ReferralCrisisCentre      ReferralSource = "crisis_centre"
	ReferralOtherOrganisation ReferralSource = "other_organisation"
)

// ReferralSources lists the valid referral sources.
func ReferralSources() []ReferralSource {
	return []ReferralSource{ReferralWelfareOffice, ReferralSocialServices, ReferralSelf, ReferralCrisisCentre, ReferralOtherOrganisation}
}

// Valid reports whether r is a listed value.
func (r ReferralSource) Valid() bool { return slices.Contains(ReferralSources(), r) }

// Gender as the participant states it.
type Gender string

// Genders.
const (
	GenderFemale      Gender = "female"
	GenderMale        Gender = "male"
	GenderOther       Gender = "other"
	GenderUndisclosed Gender = "undisclosed"
)

// Genders lists the valid genders.
func Genders() []Gender { return []Gender{GenderFemale, GenderMale, GenderOther, GenderUndisclosed} }

// Valid reports whether g is a listed value.
func (g Gender) Valid() bool { return slices.Contains(Genders(), g) }

// RegionOfBirth is deliberately coarse: a country of birth would single
// out people in cohorts of thirty.
type RegionOfBirth string

// Regions of birth.
const (
	RegionNorway              RegionOfBirth = "norway"
	RegionNordic              RegionOfBirth = "nordic" // other Nordic countries
	RegionEUEEA               RegionOfBirth = "eu_eea" // EU/EEA outside the Nordic countries
	RegionEuropeOther         RegionOfBirth = "europe_other"
	RegionAfrica              RegionOfBirth = "africa"
	RegionAsia                RegionOfBirth = "asia" // including the Middle East and Turkey
	RegionLatinAmerica        RegionOfBirth = "latin_america"
	RegionNorthAmericaOceania RegionOfBirth = "north_america_oceania"
	RegionUnknown             RegionOfBirth = "unknown"
)

// RegionsOfBirth lists the valid regions of birth.
func RegionsOfBirth() []RegionOfBirth {
	return []RegionOfBirth{RegionNorway, RegionNordic, RegionEUEEA, RegionEuropeOther, RegionAfrica, RegionAsia, RegionLatinAmerica, RegionNorthAmericaOceania, RegionUnknown}
}

// Valid reports whether r is a listed value.
func (r RegionOfBirth) Valid() bool { return slices.Contains(RegionsOfBirth(), r) }

// IncomeSource is a participant's main source of income.
type IncomeSource string

// Income sources.
const (
	IncomeWork                    IncomeSource = "work"
	IncomeSocialAssistance        IncomeSource = "social_assistance"         // sosialhjelp
	IncomeQualificationBenefit    IncomeSource = "qualification_benefit"     // kvalifiseringsstønad
	IncomeIntroductionBenefit     IncomeSource = "introduction_benefit"      // introduksjonsstønad
	IncomeWorkAssessmentAllowance IncomeSource = "work_assessment_allowance" // arbeidsavklaringspenger
	IncomeUnemploymentBenefit     IncomeSource = "unemployment_benefit"      // dagpenger
	IncomeDisabilityBenefit       IncomeSource = "disability_benefit"        // uføretrygd
	IncomeStudentSupport          IncomeSource = "student_support"
	IncomeFamilySupport           IncomeSource = "family_support"
	IncomeNone                    IncomeSource = "none"
	IncomeOther                   IncomeSource = "other"
	IncomeUnknown                 IncomeSource = "unknown"
)

// IncomeSources lists the valid income sources.
func IncomeSources() []IncomeSource {
	return []IncomeSource{IncomeWork, IncomeSocialAssistance, IncomeQualificationBenefit, IncomeIntroductionBenefit, IncomeWorkAssessmentAllowance, IncomeUnemploymentBenefit, IncomeDisabilityBenefit, IncomeStudentSupport, IncomeFamilySupport, IncomeNone, IncomeOther, IncomeUnknown}
}

// Valid reports whether s is a listed value.
func (s IncomeSource) Valid() bool { return slices.Contains(IncomeSources(), s) }

// NorwegianLevel is a CEFR level, written in lower case like every other
// enum value; "native" covers people who grew up with Norwegian.
type NorwegianLevel string

// Norwegian levels.
const (
	NorwegianNone    NorwegianLevel = "none"
	NorwegianA1      NorwegianLevel = "a1"
	NorwegianA2      NorwegianLevel = "a2"
	NorwegianB1      NorwegianLevel = "b1"
	NorwegianB2      NorwegianLevel = "b2"
	NorwegianC1      NorwegianLevel = "c1"
	NorwegianC2      NorwegianLevel = "c2"
	NorwegianNative  NorwegianLevel = "native"
	NorwegianUnknown NorwegianLevel = "unknown"
)

// NorwegianLevels lists the valid levels.
func NorwegianLevels() []NorwegianLevel {
	return []NorwegianLevel{NorwegianNone, NorwegianA1, NorwegianA2, NorwegianB1, NorwegianB2, NorwegianC1, NorwegianC2, NorwegianNative, NorwegianUnknown}
}

// Valid reports whether l is a listed value.
func (l NorwegianLevel) Valid() bool { return slices.Contains(NorwegianLevels(), l) }

// EducationLevel is the highest completed education, in Norwegian terms.
type EducationLevel string

// Education levels.
const (
	EducationNone           EducationLevel = "none"
	EducationPrimary        EducationLevel = "primary"         // grunnskole
	EducationUpperSecondary EducationLevel = "upper_secondary" // videregående
	EducationVocational     EducationLevel = "vocational"      // fag- eller svennebrev
	EducationHigherShort    EducationLevel = "higher_short"    // up to four years
	EducationHigherLong     EducationLevel = "higher_long"     // more than four years
	EducationUnknown        EducationLevel = "unknown"
)

// EducationLevels lists the valid levels.
func EducationLevels() []EducationLevel {
	return []EducationLevel{EducationNone, EducationPrimary, EducationUpperSecondary, EducationVocational, EducationHigherShort, EducationHigherLong, EducationUnknown}
}

// Valid reports whether l is a listed value.
func (l EducationLevel) Valid() bool { return slices.Contains(EducationLevels(), l) }

// CaseworkerRole is the part a user plays in a participant's team.
type CaseworkerRole string

// Team roles.
const (
	RoleJobSpecialist   CaseworkerRole = "job_specialist"
	RoleSocialWorker    CaseworkerRole = "social_worker"
	RoleCoordinator     CaseworkerRole = "coordinator"
	RoleVolunteerMentor CaseworkerRole = "volunteer_mentor"
)

// CaseworkerRoles lists the valid team roles.
func CaseworkerRoles() []CaseworkerRole {
	return []CaseworkerRole{RoleJobSpecialist, RoleSocialWorker, RoleCoordinator, RoleVolunteerMentor}
}

// Valid reports whether r is a listed value.
func (r CaseworkerRole) Valid() bool { return slices.Contains(CaseworkerRoles(), r) }

// ConsentScope is what a consent covers.
type ConsentScope string

// Consent scopes.
const (
	ConsentProcessing         ConsentScope = "processing"
	ConsentEmployerDisclosure ConsentScope = "employer_disclosure"
	ConsentWelfareSharing     ConsentScope = "welfare_office_sharing"
	ConsentEvaluation         ConsentScope = "evaluation"
)

// ConsentScopes lists the valid scopes.
func ConsentScopes() []ConsentScope {
	return []ConsentScope{ConsentProcessing, ConsentEmployerDisclosure, ConsentWelfareSharing, ConsentEvaluation}
}

// Valid reports whether s is a listed value.
func (s ConsentScope) Valid() bool { return slices.Contains(ConsentScopes(), s) }

// GoalArea is the life area a goal belongs to.
type GoalArea string

// Goal areas.
const (
	AreaWork      GoalArea = "work"
	AreaEducation GoalArea = "education"
	AreaLanguage  GoalArea = "language"
	AreaHealth    GoalArea = "health"
	AreaHousing   GoalArea = "housing"
	AreaEconomy   GoalArea = "economy"
	AreaFamily    GoalArea = "family"
	AreaNetwork   GoalArea = "network"
	AreaOther     GoalArea = "other"
)

// GoalAreas lists the valid areas.
func GoalAreas() []GoalArea {
	return []GoalArea{AreaWork, AreaEducation, AreaLanguage, AreaHealth, AreaHousing, AreaEconomy, AreaFamily, AreaNetwork, AreaOther}
}

// Valid reports whether a is a listed value.
func (a GoalArea) Valid() bool { return slices.Contains(GoalAreas(), a) }

// GoalOutcome is how a goal was closed.
type GoalOutcome string

// Goal outcomes.
const (
	OutcomeAchieved  GoalOutcome = "achieved"
	OutcomeRevised   GoalOutcome = "revised"
	OutcomeAbandoned GoalOutcome = "abandoned"
)

// GoalOutcomes lists the valid outcomes.
func GoalOutcomes() []GoalOutcome {
	return []GoalOutcome{OutcomeAchieved, OutcomeRevised, OutcomeAbandoned}
}

// Valid reports whether o is a listed value.
func (o GoalOutcome) Valid() bool { return slices.Contains(GoalOutcomes(), o) }

// MeetingKind is the form a meeting took.
type MeetingKind string

// Meeting kinds.
const (
	MeetingGuidance       MeetingKind = "guidance"
	MeetingHomeVisit      MeetingKind = "home_visit"
	MeetingEmployer       MeetingKind = "employer_meeting"
	MeetingNetwork        MeetingKind = "network_meeting"
	MeetingPhone          MeetingKind = "phone"
	MeetingDigital        MeetingKind = "digital"
	MeetingFollowUpAtWork MeetingKind = "follow_up_at_work"
)

// MeetingKinds lists the valid kinds.
func MeetingKinds() []MeetingKind {
	return []MeetingKind{MeetingGuidance, MeetingHomeVisit, MeetingEmployer, MeetingNetwork, MeetingPhone, MeetingDigital, MeetingFollowUpAtWork}
}

// Valid reports whether k is a listed value.
func (k MeetingKind) Valid() bool { return slices.Contains(MeetingKinds(), k) }

// Timepoint is when in an episode an indicator score was taken.
type Timepoint string

// Timepoints.
const (
	TimepointBaseline Timepoint = "baseline"
	TimepointMidway   Timepoint = "midway"
	TimepointEnd      Timepoint = "end"
	TimepointFollowUp Timepoint = "follow_up"
)

// Timepoints lists the valid timepoints.
func Timepoints() []Timepoint {
	return []Timepoint{TimepointBaseline, TimepointMidway, TimepointEnd, TimepointFollowUp}
}

// Valid reports whether t is a listed value.
func (t Timepoint) Valid() bool { return slices.Contains(Timepoints(), t) }

// ContactPurpose is why a job specialist contacted an employer about a
// participant.
type ContactPurpose string

// Contact purposes.
const (
	PurposePresentCandidate    ContactPurpose = "present_candidate"
	PurposeArrangePlacement    ContactPurpose = "arrange_placement"
	PurposeFollowUp            ContactPurpose = "follow_up"
	PurposeWorkplaceAdaptation ContactPurpose = "workplace_adaptation"
	PurposeOther               ContactPurpose = "other"
)

// ContactPurposes lists the valid purposes.
func ContactPurposes() []ContactPurpose {
	return []ContactPurpose{PurposePresentCandidate, PurposeArrangePlacement, PurposeFollowUp, PurposeWorkplaceAdaptation, PurposeOther}
}

// Valid reports whether p is a listed value.
func (p ContactPurpose) Valid() bool { return slices.Contains(ContactPurposes(), p) }

// PlacementKind is what sort of job, practice or education a placement is.
type PlacementKind string

// Placement kinds.
const (
	PlacementOrdinaryJob      PlacementKind = "ordinary_job"
	PlacementSubsidisedJob    PlacementKind = "subsidised_job"
	PlacementWorkPractice     PlacementKind = "work_practice"
	PlacementLanguageTraining PlacementKind = "language_training"
	PlacementEducation        PlacementKind = "education"
	PlacementApprenticeship   PlacementKind = "apprenticeship"
	PlacementVolunteerWork    PlacementKind = "volunteer_work"
)

// PlacementKinds lists the valid kinds.
func PlacementKinds() []PlacementKind {
	return []PlacementKind{PlacementOrdinaryJob, PlacementSubsidisedJob, PlacementWorkPractice, PlacementLanguageTraining, PlacementEducation, PlacementApprenticeship, PlacementVolunteerWork}
}

// Valid reports whether k is a listed value.
func (k PlacementKind) Valid() bool { return slices.Contains(PlacementKinds(), k) }

// IsJob reports whether the placement is a paid job (ordinary or
// subsidised), which puts a participant in ongoing support.
func (k PlacementKind) IsJob() bool { return k == PlacementOrdinaryJob || k == PlacementSubsidisedJob }

// Contract is the terms of a placement.
type Contract string

// Contracts.
const (
	ContractPermanent  Contract = "permanent"
	ContractTemporary  Contract = "temporary"
	ContractSubstitute Contract = "substitute"
	ContractHourly     Contract = "hourly"
)

// Contracts lists the valid contracts.
func Contracts() []Contract {
	return []Contract{ContractPermanent, ContractTemporary, ContractSubstitute, ContractHourly}
}

// Valid reports whether c is a listed value.
func (c Contract) Valid() bool { return slices.Contains(Contracts(), c) }

// PlacementEndReason is why a placement ended.
type PlacementEndReason string

// Placement end reasons.
const (
	EndCompleted     PlacementEndReason = "completed"
	EndResigned      PlacementEndReason = "resigned"
	EndDismissed     PlacementEndReason = "dismissed"
	EndContractEnded PlacementEndReason = "contract_ended"
	EndConverted     PlacementEndReason = "converted" // e.g. work practice became a job: a new placement follows
	EndHealth        PlacementEndReason = "health"
	EndOther         PlacementEndReason = "other"
)

// PlacementEndReasons lists the valid reasons.
func PlacementEndReasons() []PlacementEndReason {
	return []PlacementEndReason{EndCompleted, EndResigned, EndDismissed, EndContractEnded, EndConverted, EndHealth, EndOther}
}

// Valid reports whether r is a listed value.
func (r PlacementEndReason) Valid() bool { return slices.Contains(PlacementEndReasons(), r) }

// PauseReason is why participation was paused; details go in the personal
// note.
type PauseReason string

// Pause reasons.
const (
	PauseHealth PauseReason = "health"
	PauseFamily PauseReason = "family"
	PauseTravel PauseReason = "travel"
	PauseOther  PauseReason = "other"
)

// PauseReasons lists the valid reasons.
func PauseReasons() []PauseReason {
	return []PauseReason{PauseHealth, PauseFamily, PauseTravel, PauseOther}
}

// Valid reports whether r is a listed value.
func (r PauseReason) Valid() bool { return slices.Contains(PauseReasons(), r) }

// ExitReason is why an episode ended.
type ExitReason string

// Exit reasons.
const (
	ExitCompleted         ExitReason = "completed"
	ExitDroppedOut        ExitReason = "dropped_out"
	ExitMoved             ExitReason = "moved"
	ExitReferredElsewhere ExitReason = "referred_elsewhere"
	ExitHealth            ExitReason = "health"
	ExitOther             ExitReason = "other"
)

// ExitReasons lists the valid reasons.
func ExitReasons() []ExitReason {
	return []ExitReason{ExitCompleted, ExitDroppedOut, ExitMoved, ExitReferredElsewhere, ExitHealth, ExitOther}
}

// Valid reports whether r is a listed value.
func (r ExitReason) Valid() bool { return slices.Contains(ExitReasons(), r) }

// Destination is where a participant went at exit.
type Destination string

// Destinations.
const (
	DestinationOrdinaryJob    Destination = "ordinary_job"
	DestinationEducation      Destination = "education"
	DestinationOtherProgramme Destination = "other_programme"
	DestinationUnemployed     Destination = "unemployed"
	DestinationUnknown        Destination = "unknown"
)

// Destinations lists the valid destinations.
func Destinations() []Destination {
	return []Destination{DestinationOrdinaryJob, DestinationEducation, DestinationOtherProgramme, DestinationUnemployed, DestinationUnknown}
}

// Valid reports whether d is a listed value.
func (d Destination) Valid() bool { return slices.Contains(Destinations(), d) }

// CorrectionReason is the public code of why an entry was corrected; the
// free-text explanation is personal.
type CorrectionReason string

// Correction reasons.
const (
	CorrectionWrongValue     CorrectionReason = "wrong_value"
	CorrectionWrongDate      CorrectionReason = "wrong_date"
	CorrectionTypingError    CorrectionReason = "typing_error"
	CorrectionNewInformation CorrectionReason = "new_information"
	CorrectionOther          CorrectionReason = "other"
)

// CorrectionReasons lists the valid reasons.
func CorrectionReasons() []CorrectionReason {
	return []CorrectionReason{CorrectionWrongValue, CorrectionWrongDate, CorrectionTypingError, CorrectionNewInformation, CorrectionOther}
}

// Valid reports whether r is a listed value.
func (r CorrectionReason) Valid() bool { return slices.Contains(CorrectionReasons(), r) }

// VoidReason is the public code of why an entry was voided.
type VoidReason string

// Void reasons.
const (
	VoidRecordedInError  VoidReason = "recorded_in_error"
	VoidWrongParticipant VoidReason = "wrong_participant"
	VoidDuplicate        VoidReason = "duplicate"
	VoidOther            VoidReason = "other"
)

// VoidReasons lists the valid reasons.
func VoidReasons() []VoidReason {
	return []VoidReason{VoidRecordedInError, VoidWrongParticipant, VoidDuplicate, VoidOther}
}

// Valid reports whether r is a listed value.
func (r VoidReason) Valid() bool { return slices.Contains(VoidReasons(), r) }

// ErasureBasis is the legal ground for erasing personal data.
type ErasureBasis string

// Erasure bases.
const (
	ErasureConsentWithdrawn   ErasureBasis = "consent_withdrawn"
	ErasureRetentionExpired   ErasureBasis = "retention_expired"
	ErasureObjection          ErasureBasis = "objection"
	ErasureUnlawfulProcessing ErasureBasis = "unlawful_processing"
	ErasureLegalObligation    ErasureBasis = "legal_obligation"
	ErasureOther              ErasureBasis = "other"
)

// ErasureBases lists the valid bases.
func ErasureBases() []ErasureBasis {
	return []ErasureBasis{ErasureConsentWithdrawn, ErasureRetentionExpired, ErasureObjection, ErasureUnlawfulProcessing, ErasureLegalObligation, ErasureOther}
}

// Valid reports whether b is a listed value.
func (b ErasureBasis) Valid() bool { return slices.Contains(ErasureBases(), b) }

// Requester is who asked for an erasure: a role, never a name.
type Requester string

// Requesters.
const (
	RequesterParticipant    Requester = "participant"
	RequesterRepresentative Requester = "representative"
	RequesterController     Requester = "controller" // the organisation itself, e.g. at the end of retention
)

// Requesters lists the valid requesters.
func Requesters() []Requester {
	return []Requester{RequesterParticipant, RequesterRepresentative, RequesterController}
}

// Valid reports whether r is a listed value.
func (r Requester) Valid() bool { return slices.Contains(Requesters(), r) }

// MeasureID names an outcome measure of measures.md that a programme can
// set a target rate for.
type MeasureID string

// Measures with a rate.
const (
	MeasureJobWithin183d             MeasureID = "job_within_183d"
	MeasureWorkOrEducationAtExit     MeasureID = "work_or_education_at_exit"
	MeasureRetention90d              MeasureID = "retention_90d"
	MeasureRetention180d             MeasureID = "retention_180d"
	MeasureOffSocialAssistanceAtExit MeasureID = "off_social_assistance_at_exit"
)

// TargetMeasures lists the measures a target may name.
func TargetMeasures() []MeasureID {
	return []MeasureID{MeasureJobWithin183d, MeasureWorkOrEducationAtExit, MeasureRetention90d, MeasureRetention180d, MeasureOffSocialAssistanceAtExit}
}

// Valid reports whether m is a listed value.
func (m MeasureID) Valid() bool { return slices.Contains(TargetMeasures(), m) }
