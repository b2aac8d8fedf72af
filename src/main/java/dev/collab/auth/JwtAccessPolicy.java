package dev.collab.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.util.Date;

/**
 * HS256-signed JWT access tokens. Claims: {@code sub} (user id), {@code doc} (a document id, a prefix ending in
 * {@code *}, or {@code *}), {@code scope} ({@code read-write} or {@code read-only}), {@code exp} (required).
 * Signature checking is nimbus-jose-jwt's; this class only applies the claim rules.
 */
public final class JwtAccessPolicy implements AccessPolicy {
    /** HS256 needs a key of at least 256 bits. */
    public static final int MIN_SECRET_BYTES = 32;

    private final MACVerifier verifier;
    private final Clock clock;

    public JwtAccessPolicy(String secret, Clock clock) {
        byte[] key = secret.getBytes(StandardCharsets.UTF_8);
        if (key.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("COLLAB_AUTH_SECRET must be at least " + MIN_SECRET_BYTES
                    + " bytes for HS256");
        }
        try {
            this.verifier = new MACVerifier(key);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable COLLAB_AUTH_SECRET: " + e.getMessage(), e);
        }
        this.clock = clock;
    }

    @Override
    public Access check(String token, String documentId) {
        if (token == null || token.isBlank()) {
            return Access.unauthorized("an access token is required");
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token.trim());
        } catch (ParseException e) {
            return Access.unauthorized("the access token is malformed");
        }
        if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
            return Access.unauthorized("the access token must be signed with HS256");
        }
        try {
            if (!jwt.verify(verifier)) {
                return Access.unauthorized("the access token's signature is invalid");
            }
        } catch (JOSEException e) {
            return Access.unauthorized("the access token's signature cannot be checked");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return Access.unauthorized("the access token's claims are malformed");
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            return Access.unauthorized("the access token has no expiry (exp)");
        }
        if (!exp.toInstant().isAfter(clock.instant())) {
            return Access.unauthorized("the access token has expired");
        }
        String doc;
        String scope;
        try {
            doc = claims.getStringClaim("doc");
            scope = claims.getStringClaim("scope");
        } catch (ParseException e) {
            return Access.unauthorized("the access token's doc and scope claims must be strings");
        }
        if (doc == null || doc.isEmpty()) {
            return Access.unauthorized("the access token names no document (doc)");
        }
        if (!covers(doc, documentId)) {
            return Access.forbidden("the access token is not valid for this document");
        }
        String user = claims.getSubject();
        if ("read-write".equals(scope)) {
            return Access.readWrite(user).expiringAt(exp.toInstant());
        }
        if ("read-only".equals(scope)) {
            return Access.readOnly(user).expiringAt(exp.toInstant());
        }
        return Access.unauthorized("the access token's scope must be read-write or read-only");
    }

    /** {@code *} covers everything, {@code abc*} every id starting with {@code abc}, otherwise an exact match. */
    static boolean covers(String pattern, String documentId) {
        if (pattern.endsWith("*")) {
            return documentId.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        return pattern.equals(documentId);
    }
}
