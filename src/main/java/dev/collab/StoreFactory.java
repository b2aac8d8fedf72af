package dev.collab;

import dev.collab.config.ClusterSettings;
import dev.collab.config.Settings;
import dev.collab.store.Store;
import dev.collab.store.postgres.PostgresStore;
import dev.collab.store.sqlite.SqliteStore;
import dev.collab.yjs.YUpdates;

import java.util.function.LongConsumer;

/** The one place that turns the settings into a {@link Store}. */
final class StoreFactory {
    private StoreFactory() {
    }

    /** @param commitNanos told the duration of each group commit, for metrics */
    static Store open(Settings settings, ClusterSettings cluster, LongConsumer commitNanos) {
        if (cluster.store().equals(ClusterSettings.POSTGRES)) {
            return PostgresStore.open(new PostgresStore.Config(cluster.postgresUrl(), cluster.postgresUser(),
                    cluster.postgresPassword(), cluster.postgresPoolSize()),
                    updates -> YUpdates.merge(updates, true), commitNanos);
        }
        return SqliteStore.open(settings.storage().dbPath(), SqliteStore.Synchronous.valueOf(settings.storage().sqliteSynchronous()), 4,
                commitNanos);
    }
}
