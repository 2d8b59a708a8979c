//! The `ao` command-line interface.
fn main() {}
