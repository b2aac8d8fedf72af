package dev.collab.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Real PostgreSQL and Redis servers from Debian's packages, started by the tests on random loopback ports with
 * their data in a temporary directory (no mocks, no containers). As root, PostgreSQL runs as the {@code postgres}
 * user (initdb refuses root). Nothing here is shared with a server the machine may already run.
 */
public final class LocalServers {
    private static final Path PG_BIN = findPostgresBin();
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private LocalServers() {
    }

    private static Path findPostgresBin() {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.sorted(Comparator.reverseOrder()).map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("postgres"))).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    public static boolean postgresInstalled() {
        return PG_BIN != null;
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    static Process run(List<String> command, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.redirectOutput(log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.appendTo(log.toFile()));
        return pb.start();
    }

    static void runOk(List<String> command, Path log) throws IOException, InterruptedException {
        Process p = run(command, log);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("failed: " + String.join(" ", command) + " (see " + log + ")");
        }
    }

    private static List<String> asPostgres(String... command) {
        List<String> out = new ArrayList<>();
        if (root()) {
            out.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        out.addAll(List.of(command));
        return out;
    }

    /** A PostgreSQL cluster of its own: initdb into a temporary directory, postgres on a random port. */
    public static final class Postgres implements AutoCloseable {
        private final Path dir;
        private final Path data;
        private final Path log;
        private final int port;

        private Postgres(Path dir, int port) {
            this.dir = dir;
            this.data = dir.resolve("data");
            this.log = dir.resolve("postgres.log");
            this.port = port;
        }

        public static Postgres start() {
            if (PG_BIN == null) {
                throw new IllegalStateException("PostgreSQL is not installed (apt-get install postgresql);"
                        + " ./collab test installs it");
            }
            try {
                Path dir = Files.createTempDirectory("collab-pg-");
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                if (root()) {
                    runOk(List.of("chown", "postgres:postgres", dir.toString()), null);
                }
                Postgres pg = new Postgres(dir, freePort());
                runOk(asPostgres(PG_BIN.resolve("initdb").toString(), "-D", pg.data.toString(), "-A", "trust",
                        "-U", "collab", "--no-sync", "--no-instructions", "-E", "UTF8"), null);
                pg.startServer();
                return pg;
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException("cannot start PostgreSQL: " + e.getMessage(), e);
            }
        }

        private void startServer() throws IOException, InterruptedException {
            // fsync off: the tests kill processes, never the machine; the page cache keeps what was committed
            List<String> command = asPostgres(PG_BIN.resolve("pg_ctl").toString(), "-D", data.toString(),
                    "-l", log.toString(), "-w", "-t", "60", "start", "-o",
                    "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dir
                            + " -c fsync=off -c max_connections=200");
            // after a kill -9 the old backends may still hold shared memory for a moment: start again until it takes
            Await.until("postgres starts on port " + port + " (log: " + log + ")", Duration.ofSeconds(90), () -> {
                Process p = run(command, null);
                return p.waitFor(90, TimeUnit.SECONDS) && p.exitValue() == 0;
            });
        }

        public int port() {
            return port;
        }

        /** A fresh database on this server; its JDBC URL (user {@code collab}, no password). */
        public String newDatabase(String prefix) {
            String name = prefix.toLowerCase().replaceAll("[^a-z0-9_]", "_") + "_" + DATABASES.incrementAndGet();
            try (Connection c = DriverManager.getConnection(url("postgres"), "collab", "");
                 Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE " + name);
            } catch (Exception e) {
                throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
            }
            return url(name);
        }

        public String url(String database) {
            return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
        }

        public long postmasterPid() throws IOException {
            return Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
        }

        /** kill -9 of the postmaster, as a crash would. */
        public void kill() throws IOException, InterruptedException {
            long pid = postmasterPid();
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
        }

        public void restart() throws IOException, InterruptedException {
            startServer();
        }

        @Override
        public void close() {
            try {
                runOk(asPostgres(PG_BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate",
                        "-w", "stop"), null);
            } catch (Exception ignored) {
                // already gone
            }
            deleteTree(dir);
        }
    }

    /** A Redis server of its own on a random port, no persistence. */
    public static final class Redis implements AutoCloseable {
        private final Path dir;
        private final int port;
        private Process process;

        private Redis(Path dir, int port) {
            this.dir = dir;
            this.port = port;
        }

        public static Redis start() {
            try {
                Redis r = new Redis(Files.createTempDirectory("collab-redis-"), freePort());
                r.startServer();
                return r;
            } catch (IOException e) {
                throw new IllegalStateException("cannot start redis-server: " + e.getMessage(), e);
            }
        }

        private void startServer() throws IOException {
            process = run(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", dir.toString()), dir.resolve("redis.log"));
            Await.until("redis-server accepts connections on " + port, Duration.ofSeconds(30), () -> {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
        }

        public String url() {
            return "redis://127.0.0.1:" + port;
        }

        public int port() {
            return port;
        }

        /** kill -9. */
        public void kill() {
            process.destroyForcibly();
            process.onExit().join();
        }

        public void restart() throws IOException {
            startServer();
        }

        @Override
        public void close() {
            if (process != null) {
                process.destroyForcibly();
                process.onExit().join();
            }
            deleteTree(dir);
        }
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}
