//! Time as data: the core never reads a clock, so instants and spans are plain
//! millisecond counts that arrive inside inputs and config.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// An instant, in milliseconds since the Unix epoch (or since a simulation's start).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Time elapsed since `earlier`; zero when the inputs arrive out of order.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }

    /// This instant moved forward by `d` (saturating).
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.0))
    }
}

/// A span of time in milliseconds; written on the wire as `250ms`, `30s`, `15m`, `2h`, `1m30s`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Duration(pub u64);

impl Duration {
    /// A span of whole seconds.
    pub const fn secs(s: u64) -> Duration {
        Duration(s * 1000)
    }
    /// A span of whole minutes.
    pub const fn mins(m: u64) -> Duration {
        Duration(m * 60_000)
    }
    /// Milliseconds in this span.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{0}`: expected a number with a unit, e.g. 250ms, 30s, 15m, 2h or 1m30s")]
pub struct BadDuration(pub String);

impl FromStr for Duration {
    type Err = BadDuration;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadDuration(s.to_owned());
        let text = s.trim();
        if text.is_empty() {
            return Err(bad());
        }
        let mut total: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let value: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let scale = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(bad()),
            };
            rest = &rest[unit_len..];
            total = value
                .checked_mul(scale)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        if ms % 1000 != 0 {
            return write!(f, "{ms}ms");
        }
        let mut secs = ms / 1000;
        let hours = secs / 3600;
        secs %= 3600;
        let mins = secs / 60;
        secs %= 60;
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if mins > 0 {
            write!(f, "{mins}m")?;
        }
        if secs > 0 {
            write!(f, "{secs}s")?;
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 250ms, 30s, 15m, 2h or 1m30s")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_round_trip() {
        for (text, ms) in [
            ("250ms", 250),
            ("30s", 30_000),
            ("15m", 900_000),
            ("2h", 7_200_000),
            ("1m30s", 90_000),
            ("1d", 86_400_000),
        ] {
            let d: Duration = text.parse().expect(text);
            assert_eq!(d.as_millis(), ms, "{text}");
            let again: Duration = d.to_string().parse().expect("printed form parses");
            assert_eq!(again, d);
        }
    }

    #[test]
    fn malformed_durations_are_rejected() {
        for text in [
            "",
            "30",
            "s",
            "3x",
            "1.5s",
            "-1s",
            "99999999999999999999h",
            "m5",
        ] {
            assert!(
                text.parse::<Duration>().is_err(),
                "{text:?} must be rejected"
            );
        }
    }

    #[test]
    fn since_saturates_on_out_of_order_inputs() {
        assert_eq!(Timestamp(5).since(Timestamp(10)), Duration(0));
    }
}
