//! Journal segment names: the writer (the daemon) and the reader (`ao-sim
//! replay`) agree on which files make a journal and in what order.

#![allow(clippy::unwrap_used)]

use ao_core::journal::{segment_name, segment_number};

#[test]
fn segments_are_numbered_before_the_extension_and_read_back() {
    assert_eq!(segment_name("journal.jsonl", 1), "journal.000001.jsonl");
    assert_eq!(
        segment_name("journal.jsonl", 1_234_567),
        "journal.1234567.jsonl"
    );
    assert_eq!(segment_name("journal", 3), "journal.000003");
    for n in [1, 42, 999_999, 1_000_000] {
        for active in ["journal.jsonl", "journal", "j.x.jsonl"] {
            assert_eq!(segment_number(active, &segment_name(active, n)), Some(n));
        }
    }
}

#[test]
fn other_files_are_not_segments() {
    for name in [
        "journal.jsonl",
        "journal.1.jsonl",
        "journal.00000a.jsonl",
        "journal.000001.json",
        "other.000001.jsonl",
        "journal.000001.jsonl.tmp",
        "ao.db",
    ] {
        assert_eq!(segment_number("journal.jsonl", name), None, "{name}");
    }
}
