//! The OAuth2 token endpoint (service-account JWT-bearer grant, RS256 checked
//! against the test key) and bearer-token checks on API calls.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::time::Instant;

use crate::error::ApiError;

/// The test service account's key file (its private key is for tests only).
pub const TEST_SERVICE_ACCOUNT_JSON: &str =
    include_str!("../../fixtures/test-service-account.json");
/// The public half of the test key (PKCS#1 PEM), the only key the token endpoint trusts.
const TEST_PUBLIC_KEY_PEM: &str = include_str!("../../fixtures/test-service-account.pub.pem");
/// The test service account's `client_email`, the `iss` a grant carries
/// (or another account's of the test project: [`TEST_PROJECT_ACCOUNTS`]).
pub const TEST_CLIENT_EMAIL: &str = "sheetsync-test@sheetsync-test.iam.gserviceaccount.com";
/// What every account of the test project's e-mail ends with.
pub const TEST_PROJECT_ACCOUNTS: &str = "@sheetsync-test.iam.gserviceaccount.com";

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google refuses assertions valid for longer than an hour.
const MAX_ASSERTION_LIFETIME: i64 = 3600;
/// Clock skew tolerated on `iat`.
const SKEW: i64 = 300;
/// Google's own token endpoints, also accepted as audience.
const GOOGLE_AUDIENCES: [&str; 3] = [
    "https://oauth2.googleapis.com/token",
    "https://accounts.google.com/o/oauth2/token",
    "https://www.googleapis.com/oauth2/v4/token",
];

const WRITE_SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
];
const READ_SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/spreadsheets.readonly",
    "https://www.googleapis.com/auth/drive.readonly",
];

const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An OAuth error as Google's token endpoint answers it (HTTP 400/401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    pub fn body(&self) -> Json {
        json!({"error": self.error, "error_description": self.description})
    }
}

struct Issued {
    expires: Instant,
    can_write: bool,
    /// The service account the token was granted to (Google's quota "user").
    user: String,
}

struct TokenState {
    tokens: HashMap<String, Issued>,
    lifetime: Duration,
    /// Every scope a granted token was asked for (least-privilege checks).
    granted_scopes: BTreeSet<String>,
}

/// Issued access tokens.
pub struct Tokens {
    state: Mutex<TokenState>,
    random: SystemRandom,
    public_key: Vec<u8>,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            state: Mutex::new(TokenState {
                tokens: HashMap::new(),
                lifetime: Duration::from_secs(3599),
                granted_scopes: BTreeSet::new(),
            }),
            random: SystemRandom::new(),
            public_key: pem_body(TEST_PUBLIC_KEY_PEM),
        }
    }
}

/// The DER inside a PEM block.
fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<String>,
    scope: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
}

/// What the token endpoint hands back.
pub struct Grant {
    pub access_token: String,
    pub expires_in: u64,
}

impl Tokens {
    fn state(&self) -> MutexGuard<'_, TokenState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long new tokens live (Google: 3599 s); shorten it to exercise refreshes.
    pub fn set_lifetime(&self, lifetime: Duration) {
        self.state().lifetime = lifetime;
    }

    /// Every OAuth scope a token was granted for so far.
    pub fn granted_scopes(&self) -> BTreeSet<String> {
        self.state().granted_scopes.clone()
    }

    /// Forget every issued token: the next API call with one gets 401.
    pub fn revoke_all(&self) {
        self.state().tokens.clear();
    }

    /// Handles a token request body (`application/x-www-form-urlencoded`).
    /// `audiences` are the token URIs this endpoint answers to.
    pub fn grant(&self, form: &[u8], audiences: &[String]) -> Result<Grant, OAuthError> {
        let params: HashMap<String, String> = form_urlencoded::parse(form).into_owned().collect();
        let grant_type = params.get("grant_type").ok_or_else(|| {
            OAuthError::new(
                400,
                "invalid_request",
                "Missing required parameter: grant_type",
            )
        })?;
        if grant_type != JWT_BEARER {
            return Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                format!("Invalid grant_type: {grant_type}"),
            ));
        }
        let assertion = params.get("assertion").ok_or_else(|| {
            OAuthError::new(
                400,
                "invalid_request",
                "Missing required parameter: assertion",
            )
        })?;
        let claims = self.verify(assertion)?;
        check_claims(&claims, audiences, unix_now())?;
        let scopes: Vec<&str> = claims
            .scope
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let can_write = scopes.iter().any(|s| WRITE_SCOPES.contains(s));
        if !can_write && !scopes.iter().any(|s| READ_SCOPES.contains(s)) {
            return Err(OAuthError::new(
                400,
                "invalid_scope",
                "Invalid OAuth scope or ID token audience provided.",
            ));
        }
        let mut bytes = [0u8; 24];
        self.random
            .fill(&mut bytes)
            .map_err(|_| OAuthError::new(500, "internal_failure", "no randomness"))?;
        let access_token = format!("ya29.emu-{}", hex::encode(bytes));
        let mut state = self.state();
        state
            .granted_scopes
            .extend(scopes.iter().map(|s| (*s).to_string()));
        let lifetime = state.lifetime;
        let now = Instant::now();
        state.tokens.retain(|_, issued| issued.expires > now);
        state.tokens.insert(
            access_token.clone(),
            Issued {
                expires: now + lifetime,
                can_write,
                user: claims.iss.clone().unwrap_or_default(),
            },
        );
        Ok(Grant {
            access_token,
            expires_in: lifetime.as_secs(),
        })
    }

    /// Splits and verifies an RS256 JWT against the test key; returns its claims.
    fn verify(&self, assertion: &str) -> Result<Claims, OAuthError> {
        let malformed = || OAuthError::invalid_grant("Invalid JWT Signature.");
        let mut parts = assertion.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let header: Header = BASE64URL
            .decode(header)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(malformed)?;
        if header.alg != "RS256" {
            return Err(malformed());
        }
        let signature = BASE64URL.decode(signature).map_err(|_| malformed())?;
        let signed = &assertion[..assertion.len() - signature_len(assertion)];
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.public_key)
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| malformed())?;
        BASE64URL
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(malformed)
    }

    /// Checks an `Authorization` header (or `access_token` query value) for an API call.
    /// The token's user when it may make this call.
    pub fn authorize(&self, bearer: Option<&str>, write: bool) -> Result<String, ApiError> {
        const SEE: &str = "Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
        let Some(token) = bearer else {
            return Err(ApiError::unauthenticated(format!(
                "Request is missing required authentication credential. {SEE}"
            )));
        };
        let state = self.state();
        let issued = state
            .tokens
            .get(token)
            .filter(|issued| issued.expires > Instant::now())
            .ok_or_else(|| {
                ApiError::unauthenticated(format!(
                    "Request had invalid authentication credentials. {SEE}"
                ))
            })?;
        if write && !issued.can_write {
            return Err(ApiError::permission_denied(
                "Request had insufficient authentication scopes.",
            ));
        }
        Ok(issued.user.clone())
    }
}

/// Length of `.signature` at the end of the assertion.
fn signature_len(assertion: &str) -> usize {
    assertion.rsplit('.').next().map_or(0, |s| s.len() + 1)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn check_claims(claims: &Claims, audiences: &[String], now: i64) -> Result<(), OAuthError> {
    // Every account of the test project signs with the test key: a
    // deployment with several service accounts (one per spreadsheet, each
    // with its own per-user quota) can be run against one emulator.
    let in_test_project = claims.iss.as_deref().is_some_and(|iss| {
        iss.strip_suffix(TEST_PROJECT_ACCOUNTS)
            .is_some_and(|name| !name.is_empty() && !name.contains('@'))
    });
    if !in_test_project {
        return Err(OAuthError::invalid_grant(
            "Invalid grant: account not found",
        ));
    }
    let aud = claims.aud.as_deref().unwrap_or("");
    if !audiences.iter().any(|a| a == aud) && !GOOGLE_AUDIENCES.contains(&aud) {
        let right = audiences
            .first()
            .map_or(GOOGLE_AUDIENCES[0], String::as_str);
        return Err(OAuthError::invalid_grant(format!(
            "Invalid JWT: Failed audience check. The right audience is {right}"
        )));
    }
    let timeframe = || {
        OAuthError::invalid_grant(
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        )
    };
    let (Some(iat), Some(exp)) = (claims.iat, claims.exp) else {
        return Err(timeframe());
    };
    if exp <= now || iat > now + SKEW || exp <= iat || exp - iat > MAX_ASSERTION_LIFETIME {
        return Err(timeframe());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    fn private_key() -> RsaKeyPair {
        let key: Json = serde_json::from_str(TEST_SERVICE_ACCOUNT_JSON).unwrap();
        RsaKeyPair::from_pkcs8(&pem_body(key["private_key"].as_str().unwrap())).unwrap()
    }

    fn sign(claims: Json) -> String {
        let key = private_key();
        let head = BASE64URL.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
        let body = BASE64URL.encode(claims.to_string());
        let signed = format!("{head}.{body}");
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signed.as_bytes(),
            &mut signature,
        )
        .unwrap();
        format!("{signed}.{}", BASE64URL.encode(signature))
    }

    fn form(assertion: &str) -> Vec<u8> {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", JWT_BEARER)
            .append_pair("assertion", assertion)
            .finish()
            .into_bytes()
    }

    fn claims(scope: &str) -> Json {
        let now = unix_now();
        json!({"iss": TEST_CLIENT_EMAIL, "aud": "http://emu/token", "scope": scope,
               "iat": now, "exp": now + 3595})
    }

    const AUD: &str = "http://emu/token";

    #[test]
    fn committed_public_key_is_the_private_keys_public_half() {
        assert_eq!(
            private_key().public().as_ref(),
            Tokens::default().public_key.as_slice()
        );
    }

    #[test]
    fn signed_grant_issues_a_token_that_authorizes() {
        let tokens = Tokens::default();
        let grant = tokens
            .grant(&form(&sign(claims(WRITE_SCOPES[0]))), &[AUD.into()])
            .unwrap();
        assert_eq!(grant.expires_in, 3599);
        assert_eq!(
            tokens.authorize(Some(&grant.access_token), true),
            Ok(TEST_CLIENT_EMAIL.to_string())
        );
        assert_eq!(
            tokens
                .authorize(Some("ya29.forged"), false)
                .unwrap_err()
                .code,
            401
        );
        assert_eq!(tokens.authorize(None, false).unwrap_err().code, 401);
        tokens.revoke_all();
        assert_eq!(
            tokens
                .authorize(Some(&grant.access_token), false)
                .unwrap_err()
                .code,
            401
        );
    }

    #[test]
    fn another_account_of_the_test_project_is_its_own_quota_user() {
        let tokens = Tokens::default();
        let mut other = claims(WRITE_SCOPES[0]);
        other["iss"] = json!("writer-2@sheetsync-test.iam.gserviceaccount.com");
        let grant = tokens.grant(&form(&sign(other)), &[AUD.into()]).unwrap();
        assert_eq!(
            tokens.authorize(Some(&grant.access_token), true),
            Ok("writer-2@sheetsync-test.iam.gserviceaccount.com".to_string())
        );
        for iss in [
            "@sheetsync-test.iam.gserviceaccount.com",
            "a@b@sheetsync-test.iam.gserviceaccount.com",
        ] {
            let mut bad = claims(WRITE_SCOPES[0]);
            bad["iss"] = json!(iss);
            assert_eq!(
                tokens
                    .grant(&form(&sign(bad)), &[AUD.into()])
                    .err()
                    .unwrap()
                    .description,
                "Invalid grant: account not found"
            );
        }
    }

    #[test]
    fn read_only_scope_cannot_write() {
        let tokens = Tokens::default();
        let grant = tokens
            .grant(&form(&sign(claims(READ_SCOPES[1]))), &[AUD.into()])
            .unwrap();
        assert_eq!(
            tokens.authorize(Some(&grant.access_token), false),
            Ok(TEST_CLIENT_EMAIL.to_string())
        );
        let denied = tokens
            .authorize(Some(&grant.access_token), true)
            .unwrap_err();
        assert_eq!((denied.code, denied.status), (403, "PERMISSION_DENIED"));
    }

    #[test]
    fn bad_grants_are_refused_as_google_does() {
        let tokens = Tokens::default();
        let refuse = |body: Vec<u8>| tokens.grant(&body, &[AUD.into()]).err().unwrap();
        let good = sign(claims(WRITE_SCOPES[0]));
        let mut tampered = good.clone();
        tampered.insert(good.find('.').unwrap() + 3, 'x');
        assert_eq!(
            refuse(form(&tampered)).description,
            "Invalid JWT Signature."
        );
        assert_eq!(refuse(form("a.b")).error, "invalid_grant");
        let mut other = claims(WRITE_SCOPES[0]);
        other["iss"] = json!("someone@else.iam.gserviceaccount.com");
        assert_eq!(
            refuse(form(&sign(other))).description,
            "Invalid grant: account not found"
        );
        let mut wrong_aud = claims(WRITE_SCOPES[0]);
        wrong_aud["aud"] = json!("http://elsewhere/token");
        assert_eq!(
            refuse(form(&sign(wrong_aud))).description,
            "Invalid JWT: Failed audience check. The right audience is http://emu/token"
        );
        let mut expired = claims(WRITE_SCOPES[0]);
        expired["exp"] = json!(unix_now() - 1);
        assert!(
            refuse(form(&sign(expired)))
                .description
                .starts_with("Invalid JWT: Token must be a short-lived token")
        );
        let mut too_long = claims(WRITE_SCOPES[0]);
        too_long["exp"] = json!(unix_now() + 7200);
        assert_eq!(refuse(form(&sign(too_long))).error, "invalid_grant");
        assert_eq!(
            refuse(form(&sign(claims(
                "https://www.googleapis.com/auth/pubsub"
            ))))
            .error,
            "invalid_scope"
        );
        let wrong_type = b"grant_type=client_credentials".to_vec();
        assert_eq!(
            refuse(wrong_type).description,
            "Invalid grant_type: client_credentials"
        );
        assert_eq!(refuse(b"assertion=x".to_vec()).error, "invalid_request");
    }
}
