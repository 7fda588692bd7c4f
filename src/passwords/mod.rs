//! Password rules and hashing (spec `people-and-groups.md` §3): the `MB_PASSWORD_COMPLEXITY` /
//! `MB_PASSWORD_LENGTH` policy with its `password-complexity` property, the bundled
//! common-password list, and Argon2id hashing/verification off the async runtime (including the
//! dummy verification used when no person matches a login, §2.2 step 3, and the re-hash test of
//! §2.2 step 5).
//!
//! `common-passwords.txt` is the 30,000-entry `passwords` frequency list of zxcvbn, taken from
//! `zxcvbn/frequency_lists.py` in the PyPI package `zxcvbn` 4.5.0 (MIT licence, © 2016 Daniel
//! Wolf; a port of Dropbox's zxcvbn, MIT, © 2012-2016 Dan Wheeler and Dropbox, Inc.). zxcvbn
//! built that list from Xato's public 10-million-password corpus (Mark Burnett, 2015), ranked
//! by frequency, keeping each token only in the zxcvbn dictionary where it ranks highest.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

/// Passwords longer than this many characters are rejected [beyond].
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Current Argon2id parameters (§3.2).
pub const ARGON2_M_COST: u32 = 19_456;
/// Iterations.
pub const ARGON2_T_COST: u32 = 2;
/// Parallelism.
pub const ARGON2_P_COST: u32 = 1;
/// Output length in bytes.
pub const ARGON2_OUTPUT_LEN: usize = 32;
/// Salt length in bytes.
pub const SALT_LEN: usize = 16;

/// Stored hashes asking for more than this are treated as unusable (a corrupt or hostile row
/// must not make a login allocate gigabytes).
const MAX_VERIFY_M_COST: u32 = 262_144;
const MAX_VERIFY_T_COST: u32 = 16;
const MAX_VERIFY_P_COST: u32 = 16;

const PARAMS: Params = match Params::new(
    ARGON2_M_COST,
    ARGON2_T_COST,
    ARGON2_P_COST,
    Some(ARGON2_OUTPUT_LEN),
) {
    Ok(params) => params,
    Err(_) => panic!("invalid Argon2 parameters"), // evaluated at compile time
};

static COMMON_PASSWORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_lowercase)
        .collect()
});

/// `true` when `password`, compared case-insensitively, is on the bundled list.
pub fn is_common(password: &str) -> bool {
    COMMON_PASSWORDS.contains(&password.to_lowercase())
}

/// The value of `MB_PASSWORD_COMPLEXITY`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Complexity {
    /// At least 6 characters, nothing else.
    Weak,
    /// At least 6 characters, one digit, not common (the default).
    #[default]
    Normal,
    /// At least 8 characters, 2 lower, 2 upper, 1 digit, 1 special, not common.
    Strong,
}

/// Error for an `MB_PASSWORD_COMPLEXITY` value other than weak, normal or strong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid password complexity {0:?}: expected weak, normal or strong")]
pub struct ParseComplexityError(pub String);

impl FromStr for Complexity {
    type Err = ParseComplexityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "weak" => Ok(Complexity::Weak),
            "normal" => Ok(Complexity::Normal),
            "strong" => Ok(Complexity::Strong),
            _ => Err(ParseComplexityError(s.to_owned())),
        }
    }
}

/// Character classes, in the order used by [`Complexity::required`].
const CLASSES: [&str; 4] = ["lower", "upper", "digit", "special"];

/// Index into [`CLASSES`] of `c`: Unicode lower/upper-case letters, ASCII digits, the rest.
fn class_of(c: char) -> usize {
    if c.is_lowercase() {
        0
    } else if c.is_uppercase() {
        1
    } else if c.is_ascii_digit() {
        2
    } else {
        3
    }
}

impl Complexity {
    fn default_min_length(self) -> usize {
        match self {
            Complexity::Weak | Complexity::Normal => 6,
            Complexity::Strong => 8,
        }
    }

    /// Minimum count of each class of [`CLASSES`].
    fn required(self) -> [usize; 4] {
        match self {
            Complexity::Weak => [0, 0, 0, 0],
            Complexity::Normal => [0, 0, 1, 0],
            Complexity::Strong => [2, 2, 1, 1],
        }
    }

    fn checks_common(self) -> bool {
        !matches!(self, Complexity::Weak)
    }
}

/// The password rule in force (§3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub complexity: Complexity,
    /// Minimum length in Unicode scalar values.
    pub min_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy::new(Complexity::Normal, None)
    }
}

impl PasswordPolicy {
    /// The policy for `complexity`; `length_override` is `MB_PASSWORD_LENGTH`.
    pub fn new(complexity: Complexity, length_override: Option<usize>) -> Self {
        PasswordPolicy {
            complexity,
            min_length: length_override.unwrap_or_else(|| complexity.default_min_length()),
        }
    }

    /// `true` when `password` satisfies the rule. Whatever fails, the API answers
    /// `password is too common.`
    pub fn check(&self, password: &str) -> bool {
        let mut length = 0usize;
        let mut counts = [0usize; 4];
        for c in password.chars() {
            length += 1;
            if length > MAX_PASSWORD_CHARS {
                return false;
            }
            counts[class_of(c)] += 1;
        }
        let required = self.complexity.required();
        length >= self.min_length
            && counts
                .iter()
                .zip(required)
                .all(|(&have, need)| have >= need)
            && !(self.complexity.checks_common() && is_common(password))
    }

    /// The `password-complexity` public setting, e.g. `{"total":6,"digit":1}`.
    pub fn property(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert("total".to_owned(), json!(self.min_length));
        for (name, count) in CLASSES.into_iter().zip(self.complexity.required()) {
            if count > 0 {
                map.insert(name.to_owned(), json!(count));
            }
        }
        Value::Object(map)
    }
}

/// Internal failure while hashing (never a wrong password).
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(#[from] argon2::password_hash::Error),
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS)
}

fn hash_blocking(password: &[u8]) -> Result<String, PasswordError> {
    let mut salt = [0u8; SALT_LEN];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(hasher().hash_password(password, &salt)?.to_string())
}

/// Hashes `password` with Argon2id (§3.2) on the blocking thread pool. The result is a PHC
/// string starting `$argon2id$v=19$m=19456,t=2,p=1$`.
pub async fn hash_password(password: SecretString) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret().as_bytes())).await?
}

/// An unusable password (placeholder people, people-and-groups.md §4.1): a well-formed
/// Argon2id hash of 32 random bytes that are never stored or shown, so no password matches it,
/// and each placeholder's hash differs.
pub async fn unusable_hash() -> Result<String, PasswordError> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    tokio::task::spawn_blocking(move || hash_blocking(&secret)).await?
}

/// A fixed Argon2id hash with the current parameters, verified against when there is no real
/// hash, so that a missing person or password costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(b"ferrobase-dummy!").ok()?;
    let hash = hasher()
        .hash_password(b"not the password of anyone", &salt)
        .ok()?;
    Some(hash.to_string())
});

/// Parses `stored` as an Argon2id PHC string whose cost is within sane bounds.
fn usable_hash(stored: &str) -> Option<PasswordHash<'_>> {
    let hash = PasswordHash::new(stored).ok()?;
    if hash.algorithm != argon2::ARGON2ID_IDENT {
        return None;
    }
    let params = Params::try_from(&hash).ok()?;
    let sane = params.m_cost() <= MAX_VERIFY_M_COST
        && params.t_cost() <= MAX_VERIFY_T_COST
        && params.p_cost() <= MAX_VERIFY_P_COST;
    sane.then_some(hash)
}

fn verify_blocking(password: &[u8], stored: Option<&str>) -> bool {
    if let Some(hash) = stored.and_then(usable_hash) {
        return hasher().verify_password(password, &hash).is_ok();
    }
    // No usable hash: spend the same effort, then fail.
    if let Some(hash) = DUMMY_HASH.as_deref().and_then(usable_hash) {
        let _ = hasher().verify_password(password, &hash);
    } else {
        let _ = hash_blocking(password);
    }
    false
}

/// Checks `password` against `stored` on the blocking thread pool. With no stored hash (no such
/// person, or no password) or an unusable one, a dummy hash is verified instead and the answer is
/// `false`, so the timing does not reveal which emails exist.
pub async fn verify_password(password: SecretString, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        verify_blocking(password.expose_secret().as_bytes(), stored.as_deref())
    })
    .await
    .unwrap_or(false)
}

/// Builds the common-password set and the dummy hash on the blocking pool, so that the first
/// login or password check after startup does not pay for them. Optional; call once at startup.
pub async fn prewarm() {
    let _ = tokio::task::spawn_blocking(|| {
        LazyLock::force(&COMMON_PASSWORDS);
        LazyLock::force(&DUMMY_HASH);
    })
    .await;
}

/// `true` when `stored` was not made with the current algorithm and parameters, so it should be
/// re-hashed after the next successful login (§2.2 step 5). Unparsable hashes need it too.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return true;
    };
    hash.algorithm != argon2::ARGON2ID_IDENT
        || hash.version != Some(Version::V0x13.into())
        || params.m_cost() != ARGON2_M_COST
        || params.t_cost() != ARGON2_T_COST
        || params.p_cost() != ARGON2_P_COST
        || hash.hash.as_ref().map(|h| h.len()) != Some(ARGON2_OUTPUT_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn normal() -> PasswordPolicy {
        PasswordPolicy::new(Complexity::Normal, None)
    }

    #[test]
    fn bundled_list_is_big_and_has_the_required_entries() {
        let n = COMMON_PASSWORDS.len();
        assert!(n >= 10_000, "{n}");
        for p in ["123456", "12345678", "abc123", "password1", "qwerty123"] {
            assert!(is_common(p), "{p}");
        }
        assert!(is_common("PassWord1"));
        assert!(is_common("ABC123"));
        assert!(!is_common("blue7-ferret-orbit"));
        assert!(COMMON_PASSWORDS.iter().all(|p| *p == p.to_lowercase()));
    }

    #[test]
    fn scenario_23_normal() {
        let policy = normal();
        assert!(policy.check("blue7-ferret-orbit"));
        let bad = ["abc123", "password1", "abcdef", "abc1"];
        for bad in bad.into_iter().chain(["", "ABC123", "Password1"]) {
            assert!(!policy.check(bad), "{bad}");
        }
        assert_eq!(policy.property(), json!({"total": 6, "digit": 1}));
        assert_eq!(policy, PasswordPolicy::default());
    }

    #[test]
    fn scenario_24_strong() {
        let policy = PasswordPolicy::new(Complexity::Strong, None);
        assert_eq!(policy.min_length, 8);
        assert!(!policy.check("blue7-ferret-orbit"));
        assert!(policy.check("Blue7-Ferret-Orbit"));
        assert!(!policy.check("Bl7-Fe"), "too short");
        assert!(!policy.check("Blue7FerretOrbit"), "no special");
        assert!(!policy.check("Blue-Ferret-Orbit"), "no digit");
        assert!(!policy.check("BLUE7-FERRET-ORBIt"), "one lower");
        assert!(!policy.check("Blue7-ferret-orbit"), "one upper");
        assert!(!policy.check("P@ssw0rd"), "lower 5, upper 1");
        assert!(
            policy.check("ÀÉ7-àé-x"),
            "Unicode letters count as lower/upper"
        );
        assert_eq!(
            policy.property(),
            json!({"total": 8, "lower": 2, "upper": 2, "digit": 1, "special": 1})
        );
    }

    #[test]
    fn strong_rejects_common_case_insensitively() {
        let policy = PasswordPolicy::new(Complexity::Strong, None);
        assert!(is_common("sasha_007"));
        // Meets every class requirement, but is "sasha_007" ignoring case.
        assert!(!policy.check("SAsha_007"));
        assert!(policy.check("SAsha_0071"));
    }

    #[test]
    fn scenario_25_weak_and_length_override() {
        let weak = PasswordPolicy::new(Complexity::Weak, None);
        assert!(weak.check("abcdef"));
        assert!(weak.check("123456"), "weak skips the common check");
        assert!(!weak.check("abcde"));
        assert_eq!(weak.property(), json!({"total": 6}));

        let twelve = PasswordPolicy::new(Complexity::Normal, Some(12));
        assert!(twelve.check("blue7-ferret"));
        assert!(!twelve.check("blue7-ferre"));
        assert_eq!(twelve.property(), json!({"total": 12, "digit": 1}));
        let strong12 = PasswordPolicy::new(Complexity::Strong, Some(12));
        assert_eq!(strong12.property()["total"], json!(12));
    }

    #[test]
    fn scenario_26_length_limit_in_scalar_values() {
        let weak = PasswordPolicy::new(Complexity::Weak, None);
        let ok = format!("{}1", "a".repeat(1023));
        assert!(normal().check(&ok));
        assert!(!normal().check(&format!("{ok}a")));
        assert!(!weak.check(&"a".repeat(1025)));
        // Multi-byte characters count once each.
        assert!(weak.check(&"é".repeat(1024)));
        assert!(!weak.check(&"é".repeat(1025)));
        assert!(weak.check("ééééé1"));
        assert!(!weak.check("éééé1"));
        assert!(weak.check(&"🦀".repeat(6)));
    }

    #[test]
    fn character_classes() {
        let policy = PasswordPolicy::new(Complexity::Normal, None);
        // Only ASCII digits are digits.
        assert!(!policy.check("abcdef٣"));
        assert!(policy.check("abcdef3"));
        let strong = PasswordPolicy::new(Complexity::Strong, None);
        // A non-ASCII digit counts as special.
        assert!(strong.check("AbCd1٣xy"));
        // A space is special too.
        assert!(strong.check("AbCd1 xy"));
    }

    #[test]
    fn complexity_from_str() {
        assert_eq!("weak".parse(), Ok(Complexity::Weak));
        assert_eq!("NORMAL".parse(), Ok(Complexity::Normal));
        assert_eq!("Strong".parse(), Ok(Complexity::Strong));
        for bad in ["", "medium", " weak", "strongest"] {
            let err = bad.parse::<Complexity>().expect_err(bad);
            assert_eq!(err, ParseComplexityError(bad.to_owned()));
        }
        assert_eq!(Complexity::default(), Complexity::Normal);
    }

    #[tokio::test]
    async fn scenario_27_hash_and_verify() {
        let hash = hash_password(secret("blue7-ferret-orbit"))
            .await
            .expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let parsed = PasswordHash::new(&hash).expect("phc");
        assert_eq!(parsed.salt.map(|s| s.len()), Some(22)); // 16 bytes in B64
        assert_eq!(parsed.hash.map(|h| h.len()), Some(32));
        assert!(!needs_rehash(&hash));

        assert!(verify_password(secret("blue7-ferret-orbit"), Some(hash.clone())).await);
        assert!(!verify_password(secret("blue7-ferret-orbiT"), Some(hash.clone())).await);
        assert!(!verify_password(secret(""), Some(hash.clone())).await);

        let other = hash_password(secret("blue7-ferret-orbit"))
            .await
            .expect("hash");
        assert_ne!(hash, other, "salts differ");
    }

    #[tokio::test]
    async fn dummy_path_returns_false() {
        prewarm().await;
        assert!(DUMMY_HASH.as_deref().is_some_and(|h| !needs_rehash(h)));
        assert!(!verify_password(secret("anything"), None).await);
        assert!(!verify_password(secret("not the password of anyone"), None).await);
        assert!(!verify_password(secret("x"), Some("garbage".to_owned())).await);
        assert!(!verify_password(secret("x"), Some(String::new())).await);
        // A bcrypt hash (Metabase's format) is unusable here.
        let bcrypt = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
        assert!(!verify_password(secret("x"), Some(bcrypt.to_owned())).await);
    }

    fn hash_with(m: u32, t: u32, p: u32, alg: Algorithm) -> String {
        let params = Params::new(m, t, p, Some(32)).expect("params");
        let salt = SaltString::encode_b64(&[7u8; 16]).expect("salt");
        Argon2::new(alg, Version::V0x13, params)
            .hash_password(b"pw", &salt)
            .expect("hash")
            .to_string()
    }

    #[tokio::test]
    async fn needs_rehash_detects_other_params() {
        let old = hash_with(8192, 3, 1, Algorithm::Argon2id);
        assert!(needs_rehash(&old));
        // An older hash still verifies with its own parameters.
        assert!(verify_password(secret("pw"), Some(old)).await);
        assert!(needs_rehash(&hash_with(19_456, 1, 1, Algorithm::Argon2id)));
        assert!(needs_rehash(&hash_with(19_456, 2, 2, Algorithm::Argon2id)));
        assert!(needs_rehash(&hash_with(19_456, 2, 1, Algorithm::Argon2i)));
        assert!(!needs_rehash(&hash_with(19_456, 2, 1, Algorithm::Argon2id)));
        assert!(needs_rehash("garbage"));
        assert!(needs_rehash(""));
    }

    #[tokio::test]
    async fn hostile_params_are_not_verified() {
        let huge = hash_with(19_456, 2, 1, Algorithm::Argon2id).replace("m=19456", "m=4000000");
        assert!(usable_hash(&huge).is_none());
        assert!(!verify_password(secret("pw"), Some(huge)).await);
    }
}
