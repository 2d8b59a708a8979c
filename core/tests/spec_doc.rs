//! The behaviour reference is the project's own and agrees with the code:
//! `core/SPEC.md` numbers every §7 property as `PropertyId::number` does
//! (the number a violation message prints), and the README cites only files
//! that are in the repository.

#![allow(clippy::unwrap_used)]

use ao_core::invariants::PropertyId;
use ao_core::WireEnum;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The numbers of the `N. **Title**` items of the properties section.
fn numbered_properties(spec: &str) -> Vec<u8> {
    let section = spec
        .split("\n## 7. ")
        .nth(1)
        .expect("core/SPEC.md has a section 7");
    section
        .lines()
        .filter_map(|l| {
            let (n, _) = l.split_once(". **")?;
            n.parse().ok()
        })
        .collect()
}

#[test]
fn core_spec_numbers_every_property_as_the_code_does() {
    let spec = read("core/SPEC.md");
    let mut listed = numbered_properties(&spec);
    listed.sort_unstable();
    let mut coded: Vec<u8> = PropertyId::ALL.iter().map(|p| p.number()).collect();
    coded.sort_unstable();
    assert_eq!(listed, coded, "core/SPEC.md §7 against core/src/invariants");
    // The sections the code cites exist.
    for heading in [
        "## 1. ", "## 2. ", "## 3. ", "## 4. ", "### 4.1 ", "### 4.2 ", "### 4.3 ", "### 4.4 ",
        "### 4.5 ", "### 4.6 ", "## 5. ", "## 6. ", "## 7. ",
    ] {
        assert!(
            spec.contains(&format!("\n{heading}")),
            "core/SPEC.md lacks {heading}"
        );
    }
}

#[test]
fn the_readme_cites_only_files_in_the_repository() {
    let readme = read("README.md");
    // A SPEC reference names the page users can open.
    for (i, _) in readme.match_indices("SPEC") {
        let start = i.saturating_sub(5);
        assert_eq!(
            readme.get(start..i + 7),
            Some("core/SPEC.md"),
            "README cites a SPEC that is not core/SPEC.md near byte {i}"
        );
    }
    // Every relative link target exists.
    for piece in readme.split("](").skip(1) {
        let target = piece.split(')').next().unwrap_or("");
        if target.starts_with("http") || target.starts_with('#') {
            continue;
        }
        assert!(
            root().join(target).exists(),
            "README links to missing {target}"
        );
    }
    // Every backquoted path into the source tree exists.
    for piece in readme.split('`').skip(1).step_by(2) {
        let tops = ["core/", "sim/", "daemon/", "tests/", "scenarios/", ".ci/"];
        if tops.iter().any(|t| piece.starts_with(t)) && !piece.contains(['<', ' ', '*']) {
            assert!(root().join(piece).exists(), "README names missing {piece}");
        }
    }
}
