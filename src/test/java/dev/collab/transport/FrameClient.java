package dev.collab.transport;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client at the byte level for frame tests: writes whatever frames a test builds (bad ones included)
 * and reads the server's frames as they are, so the tests see exactly what went over the socket.
 */
final class FrameClient implements AutoCloseable {
    static final int TIMEOUT_MS = 15_000;

    record Frame(boolean fin, int rsv, int opcode, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
        }
    }

    /** The HTTP answer to the upgrade request. */
    record Handshake(int status, Map<String, String> headers, String body) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    final Handshake handshake;

    private FrameClient(Socket socket, Handshake handshake, InputStream in) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(in);
        this.out = socket.getOutputStream();
        this.handshake = handshake;
    }

    static FrameClient connect(int port, String path) throws IOException {
        return connect(port, path, Map.of());
    }

    /** Sends the upgrade request with {@code extraHeaders}; the handshake (and any refusal's body) is read. */
    static FrameClient connect(int port, String path, Map<String, String> extraHeaders) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
        socket.setSoTimeout(TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                + Base64.getEncoder().encodeToString(nonce) + "\r\n");
        extraHeaders.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
        request.append("\r\n");
        socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
        InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
        String statusLine = line(in);
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        String body = "";
        if (status != 101 && headers.containsKey("content-length")) {
            byte[] b = new DataInputStream(in).readNBytes(Integer.parseInt(headers.get("content-length")));
            body = new String(b, StandardCharsets.UTF_8);
        }
        return new FrameClient(socket, new Handshake(status, headers, body), in);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new EOFException("connection closed in the HTTP head");
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    /** A masked client frame (as RFC 6455 requires of clients) with the given first-byte bits. */
    static byte[] frame(boolean fin, int rsv, int opcode, byte[] payload) {
        return frame(fin, rsv, opcode, payload, true);
    }

    static byte[] frame(boolean fin, int rsv, int opcode, byte[] payload, boolean masked) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126) {
            b.write(maskBit | payload.length);
        } else if (payload.length < 65536) {
            b.write(maskBit | 126);
            b.write(payload.length >>> 8);
            b.write(payload.length & 0xff);
        } else {
            b.write(maskBit | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                b.write((int) (((long) payload.length) >>> shift) & 0xff);
            }
        }
        if (masked) {
            byte[] mask = new byte[4];
            ThreadLocalRandom.current().nextBytes(mask);
            b.writeBytes(mask);
            byte[] masked1 = payload.clone();
            for (int i = 0; i < masked1.length; i++) {
                masked1[i] ^= mask[i & 3];
            }
            b.writeBytes(masked1);
        } else {
            b.writeBytes(payload);
        }
        return b.toByteArray();
    }

    static byte[] closePayload(int code, String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[2 + r.length];
        p[0] = (byte) (code >>> 8);
        p[1] = (byte) code;
        System.arraycopy(r, 0, p, 2, r.length);
        return p;
    }

    void send(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    void send(boolean fin, int opcode, byte[] payload) throws IOException {
        send(frame(fin, 0, opcode, payload));
    }

    void sendText(String text) throws IOException {
        send(true, 1, text.getBytes(StandardCharsets.UTF_8));
    }

    /** The next frame from the server; fails if the server's frame is masked (servers must not mask). */
    Frame read() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        if ((b1 & 0x80) != 0) {
            throw new IOException("the server masked a frame");
        }
        long length = b1 & 0x7f;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[Math.toIntExact(length)];
        in.readFully(payload);
        return new Frame((b0 & 0x80) != 0, (b0 >>> 4) & 7, b0 & 0xf, payload);
    }

    /** Reads frames until a close frame; returns it. Data frames in between are skipped. */
    Frame readUntilClose() throws IOException {
        while (true) {
            Frame f = read();
            if (f.opcode() == 8) {
                return f;
            }
        }
    }

    /** Whether the server closed the TCP connection (end of stream) within the timeout. */
    boolean awaitEndOfStream() throws IOException {
        return awaitEndOfStream(TIMEOUT_MS);
    }

    boolean awaitEndOfStream(int timeoutMs) throws IOException {
        socket.setSoTimeout(timeoutMs);
        try {
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;        // reset by the server
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(TIMEOUT_MS);
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
