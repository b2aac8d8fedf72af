package dev.collab.transport;

/**
 * One WebSocket protocol the server speaks: its name (metrics and logs), its path (a trailing {@code *} matches
 * every path with that prefix) and the factory of its connections' handlers. {@code Main} registers the server's
 * protocols from one list of these; {@link ConnectionManager#endpoints(java.util.List)} serves them and
 * {@link UpgradeRefusals} answers plain HTTP on their paths.
 */
public record WsProtocol(String name, String path, ProtocolHandler.Factory factory) {
}
