package dev.collab;

import dev.collab.auth.AccessPolicy;
import dev.collab.auth.Expiry;
import dev.collab.auth.JwtAccessPolicy;
import dev.collab.config.ConfigError;
import dev.collab.config.IntegrationSettings;
import dev.collab.config.Logging;
import dev.collab.config.Settings;
import dev.collab.config.UnknownVariables;
import dev.collab.http.AdminService;
import dev.collab.http.ContentService;
import dev.collab.http.DocumentsService;
import dev.collab.http.InternalService;
import dev.collab.http.ObserveService;
import dev.collab.http.OpenApiService;
import dev.collab.http.ServerMetrics;
import dev.collab.protocol.hocuspocus.HocuspocusLimits;
import dev.collab.protocol.hocuspocus.HocuspocusProtocol;
import dev.collab.protocol.json.JsonProtocol;
import dev.collab.protocol.ywebsocket.YWebsocketProtocol;
import dev.collab.room.DocumentEvents;
import dev.collab.room.Rooms;
import dev.collab.cluster.RedisBus;
import dev.collab.config.ClusterSettings;
import dev.collab.room.Bus;
import dev.collab.store.Store;
import dev.collab.transport.AllowedOrigins;
import dev.collab.transport.CannotListen;
import dev.collab.transport.ConnectionManager;
import dev.collab.transport.UpgradeRefusals;
import dev.collab.transport.WsEndpoints;
import dev.collab.transport.WsProtocol;
import dev.collab.webhook.Scheduler;
import dev.collab.webhook.WebhookSender;
import dev.collab.webhook.Webhooks;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.staticcontent.StaticContentService;
import io.helidon.webserver.websocket.WsConfig;

import java.net.http.HttpClient;
import java.time.Clock;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Wires the server together from {@link Settings}; no logic of its own. */
public final class Main {
    static {
        // before the first logger exists: keeps log output alive during the graceful stop (see Logging)
        if (System.getProperty("java.util.logging.manager") == null) {
            System.setProperty("java.util.logging.manager", Logging.ShutdownSafeLogManager.class.getName());
        }
    }

    private static final System.Logger LOG = System.getLogger(Main.class.getName());

    private Main() {
    }

    public static void main(String[] args) {
        Settings settings;
        IntegrationSettings integration;
        ClusterSettings cluster;
        try {
            settings = Settings.load();
            integration = IntegrationSettings.load(System.getenv());
            cluster = ClusterSettings.load();
        } catch (IllegalArgumentException e) {       // ConfigError, and ClusterSettings' own checks
            throw exit(2, e.getMessage());
        }
        Logging.configure(settings.log().level(), settings.log().format());
        UnknownVariables.warnings(System.getenv(), Settings.variables())
                .forEach(w -> LOG.log(System.Logger.Level.WARNING, w));
        CollabServer server;
        try {
            server = CollabServer.start(settings, cluster, integration);
        } catch (CannotListen | CannotConnect e) {
            throw exit(1, e.getMessage());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "collab-shutdown"));
        // the e2e harness and scripts wait for this exact line
        System.out.println("collab-server listening on port " + server.port());
        System.out.flush();
    }

    /** Start-up failures are one line on stderr and a non-zero status, never a stack trace. */
    private static RuntimeException exit(int status, String message) {
        System.err.println("collab: " + message);
        System.err.flush();
        System.exit(status);
        return new IllegalStateException("unreachable");
    }

    /** A running server: the web server, rooms, connections and store, stopped in reverse order. */
    public record CollabServer(WebServer web, ConnectionManager connections, Rooms rooms, Store store, Bus bus,
                               ScheduledExecutorService timer) {

        public static CollabServer start(Settings settings) {
            return start(settings, ClusterSettings.load(), IntegrationSettings.load(System.getenv()));
        }

        public static CollabServer start(Settings settings, ClusterSettings cluster) {
            return start(settings, cluster, IntegrationSettings.load(System.getenv()));
        }

        public static CollabServer start(Settings settings, ClusterSettings cluster, IntegrationSettings integration) {
            CannotListen.probe(settings.server().host(), settings.server().port());      // before the database is opened
            ServerMetrics metrics = new ServerMetrics();
            ScheduledExecutorService timer = Executors.newScheduledThreadPool(1,
                    Thread.ofPlatform().name("collab-timer").daemon().factory());
            HeapTrim.schedule(timer);
            String nodeId = cluster.nodeIdOr(hostName(), settings.server().port() == 0
                    ? "pid" + ProcessHandle.current().pid() : Integer.toString(settings.server().port()));
            // the bus first: a node without its Redis stops before it has touched (migrated) the database
            Bus bus;
            try {
                bus = cluster.bus().equals(ClusterSettings.REDIS)
                        ? RedisBus.connect(cluster.redisUrl(), nodeId, timer) : Bus.NONE;
            } catch (RuntimeException e) {
                timer.shutdownNow();
                throw new CannotConnect("Redis", cluster.redisUrl(), "COLLAB_REDIS_URL", e);
            }
            Store store;
            try {
                store = StoreFactory.open(settings, cluster, metrics::storeCommit);
            } catch (Store.StoreException e) {
                bus.close();
                timer.shutdownNow();
                if (!cluster.store().equals(ClusterSettings.POSTGRES)) {
                    throw e;
                }
                throw new CannotConnect("PostgreSQL", cluster.postgresUrl(), "COLLAB_POSTGRES_URL", e);
            }
            LOG.log(System.Logger.Level.INFO, "node {0}: store {1}, bus {2}", nodeId, cluster.store(), cluster.bus());
            metrics.gauge("collab.node", "1, tagged with this node's id (COLLAB_NODE_ID)", nodeId, id -> 1, "node", nodeId);
            Rooms rooms = new Rooms(store, settings.rooms(), timer, webhooks(integration, timer, metrics), bus);
            scheduleRetention(integration, rooms, timer);
            ConnectionManager connections = new ConnectionManager(timer, settings.transport(), metrics);
            metrics.gauge("collab.documents.in.memory", "rooms loaded in memory", rooms, Rooms::size);
            AccessPolicy access = accessPolicy(settings, integration);
            Expiry expiry = new Expiry(timer, Clock.systemUTC());
            // every WebSocket protocol, once: its name (metrics, logs), its path, the factory of its sessions
            List<WsProtocol> protocols = List.of(
                    new WsProtocol(JsonProtocol.NAME, JsonProtocol.PATH, new JsonProtocol(rooms, access, expiry)),
                    new WsProtocol(YWebsocketProtocol.NAME, YWebsocketProtocol.PREFIX + "*",
                            new YWebsocketProtocol(rooms, access, expiry)),
                    new WsProtocol(HocuspocusProtocol.NAME, HocuspocusProtocol.PATH, new HocuspocusProtocol(rooms,
                            HocuspocusLimits.DEFAULT.withMaxDocumentsPerSocket(
                                    settings.hocuspocus().maxDocumentsPerSocket()), access, expiry)));
            String[] protocolNames = protocols.stream().map(WsProtocol::name).toArray(String[]::new);
            metrics.connectionGauges(connections::openByProtocol, protocolNames);
            metrics.registerAtZero(protocolNames);
            WsEndpoints ws = connections.endpoints(protocols);
            UpgradeRefusals refusals = new UpgradeRefusals(connections, protocols);
            DocumentsService documents = new DocumentsService(rooms, store, settings.admin().adminToken(), access,
                    settings.transport().maxMessageBytes());
            WebServer web = WebServer.builder()
                    .host(settings.server().host())
                    .port(settings.server().port())
                    // small frames go out at once (Nagle would hold one back until the previous is acknowledged)
                    .connectionOptions(o -> o.tcpNoDelay(true))
                    // plain sockets: Helidon's NIO socket holds two 8 KiB buffers per connection for its whole life
                    // (plain: one), and copies every write through its 8 KiB buffer (plain: written as given)
                    .useNio(false)
                    .shutdownHook(false)
                    .addProtocol(WsConfig.builder().name("websocket").maxFrameLength(settings.transport().maxMessageBytes()).build())
                    .addProtocol(ws)
                    .routing(r -> r.register(new AdminService(rooms, connections, store, settings.admin().adminToken(), nodeId))
                            .register(refusals)
                            .register(new ObserveService(metrics, store))
                            .register(new InternalService(rooms, store, settings.admin().adminToken(),
                                    settings.admin().internalApiToken(), access))
                            .register(documents)
                            .register(new ContentService(rooms, store, documents))
                            .register(new OpenApiService())
                            .update(routing -> webPages(settings, routing)))
                    .build();
            startListening(web, settings, () -> {
                connections.close();
                rooms.close();
                bus.close();
                store.close();
                timer.shutdownNow();
            });
            if (!settings.admin().enabled()) {
                LOG.log(System.Logger.Level.WARNING, "COLLAB_ADMIN_TOKEN is not set: the admin API is disabled");
            }
            LOG.log(System.Logger.Level.INFO, "database {0}", settings.storage().dbPath().toAbsolutePath());
            LOG.log(System.Logger.Level.INFO, "allowed origins: {0}", AllowedOrigins.parse(settings.transport().allowedOrigins()));
            return new CollabServer(web, connections, rooms, store, bus, timer);
        }

        private static String hostName() {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                return "localhost";
            }
        }

        /** Starts the web server; should the port be taken after the probe after all, undoes the start and says so. */
        private static void startListening(WebServer web, Settings settings, Runnable undo) {
            String reason = null;
            try {
                web.start();
                if (web.port() < 0) {           // Helidon logs the bind failure and carries on without a listener
                    reason = "address already in use";
                }
            } catch (RuntimeException e) {
                Throwable cause = e;
                while (cause.getCause() != null && !(cause instanceof java.net.SocketException)) {
                    cause = cause.getCause();
                }
                reason = CannotListen.reason(cause);
            }
            if (reason != null) {
                undo.run();
                throw new CannotListen(settings.server().host(), settings.server().port(), reason);
            }
        }

        private static AccessPolicy accessPolicy(Settings settings, IntegrationSettings integration) {
            if (settings.auth().enabled() || !integration.authJwksUrl().isEmpty()) {
                return new JwtAccessPolicy(settings.auth().secret(), integration.authJwksUrl().isEmpty() ? null
                        : JwtAccessPolicy.remoteJwks(integration.authJwksUrl(),
                                JwtAccessPolicy.DEFAULT_JWKS_REFETCH_INTERVAL),
                        integration.authIssuer(), integration.authAudience(), Clock.systemUTC());
            }
            LOG.log(System.Logger.Level.WARNING, "*** COLLAB_AUTH_SECRET is not set: this server is OPEN — anyone who"
                    + " can reach it may read and change every document. Set COLLAB_AUTH_SECRET (or"
                    + " COLLAB_AUTH_JWKS_URL) to require signed access tokens. ***");
            return AccessPolicy.open();
        }

        /** Signed webhooks for the configured URLs, or no events at all. */
        private static DocumentEvents webhooks(IntegrationSettings integration, ScheduledExecutorService timer,
                                               ServerMetrics metrics) {
            if (!integration.webhooksEnabled()) {
                return DocumentEvents.NONE;
            }
            Scheduler scheduler = Scheduler.of(timer);
            WebhookSender sender = new WebhookSender(integration.webhookUrls(), integration.webhookSecret(),
                    HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(), scheduler,
                    metrics::webhookDelivery, WebhookSender.Limits.DEFAULT);
            LOG.log(System.Logger.Level.INFO, "webhooks to {0}", integration.webhookUrls());
            return new Webhooks(sender, scheduler, integration.webhookDebounce().toMillis(),
                    Webhooks.DEFAULT_MAX_WAIT_MILLIS);
        }

        /** With COLLAB_DOCUMENT_RETENTION_DAYS, hourly deletion of documents untouched that long. */
        private static void scheduleRetention(IntegrationSettings integration, Rooms rooms,
                                              ScheduledExecutorService timer) {
            int days = integration.documentRetentionDays();
            if (days == 0) {
                return;
            }
            timer.scheduleWithFixedDelay(() -> Thread.ofVirtual().start(() -> {
                try {
                    int deleted = rooms.deleteUntouchedSince(
                            System.currentTimeMillis() - Duration.ofDays(days).toMillis(), 1000);
                    if (deleted > 0) {
                        LOG.log(System.Logger.Level.INFO, "retention: deleted {0} documents untouched for {1} days",
                                deleted, days);
                    }
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "retention sweep failed", e);
                }
            }), 1, 60, TimeUnit.MINUTES);
        }

        /** The built editor and admin pages, when present (./collab run builds them). */
        private static void webPages(Settings settings, io.helidon.webserver.http.HttpRouting.Builder routing) {
            if (java.nio.file.Files.isRegularFile(settings.server().webDir().resolve("index.html"))) {
                routing.register("/", StaticContentService.builder(settings.server().webDir())
                        .welcomeFileName("index.html").build());
            } else {
                LOG.log(System.Logger.Level.WARNING, "no web pages at {0}: build them with ./collab build",
                        settings.server().webDir().toAbsolutePath());
            }
        }

        public int port() {
            return web.port();
        }

        /**
         * Graceful stop: refuse new upgrades, close every WebSocket with 1012 (service restart: stock clients
         * reconnect by themselves), stop the web server, let the store commit every queued write, exit.
         */
        public void stop() {
            LOG.log(System.Logger.Level.INFO, "stopping: closing connections with 1012");
            connections.closeAll(1012, "server restarting", 3000);
            web.stop();
            rooms.close();
            bus.close();
            store.close();
            timer.shutdownNow();
            LOG.log(System.Logger.Level.INFO, "stopped; every committed change is in {0}", store);
        }
    }
}
