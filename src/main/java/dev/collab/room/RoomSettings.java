package dev.collab.room;

import java.time.Duration;

/** Tuning of rooms: when to drop an empty room from memory, when to compact, how to batch catch-up steps. */
public record RoomSettings(Duration idleUnload, int compactionUpdates, long compactionBytes, int stepsBatch) {
}
