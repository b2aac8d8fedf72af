package dev.collab.cluster;

import dev.collab.room.Bus;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The bus on Redis pub/sub: one channel per document ({@code collab:doc:<id>}), subscribed while a room holds
 * it, and {@code collab:nodes} for heartbeats. At most once, by design: rooms fill what is lost from the store.
 * Lettuce reconnects and re-subscribes by itself; while it is disconnected, publishing is refused at once (never
 * buffered without bound) and {@link #connected()} is false so rooms poll the store instead.
 */
public final class RedisBus implements Bus {
    private static final System.Logger LOG = System.getLogger(RedisBus.class.getName());
    private static final String DOCUMENT_CHANNEL = "collab:doc:";
    private static final String NODES_CHANNEL = "collab:nodes";
    static final Duration HEARTBEAT = Duration.ofSeconds(1);
    /** A node not heard for this long is gone: its connections' awareness states are removed. */
    static final Duration NODE_TTL = Duration.ofSeconds(5);

    private final String nodeId;
    private final RedisClient client;
    private final StatefulRedisConnection<String, byte[]> publisher;
    private final StatefulRedisPubSubConnection<String, byte[]> subscriber;
    private final Map<String, List<Consumer<Event>>> listeners = new ConcurrentHashMap<>();
    private final Map<String, Long> nodesHeard = new ConcurrentHashMap<>();       // node -> nanoTime last heard
    private final List<Consumer<String>> goneListeners = new CopyOnWriteArrayList<>();
    private final ScheduledFuture<?> heartbeat;

    public static RedisBus connect(String url, String nodeId, ScheduledExecutorService timer) {
        RedisClient client = RedisClient.create(url);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(5)).build())
                .build());
        try {
            return new RedisBus(client, nodeId, timer);
        } catch (RuntimeException e) {
            client.shutdown();
            throw new IllegalStateException("cannot reach Redis at " + url + " (COLLAB_REDIS_URL): " + e.getMessage(), e);
        }
    }

    private RedisBus(RedisClient client, String nodeId, ScheduledExecutorService timer) {
        this.client = client;
        this.nodeId = nodeId;
        RedisCodec<String, byte[]> codec = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
        this.publisher = client.connect(codec);
        this.subscriber = client.connectPubSub(codec);
        subscriber.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, byte[] message) {
                received(channel, message);
            }
        });
        subscriber.sync().subscribe(NODES_CHANNEL);
        this.heartbeat = timer.scheduleWithFixedDelay(this::beat, 0, HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void received(String channel, byte[] message) {
        Event event;
        try {
            event = BusCodec.decode(message);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "dropped an undecodable message on " + channel + ": " + e.getMessage());
            return;
        }
        if (!event.node().equals(nodeId)) {
            nodesHeard.put(event.node(), System.nanoTime());
        }
        if (channel.startsWith(DOCUMENT_CHANNEL)) {
            List<Consumer<Event>> forDocument = listeners.get(channel.substring(DOCUMENT_CHANNEL.length()));
            if (forDocument != null) {
                forDocument.forEach(l -> l.accept(event));
            }
        }
    }

    private void beat() {
        publish(NODES_CHANNEL, new Heartbeat(nodeId), false);
        long now = System.nanoTime();
        nodesHeard.entrySet().removeIf(e -> {
            if (now - e.getValue() < NODE_TTL.toNanos()) {
                return false;
            }
            LOG.log(System.Logger.Level.INFO, "node {0} is gone (no heartbeat for {1} s)", e.getKey(),
                    NODE_TTL.toSeconds());
            for (Consumer<String> l : goneListeners) {
                try {
                    l.accept(e.getKey());
                } catch (RuntimeException failure) {
                    // a throwing listener must not end the heartbeat: scheduleWithFixedDelay stops a task for good
                    LOG.log(System.Logger.Level.WARNING, "node-gone listener failed", failure);
                }
            }
            return true;
        });
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public boolean enabled() {
        return true;
    }

    @Override
    public boolean connected() {
        return subscriber.isOpen() && publisher.isOpen();
    }

    @Override
    public Subscription subscribe(String documentId, Consumer<Event> listener) {
        listeners.compute(documentId, (id, current) -> {
            List<Consumer<Event>> list = current == null ? new CopyOnWriteArrayList<>() : current;
            if (current == null) {
                subscriber.async().subscribe(DOCUMENT_CHANNEL + id);
            }
            list.add(listener);
            return list;
        });
        return () -> listeners.computeIfPresent(documentId, (id, current) -> {
            current.remove(listener);
            if (!current.isEmpty()) {
                return current;
            }
            subscriber.async().unsubscribe(DOCUMENT_CHANNEL + id);
            return null;
        });
    }

    @Override
    public void publish(String documentId, Event event) {
        publish(DOCUMENT_CHANNEL + documentId, event, true);
    }

    private void publish(String channel, Event event, boolean logFailure) {
        try {
            publisher.async().publish(channel, BusCodec.encode(event)).exceptionally(e -> {
                if (logFailure) {
                    LOG.log(System.Logger.Level.DEBUG, "publish on " + channel + " failed: " + e.getMessage());
                }
                return 0L;
            });
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "publish on " + channel + " refused: " + e.getMessage());
        }
    }

    @Override
    public void onNodeGone(Consumer<String> listener) {
        goneListeners.add(listener);
    }

    /** Nodes heard within the TTL (for /health). */
    public List<String> nodesHeard() {
        return List.copyOf(nodesHeard.keySet());
    }

    @Override
    public void close() {
        heartbeat.cancel(false);
        subscriber.close();
        publisher.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
