package dev.collab.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.net.MalformedURLException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * JWT access tokens: HS256 under the shared secret, and RS256/ES256 under the keys of an identity provider's JWK
 * set (fetched, cached and re-fetched when a token names a key id the cache lacks, so rotated keys are picked
 * up). Claims: {@code sub} (user id), {@code doc} (a document id, a prefix ending in {@code *}, {@code *}, or an
 * array of those), {@code scope} ({@code read-write} or {@code read-only}), {@code exp} (required), and
 * {@code iss} / {@code aud} when an issuer / audience is configured. Signatures are nimbus-jose-jwt's; this class
 * only applies the claim rules.
 */
public final class JwtAccessPolicy implements AccessPolicy {
    /** HS256 needs a key of at least 256 bits. */
    public static final int MIN_SECRET_BYTES = 32;
    /** A token naming an unknown key id re-fetches the JWK set at most this often (a flood of forged kids cannot). */
    public static final Duration DEFAULT_JWKS_REFETCH_INTERVAL = Duration.ofSeconds(10);
    private static final Set<JWSAlgorithm> ASYMMETRIC = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);

    private final MACVerifier secretVerifier;                           // null: no HS256
    private final JWSVerificationKeySelector<SecurityContext> keys;     // null: no JWK set
    private final String issuer;
    private final String audience;
    private final Clock clock;

    /**
     * What a token grants, once its signature and claims are checked; {@code scopeProblem} is set for a scope
     * that is neither read-write nor read-only (refused, but only after the document check: see check).
     */
    private record Grant(List<String> documents, boolean canWrite, String userId, String scopeProblem,
                         java.time.Instant expiresAt) {
        boolean covers(String documentId) {
            return documents.stream().anyMatch(pattern -> JwtAccessPolicy.covers(pattern, documentId));
        }
    }

    /** HS256 tokens only, no issuer or audience checks. */
    public JwtAccessPolicy(String secret, Clock clock) {
        this(secret, null, null, null, clock);
    }

    /**
     * @param secret   HS256 key, or null/empty to refuse HS256 tokens
     * @param jwks     the identity provider's keys (see {@link #remoteJwks}), or null to refuse RS256/ES256 tokens
     * @param issuer   required {@code iss}, or null/empty for any
     * @param audience required member of {@code aud}, or null/empty for any
     */
    public JwtAccessPolicy(String secret, JWKSource<SecurityContext> jwks, String issuer, String audience,
                           Clock clock) {
        if (secret != null && !secret.isEmpty()) {
            byte[] key = secret.getBytes(StandardCharsets.UTF_8);
            if (key.length < MIN_SECRET_BYTES) {
                throw new IllegalArgumentException("COLLAB_AUTH_SECRET must be at least " + MIN_SECRET_BYTES
                        + " bytes for HS256");
            }
            try {
                this.secretVerifier = new MACVerifier(key);
            } catch (JOSEException e) {
                throw new IllegalArgumentException("unusable COLLAB_AUTH_SECRET: " + e.getMessage(), e);
            }
        } else {
            this.secretVerifier = null;
        }
        if (secretVerifier == null && jwks == null) {
            throw new IllegalArgumentException("a secret or a JWK set is required");
        }
        this.keys = jwks == null ? null : new JWSVerificationKeySelector<>(ASYMMETRIC, jwks);
        this.issuer = issuer == null || issuer.isEmpty() ? null : issuer;
        this.audience = audience == null || audience.isEmpty() ? null : audience;
        this.clock = clock;
    }

    /**
     * The JWK set at {@code url}, through nimbus' remote source: cached, refreshed ahead of expiry, re-fetched
     * (at most once per {@code refetchInterval}) when a token's key id is not in the cache, retried once on a
     * network error.
     */
    public static JWKSource<SecurityContext> remoteJwks(String url, Duration refetchInterval) {
        try {
            JWKSourceBuilder<SecurityContext> builder = JWKSourceBuilder.create(URI.create(url).toURL()).retrying(true);
            return (refetchInterval.isZero() ? builder.rateLimited(false)
                    : builder.rateLimited(refetchInterval.toMillis())).build();
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("COLLAB_AUTH_JWKS_URL is not a URL: " + url, e);
        }
    }

    @Override
    public Access check(String token, String documentId) {
        Object verified = verify(token);
        if (verified instanceof Access refused) {
            return refused;
        }
        Grant grant = (Grant) verified;
        if (!grant.covers(documentId)) {
            return Access.forbidden("the access token is not valid for this document");
        }
        if (grant.scopeProblem() != null) {
            return Access.unauthorized(grant.scopeProblem());
        }
        return (grant.canWrite() ? Access.readWrite(grant.userId()) : Access.readOnly(grant.userId()))
                .expiringAt(grant.expiresAt());
    }

    @Override
    public Predicate<String> readable(String token) {
        return verify(token) instanceof Grant grant && grant.scopeProblem() == null ? grant::covers : null;
    }

    /** The token's {@link Grant}, or the refusal ({@link Access}) saying why it grants nothing. */
    private Object verify(String token) {
        if (token == null || token.isBlank()) {
            return Access.unauthorized("an access token is required");
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token.trim());
        } catch (ParseException e) {
            return Access.unauthorized("the access token is malformed");
        }
        Access badSignature = checkSignature(jwt);
        if (badSignature != null) {
            return badSignature;
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
        if (issuer != null && !issuer.equals(claims.getIssuer())) {
            return Access.unauthorized("the access token is not from the expected issuer (iss)");
        }
        if (audience != null && (claims.getAudience() == null || !claims.getAudience().contains(audience))) {
            return Access.unauthorized("the access token is not for this audience (aud)");
        }
        List<String> documents = documents(claims.getClaim("doc"));
        String scope;
        try {
            scope = claims.getStringClaim("scope");
        } catch (ParseException e) {
            return Access.unauthorized("the access token's doc and scope claims must be strings");
        }
        if (documents == null) {
            return Access.unauthorized("the access token's doc and scope claims must be strings"
                    + " (doc: a string or an array of strings)");
        }
        if (documents.isEmpty()) {
            return Access.unauthorized("the access token names no document (doc)");
        }
        String user = claims.getSubject();
        boolean usable = "read-write".equals(scope) || "read-only".equals(scope);
        return new Grant(documents, "read-write".equals(scope), user,
                usable ? null : "the access token's scope must be read-write or read-only", exp.toInstant());
    }

    /** Null when signed by a key we trust, else the refusal. */
    private Access checkSignature(SignedJWT jwt) {
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        if (JWSAlgorithm.HS256.equals(alg) && secretVerifier != null) {
            return verifiedBy(jwt, List.of(secretVerifier));
        }
        if (ASYMMETRIC.contains(alg) && keys != null) {
            List<? extends Key> candidates;
            try {
                candidates = keys.selectJWSKeys(jwt.getHeader(), null);
            } catch (KeySourceException e) {
                return Access.unauthorized("the identity provider's keys cannot be fetched");
            }
            if (candidates.isEmpty()) {
                return Access.unauthorized("the access token's signing key is unknown (kid)");
            }
            List<JWSVerifier> verifiers = new ArrayList<>();
            DefaultJWSVerifierFactory factory = new DefaultJWSVerifierFactory();
            for (Key key : candidates) {
                try {
                    verifiers.add(factory.createJWSVerifier(jwt.getHeader(), key));
                } catch (JOSEException e) {
                    // a key of the wrong type for this algorithm: not a candidate
                }
            }
            return verifiedBy(jwt, verifiers);
        }
        return Access.unauthorized("the access token must be signed with " + accepted());
    }

    private static Access verifiedBy(SignedJWT jwt, List<JWSVerifier> verifiers) {
        for (JWSVerifier verifier : verifiers) {
            try {
                if (jwt.verify(verifier)) {
                    return null;
                }
            } catch (JOSEException e) {
                // try the next key
            }
        }
        return Access.unauthorized("the access token's signature is invalid");
    }

    private String accepted() {
        return secretVerifier != null && keys != null ? "HS256, RS256 or ES256"
                : secretVerifier != null ? "HS256" : "RS256 or ES256";
    }

    /** The doc claim as a list of patterns: a string or an array of strings; null for anything else. */
    private static List<String> documents(Object claim) {
        if (claim == null) {
            return List.of();
        }
        if (claim instanceof String s) {
            return s.isEmpty() ? List.of() : List.of(s);
        }
        if (claim instanceof List<?> list) {
            List<String> out = new ArrayList<>(list.size());
            for (Object item : list) {
                if (!(item instanceof String s) || s.isEmpty()) {
                    return null;
                }
                out.add(s);
            }
            return out;
        }
        return null;
    }

    /** {@code *} covers everything, {@code abc*} every id starting with {@code abc}, otherwise an exact match. */
    static boolean covers(String pattern, String documentId) {
        if (pattern.endsWith("*")) {
            return documentId.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        return pattern.equals(documentId);
    }
}
