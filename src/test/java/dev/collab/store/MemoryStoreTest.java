package dev.collab.store;

/** The contract against the in-memory store (its "reopen" hands the same data on). */
class MemoryStoreTest extends StoreContractTest {
    private final MemoryStore store = new MemoryStore();

    @Override
    protected Store openStore() {
        return store.reopen();
    }
}
