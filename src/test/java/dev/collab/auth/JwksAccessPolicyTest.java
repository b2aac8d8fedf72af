package dev.collab.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Identity-provider tokens: a JWK set served over HTTP by the test, RS256 and ES256, key rotation, iss/aud. */
class JwksAccessPolicyTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef-test-secret";
    private static final String ISSUER = "https://id.example.test/";
    private static final String AUDIENCE = "collab";

    private static HttpServer jwksServer;
    private static final AtomicReference<String> served = new AtomicReference<>();
    private static final AtomicInteger fetches = new AtomicInteger();
    private static String jwksUrl;
    private static RSAKey rsa;
    private static ECKey ec;

    @BeforeAll
    static void serveKeys() throws Exception {
        rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        serve(rsa, ec);
        jwksServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        jwksServer.createContext("/jwks.json", exchange -> {
            fetches.incrementAndGet();
            byte[] body = served.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        jwksServer.start();
        jwksUrl = "http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/jwks.json";
    }

    @AfterAll
    static void stop() {
        jwksServer.stop(0);
    }

    /** The identity provider publishes these keys (public parts only) from now on. */
    private static void serve(JWK... keys) {
        served.set(new JWKSet(List.of(keys)).toString(true));
    }

    private static JwtAccessPolicy policy(String secret, String issuer, String audience) {
        return new JwtAccessPolicy(secret, JwtAccessPolicy.remoteJwks(jwksUrl, Duration.ZERO), issuer, audience,
                Clock.systemUTC());
    }

    private static JWTClaimsSet.Builder claims(Object doc, String scope) {
        return new JWTClaimsSet.Builder().subject("alice").claim("doc", doc).claim("scope", scope)
                .issuer(ISSUER).audience(List.of(AUDIENCE, "other"))
                .expirationTime(Date.from(Instant.now().plusSeconds(600)));
    }

    private static String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JWTClaimsSet claims)
            throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static String rs256(RSAKey key, JWTClaimsSet claims) throws JOSEException {
        return sign(new RSASSASigner(key), JWSAlgorithm.RS256, key.getKeyID(), claims);
    }

    @Test
    void rs256AndEs256TokensFromTheKeySetAreAcceptedBesideHs256() throws Exception {
        serve(rsa, ec);
        JwtAccessPolicy policy = policy(SECRET, null, null);
        Access viaRsa = policy.check(rs256(rsa, claims("doc-1", "read-write").build()), "doc-1");
        assertTrue(viaRsa.granted() && viaRsa.canWrite(), viaRsa::toString);
        assertEquals("alice", viaRsa.userId());
        Access viaEc = policy.check(sign(new ECDSASigner(ec), JWSAlgorithm.ES256, "ec-1",
                claims("doc-1", "read-only").build()), "doc-1");
        assertTrue(viaEc.granted() && !viaEc.canWrite(), viaEc::toString);
        Access viaSecret = policy.check(sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null,
                claims("doc-1", "read-write").build()), "doc-1");
        assertTrue(viaSecret.granted(), viaSecret::toString);
    }

    @Test
    void forgedAndUnknownKeysAreRefused() throws Exception {
        serve(rsa, ec);
        JwtAccessPolicy policy = policy(null, null, null);
        RSAKey stranger = new RSAKeyGenerator(2048).keyID("rsa-1").generate();     // same kid, other key
        Access forged = policy.check(rs256(stranger, claims("doc-1", "read-write").build()), "doc-1");
        assertEquals(401, forged.status());
        assertTrue(forged.reason().contains("signature"), forged::reason);
        RSAKey unknown = new RSAKeyGenerator(2048).keyID("nobody").generate();
        Access unknownKid = policy.check(rs256(unknown, claims("doc-1", "read-write").build()), "doc-1");
        assertEquals(401, unknownKid.status());
        assertTrue(unknownKid.reason().contains("unknown"), unknownKid::reason);
        Access hs = policy.check(sign(new MACSigner(SECRET), JWSAlgorithm.HS256, null,
                claims("doc-1", "read-write").build()), "doc-1");
        assertEquals(401, hs.status(), "without a secret, HS256 tokens are refused");
    }

    @Test
    void rotatedKeysArePickedUpAndRetiredOnesRefused() throws Exception {
        serve(rsa);
        JwtAccessPolicy policy = policy(null, null, null);
        assertTrue(policy.check(rs256(rsa, claims("doc-1", "read-write").build()), "doc-1").granted());
        int fetchedBefore = fetches.get();

        RSAKey next = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
        serve(next);                                         // the provider rotates: rsa-1 retired, rsa-2 new
        Access rotated = policy.check(rs256(next, claims("doc-1", "read-write").build()), "doc-1");
        assertTrue(rotated.granted(), rotated::toString);
        assertTrue(fetches.get() > fetchedBefore, "the unknown kid made the policy fetch the key set again");
        Access retired = policy.check(rs256(rsa, claims("doc-1", "read-write").build()), "doc-1");
        assertFalse(retired.granted(), "a key no longer published is no longer trusted");
        serve(rsa, ec);
    }

    @Test
    void issuerAndAudienceAreCheckedWhenConfigured() throws Exception {
        serve(rsa, ec);
        JwtAccessPolicy policy = policy(null, ISSUER, AUDIENCE);
        assertTrue(policy.check(rs256(rsa, claims("doc-1", "read-write").build()), "doc-1").granted());
        Access wrongIssuer = policy.check(rs256(rsa, claims("doc-1", "read-write").issuer("https://evil/").build()),
                "doc-1");
        assertEquals(401, wrongIssuer.status());
        assertTrue(wrongIssuer.reason().contains("iss"), wrongIssuer::reason);
        Access noIssuer = policy.check(rs256(rsa, claims("doc-1", "read-write").issuer(null).build()), "doc-1");
        assertEquals(401, noIssuer.status());
        Access wrongAudience = policy.check(rs256(rsa, claims("doc-1", "read-write").audience("billing").build()),
                "doc-1");
        assertEquals(401, wrongAudience.status());
        assertTrue(wrongAudience.reason().contains("aud"), wrongAudience::reason);
    }

    @Test
    void docClaimMayBeAnArrayOfIdsAndPrefixes() throws Exception {
        serve(rsa, ec);
        JwtAccessPolicy policy = policy(null, null, null);
        String token = rs256(rsa, claims(List.of("notes-1", "team-a/*"), "read-only").build());
        assertTrue(policy.check(token, "notes-1").granted());
        assertTrue(policy.check(token, "team-a/plan").granted());
        assertEquals(403, policy.check(token, "notes-2").status());
        assertEquals(403, policy.check(token, "team-b/plan").status());

        Predicate<String> readable = policy.readable(token);
        assertTrue(readable.test("team-a/x") && readable.test("notes-1"));
        assertFalse(readable.test("notes-10"));
        assertNull(policy.readable("not-a-token"), "a refused token may read nothing");
    }
}
