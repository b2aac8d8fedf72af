package dev.collab.room;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SerialExecutorTest {
    private final AtomicInteger pooled = new AtomicInteger();
    private final ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final SerialExecutor serial = new SerialExecutor(task -> {
        pooled.incrementAndGet();
        virtualThreads.execute(task);
    });

    @AfterEach
    void stop() {
        virtualThreads.shutdownNow();
    }

    @Test
    void anIdleRoomRunsATaskOnTheCallingVirtualThread() throws Exception {
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        Thread t = Thread.ofVirtual().start(() -> serial.execute(() -> ranOn.complete(Thread.currentThread())));
        t.join();
        assertSame(t, ranOn.get(5, TimeUnit.SECONDS));
        assertEquals(0, pooled.get(), "no hand-off to the pool");
    }

    @Test
    void aPlatformThreadHandsOffToThePool() throws Exception {
        CompletableFuture<Thread> fromPlatform = new CompletableFuture<>();
        serial.execute(() -> fromPlatform.complete(Thread.currentThread()));
        assertNotSame(Thread.currentThread(), fromPlatform.get(5, TimeUnit.SECONDS));
        assertEquals(1, pooled.get(), "went through the pool");
    }

    // each case on a fresh executor: a second submission right after the first could join the first's drain
    @Test
    void aQueuedSubmissionFromAVirtualThreadHandsOffToThePool() throws Exception {
        CompletableFuture<Thread> queued = new CompletableFuture<>();
        Thread caller = Thread.ofVirtual().start(() -> serial.executeQueued(() -> queued.complete(Thread.currentThread())));
        caller.join();
        assertNotSame(caller, queued.get(5, TimeUnit.SECONDS));
        assertEquals(1, pooled.get(), "went through the pool");
    }

    @Test
    void aTaskSubmittedFromInsideATaskRunsAfterItOnTheSameDrain() throws Exception {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(1);
        Thread.ofVirtual().start(() -> serial.execute(() -> {
            serial.execute(() -> {
                order.add("inner");
                done.countDown();
            });
            order.add("outer");
        })).join();
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertEquals(List.of("outer", "inner"), order);
    }

    @Test
    void pastTheBudgetTheCallerHandsTheRestToThePoolInOrder() throws Exception {
        int total = SerialExecutor.INLINE_BUDGET * 3;
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(total);
        Thread caller = Thread.ofVirtual().start(() -> serial.execute(() -> {
            // queue the rest from inside the first task, so they are all pending when the inline drain goes on
            for (int i = 1; i < total; i++) {
                int n = i;
                serial.execute(() -> {
                    order.add(n);
                    threads.add(Thread.currentThread());
                    done.countDown();
                });
            }
            order.add(0);
            threads.add(Thread.currentThread());
            done.countDown();
        }));
        caller.join();
        assertTrue(done.await(5, TimeUnit.SECONDS));
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            expected.add(i);
        }
        assertEquals(expected, order, "submission order kept across the hand-off");
        long onCaller = threads.stream().filter(t -> t == caller).count();
        assertEquals(SerialExecutor.INLINE_BUDGET, onCaller, "the caller ran exactly its budget");
        assertEquals(1, pooled.get(), "one hand-off for the remainder");
    }

    @Test
    void concurrentSubmittersNeverRunTwoTasksAtOnce() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        int threads = 8;
        int perThread = 500;
        CountDownLatch done = new CountDownLatch(threads * perThread);
        List<Thread> submitters = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread.Builder builder = t % 2 == 0 ? Thread.ofVirtual() : Thread.ofPlatform();
            submitters.add(builder.start(() -> {
                for (int i = 0; i < perThread; i++) {
                    serial.execute(() -> {
                        if (running.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        running.decrementAndGet();
                        done.countDown();
                    });
                }
            }));
        }
        for (Thread s : submitters) {
            s.join();
        }
        assertTrue(done.await(10, TimeUnit.SECONDS), "every task ran");
        assertEquals(0, overlaps.get());
    }
}
