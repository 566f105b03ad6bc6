//! A fast non-cryptographic hasher for key maps (the multiply-rotate hash
//! rustc uses): a snapshot diff hashes every key of a 100,000-row tab
//! several times, and SipHash's flood resistance buys nothing against the
//! keys of one's own table.

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher {
    hash: u64,
}

impl KeyHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// The `BuildHasher` of [`crate::diff::TableImage`] and friends.
pub type BuildKeyHasher = BuildHasherDefault<KeyHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Key, Value};
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[test]
    fn equal_keys_hash_equal_and_neighbours_differ() {
        let build = BuildKeyHasher::default();
        let a = Key::from_values(&[Value::Int(42), Value::Text("x".into())]);
        let b = Key::from_json(&[serde_json::json!(42.0), serde_json::json!("x")]);
        assert_eq!(build.hash_one(&a), build.hash_one(&b));
        let hashes: HashSet<u64> = (0..10_000)
            .map(|i| build.hash_one(Key::from_values(&[Value::Int(i)])))
            .collect();
        assert_eq!(hashes.len(), 10_000);
    }
}
