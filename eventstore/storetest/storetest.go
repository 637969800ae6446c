// Package storetest is the contract suite every eventstore.Store backend must
// pass. A backend's test hands Run a constructor of fresh, empty stores:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) eventstore.Store {
//			s := openEmptyStore(t)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Every behaviour is its own subtest, so a failing backend shows which
// promise of the port it breaks (go test -run 'TestContract/ReadAll' narrows
// it down further).
//
// The suite asserts what the port's documentation promises and nothing a
// particular backend happens to do, so that the embedded backend and the
// EventStoreDB adapter are held to the same contract: positions are checked
// to be positive and strictly increasing in log order, never contiguous;
// recorded times only to be recent and in UTC; an id reused in another
// stream is not examined at all.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/caseledger/caseledger/eventstore"
)

// guard bounds each case, so that a backend which deadlocks or loses a
// wake-up fails with a message instead of hanging the test binary until go
// test's own timeout. It is far above what a correct backend needs, and it
// is never used to wait for something to happen.
const guard = 10 * time.Second

type testCase struct {
	name string
	run  func(t *testing.T, ctx context.Context, s eventstore.Store)
}

// Run runs the contract suite. newStore must return a fresh, empty store
// each time it is called and register the store's cleanup on the t it is
// given; the suite may close the store itself before that cleanup runs. The
// cases run in parallel, each on its own store.
func Run(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Helper()
	seen := make(map[string]bool)
	for _, c := range cases() {
		if seen[c.name] {
			t.Fatalf("storetest: case %q is listed twice", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			// Every case has a store of its own, so none shares state with
			// another and all may run at once.
			t.Parallel()
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned a nil store")
			}
			ctx, cancel := context.WithTimeout(t.Context(), guard)
			defer cancel()
			c.run(t, ctx, s)
		})
	}
}

func cases() []testCase {
	cs := []testCase{
		{"NewStoreIsEmpty", testNewStoreIsEmpty},

		// Appending.
		{"AppendToNewStreamWithAny", testAppendToNewStream(eventstore.Any)},
		{"AppendToNewStreamWithNoStream", testAppendToNewStream(eventstore.NoStream)},
		{"RevisionsStartAtZeroAndAreContiguous", testRevisionsContiguous},
		{"MultiEventAppendKeepsOrder", testMultiEventAppendKeepsOrder},
		{"AppendResultNamesLastEvent", testAppendResultNamesLastEvent},
		{"ContentTypeDefaultsToJSON", testContentTypeDefaultsToJSON},
		{"EventRoundTrip", testEventRoundTrip},
		{"EmptyDataRoundTrip", testEmptyDataRoundTrip},
		{"BinaryDataRoundTrip", testBinaryDataRoundTrip},
		{"StoredEventsDoNotShareCallerMemory", testStoredEventsDoNotShareMemory},
		{"LimitsAtMaximumAreAccepted", testLimitsAtMaximumAreAccepted},
		{"EventAtMaxSizeIsAccepted", testEventAtMaxSizeIsAccepted},
		{"StreamNamesAreExact", testStreamNamesAreExact},
		{"InterleavedStreams", testInterleavedStreams},
		{"MultiEventAppendIsAtomicForReaders", testMultiEventAppendIsAtomicForReaders},

		// Expected revision.
		{"ExpectationsThatHoldSucceed", testExpectationsThatHold},
		{"ExpectNoStreamOnExistingStreamConflicts", testConflict(2, eventstore.NoStream)},
		{"ExpectStreamExistsOnMissingStreamConflicts", testConflict(0, eventstore.StreamExists)},
		{"ExpectRevisionTooLowConflicts", testConflict(3, eventstore.AtRevision(1))},
		{"ExpectRevisionTooHighConflicts", testConflict(3, eventstore.AtRevision(3))},
		{"ExpectRevisionOnMissingStreamConflicts", testConflict(0, eventstore.AtRevision(0))},
		{"ConcurrentWritersAtSameRevisionOneWins", testConcurrentWritersAtSameRevision},
		{"ConcurrentNoStreamCreatorsOneWins", testConcurrentNoStreamCreators},
		{"ConcurrentAnyAppendsAllLand", testConcurrentAnyAppends},

		// Idempotency.
		{"IdempotentRetryReturnsOriginalResult", testIdempotentRetry},
		{"IdempotentRetryAfterOtherAppends", testIdempotentRetryAfterOtherAppends},
		{"IdempotentRetryWithStaleExpectation", testIdempotentRetryWithStaleExpectation},
		{"IdempotentRetryOfStoredSubsetNamesHighestRevision", testIdempotentRetryOfSubset},
		{"PartlyStoredRetryFails", testPartlyStoredRetryFails},
		{"ConcurrentIdenticalRetriesStoreOnce", testConcurrentIdenticalRetries},

		// Reading one stream.
		{"ReadStreamForwardsFromRevision", testReadStreamForwardsFromRevision},
		{"ReadStreamBackwardsFromRevision", testReadStreamBackwardsFromRevision},
		{"ReadStreamBackwardsFromEnd", testReadStreamBackwardsFromEnd},
		{"ReadStreamWithLimit", testReadStreamWithLimit},
		{"ReadStreamForwardsBeyondLastIsEmpty", testReadStreamForwardsBeyondLast},
		{"ReadStreamBackwardsBeyondLastStartsAtLast", testReadStreamBackwardsBeyondLast},
		{"ReadStreamMissingStreamNotFound", testReadStreamMissingStream},
		{"ReadStreamPaging", testReadStreamPaging},

		// Reading the global log.
		{"ReadAllForwardsFromStart", testReadAllForwardsFromStart},
		{"ReadAllForwardsFromMiddleIsExclusive", testReadAllForwardsFromMiddle},
		{"ReadAllForwardsFromHeadIsEmpty", testReadAllForwardsFromHead},
		{"ReadAllBackwardsFromEnd", testReadAllBackwardsFromEnd},
		{"ReadAllBackwardsFromMiddleIsExclusive", testReadAllBackwardsFromMiddle},
		{"ReadAllWithLimit", testReadAllWithLimit},
		{"ReadAllPagingForwards", testReadAllPaging(false)},
		{"ReadAllPagingBackwards", testReadAllPaging(true)},
		{"ReadStreamAndReadAllAgree", testReadStreamAndReadAllAgree},
		{"NegativeLimitIsInvalidReadRange", testNegativeLimitIsInvalid},

		// Subscriptions.
		{"SubscribeToEmptyStoreCatchesUpAtOnce", testSubscribeToEmptyStore},
		{"SubscribeFromStart", testSubscribeFromStart},
		{"SubscribeFromMiddleIsExclusive", testSubscribeFromMiddle},
		{"SubscribeFromHead", testSubscribeFromHead},
		{"SubscribeWithStreamPrefixFilter", testFilteredSubscription(eventstore.Filter{
			StreamPrefixes: []string{"case-", "person-"},
		})},
		{"SubscribeWithEventTypeFilter", testFilteredSubscription(eventstore.Filter{
			EventTypes: []string{"MeetingHeld", "CaseClosed"},
		})},
		{"SubscribeWithStreamPrefixAndEventTypeFilter", testFilteredSubscription(eventstore.Filter{
			StreamPrefixes: []string{"case-"},
			EventTypes:     []string{"MeetingHeld"},
		})},
		{"SubscribeUnderConcurrentAppends", testSubscribeUnderConcurrentAppends},
		{"SubscribeWhileAppending", testSubscribeWhileAppending},
		{"SlowSubscriberMissesNothingAndDoesNotBlockWriters", testSlowSubscriber},
		{"TwoSubscriptionsSeeTheSameEvents", testTwoSubscriptions},
		{"SubscriptionEndsWhenItsContextIsCancelled", testSubscriptionContextCancelled},
		{"NextReturnsWhenCallContextEnds", testNextCallContextEnds},
		{"NextAfterCloseFails", testNextAfterClose},
		{"CloseUnblocksNext", testCloseUnblocksNext},
		{"SubscriptionFailsWhenStoreCloses", testSubscriptionStoreClosed},

		// The store's life cycle and contexts.
		{"ClosedStoreRefusesAppend", testClosedStoreRefusesAppend},
		{"ClosedStoreRefusesReadStream", testClosedStoreRefusesReadStream},
		{"ClosedStoreRefusesReadAll", testClosedStoreRefusesReadAll},
		{"ClosedStoreRefusesSubscribe", testClosedStoreRefusesSubscribe},
		{"CloseTwiceDoesNotPanic", testCloseTwice},
		{"AppendWithCancelledContextFails", testAppendCancelledContext},
		{"ReadAllWithCancelledContextFails", testReadAllCancelledContext},
	}
	// Bad input: one case per rule of eventstore.ValidateAppend.
	for _, b := range badAppends() {
		cs = append(cs, testCase{"Reject" + b.name, testBadAppend(b)})
	}
	return cs
}
