//! Times for people: instants in the local time zone, durations in the
//! largest two units that matter ("12 s", "3 m 5 s", "2 h 10 m", "4 d 3 h").

use ao_core::time::Timestamp;

/// An instant as local wall-clock time (`2026-12-04 14:02:11`).
pub fn local(t: Timestamp) -> String {
    let Ok(ms) = i64::try_from(t.0) else {
        return "-".into();
    };
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => "-".into(),
    }
}

/// How long before `now` the instant `t` was.
pub fn ago(now: Timestamp, t: Timestamp) -> String {
    duration(now.0.saturating_sub(t.0) / 1000)
}

/// A span of seconds in its two largest units.
pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) if s == 0 => format!("{m} m"),
        (0, 0, _) => format!("{m} m {s} s"),
        (0, _, _) => format!("{h} h {m} m"),
        _ => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_speech() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(12), "12 s");
        assert_eq!(duration(180), "3 m");
        assert_eq!(duration(185), "3 m 5 s");
        assert_eq!(duration(7_800), "2 h 10 m");
        assert_eq!(duration(356_400), "4 d 3 h");
        assert_eq!(ago(Timestamp(5_000), Timestamp(9_000)), "0 s");
    }
}
