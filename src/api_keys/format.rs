//! API key format (spec `api-keys.md` §3): generation of `mb_` + 40 random base62 characters +
//! 6-character base62 CRC-32 checksum, the well-formedness test that runs before any lookup
//! (§3.2, §4.3 step 1), the SHA-256 digest that is stored and cached instead of the key, the
//! 7-character prefix and the masked form. The plain-text key and its digest never appear in
//! `Debug` output.

use std::fmt;

use rand::RngCore;
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Total length of a key in characters (all ASCII, so also in bytes).
pub const KEY_LEN: usize = 49;
/// Length of the displayed prefix: `mb_` plus the first 4 random characters.
pub const PREFIX_LEN: usize = 7;
/// The literal start of every key.
pub const KEY_START: &str = "mb_";
/// Number of random base62 characters.
pub const RANDOM_LEN: usize = 40;
/// Number of checksum characters.
pub const CHECKSUM_LEN: usize = 6;
/// Length of the part covered by the checksum (`mb_` + random part).
const BODY_LEN: usize = KEY_LEN - CHECKSUM_LEN;
/// Random bytes at or above this value are discarded, so `byte % 62` is unbiased (248 = 4 × 62).
const REJECT_FROM: u8 = 248;

/// The base62 alphabet, index 0 to 61.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 checksum bytes (MSB first, zero-padded) of the CRC-32 of `body`.
fn checksum_bytes(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut value = crc32fast::hash(body);
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// The 6-character checksum of the first 43 characters of a key (§3.1): CRC-32 (IEEE) of the
/// bytes, written in base62 most significant digit first, left-padded with `0`.
pub fn checksum(first43: &str) -> String {
    checksum_bytes(first43.as_bytes())
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

/// SHA-256 digest of a whole key: what is stored in `key_hash` and used as the cache key.
/// `Debug` shows only the first 4 bytes so that digests do not end up in logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    /// SHA-256 of `key`'s bytes.
    pub fn of(key: &str) -> Self {
        KeyDigest(Sha256::digest(key.as_bytes()).into())
    }

    /// Rebuilds a digest from stored bytes; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(KeyDigest)
    }

    /// The digest as 64 lower-case hex characters (for storage, never for logs).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyDigest({}…)", hex::encode(&self.0[..4]))
    }
}

/// A plain-text API key. Only ever exists in the create/regenerate response (§4.8); `Debug`
/// prints only the prefix and the memory is zeroed on drop.
pub struct PlainKey(SecretString);

impl PlainKey {
    /// Builds the key `mb_<random><checksum>` from a 40-character base62 random part; `None`
    /// when `random` is not exactly 40 base62 characters. Used for test vectors and stubs.
    pub fn from_random_part(random: &str) -> Option<Self> {
        let bytes = random.as_bytes();
        if bytes.len() != RANDOM_LEN || !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        let mut buf = [0u8; KEY_LEN];
        buf[..3].copy_from_slice(KEY_START.as_bytes());
        buf[3..BODY_LEN].copy_from_slice(bytes);
        Some(Self::finish(buf))
    }

    /// Fills in the checksum of a buffer whose first 43 bytes are set, wraps it as a secret and
    /// wipes the buffer.
    fn finish(mut buf: [u8; KEY_LEN]) -> Self {
        let check = checksum_bytes(&buf[..BODY_LEN]);
        buf[BODY_LEN..].copy_from_slice(&check);
        let key: String = buf.iter().map(|&b| char::from(b)).collect();
        buf.zeroize();
        PlainKey(SecretString::from(key))
    }

    /// The full 49-character key. Handle with care: never log it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The first 7 characters (`mb_` + 4 random characters), safe to log and store.
    pub fn prefix(&self) -> &str {
        // A PlainKey is always 49 ASCII characters, so this slice always exists.
        self.expose().get(..PREFIX_LEN).unwrap_or_default()
    }

    /// SHA-256 of the whole key.
    pub fn digest(&self) -> KeyDigest {
        KeyDigest::of(self.expose())
    }

    /// The masked form shown after creation: prefix + 42 `*`.
    pub fn masked(&self) -> String {
        masked(self.prefix())
    }
}

impl fmt::Debug for PlainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlainKey({}…)", self.prefix())
    }
}

/// Generates a new key from `rng`: 40 unbiased base62 characters by rejection sampling
/// (bytes ≥ 248 are discarded, the rest taken modulo 62), then the checksum.
pub fn generate<R: RngCore + rand::CryptoRng>(rng: &mut R) -> PlainKey {
    let mut buf = [0u8; KEY_LEN];
    buf[..3].copy_from_slice(KEY_START.as_bytes());
    let mut filled = 3;
    let mut pool = [0u8; 64];
    while filled < BODY_LEN {
        rng.fill_bytes(&mut pool);
        for &byte in pool.iter().filter(|&&b| b < REJECT_FROM) {
            buf[filled] = BASE62[usize::from(byte % 62)];
            filled += 1;
            if filled == BODY_LEN {
                break;
            }
        }
    }
    pool.zeroize();
    PlainKey::finish(buf)
}

/// Generates a new key from the operating system's CSPRNG.
pub fn generate_os() -> PlainKey {
    generate(&mut rand::rngs::OsRng)
}

/// `true` when `value` is a well-formed key (§3.2). Allocation-free.
pub fn is_well_formed(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == KEY_LEN
        && bytes.starts_with(KEY_START.as_bytes())
        && bytes[3..].iter().all(u8::is_ascii_alphanumeric)
        && checksum_bytes(&bytes[..BODY_LEN]) == bytes[BODY_LEN..]
}

/// The digest of `value` if it is a well-formed key (§3.2), else `None`. Malformed values cost
/// at most one CRC-32 over 43 bytes and never allocate.
pub fn parse(value: &str) -> Option<KeyDigest> {
    is_well_formed(value).then(|| KeyDigest::of(value))
}

/// The masked key (§3.4): `prefix` followed by `*` up to 49 characters in all.
pub fn masked(prefix: &str) -> String {
    let visible = prefix.chars().count();
    let mut out = String::with_capacity(prefix.len() + KEY_LEN.saturating_sub(visible));
    out.push_str(prefix);
    out.extend(std::iter::repeat_n('*', KEY_LEN.saturating_sub(visible)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{RngCore, SeedableRng};

    const VECTORS: [(&str, u32, &str); 3] = [
        (
            "0123456789ABCDEFGHIJabcdefghijklmnopqrst",
            0x73A1_2D66,
            "mb_0123456789ABCDEFGHIJabcdefghijklmnopqrst27HnjK",
        ),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            0x86D4_59B6,
            "mb_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2T5O3q",
        ),
        (
            "Zq7LmP2xR9vT4kWc8NbY3hJd6FsG1aEu5oKi0QrX",
            0x1B95_E707,
            "mb_Zq7LmP2xR9vT4kWc8NbY3hJd6FsG1aEu5oKi0QrX0VJtih",
        ),
    ];
    const ALTERED: &str = "mb_0123456789ABCDEFGHIJabcdefghijklmnopqrst27HnjL";

    fn seeded(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    /// Independent check of ^mb_[0-9A-Za-z]{46}$.
    fn matches_shape(key: &str) -> bool {
        key.len() == 49
            && key.starts_with("mb_")
            && key[3..].chars().all(|c| c.is_ascii_alphanumeric())
    }

    #[test]
    fn alphabet_is_0_9_a_z_lower() {
        let expected: Vec<u8> = (b'0'..=b'9')
            .chain(b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .collect();
        assert_eq!(BASE62.as_slice(), expected.as_slice());
    }

    #[test]
    fn crc_variant_is_ieee() {
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn test_vectors_3_5() {
        for (random, crc, full) in VECTORS {
            let body = format!("mb_{random}");
            assert_eq!(crc32fast::hash(body.as_bytes()), crc);
            assert_eq!(format!("{body}{}", checksum(&body)), full);
            let key = PlainKey::from_random_part(random).expect("valid random part");
            assert_eq!(key.expose(), full);
            assert_eq!(parse(full), Some(key.digest()));
        }
    }

    #[test]
    fn sha256_of_first_vector() {
        let digest = parse(VECTORS[0].2).expect("well-formed");
        assert_eq!(
            digest.to_hex(),
            "b288be5dd86a3b24fe8c1a6d68bccaf25c8d160b484b5bb96ed668315d564d0b"
        );
        assert_eq!(KeyDigest::from_slice(&digest.0), Some(digest));
        assert_eq!(KeyDigest::from_slice(&digest.0[..31]), None);
    }

    #[test]
    fn altered_vector_is_malformed() {
        assert!(parse(ALTERED).is_none());
    }

    #[test]
    fn checksum_pads_small_values() {
        // Any 32-bit value fits in 6 digits; the output is always 6 characters.
        for input in ["", "a", "mb_", "zzzz"] {
            let c = checksum(input);
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| BASE62.contains(&b)));
        }
        assert_eq!(checksum_bytes(b""), *b"000000"); // CRC-32 of nothing is 0
    }

    #[test]
    fn from_random_part_rejects_bad_input() {
        assert!(PlainKey::from_random_part("short").is_none());
        assert!(PlainKey::from_random_part(&"a".repeat(41)).is_none());
        assert!(PlainKey::from_random_part(&format!("{}+", "a".repeat(39))).is_none());
        assert!(PlainKey::from_random_part(&format!("{}é", "a".repeat(38))).is_none());
    }

    #[test]
    fn scenario_7_malformed_values_are_rejected() {
        let key = generate(&mut seeded(7));
        let k = key.expose();
        assert!(parse(k).is_some());
        let mut bad = vec![
            "mb_not_an_api_key".to_owned(),
            k[..48].to_owned(),
            format!("{k}A"),
            format!("{k}0"),
            format!("MB_{}", &k[3..]),
            format!("Bearer {k}"),
            format!(" {k}"),
            format!("\"{k}\""),
            ALTERED.to_owned(),
            String::new(),
        ];
        for i in 0..KEY_LEN {
            let mut chars: Vec<char> = k.chars().collect();
            chars[i] = '+';
            bad.push(chars.into_iter().collect());
        }
        for value in &bad {
            assert!(parse(value).is_none(), "accepted {value:?}");
            assert!(!is_well_formed(value));
        }
    }

    #[test]
    fn prefix_masked_and_debug() {
        let key = PlainKey::from_random_part(VECTORS[0].0).expect("valid");
        assert_eq!(key.prefix(), "mb_0123");
        assert_eq!(
            key.masked(),
            "mb_0123******************************************"
        );
        assert_eq!(masked("mb_0123").chars().count(), KEY_LEN);
        assert_eq!(masked("mb_0123").matches('*').count(), 42);
        assert_eq!(masked(""), "*".repeat(49));
        assert_eq!(masked(&"x".repeat(60)), "x".repeat(60));
        let dbg = format!("{key:?}");
        assert!(dbg.contains("mb_0123"));
        assert!(!dbg.contains("456789"), "{dbg}");
        let digest = format!("{:?}", key.digest());
        assert_eq!(digest, "KeyDigest(b288be5d…)");
    }

    #[test]
    fn generate_os_is_well_formed_and_unique() {
        let a = generate_os();
        let b = generate_os();
        assert!(matches_shape(a.expose()) && parse(a.expose()).is_some());
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn fifty_keys_differ() {
        let mut rng = seeded(50);
        let keys: std::collections::HashSet<String> = (0..50)
            .map(|_| generate(&mut rng).expose().to_owned())
            .collect();
        assert_eq!(keys.len(), 50);
    }

    /// An RNG that yields only bytes ≥ 248 for a while, then a fixed pattern: all rejected
    /// bytes must be skipped, never mapped into the alphabet.
    struct Rejecting(usize);
    impl RngCore for Rejecting {
        fn next_u32(&mut self) -> u32 {
            rand_core_next(self) as u32
        }
        fn next_u64(&mut self) -> u64 {
            rand_core_next(self)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                self.0 += 1;
                *b = if self.0 <= 200 || self.0 & 1 == 0 {
                    250
                } else {
                    63
                };
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand::CryptoRng for Rejecting {}
    fn rand_core_next(r: &mut Rejecting) -> u64 {
        let mut b = [0u8; 8];
        r.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    #[test]
    fn rejected_bytes_are_skipped() {
        let key = generate(&mut Rejecting(0));
        // 63 % 62 == 1, so every random character is '1'.
        assert_eq!(&key.expose()[3..43], "1".repeat(40));
        assert!(parse(key.expose()).is_some());
    }

    #[test]
    fn distribution_is_roughly_uniform() {
        let mut rng = seeded(0xD157);
        let mut counts = [0u32; 62];
        // 62 × 2000 characters = 3100 keys of 40 random characters.
        for _ in 0..3100 {
            let key = generate(&mut rng);
            for b in key.expose()[3..43].bytes() {
                let idx = BASE62.iter().position(|&a| a == b).expect("base62");
                counts[idx] += 1;
            }
        }
        assert_eq!(counts.iter().sum::<u32>(), 62 * 2000);
        // σ ≈ 44; a modulo bias (256 % 62 = 8) would push the first 8 symbols to ≈ 2480.
        for (i, &c) in counts.iter().enumerate() {
            assert!((1750..=2250).contains(&c), "symbol {i} seen {c} times");
        }
    }

    proptest! {
        #[test]
        fn generated_keys_parse(seed in any::<u64>()) {
            let key = generate(&mut seeded(seed));
            let k = key.expose();
            prop_assert_eq!(k.len(), KEY_LEN);
            prop_assert!(matches_shape(k));
            prop_assert_eq!(&k[43..], checksum(&k[..43]));
            prop_assert_eq!(parse(k), Some(KeyDigest::of(k)));
            prop_assert_eq!(key.prefix(), &k[..7]);
        }

        #[test]
        fn single_substitution_is_rejected(
            seed in any::<u64>(),
            pos in 0usize..KEY_LEN,
            offset in 1usize..62,
        ) {
            let key = generate(&mut seeded(seed));
            let mut bytes = key.expose().as_bytes().to_vec();
            // Pick a base62 character different from the one at `pos`, if it is base62 itself.
            let current = BASE62.iter().position(|&a| a == bytes[pos]).unwrap_or(0);
            let replacement = BASE62[(current + offset) % 62];
            prop_assume!(replacement != bytes[pos]);
            bytes[pos] = replacement;
            let altered = String::from_utf8(bytes).expect("ascii");
            // CRC-32 detects every single-byte change, so this is never a coincidence.
            prop_assert!(parse(&altered).is_none());
        }

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            let _ = parse(&s);
            let _ = checksum(&s);
            let _ = masked(&s);
        }

        #[test]
        fn key_shaped_strings_need_the_checksum(body in "mb_[0-9A-Za-z]{46}") {
            let expected = checksum(&body[..43]) == body[43..];
            prop_assert_eq!(parse(&body).is_some(), expected);
        }
    }
}
