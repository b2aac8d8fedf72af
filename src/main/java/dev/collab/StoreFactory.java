package dev.collab;

import dev.collab.config.Settings;
import dev.collab.store.Store;
import dev.collab.store.sqlite.SqliteStore;

import java.util.function.LongConsumer;

/** The one place that turns the settings into a {@link Store}. */
final class StoreFactory {
    private StoreFactory() {
    }

    /** @param commitNanos told the duration of each group commit, for metrics */
    static Store open(Settings settings, LongConsumer commitNanos) {
        return SqliteStore.open(settings.dbPath(), SqliteStore.Synchronous.valueOf(settings.sqliteSynchronous()), 4,
                commitNanos);
    }
}
