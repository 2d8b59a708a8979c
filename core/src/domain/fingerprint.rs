//! A stable 64-bit fingerprint (FNV-1a over a canonical byte encoding): the
//! same value on every run, platform and release, unlike a randomly keyed hasher.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable digest of time-free evidence; printed as 16 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Incremental FNV-1a; fields are separated so `("ab","c")` and `("a","bc")` differ.
#[derive(Clone, Copy, Debug)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher::new()
    }
}

impl StableHasher {
    /// The FNV-1a offset basis (const, so fixed prefixes can be hashed at compile time).
    pub const fn new() -> Self {
        StableHasher(FNV_OFFSET)
    }

    /// Feeds raw bytes.
    pub const fn bytes(mut self, bytes: &[u8]) -> Self {
        let mut i = 0;
        while i < bytes.len() {
            self.0 ^= bytes[i] as u64;
            self.0 = self.0.wrapping_mul(FNV_PRIME);
            i += 1;
        }
        self
    }

    /// Feeds one field followed by a separator byte.
    pub const fn field(self, text: &str) -> Self {
        self.bytes(text.as_bytes()).bytes(&[0x1f])
    }

    /// Feeds a value's `Debug` text as one field, streamed: the same digest as
    /// `field(&format!("{value:?}"))` without building the string (a hot path
    /// in the daemon's journal).
    pub fn debug_field(mut self, value: &impl fmt::Debug) -> Self {
        use fmt::Write as _;
        // Writing into a hasher cannot fail; only a broken Debug impl could.
        let _ = write!(self, "{value:?}");
        self.bytes(&[0x1f])
    }

    /// The digest.
    pub const fn finish(self) -> Fingerprint {
        Fingerprint(self.0)
    }
}

impl fmt::Write for StableHasher {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        *self = self.bytes(s.as_bytes());
        Ok(())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Fingerprint {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A fingerprint: 16 hexadecimal digits."))
            .pattern(Some("^[0-9a-f]{16}$"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Fingerprint {}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() != 16 {
            return Err(serde::de::Error::custom(
                "a fingerprint is 16 hexadecimal digits",
            ));
        }
        u64::from_str_radix(&text, 16)
            .map(Fingerprint)
            .map_err(|_| serde::de::Error::custom("a fingerprint is 16 hexadecimal digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_debug_field_equals_the_formatted_one() {
        let value = (vec!["a\u{1b}[0m", "b"], Some(3u8), "quote\"d");
        assert_eq!(
            StableHasher::new().debug_field(&value).finish(),
            StableHasher::new().field(&format!("{value:?}")).finish()
        );
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(StableHasher::default().finish().0, 0xcbf2_9ce4_8422_2325);
        assert_eq!(
            StableHasher::default().bytes(b"a").finish().0,
            0xaf63_dc4c_8601_ec8c
        );
        assert_eq!(
            StableHasher::default().bytes(b"foobar").finish().0,
            0x8594_4171_f739_67e8
        );
    }

    #[test]
    fn fields_are_separated() {
        let a = StableHasher::default().field("ab").field("c").finish();
        let b = StableHasher::default().field("a").field("bc").finish();
        assert_ne!(a, b);
    }
}
