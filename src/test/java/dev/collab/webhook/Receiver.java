package dev.collab.webhook;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/** A real HTTP webhook receiver (the JDK's HttpServer) that records requests and answers as told. */
public final class Receiver implements AutoCloseable {
    public record Request(Headers headers, String body) {
        public String header(String name) {
            return headers.getFirst(name);
        }
    }

    private final HttpServer server;
    private final BlockingQueue<Request> received = new LinkedBlockingQueue<>();
    private final ConcurrentLinkedQueue<Integer> statuses = new ConcurrentLinkedQueue<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean hang;

    public Receiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/hook", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(new Request(exchange.getRequestHeaders(), body));
            if (hang) {
                try {
                    release.await();             // never answers until the test ends
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Integer status = statuses.poll();
            exchange.sendResponseHeaders(status == null ? 200 : status, -1);
            exchange.close();
        });
        server.start();
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
    }

    /** The next requests are answered with these statuses (then 200). */
    public Receiver answering(Integer... codes) {
        statuses.addAll(java.util.List.of(codes));
        return this;
    }

    /** Every request is held open without an answer until {@link #close}. */
    public Receiver hanging() {
        hang = true;
        return this;
    }

    public Request next() throws InterruptedException {
        Request r = received.poll(20, TimeUnit.SECONDS);
        assertNotNull(r, "no webhook request arrived within 20 s");
        return r;
    }

    /** The next request of event {@code event}, skipping others. */
    public Request next(String event) throws InterruptedException {
        while (true) {
            Request r = next();
            if (event.equals(r.header("X-Collab-Event"))) {
                return r;
            }
        }
    }

    public int receivedSoFar() {
        return received.size();
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
    }
}
