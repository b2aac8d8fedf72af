package dev.collab.room;

import dev.collab.room.StepAuthority.Verdict;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The step authority on its own: the head, one commit at a time, waiting submissions, steps from other nodes. */
class StepAuthorityTest {
    private final StepAuthority authority = new StepAuthority();

    private static RoomEvent.Steps steps(int version, int count) {
        List<String> steps = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            steps.add("{\"stepType\":\"replace\",\"n\":" + (version + i) + "}");
        }
        return new RoomEvent.Steps(version, steps, Collections.nCopies(count, "other-node-client"));
    }

    /** Accepts {@code count} steps at the head and stores them, as a commit that went well. */
    private void commit(int count) {
        assertEquals(Verdict.ACCEPT, authority.judge(authority.head(), count));
        authority.commitStored();
    }

    @Test
    void aNewDocumentAcceptsStepsAtVersionZeroAndTheHeadMovesOnceTheyAreStored() {
        assertEquals(0, authority.head());
        assertEquals(Verdict.ACCEPT, authority.judge(0, 3));
        assertEquals(0, authority.head(), "not committed yet");
        assertFalse(authority.settled());
        assertEquals(3, authority.commitStored());
        assertEquals(3, authority.head());
        assertTrue(authority.settled());
    }

    @Test
    void aSubmissionAtAnOldVersionIsAConflictAtTheHead() {
        commit(2);
        commit(1);
        assertEquals(Verdict.CONFLICT, authority.judge(0, 1));
        assertEquals(Verdict.CONFLICT, authority.judge(2, 4));
        assertEquals(3, authority.head(), "the submitter resyncs from here");
        assertTrue(authority.settled(), "a conflict starts nothing");
    }

    @Test
    void aSubmissionPastTheHeadOrBelowZeroIsInvalid() {
        commit(2);
        assertEquals(Verdict.INVALID, authority.judge(3, 1));
        assertEquals(Verdict.INVALID, authority.judge(-1, 1));
        assertEquals(Verdict.ACCEPT, authority.judge(2, 1), "the head itself is fine");
    }

    @Test
    void onlyOneCommitIsInFlightAndTheNextSubmissionWaitsForIt() {
        assertEquals(Verdict.ACCEPT, authority.judge(0, 2));
        assertEquals(Verdict.WAIT, authority.judge(0, 1), "not a conflict yet: judged after the commit");
        assertEquals(Verdict.WAIT, authority.judge(2, 1), "the version the commit in flight produces");
        assertEquals(Verdict.INVALID, authority.judge(3, 1), "past even the commit in flight");
    }

    @Test
    void waitingSubmissionsAreHandedBackInOrderOnceTheCommitIsStored() {
        authority.judge(0, 2);
        List<String> judged = new ArrayList<>();
        authority.await(() -> judged.add("first"));
        authority.await(() -> judged.add("second"));
        assertNull(authority.nextWaiting(), "the commit is still in flight");
        authority.commitStored();
        Runnable next;
        while ((next = authority.nextWaiting()) != null) {
            next.run();
        }
        assertEquals(List.of("first", "second"), judged);
    }

    @Test
    void aWaitingSubmissionThatIsAcceptedHoldsBackTheOnesBehindIt() {
        authority.judge(0, 1);
        authority.await(() -> assertEquals(Verdict.ACCEPT, authority.judge(1, 1)));
        authority.await(() -> { });
        authority.commitStored();
        authority.nextWaiting().run();
        assertNull(authority.nextWaiting(), "the accepted one is in flight now");
        authority.commitStored();
        assertEquals(2, authority.head());
        assertTrue(authority.nextWaiting() != null);
    }

    @Test
    void aFailedCommitLeavesTheHeadWhereItWas() {
        commit(2);
        assertEquals(Verdict.ACCEPT, authority.judge(2, 5));
        authority.commitFailed();
        assertEquals(2, authority.head());
        assertTrue(authority.settled());
        assertEquals(Verdict.INVALID, authority.judge(4, 1), "the failed steps never counted");
        assertEquals(Verdict.ACCEPT, authority.judge(2, 1), "the version is free again");
    }

    @Test
    void stepsHeardFromAnotherNodeAtTheHeadAreApplied() {
        commit(1);
        RoomEvent.Steps heard = steps(1, 2);
        assertTrue(authority.heard(heard));
        assertSame(heard, authority.nextFitting());
        assertEquals(3, authority.head());
        assertNull(authority.nextFitting());
        assertFalse(authority.gapAhead());
    }

    @Test
    void stepsTheHeadAlreadyHasAreDropped() {
        commit(3);
        assertFalse(authority.heard(steps(0, 3)), "our own commit, heard back");
        assertFalse(authority.heard(steps(1, 2)));
        assertNull(authority.nextFitting());
    }

    @Test
    void heardStepsWaitWhileACommitIsInFlight() {
        authority.judge(0, 1);
        assertTrue(authority.heard(steps(1, 1)));
        assertNull(authority.nextFitting(), "applied only after the commit settles");
        assertFalse(authority.gapAhead());
        authority.commitStored();
        assertEquals(1, authority.nextFitting().version());
        assertEquals(2, authority.head());
    }

    @Test
    void stepsPastAGapWaitForTheStoreToFillIt() {
        commit(1);
        authority.heard(steps(4, 1));
        authority.heard(steps(3, 1));
        assertNull(authority.nextFitting());
        assertTrue(authority.gapAhead());
        assertEquals(1, authority.startFill(), "read from the head");
        assertEquals(Verdict.WAIT, authority.judge(1, 1), "submissions wait for the read");
        authority.await(() -> { });
        assertNull(authority.nextWaiting());

        RoomEvent.Steps stored = steps(1, 2);
        assertEquals(List.of(stored), authority.filled(List.of(stored)));
        assertEquals(3, authority.head());
        assertEquals(3, authority.nextFitting().version(), "then the heard ones, in version order");
        assertEquals(4, authority.nextFitting().version());
        assertEquals(5, authority.head());
        assertFalse(authority.gapAhead());
        assertTrue(authority.nextWaiting() != null);
    }

    @Test
    void aReadThatBringsEverythingDropsTheHeardStepsItCovered() {
        authority.heard(steps(2, 1));
        assertTrue(authority.gapAhead());
        authority.startFill();
        List<RoomEvent.Steps> applied = authority.filled(List.of(steps(0, 2), steps(2, 1), steps(3, 2)));
        assertEquals(List.of(0, 2, 3), applied.stream().map(RoomEvent.Steps::version).toList());
        assertEquals(5, authority.head());
        assertNull(authority.nextFitting(), "the heard steps at 2 came from the store");
        assertFalse(authority.gapAhead());
    }

    @Test
    void aReadSkipsBatchesThatDoNotContinueTheHead() {
        authority.startFill();
        assertEquals(List.of(), authority.filled(List.of(steps(1, 1))));
        assertEquals(0, authority.head());
    }

    @Test
    void aLostRaceForAVersionLearnsTheWinnersStepsFromTheStore() {
        assertEquals(Verdict.ACCEPT, authority.judge(0, 1));
        authority.commitFailed();                   // the store: version 0 is taken
        assertEquals(0, authority.startFill());
        authority.filled(List.of(steps(0, 2)));
        assertEquals(2, authority.head(), "the submitter's conflict names this head");
        assertEquals(Verdict.CONFLICT, authority.judge(0, 1));
    }

    @Test
    void onlyOneReadRunsAtATime() {
        assertEquals(0, authority.startFill());
        assertEquals(-1, authority.startFill());
        authority.filled(List.of());
        assertEquals(0, authority.startFill());
    }

    @Test
    void aFailedReadKeepsTheHeadAndTheNextOneMayTry() {
        commit(2);
        authority.heard(steps(5, 1));
        authority.startFill();
        authority.fillFailed();
        assertEquals(2, authority.head());
        assertTrue(authority.settled());
        assertTrue(authority.gapAhead(), "the heard steps are still past the gap");
        assertEquals(2, authority.startFill());
    }

    @Test
    void theStoreBeingAheadCallsForAReadOnlyWithNoCommitInFlight() {
        commit(2);
        assertTrue(authority.behind(4));
        assertFalse(authority.behind(2));
        authority.judge(2, 1);
        assertFalse(authority.behind(4), "the commit in flight settles it first");
    }

    @Test
    void aSnapshotMayBeStoredAtAnyCommittedVersion() {
        commit(3);
        assertTrue(authority.hasReached(0));
        assertTrue(authority.hasReached(3));
        assertFalse(authority.hasReached(4));
        assertFalse(authority.hasReached(-1));
        authority.judge(3, 2);
        assertFalse(authority.hasReached(4), "in flight is not committed");
    }

    @Test
    void aLoadedDocumentStartsAtItsStoredVersion() {
        authority.load(7);
        assertEquals(7, authority.head());
        assertEquals(Verdict.CONFLICT, authority.judge(6, 1));
        assertEquals(Verdict.ACCEPT, authority.judge(7, 1));
    }

    @Test
    void aDeletedDocumentStartsAgainAtZeroAndForgetsWhatWasHeard() {
        commit(4);
        authority.heard(steps(6, 1));
        authority.reset();
        assertEquals(0, authority.head());
        assertFalse(authority.gapAhead());
        assertNull(authority.nextFitting());
        assertEquals(Verdict.ACCEPT, authority.judge(0, 1));
    }
}
