package dev.collab.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Every claim rule of the HS256 access tokens, against a fixed (or advancing) clock. */
class JwtAccessPolicyTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef-test-secret";
    private static final Instant NOW = Instant.parse("2030-01-01T12:00:00Z");

    /** A clock tests can move. */
    private static final class MutableClock extends Clock {
        Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final MutableClock clock = new MutableClock(NOW);
    private final JwtAccessPolicy policy = new JwtAccessPolicy(SECRET, clock);

    private static JWTClaimsSet.Builder claims(String doc, String scope) {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().subject("alice")
                .expirationTime(Date.from(NOW.plusSeconds(3600)));
        if (doc != null) {
            b.claim("doc", doc);
        }
        if (scope != null) {
            b.claim("scope", scope);
        }
        return b;
    }

    private static String sign(String secret, JWSAlgorithm alg, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader(alg), claims);
            jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
    }

    private static String sign(JWTClaimsSet.Builder claims) {
        return sign(SECRET, JWSAlgorithm.HS256, claims.build());
    }

    private static String token(String doc, String scope) {
        return sign(claims(doc, scope));
    }

    private static void assertRefused(int status, Access access, String reasonPart) {
        assertFalse(access.granted(), () -> "should be refused: " + access);
        assertFalse(access.canWrite(), () -> "a refusal never grants writing: " + access);
        assertEquals(status, access.status(), () -> "status of " + access);
        assertTrue(access.reason() != null && access.reason().contains(reasonPart),
                () -> "reason should mention '" + reasonPart + "': " + access.reason());
    }

    @Test
    void readWriteTokenForTheDocumentGrantsWriting() {
        Access a = policy.check(token("doc-1", "read-write"), "doc-1");
        assertTrue(a.granted());
        assertTrue(a.canWrite());
        assertEquals("alice", a.userId());
        assertEquals(200, a.status());
    }

    @Test
    void readOnlyTokenGrantsReadingOnly() {
        Access a = policy.check(token("doc-1", "read-only"), "doc-1");
        assertTrue(a.granted());
        assertFalse(a.canWrite());
        assertEquals("alice", a.userId());
    }

    @Test
    void subjectIsOptional() {
        JWTClaimsSet.Builder b = claims("doc-1", "read-write").subject(null);
        Access a = policy.check(sign(b), "doc-1");
        assertTrue(a.granted());
        assertNull(a.userId());
    }

    @Test
    void missingOrBlankTokenIsUnauthorized() {
        assertRefused(401, policy.check(null, "doc-1"), "required");
        assertRefused(401, policy.check("", "doc-1"), "required");
        assertRefused(401, policy.check("   ", "doc-1"), "required");
    }

    @Test
    void surroundingWhitespaceIsIgnored() {
        assertTrue(policy.check("  " + token("doc-1", "read-write") + "\n", "doc-1").canWrite());
    }

    @Test
    void malformedTokensAreUnauthorized() {
        for (String t : List.of("abc", "a.b", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.!!!.sig",
                "Bearer " + token("doc-1", "read-write"))) {
            Access a = policy.check(t, "doc-1");
            assertFalse(a.granted(), () -> t + " was accepted");
            assertEquals(401, a.status(), t);
        }
    }

    @Test
    void claimsThatAreNotJsonAreUnauthorized() {
        String header = Base64.getUrlEncoder().withoutPadding()
                .encodeToString("{\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8));
        String payload = Base64.getUrlEncoder().withoutPadding()
                .encodeToString("not json".getBytes(StandardCharsets.UTF_8));
        assertRefused(401, policy.check(header + "." + payload + ".c2ln", "doc-1"), "");
    }

    @Test
    void tokenSignedWithAnotherSecretIsForged() {
        String forged = sign("another-secret-of-at-least-32-bytes!!", JWSAlgorithm.HS256,
                claims("doc-1", "read-write").build());
        assertRefused(401, policy.check(forged, "doc-1"), "signature");
    }

    @Test
    void tamperedClaimsBreakTheSignature() {
        String ro = token("doc-1", "read-only");
        String[] parts = ro.split("\\.");
        String rwPayload = sign(claims("doc-1", "read-write")).split("\\.")[1];
        String tampered = parts[0] + "." + rwPayload + "." + parts[2];
        assertRefused(401, policy.check(tampered, "doc-1"), "signature");
        // and a flipped signature character
        char c = parts[2].charAt(0) == 'A' ? 'B' : 'A';
        String flipped = parts[0] + "." + parts[1] + "." + c + parts[2].substring(1);
        assertRefused(401, policy.check(flipped, "doc-1"), "signature");
        // a signature stripped off entirely
        assertFalse(policy.check(parts[0] + "." + parts[1] + ".", "doc-1").granted());
    }

    @Test
    void unsignedAndOtherAlgorithmsAreRefused() {
        String none = new PlainJWT(claims("doc-1", "read-write").build()).serialize();
        assertRefused(401, policy.check(none, "doc-1"), "");
        String hs512 = sign(SECRET + SECRET, JWSAlgorithm.HS512, claims("doc-1", "read-write").build());
        assertRefused(401, policy.check(hs512, "doc-1"), "HS256");
        String hs384 = sign(SECRET + SECRET, JWSAlgorithm.HS384, claims("doc-1", "read-write").build());
        assertRefused(401, policy.check(hs384, "doc-1"), "HS256");
    }

    @Test
    void expiryIsRequiredAndEnforcedAgainstTheClock() {
        assertRefused(401, policy.check(sign(claims("doc-1", "read-write").expirationTime(null)), "doc-1"),
                "exp");
        assertRefused(401, policy.check(sign(claims("doc-1", "read-write")
                .expirationTime(Date.from(NOW.minusSeconds(1)))), "doc-1"), "expired");
        assertRefused(401, policy.check(sign(claims("doc-1", "read-write")
                .expirationTime(Date.from(NOW))), "doc-1"), "expired");
        assertTrue(policy.check(sign(claims("doc-1", "read-write")
                .expirationTime(Date.from(NOW.plusSeconds(1)))), "doc-1").granted());
    }

    @Test
    void aTokenStopsWorkingWhenItsTimeRunsOut() {
        String t = sign(claims("doc-1", "read-write").expirationTime(Date.from(NOW.plus(Duration.ofMinutes(5)))));
        assertTrue(policy.check(t, "doc-1").granted());
        clock.now = NOW.plus(Duration.ofMinutes(4)).plusSeconds(59);
        assertTrue(policy.check(t, "doc-1").granted());
        clock.now = NOW.plus(Duration.ofMinutes(5));
        assertRefused(401, policy.check(t, "doc-1"), "expired");
        clock.now = NOW.plus(Duration.ofDays(365));
        assertRefused(401, policy.check(t, "doc-1"), "expired");
    }

    @Test
    void tokenForAnotherDocumentIsForbidden() {
        Access a = policy.check(token("doc-1", "read-write"), "doc-2");
        assertRefused(403, a, "not valid for this document");
        assertRefused(403, policy.check(token("doc-1", "read-write"), "doc-10"), "");
        assertRefused(403, policy.check(token("doc-10", "read-write"), "doc-1"), "");
        assertRefused(403, policy.check(token("Doc-1", "read-write"), "doc-1"), "");
    }

    @Test
    void prefixAndWildcardDocuments() {
        String prefix = token("team-a/*", "read-write");
        assertTrue(policy.check(prefix, "team-a/notes").canWrite());
        assertTrue(policy.check(prefix, "team-a/").canWrite());
        assertRefused(403, policy.check(prefix, "team-a"), "");
        assertRefused(403, policy.check(prefix, "team-b/notes"), "");
        assertRefused(403, policy.check(prefix, "xteam-a/notes"), "");
        String all = token("*", "read-only");
        for (String doc : List.of("a", "team-a/notes", "*", "zzz")) {
            Access a = policy.check(all, doc);
            assertTrue(a.granted() && !a.canWrite(), doc);
        }
        // only a trailing star is a wildcard
        String inner = token("te*m", "read-write");
        assertRefused(403, policy.check(inner, "team"), "");
        assertTrue(policy.check(inner, "te*m").granted());
    }

    @Test
    void coversIsExactOrTrailingStarPrefix() {
        assertTrue(JwtAccessPolicy.covers("*", ""));
        assertTrue(JwtAccessPolicy.covers("a*", "a"));
        assertTrue(JwtAccessPolicy.covers("a", "a"));
        assertFalse(JwtAccessPolicy.covers("a", "ab"));
        assertFalse(JwtAccessPolicy.covers("ab*", "a"));
        assertFalse(JwtAccessPolicy.covers("**", "x"), "** is the prefix '*', not a double wildcard");
        assertTrue(JwtAccessPolicy.covers("**", "*x"));
    }

    @Test
    void documentClaimIsRequired() {
        assertRefused(401, policy.check(token(null, "read-write"), "doc-1"), "doc");
        assertRefused(401, policy.check(token("", "read-write"), "doc-1"), "doc");
        String numeric = sign(claims(null, "read-write").claim("doc", 12));
        assertRefused(401, policy.check(numeric, "12"), "strings");
        String mixed = sign(claims(null, "read-write").claim("doc", List.of("doc-1", 7)));
        assertRefused(401, policy.check(mixed, "doc-1"), "strings");
    }

    @Test
    void scopeMustBeReadWriteOrReadOnly() {
        assertRefused(401, policy.check(token("doc-1", null), "doc-1"), "scope");
        for (String bad : List.of("", "write", "READ-WRITE", "readonly", "read_write", "admin", " read-write")) {
            assertRefused(401, policy.check(token("doc-1", bad), "doc-1"), "scope");
        }
        String numeric = sign(claims("doc-1", null).claim("scope", 1));
        assertRefused(401, policy.check(numeric, "doc-1"), "strings");
    }

    @Test
    void wrongDocumentWithAnUnusableScopeIsRefused() {
        assertRefused(403, policy.check(token("doc-1", "nonsense"), "doc-2"), "document");
    }

    @Test
    void shortSecretsAreRejectedAtStartup() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JwtAccessPolicy("too-short", Clock.systemUTC()));
        assertTrue(e.getMessage().contains("32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new JwtAccessPolicy("x".repeat(31), Clock.systemUTC()));
        // 32 bytes of UTF-8 is enough even when it is fewer characters
        new JwtAccessPolicy("é".repeat(16), Clock.systemUTC());
    }

    @Test
    void theOpenPolicyLetsEveryoneWrite() {
        AccessPolicy open = AccessPolicy.open();
        assertTrue(open.isOpen());
        assertFalse(policy.isOpen());
        Consumer<String> writable = t -> assertTrue(open.check(t, "any").canWrite(), String.valueOf(t));
        writable.accept(null);
        writable.accept("garbage");
        writable.accept(token("other", "read-only"));
    }
}
