//! Metabase's 21-character NanoID `entity_id`s (alphabet `A-Za-z0-9_-`), and [`ObjectRef`]: an
//! object addressed by integer id or by entity id.
use rand::Rng;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

pub fn new_entity_id() -> String {
    let mut rng = rand::thread_rng();
    // 64 symbols: a uniform index needs no rejection sampling.
    (0..21)
        .map(|_| ALPHABET[rng.gen_range(0..64)] as char)
        .collect()
}

/// How an object is addressed: by integer id or by entity id.
pub enum ObjectRef {
    Id(i64),
    EntityId(String),
}

/// Is `s` shaped like an entity id (21 characters of `A-Z a-z 0-9 _ -`)?
pub fn is_entity_id(s: &str) -> bool {
    s.len() == 21
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_21_nanoid_chars() {
        let id = super::new_entity_id();
        assert_eq!(id.len(), 21);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    }
}
