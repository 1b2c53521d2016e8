//! The `relance` command line.
fn main() {}
