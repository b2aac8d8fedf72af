package dev.collab.room;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The awareness table on its own: the clock rules, who holds each state, what a leave or a gone node removes. */
class AwarenessTableTest {
    private final AwarenessTable table = new AwarenessTable();
    private final Peer alice = new RecordingPeer("alice");
    private final Peer bob = new RecordingPeer("bob");

    private static AwarenessEntry state(long id, long clock, String json) {
        return new AwarenessEntry(id, clock, json, null);
    }

    private static AwarenessEntry removal(long id, long clock) {
        return state(id, clock, "null");
    }

    private static Set<Long> ids(List<AwarenessEntry> entries) {
        return entries.stream().map(AwarenessEntry::awarenessId).collect(Collectors.toSet());
    }

    @Test
    void aFirstStateAppliesAndIsInTheSnapshot() {
        AwarenessEntry cursor = state(1, 0, "{\"cursor\":1}");
        assertEquals(List.of(cursor), table.applyLocal(alice, List.of(cursor)));
        assertEquals(List.of(cursor), table.snapshot());
        assertEquals(cursor, table.get(1));
    }

    @Test
    void anEmptyTableHasAnEmptySnapshot() {
        assertEquals(List.of(), table.snapshot());
        assertNull(table.get(1));
    }

    @Test
    void aNewerClockReplacesTheState() {
        table.applyLocal(alice, List.of(state(1, 3, "{\"a\":1}")));
        AwarenessEntry newer = state(1, 4, "{\"a\":2}");
        assertEquals(List.of(newer), table.applyLocal(alice, List.of(newer)));
        assertEquals(List.of(newer), table.snapshot());
    }

    @Test
    void anOlderOrEqualClockIsIgnored() {
        AwarenessEntry current = state(1, 5, "{\"a\":1}");
        table.applyLocal(alice, List.of(current));
        assertEquals(List.of(), table.applyLocal(alice, List.of(state(1, 4, "{\"a\":0}"))));
        assertEquals(List.of(), table.applyLocal(alice, List.of(state(1, 5, "{\"a\":2}"))),
                "an equal clock wins only to remove");
        assertEquals(List.of(current), table.snapshot());
    }

    @Test
    void aRemovalWithTheSameClockRemovesTheState() {
        table.applyLocal(alice, List.of(state(1, 5, "{\"a\":1}")));
        assertEquals(List.of(removal(1, 5)), table.applyLocal(alice, List.of(removal(1, 5))));
        assertEquals(List.of(), table.snapshot());
    }

    @Test
    void aRemovalWithAnOlderClockIsIgnored() {
        AwarenessEntry current = state(1, 5, "{\"a\":1}");
        table.applyLocal(alice, List.of(current));
        assertEquals(List.of(), table.applyLocal(alice, List.of(removal(1, 4))));
        assertEquals(List.of(current), table.snapshot());
    }

    @Test
    void onlyTheEntriesThatWinAreReturnedFromABatch() {
        table.applyLocal(alice, List.of(state(1, 5, "{}"), state(2, 5, "{}")));
        AwarenessEntry win = state(2, 6, "{\"b\":1}");
        AwarenessEntry fresh = state(3, 0, "{}");
        assertEquals(List.of(win, fresh), table.applyLocal(alice, List.of(state(1, 2, "{}"), win, fresh)));
        assertEquals(Set.of(1L, 2L, 3L), ids(table.snapshot()));
    }

    @Test
    void aRelayedRemovalKeepsTheOwnerOfTheStateItRemoves() {
        table.set(alice, 7, clock -> clock + 1, "{\"name\":\"json\"}", "json-client");
        List<AwarenessEntry> applied = table.applyLocal(bob, List.of(removal(7, 2)));
        assertEquals(List.of(new AwarenessEntry(7, 2, "null", "json-client")), applied);
        assertEquals(List.of(), table.snapshot());
    }

    @Test
    void aRemovalHeardFromAnotherNodeKeepsTheOwnerToo() {
        table.applyRemote("node-b", List.of(new AwarenessEntry(7, 1, "{}", "json-client")));
        assertEquals(List.of(new AwarenessEntry(7, 1, "null", "json-client")),
                table.applyRemote("node-c", List.of(removal(7, 1))));
    }

    @Test
    void aStateThatIsNotARemovalKeepsItsOwnOwner() {
        table.set(alice, 7, clock -> clock + 1, "{}", "json-client");
        AwarenessEntry taken = state(7, 5, "{\"x\":1}");
        assertEquals(List.of(taken), table.applyLocal(bob, List.of(taken)), "only removals inherit the owner");
    }

    @Test
    void aLeavingPeersStatesAreRemovedWithTheNextClock() {
        table.applyLocal(alice, List.of(state(1, 3, "{}"), new AwarenessEntry(2, 8, "{}", "a")));
        table.applyLocal(bob, List.of(state(3, 1, "{}")));
        List<AwarenessEntry> removed = table.removePeer(alice);
        assertEquals(Set.of(removal(1, 4), new AwarenessEntry(2, 9, "null", "a")), Set.copyOf(removed));
        assertEquals(List.of(state(3, 1, "{}")), table.snapshot(), "the other peer's state stays");
        assertEquals(List.of(), table.removePeer(alice), "a second leave removes nothing");
    }

    @Test
    void aStateTheLeavingPeerAlreadyRemovedIsNotRemovedAgain() {
        table.applyLocal(alice, List.of(state(1, 3, "{}")));
        table.applyLocal(alice, List.of(removal(1, 4)));
        assertEquals(List.of(), table.removePeer(alice));
    }

    @Test
    void aPeerThatTakesOverAStateHoldsIt() {
        table.applyLocal(alice, List.of(state(1, 3, "{}")));
        table.applyLocal(bob, List.of(state(1, 4, "{\"bob\":1}")));
        assertEquals(List.of(), table.removePeer(alice));
        assertEquals(List.of(removal(1, 5)), table.removePeer(bob));
    }

    @Test
    void setCountsFromTheCurrentClockWhateverItIs() {
        AwarenessEntry first = table.set(alice, 9, clock -> clock + 1, "{\"n\":1}", "c1");
        assertEquals(new AwarenessEntry(9, 1, "{\"n\":1}", "c1"), first, "from 0 when there is no state");
        table.applyRemote("node-b", List.of(state(9, 40, "{}")));
        AwarenessEntry next = table.set(alice, 9, clock -> clock + 1, "{\"n\":2}", "c1");
        assertEquals(new AwarenessEntry(9, 41, "{\"n\":2}", "c1"), next);
        assertEquals(List.of(next), table.snapshot());
    }

    @Test
    void setWithNullClearsTheStateAndTheLeaveRemovesNothingMore() {
        table.set(alice, 9, clock -> clock + 1, "{}", "c1");
        AwarenessEntry cleared = table.set(alice, 9, clock -> clock + 1, "null", "c1");
        assertEquals(new AwarenessEntry(9, 2, "null", "c1"), cleared);
        assertEquals(List.of(), table.snapshot());
        assertEquals(List.of(), table.removePeer(alice));
    }

    @Test
    void aGoneNodesCursorsAreRemoved() {
        table.applyRemote("node-b", List.of(state(1, 2, "{}"), state(2, 0, "{}")));
        table.applyRemote("node-c", List.of(state(3, 0, "{}")));
        table.applyLocal(alice, List.of(state(4, 0, "{}")));
        assertEquals(Set.of(removal(1, 3), removal(2, 1)), Set.copyOf(table.nodeGone("node-b")));
        assertEquals(Set.of(3L, 4L), ids(table.snapshot()));
        assertEquals(List.of(), table.nodeGone("node-b"), "gone once");
    }

    @Test
    void remoteStatesFollowTheClockRulesToo() {
        table.applyRemote("node-b", List.of(state(1, 5, "{\"v\":1}")));
        assertEquals(List.of(), table.applyRemote("node-b", List.of(state(1, 5, "{\"v\":2}"))));
        assertEquals(List.of(), table.applyRemote("node-b", List.of(removal(1, 4))));
        assertEquals(List.of(removal(1, 5)), table.applyRemote("node-b", List.of(removal(1, 5))));
        assertEquals(List.of(), table.nodeGone("node-b"), "removed already: nothing left to remove");
    }

    @Test
    void aRemoteStateTakesOverFromALocalPeer() {
        table.applyLocal(alice, List.of(state(1, 3, "{}")));
        table.applyRemote("node-b", List.of(state(1, 4, "{}")));
        assertEquals(List.of(), table.removePeer(alice), "the state is node-b's now");
        assertEquals(List.of(removal(1, 5)), table.nodeGone("node-b"));
    }

    @Test
    void aStateHeardFromANodeThenSetByALocalYjsPeerStaysWhenThatNodeGoes() {
        table.applyRemote("node-b", List.of(state(1, 3, "{}")));
        table.applyLocal(alice, List.of(state(1, 4, "{}")));
        assertEquals(List.of(), table.nodeGone("node-b"));
        assertEquals(List.of(removal(1, 5)), table.removePeer(alice));
    }

    @Test
    void aStateHeardFromANodeThenSetByALocalJsonPeerStaysWhenThatNodeGoes() {
        // a JSON client that moved from node-b to this node keeps its id (the adapter derives it from the clientID)
        table.applyRemote("node-b", List.of(new AwarenessEntry(9, 3, "{}", "c1")));
        AwarenessEntry here = table.set(alice, 9, clock -> clock + 1, "{\"here\":1}", "c1");
        assertEquals(List.of(), table.nodeGone("node-b"));
        assertEquals(List.of(here), table.snapshot());
        assertEquals(List.of(new AwarenessEntry(9, 5, "null", "c1")), table.removePeer(alice));
    }

    @Test
    void clearLocalDropsEveryStateWithoutRemovals() {
        table.applyLocal(alice, List.of(state(1, 0, "{}")));
        table.applyRemote("node-b", List.of(state(2, 0, "{}")));
        table.clearLocal();
        assertTrue(table.snapshot().isEmpty());
        assertEquals(List.of(), table.removePeer(alice));
        assertEquals(List.of(), table.nodeGone("node-b"));
    }
}
