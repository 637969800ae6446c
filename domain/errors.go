package domain

import "errors"

// InvalidError says a command is wrong in itself: a check digit, a value
// off its scale or list, a text too long, a date in the future or out of
// order. The HTTP layer answers 422.
//
// Its message names the field and the rule, never the value, because the
// value may be personal data.
type InvalidError struct {
	// Pointer is a JSON pointer (RFC 6901) into the command body, e.g.
	// "/personal/national_id" or "/scores/hope"; "" is the whole body.
	Pointer string
	// Code is stable and machine-readable, one of the Code constants.
	Code string
	// Message is for people; it never contains the offending value.
	Message string
}

func (e *InvalidError) Error() string {
	return "invalid " + pointerOrBody(e.Pointer) + ": " + e.Message + " (" + e.Code + ")"
}

// RejectedError says a command does not fit the current state: not
// enrolled, already exited, no consent, unknown goal. The HTTP layer
// answers 409. Like InvalidError it never carries personal data.
type RejectedError struct {
	Pointer string
	Code    string
	Message string
}

func (e *RejectedError) Error() string {
	return "rejected " + pointerOrBody(e.Pointer) + ": " + e.Message + " (" + e.Code + ")"
}

func pointerOrBody(p string) string {
	if p == "" {
		return "body"
	}
	return p
}

func invalid(pointer, code, msg string) *InvalidError {
	return &InvalidError{Pointer: pointer, Code: code, Message: msg}
}

func rejected(pointer, code, msg string) *RejectedError {
	return &RejectedError{Pointer: pointer, Code: code, Message: msg}
}

// Codes of InvalidError.
const (
	CodeRequired       = "required"          // a required field is missing or blank
	CodeTooLong        = "too_long"          // text or list beyond its bound
	CodeFormat         = "format"            // wrong layout (slug, code, phone, control characters)
	CodeNotAllowed     = "not_allowed"       // not one of the listed values
	CodeOutOfRange     = "out_of_range"      // a number outside its range
	CodeCheckDigit     = "check_digit"       // national id or organisation number check digit
	CodeFutureDate     = "future_date"       // a business date after today
	CodeDateOrder      = "date_order"        // a date before the one it must follow
	CodeMismatch       = "mismatch"          // two fields of the command contradict each other
	CodeDuplicate      = "duplicate"         // the same item twice in a list
	CodeType           = "type"              // JSON value of the wrong type (DecodeCommand)
	CodeUnknownField   = "unknown_field"     // JSON member the command does not have (DecodeCommand)
	CodeMalformed      = "malformed"         // not JSON, or trailing data (DecodeCommand)
	CodeAddressProtect = "address_protected" // an address given for a person under address protection
)

// Codes of RejectedError.
const (
	CodeNotEnrolled       = "not_enrolled"
	CodeAlreadyEnrolled   = "already_enrolled"
	CodeExited            = "exited"
	CodeErased            = "erased"
	CodeAlreadyErased     = "already_erased"
	CodeAlreadyAssigned   = "already_assigned"
	CodeNotAssigned       = "not_assigned"
	CodeConsentGiven      = "consent_already_given"
	CodeConsentNotGiven   = "consent_not_given"
	CodeNoEmployerConsent = "no_employer_consent"
	CodeGoalExists        = "goal_exists"
	CodeUnknownGoal       = "unknown_goal"
	CodeGoalClosed        = "goal_closed"
	CodeDuplicateScore    = "duplicate_timepoint"
	CodePlacementExists   = "placement_exists"
	CodeUnknownPlacement  = "unknown_placement"
	CodePlacementNotOpen  = "placement_not_open"
	CodeAlreadyPaused     = "already_paused"
	CodeNotPaused         = "not_paused"
	CodeUnknownEntry      = "unknown_entry"
	CodeNotCorrectable    = "not_correctable"
	CodeEntryVoided       = "entry_voided"
	CodeEntryType         = "entry_type_mismatch"
	CodeBreaksHistory     = "conflicts_with_later_entry"
	CodeAlreadyRegistered = "already_registered"
	CodeNotRegistered     = "not_registered"
	CodeSlugMismatch      = "slug_mismatch"
)

// Errors of decoding stored events and metadata; match them with errors.Is.
var (
	ErrUnknownEventType = errors.New("unknown event type")
	ErrMalformed        = errors.New("malformed")
)
